#!/bin/sh
# setup-node-tools.sh - installs the JSON-schema tools the SBOM validation
# needs (ajv, ajv-formats and @cyclonedx/cyclonedx-library, which ships the
# official CycloneDX schemas) into a folder OUTSIDE the repository, so that
# the source tree never holds node_modules.  Idempotent: a second run with
# everything present does nothing.
#
# Usage: setup-node-tools.sh [DIR]   (default $MAMORI_NODE_TOOLS, else
#        /var/cache/mamori-node-tools).  Prints DIR on success.
# Not below /var/cache/mamori-test: scripts/build-test-image.sh empties that
# folder whenever it rebuilds the test images.
set -eu

dir=${1:-${MAMORI_NODE_TOOLS:-/var/cache/mamori-node-tools}}

have() {
    [ -f "$dir/node_modules/ajv/package.json" ] &&
    [ -f "$dir/node_modules/ajv-formats/package.json" ] &&
    ls "$dir"/node_modules/@cyclonedx/cyclonedx-library/res/schema/bom-1.5*.schema.json \
        >/dev/null 2>&1
}

if ! have; then
    command -v npm >/dev/null 2>&1 || {
        echo "setup-node-tools: npm is not installed" >&2; exit 1; }
    mkdir -p "$dir"
    npm install --no-audit --no-fund --loglevel=error --prefix "$dir" \
        ajv ajv-formats @cyclonedx/cyclonedx-library >&2
    have || { echo "setup-node-tools: install in $dir is incomplete" >&2; exit 1; }
fi
echo "$dir"
