"""mmrun - the small harness shared by mamori's integration tests.

Finds the `mamori` binary (MAMORI_BIN, set by meson), runs it in a private
cache and working directory, and reports each case as "PASS name",
"FAIL name: why" or "SKIP name: why", then a closing "N passed, N failed,
N skipped" line; the process exits 1 when any case failed.
"""

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import traceback


class Skip(Exception):
    pass


class Fail(AssertionError):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def eq(got, want, what):
    if got != want:
        raise Fail("%s: got %r, want %r" % (what, got, want))


def skip(why):
    raise Skip(why)


def source_root():
    return os.environ.get("MAMORI_SOURCE") or os.path.abspath(
        os.path.join(os.path.dirname(__file__), "..", ".."))


def mamori_bin():
    b = os.environ.get("MAMORI_BIN")
    if not b:
        for cand in ("build/cli/mamori", "build-it/cli/mamori"):
            p = os.path.join(source_root(), cand)
            if os.access(p, os.X_OK):
                b = p
                break
    if not b or not os.access(b, os.X_OK):
        raise Skip("mamori binary not found (set MAMORI_BIN)")
    return b


def is_asan_build(path):
    """ASan keeps a quarantine of freed memory, so memory bounds are
    relaxed for instrumented builds."""
    try:
        with open(path, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


class Result:
    def __init__(self, rc, out, err, maxrss_kb=None):
        self.rc = rc
        self.out = out
        self.err = err
        self.maxrss_kb = maxrss_kb
        self._json = None

    @property
    def json(self):
        if self._json is None:
            try:
                self._json = json.loads(self.out)
            except ValueError as e:
                raise Fail("output is not JSON (%s): %.300r" % (e, self.out))
        return self._json

    def describe(self):
        return "rc=%d stderr=%.600r" % (self.rc, self.err)


class Runner:
    """Runs mamori with MAMORI_CACHE_DIR, TMPDIR and the working directory
    in a private temp dir, so that tests can check nothing else is
    written."""

    def __init__(self):
        self.bin = mamori_bin()
        self.root = tempfile.mkdtemp(prefix="mamori-it-")
        self.cache = os.path.join(self.root, "cache")
        self.tmp = os.path.join(self.root, "tmp")
        self.cwd = os.path.join(self.root, "cwd")
        self.home = os.path.join(self.root, "home")
        for d in (self.cache, self.tmp, self.cwd, self.home):
            os.makedirs(d)

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def env(self):
        e = dict(os.environ)
        e["MAMORI_CACHE_DIR"] = self.cache
        e["TMPDIR"] = self.tmp
        e["HOME"] = self.home
        e.pop("XDG_CACHE_HOME", None)
        return e

    def run(self, args, timeout=600, measure=False, preexec=None):
        """Runs `mamori ARGS`; with measure, through a tiny Python parent so
        that RUSAGE_CHILDREN holds the peak RSS of this one run only."""
        cmd = [self.bin] + list(args)
        if measure:
            cmd = [sys.executable, "-c",
                   "import resource,subprocess,sys\n"
                   "r=subprocess.run(sys.argv[1:])\n"
                   "sys.stderr.write('\\nMMRSS=%d\\n' % resource.getrusage("
                   "resource.RUSAGE_CHILDREN).ru_maxrss)\n"
                   "sys.exit(r.returncode)\n"] + cmd
        try:
            p = subprocess.run(cmd, cwd=self.cwd, env=self.env(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=timeout, preexec_fn=preexec)
        except subprocess.TimeoutExpired:
            raise Fail("mamori %s: no answer within %ds" % (" ".join(args), timeout))
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        rss = None
        if measure:
            lines = err.rstrip("\n").split("\n")
            if lines and lines[-1].startswith("MMRSS="):
                rss = int(lines[-1][6:])
                err = "\n".join(lines[:-1]).rstrip("\n")
                err = err + "\n" if err else ""
        if p.returncode < 0 or p.returncode > 2:
            raise Fail("mamori %s crashed or aborted: rc=%d stderr=%.2000s"
                       % (" ".join(args), p.returncode, err))
        return Result(p.returncode, out, err, rss)

    def scan_json(self, args, **kw):
        """Runs a scan that must succeed and returns the JSON report."""
        r = self.run(list(args) + ["--format", "json"], **kw)
        if r.rc != 0:
            raise Fail("mamori %s: %s" % (" ".join(args), r.describe()))
        return r.json

    def expect_error(self, args, must_name=(), one_line=False, **kw):
        """Runs a scan that must fail with exit 2 and one line
        "mamori: <message>" on stderr naming each of must_name (any one of
        a tuple).  Returns the message."""
        r = self.run(list(args) + ["--format", "json"], **kw)
        if r.rc != 2:
            raise Fail("want exit 2, got %s; stdout=%.200r" % (r.describe(), r.out))
        lines = [l for l in r.err.split("\n") if l.strip()]
        # the message is the last line; that it is the only one is checked
        # by a case of its own (one_line), so one defect fails one case
        if not lines or not lines[-1].startswith("mamori: "):
            raise Fail("want 'mamori: <message>' on stderr, got %r" % r.err[:1000])
        if one_line and len(lines) != 1:
            raise Fail("want one line on stderr, got %d: %r" % (len(lines), r.err[:1000]))
        msg = lines[-1]
        print("  %s" % msg, flush=True)
        for n in must_name:
            alts = n if isinstance(n, tuple) else (n,)
            if not any(a.lower() in msg.lower() for a in alts):
                raise Fail("message %r does not name %s" % (msg, " or ".join(
                    repr(a) for a in alts)))
        return msg

    def leftovers(self):
        """Files mamori left in its working, temp and home directories."""
        found = []
        for d in (self.cwd, self.tmp, self.home):
            for dp, dns, fns in os.walk(d):
                for n in dns + fns:
                    found.append(os.path.join(dp, n))
        return found


class Suite:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0

    def case(self, name, fn, *a):
        try:
            fn(*a)
        except Skip as e:
            self.skipped += 1
            print("SKIP %s: %s" % (name, e), flush=True)
        except Fail as e:
            self.failed += 1
            print("FAIL %s: %s" % (name, e), flush=True)
        except Exception as e:   # a bug in the test itself is a failure too
            self.failed += 1
            print("FAIL %s: %s: %s" % (name, type(e).__name__, e), flush=True)
            traceback.print_exc(file=sys.stdout)
        else:
            self.passed += 1
            print("PASS %s" % name, flush=True)

    def skip_all(self, names, why):
        for n in names:
            self.skipped += 1
            print("SKIP %s: %s" % (n, why), flush=True)

    def not_run(self, names, e):
        """Cases that could not run because of e: skipped for a Skip,
        failed for a Fail (what they needed should have worked here)."""
        if isinstance(e, Fail):
            for n in names:
                self.failed += 1
                print("FAIL %s: %s" % (n, e), flush=True)
        else:
            self.skip_all(names, str(e))

    def finish(self):
        print("%d passed, %d failed, %d skipped"
              % (self.passed, self.failed, self.skipped), flush=True)
        sys.exit(1 if self.failed else 0)


def without_libs(*prefixes):
    """For Runner.run(preexec=...): the child runs in a private mount
    namespace where every library file ldconfig lists under a name starting
    with one of prefixes ("libmodsecurity.so") is covered by /dev/null, as
    on a machine without that library (issue 21: optional libraries are
    loaded at first use, so only the commands that need them may fail).
    Needs root; raises Skip when the library is not installed."""
    import ctypes
    lines = subprocess.run(["ldconfig", "-p"], stdout=subprocess.PIPE,
                           check=True).stdout.decode().splitlines()
    paths = sorted({ln.split("=>", 1)[1].strip() for ln in lines
                    if "=>" in ln and ln.strip().startswith(prefixes)})
    if not paths:
        raise Skip("%s: not installed" % ", ".join(prefixes))
    if os.geteuid() != 0:
        raise Skip("hiding a library needs root (a mount namespace)")
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_void_p]
    CLONE_NEWNS, MS_BIND, MS_REC, MS_PRIVATE = 0x20000, 4096, 16384, 1 << 18

    def preexec():
        if (libc.unshare(CLONE_NEWNS) != 0 or
                libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0):
            os._exit(97)
        for p in paths:
            if libc.mount(b"/dev/null", p.encode(), None, MS_BIND, None) != 0:
                os._exit(98)
    return preexec
