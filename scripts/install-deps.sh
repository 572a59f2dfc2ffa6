#!/bin/sh
# Installs the Debian packages mamori needs to build and test, and nothing that
# is already there.  Idempotent: a second run only checks.  Used by `make demo`
# and `make check`; needs root (or sudo) only when something is missing.
set -eu

BUILD="meson ninja-build pkg-config gcc clang llvm libclang-rt-14-dev \
  libarchive-dev libjansson-dev libsqlite3-dev libssl-dev libzstd-dev zlib1g-dev \
  libisal-dev libyaml-dev libcurl4-openssl-dev \
  libyara-dev \
  libvectorscan-dev libpcre2-dev \
  libbpf-dev bpftool \
  libpcap-dev libopenscap-dev \
  libnftables-dev libnetfilter-log-dev libmodsecurity-dev modsecurity-crs \
  libmicrohttpd-dev libpq-dev"
TEST="python3 python3-yaml jq hyperfine time mmdebstrap umoci skopeo golang-go isal \
  gzip zstd tar rpm file ca-certificates gpg libdpkg-perl debian-archive-keyring mount \
  yara ripgrep docker-registry apache2-utils openssl util-linux shellcheck node-spdx-license-ids \
  iproute2 nmap tcpdump tshark tcpreplay podman runc crun containerd docker.io busybox-static \
  openscap-utils ssg-debian lynis nftables \
  wrk curl nginx libnginx-mod-http-modsecurity postgresql chromium"

want="$BUILD"
[ "${1:-}" = "--test" ] && want="$BUILD $TEST"
# the k8s benchmark's floor (kubectl annotate --local): Debian's client when
# no kubectl is installed from elsewhere
if [ "${1:-}" = "--test" ] && ! command -v kubectl >/dev/null 2>&1; then
    want="$want kubernetes-client"
fi

missing=""
for p in $want; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
        *"ok installed") ;;
        *) missing="$missing $p" ;;
    esac
done

[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "mamori: installing missing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
