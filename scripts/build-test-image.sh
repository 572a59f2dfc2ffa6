#!/bin/sh
# Builds the real container images that the integration tests scan
# (tests/integration/test_image.py), and what those tests expect of them.
#
# Usage: scripts/build-test-image.sh [CACHE_DIR]   (default /var/cache/mamori-test)
#
# - rootfs.tar / rootfs/: a Debian 12 minbase made by mmdebstrap (as root);
# - oci/: an OCI layout made by umoci with two tags: `base` (that rootfs as one
#   layer) and `app` (base plus a second layer that deletes files with plain
#   and opaque whiteouts, adds a hand-written Python dist-info and a Go binary
#   built in module mode with a local `replace`), with history, user and env;
# - oci.tar: the same layout as a tar; app-docker.tar / base-docker.tar:
#   docker-archives written by skopeo; oci-zstd/: app with zstd layers;
# - expected-*.tsv/txt: the truth, taken from the tools themselves
#   (dpkg-query --admindir, go version -m, the list of deleted paths).
#
# Needs root, network access to the Debian mirror, and the packages of
# `scripts/install-deps.sh --test`.  Idempotent: it rebuilds only when an
# output is missing or this script changed (its sha256 is kept in .stamp).
# Exits 3 when the mirror cannot be reached, so tests can skip on that.
set -eu

CACHE=${1:-/var/cache/mamori-test}
SELF=$(readlink -f "$0")
SUM=$(sha256sum "$SELF" | cut -d' ' -f1)
OUTPUTS="rootfs.tar rootfs/var/lib/dpkg/status oci/index.json oci.tar \
  app-docker.tar base-docker.tar oci-zstd/index.json expected-dpkg.tsv \
  expected-dpkg-src.tsv expected-deleted.txt expected-go.txt \
  expected-python.tsv expected-os-release"

print_paths() {
    for f in $OUTPUTS; do echo "$CACHE/$f"; done
}

up_to_date() {
    [ -f "$CACHE/.stamp" ] && [ "$(cat "$CACHE/.stamp")" = "$SUM" ] || return 1
    for f in $OUTPUTS; do [ -e "$CACHE/$f" ] || return 1; done
    return 0
}

if up_to_date; then
    print_paths
    exit 0
fi

# Test runs in several build trees may call this at once: one builds, the
# others wait and then find the cache current (builds are not
# reproducible, so two interleaved swaps would mix two images).
mkdir -p "$(dirname "$CACHE")"
if [ -z "${MAMORI_BTI_LOCKED:-}" ] && command -v flock >/dev/null 2>&1; then
    export MAMORI_BTI_LOCKED=1
    exec flock "$CACHE.lock" sh "$SELF" "$CACHE"
fi
if up_to_date; then
    print_paths
    exit 0
fi

[ "$(id -u)" -eq 0 ] || { echo "build-test-image: must run as root" >&2; exit 1; }
for t in mmdebstrap umoci skopeo go dpkg-query tar python3; do
    command -v "$t" >/dev/null 2>&1 || {
        echo "build-test-image: $t missing (run scripts/install-deps.sh --test)" >&2
        exit 1; }
done

mkdir -p "$CACHE"
CACHE=$(readlink -f "$CACHE")
# Build beside the cache and swap in at the end, so a failed run never
# leaves a half-built cache that looks complete.
WORK=$(mktemp -d "$CACHE.build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM

echo "build-test-image: mmdebstrap bookworm minbase (about a minute)" >&2
# --mode=root: we are root; unshare needs user namespaces, often absent in
# containers.  A fixed mirror (MAMORI_DEBIAN_MIRROR overrides it) keeps the
# result independent of the host's sources.list.
MIRROR=${MAMORI_DEBIAN_MIRROR:-http://deb.debian.org/debian}
if ! mmdebstrap --variant=minbase --mode=root bookworm \
        "$WORK/rootfs.tar" "$MIRROR" >"$WORK/mmdebstrap.log" 2>&1; then
    cat "$WORK/mmdebstrap.log" >&2
    if grep -qiE "could not (resolve|connect)|failed to fetch|temporary failure|unable to connect|connection (refused|timed out|failed)|apt-get update.* failed" \
            "$WORK/mmdebstrap.log"; then
        echo "build-test-image: the Debian mirror cannot be reached" >&2
        exit 3
    fi
    exit 1
fi

# An unpacked copy for `mamori rootfs DIR`.  Device nodes are left out: they
# need mknod and are no part of any inventory.
mkdir "$WORK/rootfs"
tar -C "$WORK/rootfs" --numeric-owner --exclude='./dev/*' -xpf "$WORK/rootfs.tar"
R="$WORK/rootfs"

dpkg-query --admindir="$R/var/lib/dpkg" -W \
    -f='${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\n' |
    awk -F'\t' '$1 ~ /^ii/ { print $2 "\t" $3 "\t" $4 }' | LC_ALL=C sort \
    >"$WORK/expected-dpkg.tsv"
dpkg-query --admindir="$R/var/lib/dpkg" -W \
    -f='${db:Status-Abbrev}\t${Package}\t${source:Package}\t${source:Version}\n' |
    awk -F'\t' '$1 ~ /^ii/ { print $2 "\t" $3 "\t" $4 }' | LC_ALL=C sort \
    >"$WORK/expected-dpkg-src.tsv"
cp "$R/usr/lib/os-release" "$WORK/expected-os-release"

# ---- the second layer: deletions, a Python package, a Go binary ----------
L2="$WORK/layer2"
mkdir -p "$L2/usr/share/doc" "$L2/etc/apt/apt.conf.d" "$L2/usr/local/bin"
: >"$WORK/deleted.unsorted"
# 1. a whole directory: /usr/share/doc/bash (plain whiteout on a directory)
: >"$L2/usr/share/doc/.wh.bash"
(cd "$R" && find usr/share/doc/bash | sed 's|^|/|') >>"$WORK/deleted.unsorted"
# 2. one file in /etc
: >"$L2/etc/.wh.motd"
echo /etc/motd >>"$WORK/deleted.unsorted"
# 3. an opaque directory: everything apt.conf.d held below is hidden, one
#    new file takes its place
: >"$L2/etc/apt/apt.conf.d/.wh..wh..opq"
printf 'APT::Install-Recommends "false";\n' >"$L2/etc/apt/apt.conf.d/99mamori-app"
(cd "$R" && find etc/apt/apt.conf.d -mindepth 1 | sed 's|^|/|') >>"$WORK/deleted.unsorted"
LC_ALL=C sort -u "$WORK/deleted.unsorted" >"$WORK/expected-deleted.txt"

# A Python distribution as pip leaves it (dist-info written by hand, from
# requests 2.31.0's published metadata).
SP="$L2/usr/local/lib/python3.11/site-packages"
DI="$SP/requests-2.31.0.dist-info"
mkdir -p "$DI" "$SP/requests"
cat >"$DI/METADATA" <<'EOF'
Metadata-Version: 2.1
Name: requests
Version: 2.31.0
Summary: Python HTTP for Humans.
Home-page: https://requests.readthedocs.io
Author: Kenneth Reitz
Author-email: me@kennethreitz.org
License: Apache 2.0
Project-URL: Documentation, https://requests.readthedocs.io
Project-URL: Source, https://github.com/psf/requests
Platform: UNKNOWN
Classifier: Development Status :: 5 - Production/Stable
Classifier: Intended Audience :: Developers
Classifier: License :: OSI Approved :: Apache Software License
Classifier: Programming Language :: Python :: 3
Requires-Python: >=3.7
Description-Content-Type: text/markdown
License-File: LICENSE
Requires-Dist: charset-normalizer (<4,>=2)
Requires-Dist: idna (<4,>=2.5)
Requires-Dist: urllib3 (<3,>=1.21.1)
Requires-Dist: certifi (>=2017.4.17)
Provides-Extra: security
Provides-Extra: socks
Requires-Dist: PySocks (!=1.5.7,>=1.5.6) ; extra == 'socks'
Provides-Extra: use_chardet_on_py3
Requires-Dist: chardet (<6,>=3.0.2) ; extra == 'use_chardet_on_py3'

# Requests

**Requests** is a simple, yet elegant, HTTP library.
EOF
printf 'pip\n' >"$DI/INSTALLER"
printf 'requests\n' >"$DI/top_level.txt"
cat >"$DI/WHEEL" <<'EOF'
Wheel-Version: 1.0
Generator: bdist_wheel (0.40.0)
Root-Is-Purelib: true
Tag: py3-none-any
EOF
printf '__version__ = "2.31.0"\n' >"$SP/requests/__version__.py"
printf 'from .__version__ import __version__\n' >"$SP/requests/__init__.py"
cat >"$DI/RECORD" <<'EOF'
requests-2.31.0.dist-info/INSTALLER,,
requests-2.31.0.dist-info/METADATA,,
requests-2.31.0.dist-info/RECORD,,
requests-2.31.0.dist-info/WHEEL,,
requests-2.31.0.dist-info/top_level.txt,,
requests/__init__.py,,
requests/__version__.py,,
EOF
printf 'python\trequests\t2.31.0\t/usr/local/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA\n' \
    >"$WORK/expected-python.tsv"

# A Go binary in module mode; the dependency is replaced by a sibling
# directory so nothing is fetched (GOPROXY=off).
GS="$WORK/gosrc"
mkdir -p "$GS/greet"
cat >"$GS/go.mod" <<'EOF'
module example.com/mamori-demo

go 1.19

require example.com/greet v1.2.3

replace example.com/greet => ./greet
EOF
printf 'module example.com/greet\n\ngo 1.19\n' >"$GS/greet/go.mod"
printf 'package greet\n\nfunc Hello(name string) string { return "hello, " + name }\n' \
    >"$GS/greet/greet.go"
cat >"$GS/main.go" <<'EOF'
package main

import (
	"fmt"
	"os"

	"example.com/greet"
)

func main() { fmt.Println(greet.Hello(os.Args[0])) }
EOF
(cd "$GS" && env GOPROXY=off GOFLAGS=-mod=mod GOCACHE="$WORK/gocache" \
    GOPATH="$WORK/gopath" CGO_ENABLED=0 GO111MODULE=on GOTOOLCHAIN=local \
    GOWORK=off go build -trimpath -buildvcs=false \
    -o "$L2/usr/local/bin/greeter" .)
# The first line names the build path; keep only "greeter: goX.Y.Z".
go version -m "$L2/usr/local/bin/greeter" |
    sed '1s|^.*/greeter:|/usr/local/bin/greeter:|' >"$WORK/expected-go.txt"
chmod -R go+rX "$WORK/gopath" 2>/dev/null || true
rm -rf "$WORK/gopath" "$WORK/gocache"

tar -C "$L2" --numeric-owner --owner=0 --group=0 --sort=name \
    -cf "$WORK/layer2.tar" .

# ---- the OCI layout -------------------------------------------------------
O="$WORK/oci"
umoci init --layout "$O"
umoci new --image "$O:base"
umoci config --image "$O:base" --no-history --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --config.cmd /bin/bash --os linux --architecture amd64
umoci raw add-layer --image "$O:base" \
    --history.created_by "mmdebstrap --variant=minbase bookworm" "$WORK/rootfs.tar"
umoci raw add-layer --image "$O:base" --tag app \
    --history.created_by "COPY layer2/ / # whiteouts, requests 2.31.0, greeter" \
    "$WORK/layer2.tar"
umoci config --image "$O:app" --config.user 1000:1000 \
    --config.env APP_MODE=production --config.entrypoint /usr/local/bin/greeter \
    --config.label org.opencontainers.image.title=mamori-app \
    --history.created_by 'USER 1000:1000' --history.comment "empty layer"
umoci gc --layout "$O"

# The same layout as a tar; docker-archives; zstd layers.
tar -C "$O" --numeric-owner --sort=name -cf "$WORK/oci.tar" .
skopeo copy --quiet "oci:$O:app" "docker-archive:$WORK/app-docker.tar:mamori/app:1.0"
skopeo copy --quiet "oci:$O:base" "docker-archive:$WORK/base-docker.tar:mamori/base:1.0"
skopeo copy --quiet --dest-compress-format zstd "oci:$O:app" "oci:$WORK/oci-zstd:app"

rm -rf "$WORK/layer2" "$WORK/gosrc" "$WORK/layer2.tar" "$WORK/deleted.unsorted" \
    "$WORK/mmdebstrap.log"
echo "$SUM" >"$WORK/.stamp"

# Swap the new build in.
for f in $(ls -A "$CACHE"); do rm -rf "${CACHE:?}/$f"; done
for f in $(ls -A "$WORK"); do mv "$WORK/$f" "$CACHE/"; done
rmdir "$WORK"
trap - EXIT INT TERM
print_paths
