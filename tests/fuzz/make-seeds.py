#!/usr/bin/env python3
"""Writes the small seed inputs of the layer, image, tar-index and config
fuzz targets into tests/fuzz/corpus/ (committed; rerun after changing it).
The seeds are tiny real formats built with tests/integration/imgkit.py:
a layer with an os-release, a dpkg status, an apk database, a dist-info
and a package.json; the same as gzip and zstd; a docker-archive and an OCI
tar holding it; and an image config."""
import io, os, shutil, sys, tarfile, tempfile
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "integration"))
import imgkit as k

STATUS = b"""Package: libc6
Status: install ok installed
Architecture: amd64
Source: glibc (2.36-9)
Version: 2.36-9+deb12u4

Package: zlib1g
Status: deinstall ok config-files
Architecture: amd64
Version: 1:1.2.13.dfsg-1
"""
APK = b"P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\nL:MIT\nF:lib\nR:ld-musl-x86_64.so.1\n\n"
entries = [
    k.D("etc"), k.F("etc/os-release", b'ID=debian\nVERSION_ID="12"\n'),
    k.S("etc/alt", "../usr/lib/os-release"),
    k.F("var/lib/dpkg/status", STATUS),
    k.F("var/lib/dpkg/info/libc6:amd64.list", b"/.\n/lib/x86_64-linux-gnu/libc.so.6\n"),
    k.F("lib/apk/db/installed", APK),
    k.F("usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
        b"Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\nLicense: MIT\n"),
    k.F("app/node_modules/@s/x/package.json", b'{"name":"@s/x","version":"1.0.0","license":"ISC"}'),
    k.WH("usr/share/doc"), k.OPQ("opt"), k.H("etc/hard", "etc/os-release"),
]
raw = k.tar_bytes(entries)
out = os.path.join(here, "corpus")
def put(target, name, data):
    d = os.path.join(out, target); os.makedirs(d, exist_ok=True)
    open(os.path.join(d, name), "wb").write(data)
put("fuzz_layer", "layer.tar", raw)
put("fuzz_layer", "layer.tar.gz", k.compress(raw, "gzip"))
put("fuzz_layer", "layer.tar.zst", k.compress(raw, "zstd"))
put("fuzz_tar_index", "layer.tar", raw)
tmp = tempfile.mkdtemp()
try:
    img = k.Image([k.Layer(entries)])
    da = os.path.join(tmp, "d.tar"); k.write_docker_archive(da, img)
    put("fuzz_image", "docker-archive.tar", open(da, "rb").read())
    put("fuzz_tar_index", "docker-archive.tar", open(da, "rb").read())
    lay = os.path.join(tmp, "oci"); k.write_oci(lay, img, tag="t")
    ot = os.path.join(tmp, "oci.tar"); k.tar_dir(lay, ot)
    put("fuzz_image", "oci.tar", open(ot, "rb").read())
    put("fuzz_config", "config.json", img.config_bytes(["sha256:" + "0" * 64] * 3))
finally:
    shutil.rmtree(tmp)
