#!/usr/bin/env python3
"""test_image - `mamori image` and `mamori rootfs` on real Debian 12 images.

The images come from scripts/build-test-image.sh (mmdebstrap + umoci +
skopeo + Go), which also writes the truth: dpkg-query's own list of
installed packages, `go version -m` of the Go binary, the Python
distribution and the paths the second layer deleted.  The inventory must
equal that truth exactly, in every container format (OCI directory, OCI
tar, docker-archive, zstd layers) and for the root filesystem as a
directory and as a tar, with each package attributed to the layer that
brought it.

The whole file SKIPs when the images cannot be built (not root, no
mmdebstrap, or no route to the Debian mirror).  MAMORI_TEST_IMAGES names
the cache directory (default /var/cache/mamori-test).
"""

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import imgkit                                   # noqa: E402
import malformed as M                           # noqa: E402
from mmrun import Fail, Runner, Suite, check, eq, skip, source_root  # noqa: E402

CACHE = os.environ.get("MAMORI_TEST_IMAGES", "/var/cache/mamori-test")

CASES = [
    "base-oci-dir", "app-oci-dir", "app-layer-attribution", "app-oci-tar",
    "app-docker-archive", "base-docker-archive", "app-zstd-layers",
    "dpkg-source-fields", "purls", "rootfs-dir", "rootfs-tar",
    "whiteout-file-deletes-dpkg-db", "opaque-dir-replaces-dpkg-db",
    "whiteout-deletes-python-dist", "platform-select", "platform-nested-index",
    "platform-missing", "cyclonedx", "spdx-json", "table-and-output-file",
    "nothing-written-outside-cache",
]


def build_images():
    """Runs the builder (a no-op when the cache is current).  Returns None
    on success, else why the images are unavailable."""
    if os.geteuid() != 0:
        return "building the test images needs root (mmdebstrap --mode=root)"
    for t in ("mmdebstrap", "umoci", "skopeo", "go"):
        if not shutil.which(t):
            return "%s is not installed (scripts/install-deps.sh --test)" % t
    script = os.path.join(source_root(), "scripts", "build-test-image.sh")
    p = subprocess.run(["sh", script, CACHE], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=1200)
    if p.returncode == 3:
        return ("build-test-image.sh: the Debian mirror cannot be reached "
                "(set MAMORI_DEBIAN_MIRROR to a reachable one)")
    if p.returncode != 0:
        raise Fail("build-test-image.sh failed (rc=%d): %s" % (
            p.returncode, p.stderr.decode("utf-8", "replace")[-2000:]))
    return None


def cpath(*a):
    return os.path.join(CACHE, *a)


def read_tsv(name):
    with open(cpath(name)) as f:
        return [tuple(l.rstrip("\n").split("\t")) for l in f if l.strip()]


def parse_go_version_m(name):
    """`go version -m` output: the go version, the main module and the deps
    (with replacements)."""
    out = {"deps": {}}
    with open(cpath(name)) as f:
        lines = f.read().splitlines()
    out["go"] = lines[0].split(": ", 1)[1].strip()
    last = None
    for l in lines[1:]:
        parts = l.strip().split("\t")
        if parts[0] == "path":
            out["path"] = parts[1]
        elif parts[0] == "mod":
            out["main"] = (parts[1], parts[2] if len(parts) > 2 else "")
        elif parts[0] == "dep":
            last = parts[1]
            out["deps"][last] = parts[2] if len(parts) > 2 else ""
        elif parts[0] == "=>" and last:
            out.setdefault("replaced", {})[last] = parts[1]
    return out


def blob(layout, digest):
    return os.path.join(layout, "blobs", "sha256", digest.split(":")[1])


def load_json(p):
    with open(p) as f:
        return json.load(f)


def oci_image(layout, tag):
    """(manifest descriptor, manifest, config) of a tag in an OCI layout."""
    idx = load_json(os.path.join(layout, "index.json"))
    for d in idx["manifests"]:
        if (d.get("annotations") or {}).get("org.opencontainers.image.ref.name") == tag:
            m = load_json(blob(layout, d["digest"]))
            c = load_json(blob(layout, m["config"]["digest"]))
            return d, m, c
    raise Fail("no tag %s in %s" % (tag, layout))


def tar_stats(fileobj):
    """(entries, uncompressed bytes, sha256) of a tar stream."""
    h = hashlib.sha256()
    n = [0]

    class Hashing:
        def read(self, k=-1):
            b = fileobj.read(k)
            h.update(b)
            n[0] += len(b)
            return b

    count = 0
    with tarfile.open(fileobj=Hashing(), mode="r|") as t:
        for _ in t:
            count += 1
    # the rest (end-of-archive blocks and padding) counts too
    while True:
        b = fileobj.read(1 << 20)
        if not b:
            break
        h.update(b)
        n[0] += len(b)
    return count, n[0], "sha256:" + h.hexdigest()


def pkgs(rep, typ):
    return [p for p in rep.get("packages") or [] if p.get("type") == typ]


def dpkg_triples(rep):
    return sorted((p["name"], p["version"], p.get("arch") or "")
                  for p in pkgs(rep, "dpkg"))


def pkg_key(p):
    return (p.get("type"), p.get("name"), p.get("version"), p.get("arch"),
            p.get("path"), p.get("layer"), p.get("layerDigest"))


class T:
    def __init__(self):
        self.r = Runner()
        self.work = tempfile.mkdtemp(prefix="mamori-image-")
        self.dpkg = sorted(read_tsv("expected-dpkg.tsv"))
        self.dpkg_src = {r[0]: (r[1], r[2]) for r in read_tsv("expected-dpkg-src.tsv")}
        self.py = read_tsv("expected-python.tsv")
        self.go = parse_go_version_m("expected-go.txt")
        self.osr = M.read_os_release(cpath("expected-os-release"))
        with open(cpath("expected-deleted.txt")) as f:
            self.deleted = [l.strip() for l in f if l.strip()]
        self.oci = cpath("oci")
        self.app_rep = None
        self._layer_stats = {}

    def close(self):
        self.r.close()
        shutil.rmtree(self.work, ignore_errors=True)

    def scan(self, target, *extra):
        return self.r.scan_json(["image", "--input", target] + list(extra),
                                timeout=900)

    def layer_stats(self, layout, desc):
        """Entries, size and diff_id of a gzip layer blob, computed here."""
        dg = desc["digest"]
        if dg not in self._layer_stats:
            with gzip.open(blob(layout, dg), "rb") as f:
                self._layer_stats[dg] = tar_stats(f)
        return self._layer_stats[dg]

    def check_dpkg(self, rep, what):
        got = dpkg_triples(rep)
        if got != self.dpkg:
            g, w = set(got), set(self.dpkg)
            raise Fail("%s: dpkg inventory differs from dpkg-query: %d packages, "
                       "want %d; missing %s; extra %s" % (
                           what, len(got), len(w), sorted(w - g)[:5],
                           sorted(g - w)[:5]))

    def check_os(self, rep, what):
        o = rep.get("os") or {}
        eq((o.get("family"), o.get("version"), o.get("codename")),
           (self.osr["ID"], self.osr["VERSION_ID"], self.osr["VERSION_CODENAME"]),
           "%s: os family/version/codename" % what)
        eq(o.get("name"), self.osr["PRETTY_NAME"], "%s: os.name" % what)

    def check_layers(self, rep, layout, manifest, config, what):
        layers = rep.get("layers") or []
        eq(len(layers), len(manifest["layers"]), "%s: number of layers" % what)
        hist = [h for h in config.get("history", []) if not h.get("empty_layer")]
        for i, (l, d) in enumerate(zip(layers, manifest["layers"])):
            eq(l.get("index"), i, "%s: layers[%d].index" % (what, i))
            eq(l.get("digest"), d["digest"], "%s: layers[%d].digest" % (what, i))
            eq(l.get("size"), d["size"], "%s: layers[%d].size" % (what, i))
            eq(l.get("diffId"), config["rootfs"]["diff_ids"][i],
               "%s: layers[%d].diffId" % (what, i))
            eq(l.get("createdBy"), hist[i].get("created_by"),
               "%s: layers[%d].createdBy (empty_layer history skipped)" % (what, i))
            if d["mediaType"].endswith("+gzip"):
                n, usize, diff = self.layer_stats(layout, d)
                eq(diff, config["rootfs"]["diff_ids"][i], "diff_id computed here")
                eq(l.get("entries"), n, "%s: layers[%d].entries" % (what, i))
                eq(l.get("uncompressedSize"), usize,
                   "%s: layers[%d].uncompressedSize" % (what, i))

    # -- base and app, OCI directory ---------------------------------------------
    def base_oci_dir(self):
        desc, man, cfg = oci_image(self.oci, "base")
        rep = self.scan(self.oci + ":base")
        self.check_dpkg(rep, "base")
        self.check_os(rep, "base")
        img = rep["image"]
        eq(img.get("sourceFormat"), "oci-layout", "image.sourceFormat")
        eq(img.get("manifestDigest"), desc["digest"], "image.manifestDigest")
        eq(img.get("configDigest"), man["config"]["digest"], "image.configDigest")
        eq((img.get("os"), img.get("architecture")), ("linux", "amd64"), "image os/arch")
        eq(img.get("created"), cfg["created"], "image.created")
        self.check_layers(rep, self.oci, man, cfg, "base")
        eq(rep.get("kind"), "image", "kind")
        extra = [p for p in rep["packages"] if p["type"] != "dpkg"]
        eq(extra, [], "non-dpkg packages in base")

    def app_oci_dir(self):
        desc, man, cfg = oci_image(self.oci, "app")
        rep = self.scan(self.oci + ":app")
        self.app_rep = rep
        self.check_dpkg(rep, "app")
        self.check_os(rep, "app")
        img = rep["image"]
        eq(img.get("manifestDigest"), desc["digest"], "image.manifestDigest")
        eq(img.get("configDigest"), man["config"]["digest"], "image.configDigest")
        eq(img.get("user"), "1000:1000", "image.user")
        self.check_layers(rep, self.oci, man, cfg, "app")
        # python: exactly the hand-written dist-info
        py = [(p["type"], p["name"], p["version"], p.get("path")) for p in pkgs(rep, "python")]
        eq(py, [tuple(r) for r in self.py], "python packages")
        # go: main module, the replaced dependency, the stdlib
        go = {p["name"]: p for p in pkgs(rep, "gomod")}
        main_path = self.go["main"][0]
        check(main_path in go, "main module %s missing (gomod: %s)" % (main_path, sorted(go)))
        eq(go[main_path]["version"], self.go["main"][1], "main module version")
        for dep, ver in self.go["deps"].items():
            check(dep in go, "dependency %s missing (gomod: %s)" % (dep, sorted(go)))
            # lib/pkg/gobin.c: a dependency replaced by a local folder keeps
            # its module path with the version "(devel)" (the code is the
            # folder's, not the required version's)
            rep_path = self.go.get("replaced", {}).get(dep)
            if rep_path and rep_path.startswith(("./", "../", "/")):
                ver = "(devel)"
            eq(go[dep]["version"], ver, "version of %s (replaced by %s)" % (dep, rep_path))
        check("stdlib" in go, "stdlib missing (gomod: %s)" % sorted(go))
        # the Go vulnerability database's convention: go1.19.8 -> v1.19.8
        eq(go["stdlib"]["version"], "v" + self.go["go"][2:], "stdlib version")
        for name, p in go.items():
            eq(p.get("path"), "/usr/local/bin/greeter", "path of gomod %s" % name)
        eq(len(go), 2 + len(self.go["deps"]), "number of gomod packages (%s)" % sorted(go))

    def app_layer_attribution(self):
        if self.app_rep is None:
            skip("app-oci-dir failed")
        rep = self.app_rep
        diffs = [l["diffId"] for l in rep["layers"]]
        for p in rep["packages"]:
            want = 0 if p["type"] == "dpkg" else 1
            eq((p.get("layer"), p.get("layerDigest")), (want, diffs[want]),
               "layer of %s %s" % (p["type"], p["name"]))
        # the second layer's tar: whiteouts for every deleted top path
        _, man, _ = oci_image(self.oci, "app")
        names = set()
        with gzip.open(blob(self.oci, man["layers"][1]["digest"])) as f:
            with tarfile.open(fileobj=f, mode="r|") as t:
                names = {m.name.lstrip("./") for m in t}
        for want in ("usr/share/doc/.wh.bash", "etc/.wh.motd",
                     "etc/apt/apt.conf.d/.wh..wh..opq"):
            check(want in names, "layer 1 lacks %s" % want)
        check("/usr/share/doc/bash/copyright" in self.deleted and
              "/etc/motd" in self.deleted, "expected-deleted.txt incomplete")
        # bash lost its docs, not its package
        check(any(p["name"] == "bash" for p in pkgs(rep, "dpkg")),
              "bash vanished with its /usr/share/doc")

    def same_as_app(self, rep, what):
        if self.app_rep is None:
            skip("app-oci-dir failed")
        a = sorted(map(pkg_key, self.app_rep["packages"]), key=repr)
        b = sorted(map(pkg_key, rep["packages"]), key=repr)
        if a != b:
            raise Fail("%s: inventory differs from the OCI directory's: only "
                       "there %s; only here %s" % (what, [x for x in a if x not in b][:3],
                                                    [x for x in b if x not in a][:3]))
        eq([l.get("diffId") for l in rep["layers"]],
           [l.get("diffId") for l in self.app_rep["layers"]], "%s: diffIds" % what)
        eq([l.get("entries") for l in rep["layers"]],
           [l.get("entries") for l in self.app_rep["layers"]], "%s: entries" % what)
        eq([l.get("createdBy") for l in rep["layers"]],
           [l.get("createdBy") for l in self.app_rep["layers"]], "%s: createdBy" % what)
        eq(rep["image"].get("configDigest"), self.app_rep["image"].get("configDigest"),
           "%s: configDigest" % what)
        self.check_os(rep, what)

    def app_oci_tar(self):
        rep = self.scan(cpath("oci.tar") + ":app")
        self.same_as_app(rep, "oci.tar")
        eq(rep["image"].get("sourceFormat"), "oci-layout", "sourceFormat")

    def app_docker_archive(self):
        rep = self.scan(cpath("app-docker.tar"))
        self.same_as_app(rep, "docker-archive")
        eq(rep["image"].get("sourceFormat"), "docker-archive", "sourceFormat")
        tags = rep["image"].get("repoTags") or []
        check(any(t in ("mamori/app:1.0", "docker.io/mamori/app:1.0") for t in tags),
              "repoTags %r" % tags)
        # docker-archive layers are uncompressed: digest == diffId
        for l in rep["layers"]:
            eq(l.get("digest"), l.get("diffId"), "docker-archive layer digest")

    def base_docker_archive(self):
        rep = self.scan(cpath("base-docker.tar"))
        self.check_dpkg(rep, "base docker-archive")
        self.check_os(rep, "base docker-archive")

    def app_zstd(self):
        z = cpath("oci-zstd")
        _, man, _ = oci_image(z, "app")
        check(all(l["mediaType"].endswith("+zstd") for l in man["layers"]),
              "the zstd variant has non-zstd layers")
        rep = self.scan(z + ":app")
        self.same_as_app(rep, "zstd layers")
        eq([l.get("digest") for l in rep["layers"]],
           [l["digest"] for l in man["layers"]], "zstd layer digests")

    def dpkg_source_fields(self):
        if self.app_rep is None:
            skip("app-oci-dir failed")
        bad = []
        for p in pkgs(self.app_rep, "dpkg"):
            sn, sv = self.dpkg_src[p["name"]]
            want = (None if sn == p["name"] else sn, None if sv == p["version"] else sv)
            got = (p.get("srcName") or None, p.get("srcVersion") or None)
            if got != want:
                bad.append((p["name"], got, want))
        eq(bad, [], "srcName/srcVersion (got, want) per package")

    def purls(self):
        if self.app_rep is None:
            skip("app-oci-dir failed")
        for p in self.app_rep["packages"]:
            purl = p.get("purl") or ""
            pre = {"dpkg": "pkg:deb/debian/", "python": "pkg:pypi/",
                   "gomod": "pkg:golang/"}[p["type"]]
            check(purl.startswith(pre), "purl %r of %s" % (purl, p["name"]))
            body = purl[len(pre):].split("?")[0].split("#")[0]
            if "@" not in body:
                check(p["type"] == "gomod" and p["name"] != "stdlib",
                      "purl %r has no version" % purl)
                continue
            name, ver = body.rsplit("@", 1)
            if p["type"] != "gomod" or p["name"] != "stdlib":
                eq(urllib.parse.unquote(name), p["name"].lower()
                   if p["type"] == "python" else p["name"], "purl name of %s" % purl)
            if p["type"] != "gomod":
                eq(urllib.parse.unquote(ver), p["version"], "purl version of %s" % purl)
                # purl-spec: percent-encode the version ('+' -> %2B); ':'
                # may stay as it is (the reference implementations keep it)
                check("+" not in ver, "purl %r: version not percent-encoded" % purl)
            if p["type"] == "dpkg":
                q = urllib.parse.parse_qs(purl.split("?", 1)[1] if "?" in purl else "")
                eq(q.get("arch"), [p["arch"]], "arch qualifier of %s" % purl)

    # -- root filesystems ----------------------------------------------------------
    def rootfs_dir(self):
        rep = self.r.scan_json(["rootfs", cpath("rootfs")], timeout=900)
        self.check_dpkg(rep, "rootfs dir")
        self.check_os(rep, "rootfs dir")
        eq(rep.get("kind"), "rootfs", "kind")

    def rootfs_tar(self):
        rep = self.r.scan_json(["rootfs", cpath("rootfs.tar")], timeout=900)
        self.check_dpkg(rep, "rootfs tar")
        self.check_os(rep, "rootfs tar")
        with open(cpath("rootfs.tar"), "rb") as f:
            n, _, _ = tar_stats(f)
        eq(rep["layers"][0].get("entries") if rep.get("layers") else None, n,
           "rootfs tar entries")

    # -- whiteouts over the real base layer ----------------------------------------
    def _on_base(self, name, *extra_layers):
        """A layout: the real base layer plus synthetic layers on top."""
        d = os.path.join(self.work, name)
        imgkit.copy_layout(self.oci, d)
        _, man, cfg = oci_image(self.oci, "base")
        l0 = man["layers"][0]
        base = imgkit.Layer(existing={"digest": l0["digest"], "size": l0["size"],
                                      "diffId": cfg["rootfs"]["diff_ids"][0],
                                      "mediaType": l0["mediaType"]},
                            created_by="mmdebstrap")
        imgkit.write_oci(d, imgkit.Image([base] + list(extra_layers)), tag="t")
        return d + ":t"

    def whiteout_dpkg_db(self):
        t = self._on_base("wh-dpkg", imgkit.Layer([
            imgkit.WH("var/lib/dpkg/status"), imgkit.WH("usr/share/doc/bash")]))
        rep = self.scan(t)
        eq(pkgs(rep, "dpkg"), [], "dpkg packages after the status file was deleted")
        self.check_os(rep, "whiteout image")

    def opaque_dpkg_db(self):
        t = self._on_base("opq-dpkg", imgkit.Layer([
            imgkit.D("var/lib/dpkg"), imgkit.OPQ("var/lib/dpkg"),
            imgkit.F("var/lib/dpkg/status", M.DPKG_STATUS)]))
        rep = self.scan(t)
        eq(set(dpkg_triples(rep)), M.EXPECTED_DPKG, "dpkg packages after the opaque dir")
        for p in pkgs(rep, "dpkg"):
            eq(p.get("layer"), 1, "layer of %s" % p["name"])

    def whiteout_python(self):
        di = "usr/local/lib/python3.11/site-packages/requests-2.31.0.dist-info"
        meta = "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n"
        add = imgkit.Layer([imgkit.D("usr/local/lib/python3.11/site-packages"),
                            imgkit.D(di), imgkit.F(di + "/METADATA", meta)])
        keep = imgkit.Layer([imgkit.F("usr/local/lib/python3.11/site-packages/"
                                      "idna-3.4.dist-info/METADATA",
                                      "Metadata-Version: 2.1\nName: idna\nVersion: 3.4\n")])
        rm = imgkit.Layer([imgkit.WH(di)])
        t = self._on_base("wh-py", add, keep, rm)
        rep = self.scan(t)
        eq([(p["name"], p["version"], p.get("layer")) for p in pkgs(rep, "python")],
           [("idna", "3.4", 2)], "python packages after pip uninstall requests")
        self.check_dpkg(rep, "whiteout python")

    # -- platforms ------------------------------------------------------------------
    def _multi(self, name, nested):
        d = os.path.join(self.work, name)
        imgkit.copy_layout(self.oci, d)
        desc, _, _ = oci_image(self.oci, "app")
        amd = dict(desc)
        amd.pop("annotations", None)
        amd["platform"] = {"os": "linux", "architecture": "amd64"}
        arm_status = M.DPKG_STATUS.replace("Architecture: amd64", "Architecture: arm64")
        arm = imgkit.oci_add_image(d, imgkit.Image(
            [imgkit.Layer(M.system_entries(status=arm_status))],
            arch="arm64", variant="v8"))
        imgkit.oci_write_index(d, [amd, arm], nested=nested)
        return d

    def _platform_cases(self, d):
        rep = self.scan(d, "--platform", "linux/arm64")
        eq(set(dpkg_triples(rep)), {(n, v, "arm64") for n, v, _ in M.EXPECTED_DPKG},
           "arm64 inventory")
        eq(rep["image"].get("architecture"), "arm64", "image.architecture")
        rep = self.scan(d, "--platform", "linux/amd64")
        self.check_dpkg(rep, "linux/amd64")
        eq(rep["image"].get("architecture"), "amd64", "image.architecture")
        rep = self.scan(d)
        self.check_dpkg(rep, "default platform")

    def platform_select(self):
        self._platform_cases(self._multi("multi", False))

    def platform_nested(self):
        self._platform_cases(self._multi("multi-nested", True))

    def platform_missing(self):
        d = self._multi("multi-missing", False)
        self.r.expect_error(["image", "--input", d, "--platform", "linux/s390x"],
                            ["s390x"])

    # -- output formats ---------------------------------------------------------------
    def _out(self, fmt):
        p = os.path.join(self.work, "app." + fmt)
        r = self.r.run(["image", "--input", self.oci + ":app", "--format", fmt,
                        "--output", p], timeout=900)
        eq(r.rc, 0, "exit status (%s)" % r.describe())
        check(os.path.getsize(p) > 0, "empty %s output" % fmt)
        keep = os.environ.get("MAMORI_IT_OUT")
        if keep:
            os.makedirs(keep, exist_ok=True)
            shutil.copy(p, keep)
        return p

    def cyclonedx(self):
        doc = load_json(self._out("cyclonedx"))
        eq(doc.get("bomFormat"), "CycloneDX", "bomFormat")
        comps = {(c.get("name"), c.get("version")) for c in doc.get("components") or []}
        missing = [(n, v) for n, v, _ in self.dpkg if (n, v) not in comps]
        eq(missing, [], "dpkg packages missing from the CycloneDX components")
        check(("requests", "2.31.0") in comps, "requests missing from CycloneDX")
        purls = [c.get("purl") for c in doc.get("components") or []]
        eq(len(purls), len(set(purls)), "duplicate purls in CycloneDX")

    def spdx(self):
        doc = load_json(self._out("spdx-json"))
        check(str(doc.get("spdxVersion", "")).startswith("SPDX-2."),
              "spdxVersion %r" % doc.get("spdxVersion"))
        got = {(p.get("name"), p.get("versionInfo")) for p in doc.get("packages") or []}
        missing = [(n, v) for n, v, _ in self.dpkg if (n, v) not in got]
        eq(missing, [], "dpkg packages missing from the SPDX packages")
        ids = [p.get("SPDXID") for p in doc.get("packages") or []]
        eq(len(ids), len(set(ids)), "duplicate SPDXIDs")

    def table_and_output(self):
        r = self.r.run(["image", "--input", self.oci + ":app", "--format", "table"],
                       timeout=900)
        eq(r.rc, 0, "exit status (%s)" % r.describe())
        for w in ("bash", "requests", "example.com/greet"):
            check(w in r.out, "table lacks %s" % w)
        p = self._out("json")
        rep = load_json(p)
        self.check_dpkg(rep, "--output FILE")

    def nothing_outside(self):
        left = self.r.leftovers()
        eq(left, [], "files left in the working, temp or home directory")
        check(os.path.isfile(os.path.join(self.r.cache, "mamori.db")),
              "no store at $MAMORI_CACHE_DIR/mamori.db")
        other = os.path.join(self.work, "other-cache")
        r = self.r.run(["image", "--input", self.oci + ":base", "--format", "json",
                        "--cache-dir", other, "--output", os.path.join(self.work, "o.json")],
                       timeout=900)
        eq(r.rc, 0, "exit status with --cache-dir (%s)" % r.describe())
        check(os.path.isfile(os.path.join(other, "mamori.db")),
              "--cache-dir %s: no mamori.db there" % other)


def main():
    s = Suite()
    try:
        why = build_images()
    except Fail as e:
        print("FAIL build-test-image: %s" % e, flush=True)
        s.failed += 1
        s.skip_all(CASES, "no test images")
        s.finish()
    if why:
        s.skip_all(CASES, why)
        s.finish()
    try:
        t = T()
    except Exception as e:
        s.skip_all(CASES, str(e))
        s.finish()
    fns = {
        "base-oci-dir": t.base_oci_dir, "app-oci-dir": t.app_oci_dir,
        "app-layer-attribution": t.app_layer_attribution,
        "app-oci-tar": t.app_oci_tar, "app-docker-archive": t.app_docker_archive,
        "base-docker-archive": t.base_docker_archive, "app-zstd-layers": t.app_zstd,
        "dpkg-source-fields": t.dpkg_source_fields, "purls": t.purls,
        "rootfs-dir": t.rootfs_dir, "rootfs-tar": t.rootfs_tar,
        "whiteout-file-deletes-dpkg-db": t.whiteout_dpkg_db,
        "opaque-dir-replaces-dpkg-db": t.opaque_dpkg_db,
        "whiteout-deletes-python-dist": t.whiteout_python,
        "platform-select": t.platform_select,
        "platform-nested-index": t.platform_nested,
        "platform-missing": t.platform_missing,
        "cyclonedx": t.cyclonedx, "spdx-json": t.spdx,
        "table-and-output-file": t.table_and_output,
        "nothing-written-outside-cache": t.nothing_outside,
    }
    only = sys.argv[1:]
    try:
        for name in CASES:
            if only and not any(o in name for o in only):
                continue
            s.case(name, fns[name])
    finally:
        t.close()
    s.finish()


if __name__ == "__main__":
    main()
