#!/usr/bin/env python3
"""test_falco_rules - Falco's own expectations, replayed through `mamori runtime`.

1. Every test of ../shared/testdata/falco/evtgen_suite/*.yaml (Falco's
   event-generator suite for 20 of the 25 stable rules, positive cases) is
   expanded (matrix/vector cases, %{ item.X } templates) and its described
   activity - the process chain of `context.processes`, the container of
   `context.container`, the `resources` (a client/server connection, a
   fileless process) and the `steps` (syscalls with their arguments) - is
   written as JSON-lines events (docs/rules.md) using the stateful form the
   agent's captures use (proc.pid/proc.ppid; execve then the syscall).  One
   replay through the upstream falco_rules.yaml must give, for every case,
   the expected rule with the expected priority and output fields.
2. A benign twin of every case (same activity, one detail changed so that
   the rule's intent no longer holds: a non-protected parent, a file that is
   not a log, port 22, an unprivileged container ...) must not fire the rule.
3. Outputs: --format json to a file and to a local HTTP server (127.0.0.1,
   one POST per alert); text output; a malformed rules file is an error that
   names the file, the line and the rule; `runtime rules` reports the counts
   of the three upstream files.

Needs python3-yaml for reading the suite (skips without it).
"""

import http.server
import itertools
import json
import os
import re
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mmrun import Fail, Runner, Suite, check, eq, skip, source_root  # noqa: E402

SHARED = os.environ.get("MAMORI_SHARED") or os.path.join(
    source_root(), "..", "shared", "testdata")
FALCO = os.path.join(SHARED, "falco")
RULES = os.path.join(FALCO, "falco_rules.yaml")
SUITE = os.path.join(FALCO, "evtgen_suite")

T0 = 1_700_000_000 * 10**9          # ns; case k lives in [T0 + k*SLOT, ...)
SLOT = 100 * 10**9
UIDS = {"root": 0, "daemon": 1, "bin": 2, "sys": 3, "sync": 4, "games": 5,
        "man": 6, "lp": 7, "mail": 8, "news": 9, "uucp": 10, "www-data": 33,
        "sshd": 100, "nobody": 65534}


def need_yaml():
    try:
        import yaml  # noqa: F401
        return yaml
    except ImportError:
        skip("python3-yaml is not installed (the evtgen suite is YAML)")


def need_data():
    if not os.path.isdir(SUITE) or not os.path.isfile(RULES):
        skip("falco testdata absent (%s)" % FALCO)


# --- the suite ---------------------------------------------------------------

def load_suite(yaml):
    tests = []
    for fn in sorted(os.listdir(SUITE)):
        if not fn.endswith(".yaml"):
            continue
        text = open(os.path.join(SUITE, fn)).read()
        # `key: %{ item.x }` unquoted is not YAML: quote it (the generator
        # substitutes text before parsing)
        text = re.sub(r":\s*(%\{[^}]*\})\s*$", r': "\1"', text, flags=re.M)
        doc = yaml.safe_load(text)
        for t in doc["tests"]:
            t["_file"] = fn
            tests.append(t)
    return tests


def expand(test):
    """The items of a test's cases (matrix: cartesian product; vector: one)."""
    cases = test.get("cases") or [{"strategy": "vector", "values": {}}]
    items = []
    for c in cases:
        vals = c.get("values") or {}
        if c.get("strategy") == "matrix":
            keys = list(vals)
            for combo in itertools.product(*(vals[k] for k in keys)):
                items.append(dict(zip(keys, combo)))
        else:
            items.append(dict(vals))
    return items


TPL = re.compile(r"%\{\s*item\.(\w+)\s*\}")


def subst(obj, item):
    if isinstance(obj, str):
        m = TPL.fullmatch(obj.strip())
        if m:
            return item.get(m.group(1))
        return TPL.sub(lambda mm: str(item.get(mm.group(1))), obj)
    if isinstance(obj, list):
        return [subst(x, item) for x in obj]
    if isinstance(obj, dict):
        return {k: subst(v, item) for k, v in obj.items()}
    return obj


def split_addr(a):
    if a.startswith("["):
        host, port = a[1:].split("]:")
        return host, int(port), "ipv6"
    host, port = a.rsplit(":", 1)
    return host, int(port), "ipv4"


def translate(test, k, opts):
    """The JSON-lines events of one (substituted) test case, case slot k."""
    ctx = test.get("context") or {}
    base_t = T0 + k * SLOT
    pid0 = 100000 + k * 100
    evs = []
    t = [base_t]

    def ev(d):
        t[0] += 1000
        d.setdefault("evt.time", t[0])
        evs.append(d)
        return d

    ctr = {}
    cdef = ctx.get("container")
    if cdef is not None and not opts.get("host"):
        ctr = {"container.id": "%012x" % (0xe9e000000000 + k),
               "container.name": "eg-%d" % k,
               "container.image.repository": "docker.io/example/evtgen-target",
               "container.image.tag": "latest",
               "container.privileged": not opts.get("unprivileged"),
               "container.start_ts": base_t}
    # the generator itself, on the host
    ev({"evt.type": "execve", "proc.pid": pid0, "proc.ppid": 1,
        "proc.name": "event-generator", "proc.exepath": "/usr/bin/event-generator",
        "proc.args": "run", "proc.cwd": "/", "user.uid": 0, "user.name": "root",
        "user.loginuid": -1, "proc.start_ts": base_t})
    procs = list(ctx.get("processes") or [])
    res = test.get("resources") or []
    fileless = [r for r in res if r.get("type") == "process" and r.get("fileLess")]
    if fileless and not procs:
        procs = [{"name": fileless[0]["name"]}]
    leaf = pid0
    for i, p in enumerate(procs):
        pid = pid0 + 1 + i
        name = p["name"]
        user = opts.get("user") or p.get("user") or "root"
        exe = opts.get("exe") if (i == len(procs) - 1 and opts.get("exe")) else p.get("exe") or name
        args = opts.get("args") if (i == len(procs) - 1 and "args" in opts) else p.get("args") or ""
        e = {"evt.type": "execve", "proc.pid": pid, "proc.ppid": leaf,
             "proc.name": name, "proc.exe": exe,
             "proc.exepath": exe if exe.startswith("/") else "/usr/bin/" + name,
             "proc.args": args, "proc.cwd": "/tmp/", "user.uid": UIDS.get(user, 1000),
             "user.name": user, "user.loginuid": -1, "proc.start_ts": t[0] + 1000,
             "group.gid": UIDS.get(user, 1000), "group.name": user,
             # root, and any process of the generator's (privileged)
             # container, holds the admin capabilities; other host users none
             "thread.cap_effective": "CAP_CHOWN CAP_DAC_OVERRIDE CAP_SYS_ADMIN CAP_SYS_MODULE"
             if user == "root" or ctr else ""}
        e.update(ctr)
        # the generator copies a non-root process's exe into the container's
        # upper layer (see drop_and_execute_new_binary_in_container.yaml)
        if ctr and p.get("exe") and user != "root":
            e["proc.is_exe_upper_layer"] = True
        if fileless and i == len(procs) - 1 and not opts.get("not_fileless"):
            ev({"evt.type": "memfd_create", "proc.pid": leaf, "evt.arg.name": name,
                "evt.arg.flags": "MFD_CLOEXEC", "evt.rawres": 3})
            e["proc.exepath"] = "memfd:" + name
            e["proc.exe"] = "memfd:" + name
            e["proc.is_exe_from_memfd"] = True
            e["proc.is_exe_writable"] = True
        ev(e)
        leaf = pid
    if opts.get("sleep") is not None:
        sl = opts["sleep"]
    else:
        m = re.search(r"sleep (\d+)", test.get("before") or "")
        sl = int(m.group(1)) if m else 0
    t[0] += sl * 10**9
    fds = {}
    for r in res:
        if r.get("type") != "clientServer":
            continue
        host, port, fam = split_addr(r["address"])
        loop = host.startswith("127.") or host == "::1"
        cip = host if loop else ("198.51.100.7" if fam == "ipv4" else "2001:db8::7")
        ev({"evt.type": "socket", "proc.pid": leaf, "evt.rawres": 5,
            "evt.arg.domain": "AF_INET" if fam == "ipv4" else "AF_INET6",
            "evt.arg.type": "SOCK_STREAM", "evt.arg.proto": 0})
        ev({"evt.type": "connect", "proc.pid": leaf, "evt.arg.fd": 5, "evt.rawres": 0,
            "fd.num": 5, "fd.type": fam, "fd.l4proto": "tcp", "fd.sip": host,
            "fd.sport": port, "fd.cip": cip, "fd.cport": 40000 + k})
        fds["${ %s.client.fd }" % r["name"]] = 5
    for s in test.get("steps") or []:
        sc = s["syscall"]
        a = s.get("args") or {}
        e = {"evt.type": sc, "proc.pid": leaf}
        if sc in ("open", "openat", "openat2"):
            how = a.get("how") or {}
            e["evt.arg.name"] = a["pathname"]
            e["evt.arg.flags"] = a.get("flags") or how.get("flags") or "O_RDONLY"
            mode = a.get("mode", how.get("mode"))
            if mode is not None:
                e["evt.arg.mode"] = "0%o" % mode if isinstance(mode, int) else str(mode)
            e["evt.rawres"] = 7
        elif sc in ("symlink", "symlinkat"):
            e["evt.arg.target"] = a["target"]
            e["evt.arg.linkpath"] = a["linkPath"]
        elif sc in ("link", "linkat"):
            e["evt.arg.oldpath"] = a["oldPath"]
            e["evt.arg.newpath"] = a["newPath"]
        elif sc == "socket":
            e["evt.arg.domain"] = opts.get("domain") or a["domain"]
            e["evt.arg.type"] = a.get("type", "SOCK_STREAM")
            e["evt.arg.proto"] = a.get("protocol", 0)
            e["evt.rawres"] = 6
        elif sc in ("dup", "dup2", "dup3"):
            old = a.get("oldFd")
            old = fds.get(old, old)
            if opts.get("dup_file"):
                ev({"evt.type": "openat", "proc.pid": leaf, "evt.arg.name": "/tmp/eg.log",
                    "evt.arg.flags": "O_WRONLY|O_CREAT", "evt.rawres": 8})
                old = 8
            e["evt.arg.oldfd"] = int(old)
            e["evt.arg.newfd"] = int(a["newFd"])
            e["evt.rawres"] = int(a["newFd"])
            if sc == "dup3":
                e["evt.arg.flags"] = int(a.get("flags") or 0)
        else:
            raise Fail("step syscall %s is not translated" % sc)
        ev(e)
    return evs


# benign twins: the item changes (or options) that make each rule's intent false
def negative(test, item):
    r, n, it = test["rule"], test["name"], dict(item)
    opts = {}
    if r == "Run shell untrusted":
        if "spawner" in it:
            it["spawner"] = "make"
        if "marker" in it:
            it["marker"] = "org.example.App"
    elif r == "Clear Log Activities":
        it["target"] = "/tmp/eg_clearlog/notes.txt"
    elif r in ("Create Hardlink Over Sensitive Files", "Create Symlink Over Sensitive Files"):
        it["target"] = "/tmp/eg_benign"
    elif r == "Debugfs Launched in Privileged Container":
        opts["unprivileged"] = True
    elif r == "Detect release_agent File Container Escapes":
        it["target"] = it["target"] + ".bak"
    elif r == "Directory traversal monitored file read":
        it["pathname"] = it["fdname"]
    elif r == "Disallowed SSH Connection Non Standard Port":
        it["addr"] = "203.0.113.10:22"
    elif r == "Drop and execute new binary in container":
        opts["user"] = "root"
    elif r == "Execution from /dev/shm":
        if n.endswith("_exe"):
            opts["exe"] = "/usr/local/bin/eg_devshm"
        else:
            it["shellargs"] = "-c /tmp/evil"
    elif r == "Fileless execution via memfd_create":
        opts["not_fileless"] = True
    elif r == "Find AWS Credentials":
        if "awsstring" in it:
            it["awsstring"] = "aws_region"
        else:
            opts["args"] = "/root/.aws/config"
    elif r == "Netcat Remote Code Execution in Container":
        it["args"] = "-l 8080"
    elif r == "Packet socket created in container":
        opts["domain"] = "AF_INET"
    elif r == "Read sensitive file trusted after startup":
        opts["sleep"] = 1
    elif r == "Read sensitive file untrusted":
        it["target"] = "/etc/hostname"
    elif r == "Redirect STDOUT/STDIN to Network Connection in Container":
        opts["dup_file"] = True
    elif r == "Remove Bulk Data from Disk":
        it["procname"] = "rm"
    elif r == "Search Private Keys or Passwords":
        if "pattern" in it:
            it["pattern"] = "BEGIN CERTIFICATE"
        else:
            it["idfile"] = "known_hosts"
    elif r == "System user interactive":
        it["user"] = "root"
    else:
        return None
    return it, opts


def build(tests, neg):
    """(cases, lines): cases[k] = (test, item); lines = JSON-lines text."""
    cases, lines = [], []
    for test in tests:
        for item in expand(test):
            opts = {}
            if neg:
                x = negative(test, item)
                if x is None:
                    raise Fail("no benign twin for rule %r" % test["rule"])
                item, opts = x
            st = subst(test, item)
            k = len(cases)
            cases.append((test, item))
            for e in translate(st, k, opts):
                lines.append(json.dumps(e))
    return cases, "\n".join(lines) + "\n"


def alerts_by_case(out):
    by = {}
    for line in out.splitlines():
        if not line.strip():
            continue
        a = json.loads(line)
        for key in ("time", "rule", "priority", "output", "output_fields", "tags",
                    "source", "hostname"):
            check(key in a, "alert without %r: %s" % (key, line[:300]))
        # the alert time is the event's: it names the case slot
        from datetime import datetime
        ts = a["time"]
        dt = datetime.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")
        ns = int((dt - datetime(1970, 1, 1)).total_seconds()) * 10**9 + int(ts[20:29])
        by.setdefault((ns - T0) // SLOT, []).append(a)
    return by


class T:
    def __init__(self):
        self.r = Runner()
        self.yaml = None

    def replay(self, text, name, extra=()):
        path = os.path.join(self.r.root, name)
        with open(path, "w") as f:
            f.write(text)
        r = self.r.run(["runtime", "replay", path, "--rules", RULES, "--format", "json",
                        "-q"] + list(extra), timeout=900)
        if r.rc != 0:
            raise Fail("replay: %s" % r.describe())
        return r

    def evtgen_positive(self):
        need_data()
        yaml = need_yaml()
        tests = load_suite(yaml)
        rules = {t["rule"] for t in tests}
        eq(len(rules), 20, "stable rules covered by the suite")
        cases, text = build(tests, neg=False)
        print("  %d cases of %d tests, %d events" % (len(cases), len(tests), text.count("\n")),
              flush=True)
        by = alerts_by_case(self.replay(text, "positive.jsonl").out)
        bad = []
        for k, (test, item) in enumerate(cases):
            exp = subst(test["expectedOutcome"], item)
            got = [a for a in by.get(k, []) if a["rule"] == test["rule"]]
            if not got:
                bad.append("%s %s: rule did not fire (fired: %s)" % (
                    test["name"], item, sorted({a["rule"] for a in by.get(k, [])})))
                continue
            ok = False
            why = ""
            for a in got:
                if a["priority"].lower() != exp["priority"].lower():
                    why = "priority %s, want %s" % (a["priority"], exp["priority"])
                    continue
                if a["source"] != exp.get("source", "syscall"):
                    why = "source %s" % a["source"]
                    continue
                miss = [(f, a["output_fields"].get(f), v)
                        for f, v in (exp.get("outputFields") or {}).items()
                        if str(a["output_fields"].get(f)) != str(v)]
                if miss:
                    why = "output fields (field, got, want): %s" % miss
                    continue
                ok = True
            if not ok:
                bad.append("%s %s: %s" % (test["name"], item, why))
        if bad:
            raise Fail("%d of %d cases wrong:\n    %s" % (len(bad), len(cases),
                                                          "\n    ".join(bad[:30])))

    def evtgen_negative_twins(self):
        need_data()
        yaml = need_yaml()
        tests = load_suite(yaml)
        cases, text = build(tests, neg=True)
        by = alerts_by_case(self.replay(text, "negative.jsonl").out)
        bad = []
        for k, (test, item) in enumerate(cases):
            if any(a["rule"] == test["rule"] for a in by.get(k, [])):
                bad.append("%s %s" % (test["name"], item))
        if bad:
            raise Fail("%d of %d benign twins fired their rule:\n    %s" % (
                len(bad), len(cases), "\n    ".join(bad[:30])))

    def outputs_file_text_http(self):
        need_data()
        ev = json.dumps({"evt.type": "execve", "proc.name": "shred", "proc.args": "-u x",
                         "proc.ancestors": [{"name": "bash"}]}) + "\n"
        path = os.path.join(self.r.root, "one.jsonl")
        with open(path, "w") as f:
            f.write(ev)
        # file
        out = os.path.join(self.r.root, "alerts.jsonl")
        r = self.r.run(["runtime", "replay", path, "--rules", RULES, "-q", "--format", "json",
                        "--output", "file:" + out])
        eq(r.rc, 0, "rc (%s)" % r.describe())
        a = json.loads(open(out).read().splitlines()[0])
        eq(a["rule"], "Remove Bulk Data from Disk", "rule")
        eq(a["output_fields"]["proc.cmdline"], "shred -u x", "proc.cmdline")
        eq(a["output_fields"]["proc.pname"], "bash", "proc.pname")
        # text
        r = self.r.run(["runtime", "replay", path, "--rules", RULES, "-q"])
        check(r.rc == 0 and "Warning Bulk data has been removed from disk" in r.out,
              "text output: %r" % r.out[:300])
        # HTTP: a local server receives one POST per alert
        got = []

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                got.append((self.headers.get("Content-Type"), self.rfile.read(n)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a):
                pass

        srv = http.server.HTTPServer(("127.0.0.1", 0), H)
        th = threading.Thread(target=srv.serve_forever, daemon=True)
        th.start()
        try:
            url = "http://127.0.0.1:%d/falco" % srv.server_address[1]
            r = self.r.run(["runtime", "replay", path, "--rules", RULES, "-q", "--output", url])
            eq(r.rc, 0, "rc (%s)" % r.describe())
        finally:
            srv.shutdown()
        eq(len(got), 1, "POSTs")
        eq(got[0][0], "application/json", "content type")
        eq(json.loads(got[0][1])["rule"], "Remove Bulk Data from Disk", "posted rule")
        # an unreachable endpoint is an error, not silence
        r = self.r.run(["runtime", "replay", path, "--rules", RULES, "-q", "--output",
                        "http://127.0.0.1:9/none"])
        eq(r.rc, 2, "rc for an unreachable HTTP output")
        # a URL of another scheme is refused, not taken for a file name
        for bad in ("ftp://127.0.0.1/alerts", "gopher://127.0.0.1/x", "dict://127.0.0.1/x"):
            r = self.r.run(["runtime", "replay", path, "--rules", RULES, "-q", "--output", bad])
            eq(r.rc, 2, "rc for --output %s" % bad)
            check("only http and https" in r.err, "message for %s: %r" % (bad, r.err[:300]))
            check(not os.path.exists(bad.split("/")[0]), "no file made for %s" % bad)

    def malformed_rules_file(self):
        # one policy: a rule that cannot compile is disabled with a warning
        # naming file, line, rule and reason; --strict makes it a failure
        path = os.path.join(self.r.root, "bad_rules.yaml")
        deep = "(" * 250 + "proc.name=a" + ")" * 250
        with open(path, "w") as f:
            f.write("- list: l\n  items: [a]\n- rule: Broken rule\n  desc: d\n"
                    "  condition: evt.type=open and (proc.name in (l)\n"
                    "  output: o\n  priority: WARNING\n"
                    "- macro: loop\n  condition: evt.type=open and loop\n"
                    "- rule: Recursive rule\n  desc: d\n  condition: loop\n"
                    "  output: o\n  priority: WARNING\n"
                    "- rule: Deep rule\n  desc: d\n  condition: evt.type=open and " + deep + "\n"
                    "  output: o\n  priority: WARNING\n"
                    "- rule: Good rule\n  desc: d\n  condition: evt.type=open and proc.name=a\n"
                    "  output: good %proc.name\n  priority: WARNING\n")
        ev = os.path.join(self.r.root, "e.jsonl")
        with open(ev, "w") as f:
            f.write('{"evt.type":"open","proc.name":"a"}\n')
        r = self.r.run(["runtime", "replay", ev, "--rules", path])
        eq(r.rc, 0, "rc without --strict (%s)" % r.describe())
        check("good a" in r.out, "the good rule still fires: %r" % r.out[:300])
        warns = [l for l in r.err.splitlines() if "warning" in l]
        for w in warns:
            print("  " + w, flush=True)
        for where, rule, why in (("bad_rules.yaml:5", "Broken rule", "condition"),
                                 ("bad_rules.yaml:10", "Recursive rule", "refers to itself"),
                                 ("bad_rules.yaml:17", "Deep rule", "nests too deeply")):
            check(any(where in w and "'%s' disabled" % rule in w and why in w for w in warns),
                  "no warning naming %s %s %s: %r" % (where, rule, why, warns))
        r = self.r.run(["runtime", "replay", ev, "--rules", path, "--strict"])
        eq(r.rc, 2, "rc with --strict")
        msg = r.err.strip().splitlines()[-1]
        print("  " + msg, flush=True)
        for want in ("bad_rules.yaml:5", "Broken rule", "condition", "(strict)", "and 2 more"):
            check(want in msg, "message %r does not name %r" % (msg, want))
        r = self.r.run(["runtime", "rules", "--rules", path, "--strict"])
        eq(r.rc, 2, "rc of rules --strict")
        # a bad event line names its line, the key and the expected type
        for line, want in (('{"evt.type": 1}', '"evt.type": expected a string, got the integer 1'),
                           ('{"evt.type":"open","proc.pid":"x"}',
                            '"proc.pid": expected an integer (or a string of one), '
                            'got the string "x"'),
                           ('{"evt.type":"open","fd.name":null}',
                            '"fd.name": expected a string, got null'),
                           ('{"proc.name":"a"}', 'no "evt.type"')):
            with open(ev, "w") as f:
                f.write('{"evt.type":"open","proc.name":"a"}\n' + line + "\n")
            r = self.r.run(["runtime", "replay", ev, "--rules", path, "-q"])
            eq(r.rc, 2, "rc for %s" % line)
            check("e.jsonl:2: " + want in r.err, "message for %s: %r" % (line, r.err[-300:]))

    def upstream_counts(self):
        need_data()
        out = []
        for fn in ("falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml"):
            r = self.r.run(["runtime", "rules", "--rules", os.path.join(FALCO, fn)])
            eq(r.rc, 0, "rc (%s)" % r.describe())
            first = r.out.splitlines()[0]
            print("  %s: %s" % (fn, first), flush=True)
            for l in r.out.splitlines():
                if "disabled:" in l and "warning" in l:
                    print("    " + l, flush=True)
            out.append(first)
        check(out[0].startswith("rules 25, macros 87, lists 49:"), out[0])
        check("0 disabled (unsupported)" in out[0], out[0])


def main():
    t = T()
    s = Suite()
    try:
        for name in ("upstream_counts", "evtgen_positive", "evtgen_negative_twins",
                     "outputs_file_text_http", "malformed_rules_file"):
            if len(sys.argv) > 1 and name not in sys.argv[1:]:
                continue
            s.case(name.replace("_", "-"), getattr(t, name))
    finally:
        t.r.close()
    s.finish()


if __name__ == "__main__":
    main()
