#!/usr/bin/env python3
"""layering.py - the one-way graph of the library, checked.

docs/architecture.md holds the allowed graph (which area of lib/ may use
which) and the owner of every public header.  This test reads both and
fails on any edge the graph does not allow, from two sources:

  - include lines: every `#include "..."` in lib/<area>/ and cli/ (a public
    header counts as an edge to its owner; another area's private header,
    *_int.h, is never allowed; front-ends include public headers only);
  - object symbols: every undefined symbol of every library and front-end
    object listed in compile_commands.json is resolved to the area whose
    object defines it (nm), giving the call edges; a front-end may call
    only functions that a public header declares.

It also checks that the documented graph itself has no cycle and names
every area that exists.  Usage: layering.py SOURCE_ROOT BUILD_DIR.  For the test of the test
(tests/layering_catches.py): MAMORI_LAYERING_DOC overrides the document,
MAMORI_LAYERING_EXTRA="AREA:FILE ..." adds sources (.c: include lines) and
objects (.o: symbols) to an area as if they were in lib/AREA/.
One PASS/FAIL line per check; exit 1 on any failure.
"""
import json
import os
import re
import subprocess
import sys

SRC = os.path.abspath(sys.argv[1])
BUILD = os.path.abspath(sys.argv[2])
DOC = os.environ.get("MAMORI_LAYERING_DOC", os.path.join(SRC, "docs", "architecture.md"))
FRONTENDS = ("cli", "server")

failures = 0


def report(ok, name, why=""):
    global failures
    if ok:
        print("PASS %s" % name)
    else:
        failures += 1
        print("FAIL %s: %s" % (name, why))


def table_after(text, marker):
    """Rows (lists of cells) of the markdown table that follows marker."""
    i = text.find(marker)
    if i < 0:
        return None
    rows = []
    started = False
    for line in text[i + len(marker):].splitlines():
        line = line.strip()
        if not line.startswith("|"):
            if started:
                break
            continue
        started = True
        cells = [c.strip() for c in line.strip("|").split("|")]
        if all(set(c) <= set("-: ") for c in cells):
            continue
        rows.append(cells)
    return rows[1:]  # without the header


def names(cell):
    cell = cell.replace("`", "")
    if cell in ("", "-", "—", "nothing"):
        return set()
    return {n.strip() for n in cell.split(",") if n.strip()}


doc = open(DOC, encoding="utf-8").read()
graph_rows = table_after(doc, "<!-- layering: graph -->")
header_rows = table_after(doc, "<!-- layering: headers -->")
if graph_rows is None or header_rows is None:
    print("FAIL doc: %s has no '<!-- layering: graph -->' or '<!-- layering: headers -->' table" % DOC)
    sys.exit(1)

allowed = {}
for r in graph_rows:
    allowed[r[0].replace("`", "")] = names(r[-1])
owner = {}
for r in header_rows:
    owner[r[0].replace("`", "").replace("include/", "")] = r[1].replace("`", "")

# --- the documented graph -----------------------------------------------------
areas_on_disk = sorted(d for d in os.listdir(os.path.join(SRC, "lib"))
                       if os.path.isdir(os.path.join(SRC, "lib", d)))
missing = [a for a in areas_on_disk if a not in allowed]
extra = [a for a in allowed if a not in areas_on_disk]
report(not missing and not extra, "doc-names-every-area",
       "undocumented: %s; documented but absent: %s" % (missing, extra))
unknown = sorted({b for a in allowed for b in allowed[a] if b not in allowed})
report(not unknown, "doc-edges-name-areas", "unknown areas: %s" % unknown)


def find_cycle(g):
    state = {}
    stack = []

    def visit(v):
        state[v] = 1
        stack.append(v)
        for w in sorted(g.get(v, ())):
            if state.get(w) == 1:
                return stack[stack.index(w):] + [w]
            if w not in state:
                c = visit(w)
                if c:
                    return c
        stack.pop()
        state[v] = 2
        return None

    for v in sorted(g):
        if v not in state:
            c = visit(v)
            if c:
                return c
    return None


cyc = find_cycle(allowed)
report(cyc is None, "doc-graph-has-no-cycle", " -> ".join(cyc or []))
headers_on_disk = sorted("mamori/" + h for h in os.listdir(os.path.join(SRC, "include", "mamori")))
hmissing = [h for h in headers_on_disk if h not in owner]
report(not hmissing, "doc-owns-every-public-header", "no owner: %s" % hmissing)
bad_owner = sorted(h for h, a in owner.items() if a not in allowed and a != "api")
report(not bad_owner, "doc-header-owners-are-areas", "%s" % bad_owner)


def ok_edge(a, b):
    return a == b or b in allowed.get(a, ())


# --- include lines ----------------------------------------------------------------
INC = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
bad = []


def check_includes(area, path, frontend):
    rel = os.path.relpath(path, SRC)
    for m in INC.finditer(open(path, encoding="utf-8", errors="replace").read()):
        inc = m.group(1)
        parts = inc.split("/")
        if len(parts) == 1:
            continue  # a header of the same folder
        top = parts[0]
        if top == "mamori":
            tgt = owner.get(inc)
            if tgt is None:
                bad.append("%s includes %s, which has no owner" % (rel, inc))
            elif tgt == "api":
                if not frontend:
                    bad.append("%s includes %s (for front-ends only)" % (rel, inc))
            elif not frontend and not ok_edge(area, tgt):
                bad.append("%s includes %s (%s -> %s)" % (rel, inc, area, tgt))
            continue
        if frontend:
            bad.append("%s includes %s: front-ends use include/mamori only" % (rel, inc))
            continue
        if top not in allowed:
            continue  # a generated header in the build folder (vmlinux.h...)
        if top != area and parts[-1].endswith("_int.h"):
            bad.append("%s includes %s, private to %s" % (rel, inc, top))
        elif not ok_edge(area, top):
            bad.append("%s includes %s (%s -> %s)" % (rel, inc, area, top))


EXTRA = [e.split(":", 1) for e in os.environ.get("MAMORI_LAYERING_EXTRA", "").split()]
for area in areas_on_disk:
    d = os.path.join(SRC, "lib", area)
    for f in sorted(os.listdir(d)):
        if f.endswith((".c", ".h")):
            check_includes(area, os.path.join(d, f), False)
for area, path in EXTRA:
    if path.endswith((".c", ".h")):
        check_includes(area, path, area in FRONTENDS)
for fe in FRONTENDS:
    d = os.path.join(SRC, fe)
    if os.path.isdir(d):
        for dirpath, _, files in os.walk(d):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    check_includes(fe, os.path.join(dirpath, f), True)
# public headers: what one includes must be allowed to its owner
for h in headers_on_disk:
    a = owner.get(h)
    if not a or a == "api":
        continue
    for m in INC.finditer(open(os.path.join(SRC, "include", h), encoding="utf-8").read()):
        tgt = owner.get(m.group(1))
        if tgt and tgt != "api" and not ok_edge(a, tgt):
            bad.append("include/%s includes %s (%s -> %s)" % (h, m.group(1), a, tgt))
report(not bad, "include-edges", "; ".join(bad[:20]) + (" ..." if len(bad) > 20 else ""))

# --- symbol edges -------------------------------------------------------------------
cc_path = os.path.join(BUILD, "compile_commands.json")
if not os.path.exists(cc_path):
    report(False, "symbol-edges", "%s is missing (meson setup writes it)" % cc_path)
    sys.exit(1)
objects = {}
for e in json.load(open(cc_path)):
    src = os.path.normpath(os.path.join(e["directory"], e["file"]))
    rel = os.path.relpath(src, SRC)
    p = rel.split(os.sep)
    if p[0] == "lib" and len(p) > 2:
        area = p[1]
    elif p[0] in FRONTENDS:
        area = p[0]
    elif rel.startswith(".."):
        # generated sources in the build folder: lib/<area>/... there too
        bp = os.path.relpath(src, BUILD).split(os.sep)
        if len(bp) > 2 and bp[0] == "lib":
            area = bp[1]
        else:
            continue
    else:
        continue
    m = re.search(r"(?:^|\s)-o\s*(\S+)", e["command"])
    if not m:
        continue
    objects[os.path.join(e["directory"], m.group(1))] = (area, rel)
for area, path in EXTRA:
    if path.endswith(".o"):
        objects[os.path.abspath(path)] = (area, path)

defined = {}
undefined = {}
missing_objs = [o for o in objects if not os.path.exists(o)]
present = [o for o in objects if os.path.exists(o)]
# one nm for every object: "-A -P" prefixes each line with "file: "
out = subprocess.run(["nm", "-A", "-P"] + present, capture_output=True,
                     text=True).stdout if present else ""
for o in present:
    undefined[o] = set()
for line in out.splitlines():
    obj, _, rest = line.partition(": ")
    f = rest.split()
    if obj not in objects or len(f) < 2:
        continue
    if f[1] == "U":
        undefined[obj].add(f[0])
    elif f[1] in "TDBRVWC":
        defined.setdefault(f[0], objects[obj][0])
report(not missing_objs, "objects-built", "%d objects missing, e.g. %s" %
       (len(missing_objs), missing_objs[:3]))

DECL = re.compile(r"\b(mm_[A-Za-z0-9_]+)\s*\(")
EXTERN = re.compile(r"\bextern\s+[^;()]*\b(mm_[A-Za-z0-9_]+)\s*(?:\[|;)")
public = set()
for h in headers_on_disk:
    t = open(os.path.join(SRC, "include", h), encoding="utf-8").read()
    public |= set(DECL.findall(t)) | set(EXTERN.findall(t))

sym_bad = []
for obj, us in undefined.items():
    area, rel = objects[obj]
    for u in sorted(us):
        tgt = defined.get(u)
        if not tgt or tgt == area:
            continue
        if area in FRONTENDS:
            if u not in public:
                sym_bad.append("%s calls %s (%s), which no public header declares" % (rel, u, tgt))
        elif not ok_edge(area, tgt):
            sym_bad.append("%s uses %s from %s (%s -> %s)" % (rel, u, tgt, area, tgt))
report(not sym_bad, "symbol-edges", "; ".join(sym_bad[:20]) + (" ..." if len(sym_bad) > 20 else ""))

# the graph as built: the edges found, for the curious (and the closing note)
if os.environ.get("MAMORI_LAYERING_PRINT"):
    edges = {}
    for obj, us in undefined.items():
        a = objects[obj][0]
        for u in us:
            b = defined.get(u)
            if b and b != a:
                edges.setdefault(a, set()).add(b)
    for a in sorted(edges):
        print("# %s -> %s" % (a, ", ".join(sorted(edges[a]))))
sys.exit(1 if failures else 0)
