#!/bin/sh
# Benchmark: the WAF inline (`mamori waf --listen`), docs/benchmarks.md.
# The same requests and rules (OWASP CRS of Debian's modsecurity-crs,
# paranoia level 1, threshold 5, the same base configuration) through:
#   mamori waf --listen 127.0.0.1:P1 --upstream http://127.0.0.1:U
#     (libmicrohttpd, libmodsecurity3, libcurl to the app);
#   nginx + ModSecurity (libnginx-mod-http-modsecurity, modsecurity on,
#     proxy_pass to the app) on P2;
#   nginx without ModSecurity on P3 (what the proxying alone costs).
# The app U is nginx returning a short 200.  The client sends 1,000
# requests a run over one keep-alive connection (8 kinds: 5 benign GETs and
# POSTs, 3 attacks answered 403); hyperfine times 5 runs of each target.
# Cost per request = run time / 1,000.  Loopback only.
# Usage: bench/waf.sh [path/to/mamori] [requests]
set -eu
MAMORI=$(readlink -f "${1:-build/cli/mamori}")
N=${2:-1000}
out=$(mktemp -d /tmp/mmbw-XXXXXX)
cleanup() {
    [ -n "${mpid:-}" ] && kill "$mpid" 2>/dev/null || true
    [ -f "$out/nginx.pid" ] && kill "$(cat "$out/nginx.pid")" 2>/dev/null || true
    sleep 0.5
    rm -rf "$out"
}
trap cleanup EXIT INT TERM
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
U=$(port); P1=$(port); P2=$(port); P3=$(port)
cat > "$out/modsec.conf" <<EOC
SecRuleEngine On
SecRequestBodyAccess On
SecRequestBodyLimit 1048576
SecRequestBodyNoFilesLimit 1048576
SecRequestBodyLimitAction ProcessPartial
SecResponseBodyAccess Off
SecArgumentSeparator &
SecCookieFormat 0
SecAuditEngine Off
SecRule REQUEST_HEADERS:Content-Type "(?:application(?:/soap\+|/)|text/)xml" "id:9990010,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "application/json" "id:9990011,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
Include /etc/modsecurity/crs/crs-setup.conf
SecAction "id:9990020,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level=1,setvar:tx.inbound_anomaly_score_threshold=5"
Include /etc/modsecurity/crs/REQUEST-900-EXCLUSION-RULES-BEFORE-CRS.conf
Include /usr/share/modsecurity-crs/rules/*.conf
EOC
cat > "$out/nginx.conf" <<EOC
load_module /usr/lib/nginx/modules/ngx_http_modsecurity_module.so;
worker_processes 1;
pid $out/nginx.pid;
error_log $out/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $out/body; proxy_temp_path $out/proxy;
  fastcgi_temp_path $out/fcgi; uwsgi_temp_path $out/uwsgi; scgi_temp_path $out/scgi;
  server { listen 127.0.0.1:$U; location / { return 200 "ok\n"; } }
  server { listen 127.0.0.1:$P2;
           modsecurity on; modsecurity_rules_file $out/modsec.conf;
           location / { proxy_pass http://127.0.0.1:$U; } }
  server { listen 127.0.0.1:$P3; location / { proxy_pass http://127.0.0.1:$U; } }
}
EOC
nginx -c "$out/nginx.conf"
"$MAMORI" waf --listen "127.0.0.1:$P1" --upstream "http://127.0.0.1:$U" --output none \
    2> "$out/mamori.err" &
mpid=$!
cat > "$out/client.py" <<'EOC'
import http.client, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
reqs = [("GET", "/", None), ("GET", "/search?q=blue+shoes&page=2", None),
        ("GET", "/products/42/reviews?sort=newest", None),
        ("POST", "/login", "user=alice&pass=correct+horse+battery+staple"),
        ("GET", "/api/orders?since=2026-12-01T00:00:00Z", None),
        ("GET", "/item?id=1%27%20OR%20%271%27=%271", None),
        ("GET", "/search?q=%3Cscript%3Ealert(1)%3C/script%3E", None),
        ("GET", "/download?file=../../../../etc/passwd", None)]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
codes = {}
for i in range(n):
    m, p, b = reqs[i % len(reqs)]
    h = {"User-Agent": UA, "Accept": "*/*"}
    if b:
        h["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        c.request(m, p, body=b, headers=h)
        r = c.getresponse(); r.read()
        codes[r.status] = codes.get(r.status, 0) + 1
        if r.getheader("Connection", "").lower() == "close":
            c.close(); c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    except (http.client.HTTPException, OSError):
        c.close(); c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        codes["err"] = codes.get("err", 0) + 1
if len(sys.argv) > 3:
    print(sorted(codes.items(), key=str))
EOC
i=0
until python3 "$out/client.py" "$P1" 1 >/dev/null 2>&1 && \
      python3 "$out/client.py" "$P2" 1 >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -gt 100 ] && { echo "bench/waf.sh: servers did not start" >&2; cat "$out/mamori.err" "$out/error.log" >&2; exit 1; }
    sleep 0.3
done
echo "status counts (mamori, nginx+modsecurity, nginx) for 80 requests:"
python3 "$out/client.py" "$P1" 80 show
python3 "$out/client.py" "$P2" 80 show
python3 "$out/client.py" "$P3" 80 show
echo "machine load: $(cut -d' ' -f1-3 /proc/loadavg)"
hyperfine --runs 5 --warmup 1 --export-markdown "$out/res.md" \
    -n "mamori waf (CRS PL1)" "python3 $out/client.py $P1 $N" \
    -n "nginx + ModSecurity (CRS PL1)" "python3 $out/client.py $P2 $N" \
    -n "nginx proxy, no WAF" "python3 $out/client.py $P3 $N"
cat "$out/res.md"
