#!/usr/bin/env python3
"""Writes a large behaviour profile (the format profile_write.c writes) for
bench/profile_load.sh: 300 images of 15 processes, 20 files, 5 listen and
5 connect entries each (13,500 entries, about 880 KB), the same bytes on
every run (seeded).  Usage: bigprofile.py OUT.yaml"""
import random
import sys

random.seed(12)
o = ['# mamori behaviour profile\nversion: 1\nlearned:\n  start: "2026-01-01T00:00:00Z"\n'
     '  end: "2026-01-02T00:00:00Z"\n  seconds: 86400\ngeneralisation:\n  dir_collapse: 8\n'
     '  net_collapse: 16\npriority: WARNING\naction: none\nimages:\n']
for i in range(300):
    o.append('  - image: "team%d/app%d:v%d"\n    priority: WARNING\n'
             '    action: {processes: kill, files: none, listen: none, connect: none}\n'
             % (i % 7, i, random.getrandbits(256)))
    o.append('    processes:\n')
    for j in range(15):
        o.append('      - {exe: "/usr/bin/prog%d", name: "prog%d", parents: [sh], count: %d}\n'
                 % (j, j, random.randint(1, 9999)))
    o.append('    files:\n')
    for j in range(20):
        o.append('      - {path: "/var/lib/app%d/f%d", count: %d}\n' % (i, j, random.randint(1, 999)))
    o.append('    listen:\n')
    for j in range(5):
        o.append('      - {proto: tcp, port: %d, count: %d}\n' % (8000 + j, j + 1))
    o.append('    connect:\n')
    for j in range(5):
        o.append('      - {dest: "10.%d.%d.0/24", proto: tcp, port: "%d-%d", count: %d}\n'
                 % (i % 256, j, 443, 450 + j, j + 3))
with open(sys.argv[1], 'w') as f:
    f.write(''.join(o))
