#!/usr/bin/env python3
"""test_sbom_schema - mamori's CycloneDX 1.5 and SPDX 2.3 documents must be
valid against the official JSON schemas (CycloneDX's, as shipped by the npm
package @cyclonedx/cyclonedx-library; SPDX 2.3's from the specification,
in ../shared/testdata/schemas), validated with ajv.

Inputs: an image written here with every ecosystem mamori inventories
(dpkg with an epoch, apk, python, npm with a scope, a jar, odd licence
strings), and the real mmdebstrap image when scripts/build-test-image.sh
has cached it.  Skips when npm cannot install the validators."""

import io
import os
import subprocess
import sys
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imgkit as k  # noqa: E402
from mmrun import Runner, Suite, check, skip  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

STATUS = b"""Package: bsdutils
Status: install ok installed
Architecture: amd64
Source: util-linux (2.38.1-5)
Version: 1:2.38.1-5+b1

Package: libc6
Status: install ok installed
Architecture: amd64
Source: glibc
Version: 2.36-9+deb12u4
"""


def jar_bytes():
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        z.writestr("META-INF/maven/org.example/demo-lib/pom.properties",
                   "groupId=org.example\nartifactId=demo-lib\nversion=1.2.3\n")
    return b.getvalue()


def tools():
    try:
        out = subprocess.run(["sh", os.path.join(HERE, "setup-node-tools.sh")],
                             capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        skip("cannot run setup-node-tools.sh: %s" % e)
    if out.returncode != 0:
        skip("JSON-schema tools unavailable (npm): %s" % out.stderr.strip()[-300:])
    return out.stdout.strip().splitlines()[-1]


def validate(tooldir, kind, path):
    shared = os.environ.get("MAMORI_SHARED", "")
    schema = os.path.join(shared, "schemas", "spdx-2.3.schema.json")
    if kind == "spdx" and not os.path.exists(schema):
        skip("SPDX 2.3 schema absent from ../shared (%s)" % schema)
    env = dict(os.environ, MAMORI_NODE_TOOLS=tooldir)
    args = ["node", os.path.join(HERE, "validate_schemas.js"), "--" + kind, path]
    if kind == "spdx":
        args += ["--spdx-schema", schema]
    r = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    check(r.returncode == 0, "%s invalid: %s %s" % (kind, r.stdout[-1500:], r.stderr[-800:]))


def main():
    s = Suite()
    run = Runner()
    try:
        img = os.path.join(run.root, "all.tar")
        k.write_docker_archive(img, k.Image([k.Layer([
            k.F("etc/os-release", b'ID=debian\nVERSION_ID="12"\n'),
            k.F("var/lib/dpkg/status", STATUS),
            k.F("lib/apk/db/installed", b"P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\nL:MIT AND BSD-2-Clause\n\n"),
            k.F("usr/lib/python3/site-packages/Typing_Extensions-4.8.0.dist-info/METADATA",
                b"Metadata-Version: 2.1\nName: Typing_Extensions\nVersion: 4.8.0\n"
                b"License: Python Software Foundation License\n"),
            k.F("srv/app/node_modules/@scope/pkg/package.json",
                b'{"name":"@scope/pkg","version":"2.0.0-beta.1","license":"(MIT OR Apache-2.0)"}'),
            k.F("srv/app/lib/demo-lib-1.2.3.jar", jar_bytes()),
        ])]))
        targets = [("synthetic", ["image", "--input", img])]
        cache = os.environ.get("MAMORI_TEST_CACHE", "/var/cache/mamori-test")
        if os.path.exists(os.path.join(cache, "oci", "index.json")):
            targets.append(("mmdebstrap-app", ["image", "--input", os.path.join(cache, "oci") + ":app"]))
        else:
            print("SKIP mmdebstrap-app: test image not built (scripts/build-test-image.sh)")
        state = {}

        def setup():
            state["tools"] = tools()
        s.case("node-tools", setup)
        for name, args in targets:
            for kind, fmt in (("cyclonedx", "cyclonedx"), ("spdx", "spdx-json")):
                def one(name=name, args=args, kind=kind, fmt=fmt):
                    if "tools" not in state:
                        skip("no validators")
                    out = os.path.join(run.root, "%s.%s.json" % (name, kind))
                    r = run.run(args + ["--format", fmt, "-o", out, "-q"])
                    check(r.rc == 0, r.describe())
                    validate(state["tools"], kind, out)
                s.case("%s-%s-valid" % (name, kind), one)
    finally:
        run.close()
    s.finish()


if __name__ == "__main__":
    main()
