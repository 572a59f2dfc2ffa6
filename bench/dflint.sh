#!/bin/sh
# Benchmark: `mamori config` (the Dockerfile linter) on a large multi-stage
# Dockerfile made here (200 stages, 2,400 instructions, RUN scripts with
# apt-get, pip, npm, curl pipes, heredocs, ONBUILD triggers and label
# checks), with and without ShellCheck, and on a typical 20-line service
# Dockerfile.  Peak memory from /usr/bin/time.
#
# The peer, hadolint, has no Debian or npm package and cannot be downloaded
# on these machines, so there is no side-by-side run: the figures are
# mamori's own (docs/benchmarks.md says so).  ShellCheck is the program
# hadolint links as a library; the "shellcheck only" run shows what the
# SC part costs by itself.
#
# Usage: bench/dflint.sh [path/to/mamori]
set -eu
MAMORI=$(readlink -f "${1:-build/cli/mamori}")
RUNS=${RUNS:-5}
W=$(mktemp -d /tmp/mamori-bench-dflint.XXXXXX)
trap 'rm -rf "$W"' EXIT
python3 - "$W" <<'PY'
import sys, os
w = sys.argv[1]
stage = '''FROM debian:12-slim AS s{i}
ARG VERSION=1.{i}
ENV APP_HOME=/srv/app{i} PATH=/srv/app{i}/bin:$PATH
LABEL org.opencontainers.image.version="1.{i}.0" maintainer="ops@example.org"
WORKDIR /srv/app{i}
RUN apt-get update && apt-get install -y --no-install-recommends \\
    curl=7.88.1-10 ca-certificates=20230311 git \\
 && rm -rf /var/lib/apt/lists/*
RUN set -eux; \\
    curl -fsSL https://example.org/tool-$VERSION.tar.gz | tar -xz -C /opt; \\
    if [ -n "$APP_HOME" ]; then echo $APP_HOME > /etc/app-home; fi
COPY requirements.txt package.json ./
RUN pip install --no-cache-dir -r requirements.txt flask==3.0.0 requests
RUN npm install --loglevel warn express@4.18.2 lodash
ONBUILD RUN make -C /src install
USER 10{i:03d}
'''
with open(os.path.join(w, 'Dockerfile.big'), 'w') as f:
    for i in range(200):
        f.write(stage.format(i=i))
    f.write('HEALTHCHECK CMD ["/srv/app0/bin/probe"]\nENTRYPOINT ["/srv/app0/bin/app"]\n')
with open(os.path.join(w, 'Dockerfile.small'), 'w') as f:
    f.write(stage.format(i=1) + 'HEALTHCHECK CMD ["probe"]\nCMD ["app"]\n')
PY
cd "$W"
# the scripts of the big file, for the ShellCheck-only run
"$MAMORI" config Dockerfile.big --format json -o /dev/null --no-shellcheck -q || true
hyperfine -N --warmup 1 --runs "$RUNS" --export-markdown "$W/out.md" \
    -n 'mamori config big (no ShellCheck)' "$MAMORI config Dockerfile.big --no-shellcheck -o /dev/null -q" \
    -n 'mamori config big (with ShellCheck)' "$MAMORI config Dockerfile.big -o /dev/null -q" \
    -n 'mamori config small (with ShellCheck)' "$MAMORI config Dockerfile.small -o /dev/null -q"
cat "$W/out.md"
for f in Dockerfile.big Dockerfile.small; do
    /usr/bin/time -f "$f: peak RSS %M KiB, %e s" "$MAMORI" config "$f" -o /dev/null -q
done
echo "instructions in Dockerfile.big: $(grep -c '^[A-Z]' Dockerfile.big)"
