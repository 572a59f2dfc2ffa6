"""malformed - hostile and broken images for mamori's integration tests,
generated at test time into a temp dir with imgkit (nothing big is kept in
the repository).

Each builder takes a directory and returns what the test needs to know
(the path to scan, the digest that a message must name, ...).  The images
hold a tiny Debian-like system so that a scan that goes wrong shows it in
the inventory or the OS it reports.
"""

import gzip
import hashlib
import json
import os
import random

import imgkit
from imgkit import D, F, H, Image, Layer, OPQ, S, WH

OS_RELEASE = """PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
"""

DPKG_STATUS = """Package: hello
Status: install ok installed
Priority: optional
Section: devel
Installed-Size: 280
Maintainer: Santiago Vila <sanvila@debian.org>
Architecture: amd64
Version: 2.10-3
Depends: libc6 (>= 2.34)
Description: example package based on GNU hello
 The GNU hello program produces a familiar, friendly greeting.

Package: libc6
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 12949
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u4
Description: GNU C Library: Shared libraries

Package: oldpkg
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0-1
Description: removed, config files left
"""

EXPECTED_DPKG = {("hello", "2.10-3", "amd64"),
                 ("libc6", "2.36-9+deb12u4", "amd64")}


def system_entries(os_release=OS_RELEASE, status=DPKG_STATUS):
    """A minimal Debian-like tree: os-release via the usual symlink and a
    dpkg status database."""
    return [D("etc"), D("usr"), D("usr/lib"), D("var"), D("var/lib"),
            D("var/lib/dpkg"),
            F("usr/lib/os-release", os_release),
            S("etc/os-release", "../usr/lib/os-release"),
            F("etc/debian_version", "12.4\n"),
            F("var/lib/dpkg/status", status)]


def tiny_image(extra=None, **kw):
    layers = [Layer(system_entries(), created_by="ADD rootfs.tar /")]
    if extra is not None:
        layers.append(Layer(extra, created_by="RUN extra"))
    return Image(layers, **kw)


# ---- broken containers ---------------------------------------------------------

def random_payload(n, seed=1):
    r = random.Random(seed)
    return bytes(r.getrandbits(8) for _ in range(n))


def truncated_gzip_oci(d):
    """An OCI layout whose layer blob is a gzip stream cut in half; the
    digest is that of the cut blob, so only the decoder can notice."""
    raw = imgkit.tar_bytes(system_entries() +
                           [F("usr/share/big.bin", random_payload(200000))])
    gz = gzip.compress(raw, mtime=0)
    cut = gz[: len(gz) // 2]
    lay = Layer(raw_blob=cut, diff_id="sha256:" + imgkit.sha256_hex(raw),
                media_type=imgkit.LAYER_TYPES["gzip"])
    desc = imgkit.write_oci(d, Image([lay]))
    return d, desc["mamori:layers"][0]["digest"]


def corrupt_gzip_oci(d):
    """A valid layout, then one byte of the layer blob changed in place
    (the gzip stream breaks before the digest can be compared)."""
    desc = imgkit.write_oci(d, tiny_image())
    dg = desc["mamori:layers"][0]["digest"]
    p = os.path.join(d, "blobs", "sha256", dg.split(":")[1])
    with open(p, "r+b") as f:
        f.seek(-20, os.SEEK_END)
        b = f.read(1)
        f.seek(-20, os.SEEK_END)
        f.write(bytes([b[0] ^ 0xFF]))
    return d, dg


def digest_mismatch_oci(d):
    """A valid layout whose layer blob is then replaced by another valid
    gzip tar under the old name: only the digest check can notice."""
    desc = imgkit.write_oci(d, tiny_image())
    dg = desc["mamori:layers"][0]["digest"]
    other = imgkit.compress(imgkit.tar_bytes(system_entries(
        os_release=OS_RELEASE.replace("bookworm", "trixie"))), "gzip")
    with open(os.path.join(d, "blobs", "sha256", dg.split(":")[1]), "wb") as f:
        f.write(other)
    return d, dg


def truncated_tar_docker(path):
    """A docker-archive whose (uncompressed) layer.tar is a tar stream cut
    in the middle of a member; its name and diff_id are those of the cut
    bytes, so only the tar reader can notice."""
    raw = imgkit.tar_bytes(system_entries() +
                           [F("usr/share/big.bin", random_payload(20000))])
    cut = raw[: len(raw) - 12000]
    info = imgkit.write_docker_archive(path, Image([Layer(raw_blob=cut)]))
    return path, info["layers"][0]["digest"]


def manifest_mismatch_oci(d):
    """The manifest blob rewritten (still valid JSON, same meaning) without
    its digest in index.json following."""
    desc = imgkit.write_oci(d, tiny_image())
    dg = desc["digest"]
    p = os.path.join(d, "blobs", "sha256", dg.split(":")[1])
    with open(p) as f:
        doc = json.load(f)
    with open(p, "w") as f:
        json.dump(doc, f, indent=2)
    return d, dg


def diffid_mismatch_oci(d):
    """The config claims a diff_id that the layer's tar does not hash to."""
    lay = Layer(system_entries(), diff_id="sha256:" + "ab" * 32)
    desc = imgkit.write_oci(d, Image([lay]))
    return d, "ab" * 32


def missing_blob_oci(d):
    desc = imgkit.write_oci(d, tiny_image(extra=[F("x", "y")]))
    dg = desc["mamori:layers"][1]["digest"]
    os.unlink(os.path.join(d, "blobs", "sha256", dg.split(":")[1]))
    return d, dg


def missing_index_oci(d):
    imgkit.write_oci(d, tiny_image())
    os.unlink(os.path.join(d, "index.json"))
    return d


def bad_json_index_oci(d):
    imgkit.write_oci(d, tiny_image())
    with open(os.path.join(d, "index.json"), "w") as f:
        f.write('{"schemaVersion": 2, "manifests": [ {"digest": ')
    return d


# ---- hostile layer contents ----------------------------------------------------

ESCAPE_OS_RELEASE = """PRETTY_NAME="Mamori Escape Test"
ID=debian
VERSION_ID="99"
VERSION_CODENAME=escape
"""


def path_escape_entries(marker):
    """Names that climb out of the root or are absolute.  The os-release
    written as ../../../etc/os-release must be read as /etc/os-release of the
    image (that is how it is normalised), the status file under an
    absolute name as /var/lib/dpkg/status."""
    return [
        F("../../etc/passwd", "root:x:0:0:%s:/root:/bin/sh\n" % marker),
        F("../../../etc/os-release", ESCAPE_OS_RELEASE),
        D("/abs"), D("/abs/path"),
        F("/abs/path/file", marker + "\n"),
        F("/var/lib/dpkg/status", DPKG_STATUS),
        F("usr/../../../../" + marker + "-dotdot", "x"),
    ]


def symlink_out_entries():
    """Links that point out of the root: resolved inside the image (as a
    container's kernel would), they must never reach the host's files."""
    return [
        D("etc"), D("var"), D("var/lib"), D("var/lib/dpkg"),
        S("etc/os-release", "../../../../etc/os-release"),
        S("usr/lib/os-release", "/etc/os-release"),
        S("var/lib/dpkg/status", "../../../../../../var/lib/dpkg/status"),
        S("etc/lsb-release", "/etc/lsb-release"),
    ]


CLAMP_OS_RELEASE = """PRETTY_NAME="Mamori Clamp Test"
ID=debian
VERSION_ID="77"
"""


def symlink_clamp_entries():
    """etc/os-release -> ../../../../../usr/lib/os-release: the climb stops
    at the image root, so it names the image's /usr/lib/os-release."""
    return [D("etc"), D("usr"), D("usr/lib"),
            F("usr/lib/os-release", CLAMP_OS_RELEASE),
            S("etc/os-release", "../../../../../usr/lib/os-release")]


def hardlink_out_entries():
    """A hard link whose target climbs out: tar hard links name earlier
    members, never host files."""
    return [D("etc"), D("var"), D("var/lib"), D("var/lib/dpkg"),
            H("etc/os-release", "../../../../etc/os-release"),
            H("var/lib/dpkg/status", "../../../../var/lib/dpkg/status")]


def symlink_loop_entries():
    """Loops of every shape; the dpkg database is real so the scan must go
    on past them."""
    return [
        D("etc"), D("usr"), D("usr/lib"), D("var"), D("var/lib"),
        D("var/lib/dpkg"),
        F("var/lib/dpkg/status", DPKG_STATUS),
        S("etc/os-release", "os-release.2"),
        S("etc/os-release.2", "os-release"),
        S("usr/lib/os-release", "../../usr/lib/os-release"),
        S("loop1", "loop2"), S("loop2", "loop1"),
        S("self", "self"),
        S("deep", "deep/deep/deep"),
        S("etc/lsb-release", "/loop1/x"),
        S("usr/lib/python3", "/usr/lib"),
    ]


CORRUPT_STATUS = """Package: hello
Status: install ok installed
Version 2.10-3
Architecture: amd64

"""


def corrupt_dpkg_entries():
    return system_entries(status=CORRUPT_STATUS)


def write_rootfs_dir(d, entries):
    """Lays entries out as a real directory tree (symlinks as symlinks),
    for `mamori rootfs DIR`.  Names must already be inside d."""
    for e in entries:
        p = os.path.join(d, e["name"])
        assert os.path.abspath(p).startswith(os.path.abspath(d) + os.sep)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if e["type"] == imgkit.tarfile.DIRTYPE:
            os.makedirs(p, exist_ok=True)
        elif e["type"] == imgkit.tarfile.SYMTYPE:
            os.symlink(e["link"], p)
        else:
            with open(p, "wb") as f:
                f.write(e.get("data", b""))
    return d


def write_rootfs_tar(path, entries):
    with open(path, "wb") as f:
        f.write(imgkit.tar_bytes(entries))
    return path


def sha256_file(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def read_os_release(p="/etc/os-release"):
    out = {}
    try:
        with open(p) as f:
            for line in f:
                if "=" in line:
                    k, v = line.rstrip("\n").split("=", 1)
                    out[k] = v.strip('"')
    except OSError:
        pass
    return out


def many_files_oci(d, nfiles):
    """An OCI layout of the tiny system plus one layer of nfiles empty
    files, the tar streamed straight into the gzip blob.  Returns
    (layout, entries in the big layer)."""
    counter = []
    big = Layer(tarpath=lambda: imgkit.many_files_chunks(nfiles, 1000, counter),
                created_by="RUN touch lots")
    img = Image([Layer(system_entries(), created_by="ADD rootfs.tar /"), big])
    imgkit.write_oci(d, img)
    return d, counter[0]
