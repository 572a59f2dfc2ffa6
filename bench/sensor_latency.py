#!/usr/bin/env python3
"""sensor_latency - event-to-alert latency of `mamori agent` (eBPF), at a
low and at a high event rate.

The agent runs one rule that matches opens of this benchmark's marker files
and writes its alerts to a pipe read by a thread here, which stamps each
line on arrival (CLOCK_REALTIME).  Latency = arrival - the alert's own event
time (the kernel's timestamp of the syscall).  Phase "low": N opens spaced
by a pause (default 500 at 20 ms: 50 events/s); phase "high": M opens as
fast as one Python loop goes, one in 250 of them a marker (the others match
no rule, so writing alerts does not bound the rate).  Prints p50 / p99 / max latency, alerts
received and the agent's drop counters for each phase.

  sudo python3 bench/sensor_latency.py [MAMORI_BIN] [--low N] [--high M]

Needs root and a kernel that accepts the BPF program.  Not a test: figures
go to docs/benchmarks.md with the command.
"""
import calendar
import json
import os
import subprocess
import sys
import tempfile
import threading
import time


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * (len(xs) - 1)))))
    return xs[k]


def main():
    args = sys.argv[1:]
    mamori = "build/cli/mamori"
    low, high = 500, 50000
    while args:
        a = args.pop(0)
        if a == "--low":
            low = int(args.pop(0))
        elif a == "--high":
            high = int(args.pop(0))
        else:
            mamori = a
    tmp = tempfile.mkdtemp(prefix="mmlat-")
    rules = os.path.join(tmp, "rules.yaml")
    with open(rules, "w") as f:
        f.write("- rule: latency marker\n"
                "  desc: opens of the benchmark's markers\n"
                "  condition: evt.type in (open, openat) and fd.name startswith %s/m-\n"
                "  output: \"mark %%fd.name\"\n"
                "  priority: NOTICE\n" % tmp)
    marker = {p: os.path.join(tmp, "m-%s" % p) for p in ("low", "high")}
    filler = os.path.join(tmp, "x-high")   # matches no rule: load without alerts
    for p in list(marker.values()) + [filler]:
        open(p, "w").close()
    ag = subprocess.Popen([mamori, "agent", "--rules", rules, "--duration", "600"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
    arrivals = []

    def reader():
        for line in ag.stdout:
            t = time.time_ns()
            try:
                a = json.loads(line)
            except ValueError:
                continue
            arrivals.append((t, a))

    errs = []

    def ereader():
        for line in ag.stderr:
            errs.append(line.decode(errors="replace"))
    threading.Thread(target=reader, daemon=True).start()
    threading.Thread(target=ereader, daemon=True).start()
    deadline = time.time() + 60
    while time.time() < deadline and not any("ready" in e for e in errs):
        time.sleep(0.1)
    if not any("ready" in e for e in errs):
        print("agent did not start: %s" % "".join(errs)[-500:])
        sys.exit(2)
    time.sleep(1)

    def phase(name, n, gap, every=1):
        """n opens; every every-th one is a marker (an alert), the others
        match no rule, so the rate is not bounded by writing alerts"""
        start = len(arrivals)
        t0 = time.time()
        for i in range(n):
            os.close(os.open(marker[name] if i % every == 0 else filler, os.O_RDONLY))
            if gap:
                time.sleep(gap)
        dt = time.time() - t0
        time.sleep(1.0)
        got = [(t, a) for t, a in arrivals[start:] if marker[name] in a.get("output", "")]
        lat = []
        for t, a in got:
            ts = a["time"]   # RFC 3339 with ns
            sec = calendar.timegm(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S"))
            ns = int(ts[20:29].ljust(9, "0"))
            lat.append((t - (int(sec) * 10**9 + ns)) / 1e6)
        print("%-4s %6d opens in %6.2f s (%8.0f/s): %6d alerts of %d markers, latency ms "
              "p50 %.2f p99 %.2f max %.2f" % (name, n, dt, n / dt if dt else 0, len(got),
                                               (n + every - 1) // every, pct(lat, 50),
                                               pct(lat, 99), max(lat) if lat else float("nan")))

    phase("low", low, 0.02)
    phase("high", high, 0, every=250)
    ag.send_signal(2)
    ag.wait(timeout=60)
    time.sleep(0.3)
    st = [e for e in errs if "stats" in e]
    print(st[-1].strip() if st else "no stats line")
    for p in list(marker.values()) + [filler]:
        os.unlink(p)
    os.unlink(rules)
    os.rmdir(tmp)


if __name__ == "__main__":
    main()
