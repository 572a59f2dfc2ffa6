#!/usr/bin/env python3
"""Writes the 2000-event syscall mix the rule benchmarks replay (JSON lines):
opens of varied files, execs with ancestors, connects, sockets, dup2,
clones, exits, reads/writes; self-contained, seeded, the same every time.
Usage: events.py OUT.jsonl (bench/rules.sh, bench/compare.sh)"""
import json, random, sys
random.seed(7)
names = ["nginx", "bash", "sh", "python3", "java", "node", "postgres", "curl", "cat", "ls",
         "grep", "find", "sshd", "containerd-shim", "runc", "apt-get", "dpkg", "redis-server"]
files = ["/etc/passwd", "/etc/shadow", "/etc/hosts", "/var/log/syslog", "/usr/lib/x86_64-linux-gnu/libc.so.6",
         "/proc/self/status", "/tmp/build/a.o", "/home/u/.ssh/id_rsa", "/etc/ld.so.cache",
         "/var/lib/dpkg/status", "/dev/null", "/etc/nginx/nginx.conf", "/srv/www/index.html"]
ctrs = [None, None, {"container.id": "3f2a9c0d1b7e", "container.image.repository": "nginx",
                     "container.privileged": False}]
def proc(i):
    n = random.choice(names)
    e = {"proc.pid": 1000 + i, "proc.name": n, "proc.exe": n, "proc.exepath": "/usr/bin/" + n,
         "proc.args": random.choice(["", "-c echo hi", "-la /tmp", "--config /etc/x.conf"]),
         "user.uid": random.choice([0, 0, 33, 1000]), "user.name": "root",
         "proc.cwd": "/", "proc.start_ts": 1700000000000000000,
         "proc.ancestors": [{"name": random.choice(names)}, {"name": "containerd-shim"},
                            {"name": "systemd"}]}
    c = random.choice(ctrs)
    if c:
        e.update(c)
    return e
mix = (["openat"] * 30 + ["open"] * 5 + ["execve"] * 12 + ["connect"] * 8 + ["read"] * 12 +
       ["write"] * 12 + ["close"] * 8 + ["socket"] * 3 + ["dup2"] * 2 + ["clone"] * 4 +
       ["procexit"] * 2 + ["sendto"] * 2)
with open(sys.argv[1], "w") as f:
    for i in range(2000):
        t = random.choice(mix)
        e = {"evt.type": t, "evt.time": 1700000010000000000 + i * 1000}
        e.update(proc(i))
        if t in ("openat", "open"):
            e["evt.arg.name"] = random.choice(files)
            e["evt.arg.flags"] = random.choice(["O_RDONLY", "O_RDONLY|O_CLOEXEC", "O_WRONLY|O_CREAT|O_TRUNC"])
            e["evt.rawres"] = random.choice([3, 4, 5, -2])
        elif t in ("connect", "sendto"):
            e.update({"fd.num": 5, "fd.type": "ipv4", "fd.l4proto": random.choice(["tcp", "udp"]),
                      "fd.cip": "172.17.0.2", "fd.cport": 40000 + i,
                      "fd.sip": random.choice(["10.0.0.5", "203.0.113.10", "127.0.0.1"]),
                      "fd.sport": random.choice([22, 80, 443, 5432, 8080]), "evt.rawres": 0})
        elif t in ("read", "write", "close"):
            e.update({"fd.num": 4, "fd.type": "file", "fd.name": random.choice(files),
                      "evt.rawres": 100})
        elif t == "socket":
            e.update({"evt.arg.domain": random.choice(["AF_INET", "AF_UNIX", "AF_PACKET"]),
                      "evt.arg.type": "SOCK_STREAM", "evt.rawres": 6})
        elif t == "dup2":
            e.update({"fd.num": 1, "fd.type": random.choice(["ipv4", "file"]), "fd.name": "x",
                      "evt.rawres": 1})
        elif t == "clone":
            e["evt.rawres"] = 5000 + i
        f.write(json.dumps(e) + "\n")
