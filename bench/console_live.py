#!/usr/bin/env python3
"""console_live.py - the console's live alert view under 1,000 alerts/s
(bench/console.sh runs it; docs/benchmarks.md).

One thread posts 100 alerts every 0.1 s for SECONDS (1,000/s) as an agent
does; another reads /api/v1/events/stream as the console's EventSource
does (a logged-in session's cookie, Last-Event-ID, reconnecting a second
after each response) and notes when each alert arrived.  Prints alerts posted and
received, lost and repeated, and the delay from post to arrival (p50, p99,
max).  Usage: console_live.py URL CA AGENT_TOKEN SESSION_COOKIE [SECONDS]
"""
import http.client
import json
import ssl
import sys
import threading
import time
import urllib.parse

url, ca, agent, cookie = sys.argv[1:5]
secs = float(sys.argv[5]) if len(sys.argv) > 5 else 10
u = urllib.parse.urlparse(url)
ctx = ssl.create_default_context(cafile=ca)


def conn():
    return http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=30)


def last_id():
    c = conn()
    c.request("GET", "/api/v1/events/stream?wait=0", headers={"Cookie": cookie})
    body = c.getresponse().read().decode()
    ids = [int(l[4:]) for l in body.splitlines() if l.startswith("id: ")]
    return ids[-1] if ids else 0


posted = {}
got = {}
dups = [0]
done = threading.Event()


def poster():
    c = conn()
    n = 0
    start = time.time()
    while time.time() - start < secs:
        t0 = time.time()
        evs = []
        for _ in range(100):
            eid = "live-%d-%d" % (int(start), n)
            evs.append({"id": eid, "rule": "Live bench", "priority": "Warning",
                        "output": eid, "time": int(t0)})
            posted[eid] = t0
            n += 1
        c.request("POST", "/api/v1/events", body=json.dumps({"host_id": "bench-1", "events": evs}),
                  headers={"Authorization": "Bearer " + agent, "Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        if r.status not in (200, 201):
            print("post: HTTP %d" % r.status, file=sys.stderr)
        time.sleep(max(0, 0.1 - (time.time() - t0)))
    done.set()


def reader(after):
    c = conn()
    quiet = 0
    while quiet < 3:
        c.request("GET", "/api/v1/events/stream",
                  headers={"Cookie": cookie, "Last-Event-ID": str(after)})
        body = c.getresponse().read().decode()
        now = time.time()
        n = 0
        for line in body.splitlines():
            if line.startswith("id: "):
                after = int(line[4:])
            elif line.startswith("data: "):
                a = json.loads(line[6:])
                eid = a["event_id"]
                if eid in got:
                    dups[0] += 1
                got[eid] = now
                n += 1
        quiet = quiet + 1 if done.is_set() and n == 0 else 0
        time.sleep(1.0)   # the stream's retry: 1000 ms, as EventSource waits


start_after = last_id()
t = threading.Thread(target=reader, args=(start_after,))
t.start()
poster()
t.join()
lat = sorted(got[e] - posted[e] for e in posted if e in got)
lost = sum(1 for e in posted if e not in got)


def pct(p):
    return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")


print("live: %d alerts posted in %.0f s (%.0f/s), %d received, %d lost, %d repeated;"
      " delay p50 %.0f ms, p99 %.0f ms, max %.0f ms"
      % (len(posted), secs, len(posted) / secs, len(got), lost, dups[0], pct(0.5), pct(0.99),
         pct(1.0) if lat else float("nan")))
