#!/usr/bin/env python3
"""layering_catches.py - the layering test must fail when the graph breaks.

Runs tests/layering.py on the real tree three times with one fault added
each time, and expects the check that should catch it to fail:
  - an upward include: a file of lib/model including the pipeline's header
    and another area's private header;
  - an upward call: an object of lib/model calling mm_pipeline_new() (the
    scan area), compiled here from a few lines of C;
  - a cycle in the documented graph (util allowed to use scan).
Usage: layering_catches.py SOURCE_ROOT BUILD_DIR
"""
import os
import shutil
import subprocess
import sys
import tempfile

SRC, BUILD = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
CHECK = os.path.join(SRC, "tests", "layering.py")
failures = 0


def run(env_extra):
    env = dict(os.environ)
    env.update(env_extra)
    p = subprocess.run([sys.executable, CHECK, SRC, BUILD], capture_output=True,
                       text=True, env=env)
    return p.returncode, p.stdout


def expect(name, env_extra, check, needle):
    global failures
    rc, out = run(env_extra)
    line = next((l for l in out.splitlines() if l.split(":")[0] in
                 ("FAIL " + check, "PASS " + check)), "")
    if rc != 0 and line.startswith("FAIL " + check) and needle in line:
        print("PASS %s" % name)
    else:
        failures += 1
        print("FAIL %s: rc=%d, %r" % (name, rc, line or out[-400:]))


tmp = tempfile.mkdtemp(prefix="mm-layering-")
try:
    # the unbroken tree passes (else the cases below prove nothing)
    rc, out = run({})
    if rc == 0:
        print("PASS clean-tree-passes")
    else:
        failures += 1
        print("FAIL clean-tree-passes: %s" % out[-400:])

    upward_c = os.path.join(tmp, "upward.c")
    with open(upward_c, "w") as f:
        f.write('#include "mamori/scan.h"\n#include "scan/scan_int.h"\n'
                "int mm_model_upward(void);\n"
                "int mm_model_upward(void)\n{\n    mm_pipeline *p = 0;\n"
                "    return mm_pipeline_new(&p, 0);\n}\n")
    expect("upward-include", {"MAMORI_LAYERING_EXTRA": "model:" + upward_c},
           "include-edges", "model -> scan")
    expect("private-header", {"MAMORI_LAYERING_EXTRA": "model:" + upward_c},
           "include-edges", "private to scan")

    upward_o = os.path.join(tmp, "upward.o")
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    r = subprocess.run([cc, "-c", "-I" + os.path.join(SRC, "include"),
                        "-I" + os.path.join(SRC, "lib"), upward_c, "-o", upward_o],
                       capture_output=True, text=True)
    if r.returncode != 0:
        failures += 1
        print("FAIL upward-call: cannot compile the probe: %s" % r.stderr[-300:])
    else:
        expect("upward-call", {"MAMORI_LAYERING_EXTRA": "model:" + upward_o},
               "symbol-edges", "mm_pipeline_new")

    frontend_c = os.path.join(tmp, "frontend.c")
    with open(frontend_c, "w") as f:
        f.write('#include "util/util.h"\n')
    expect("frontend-private-include", {"MAMORI_LAYERING_EXTRA": "cli:" + frontend_c},
           "include-edges", "front-ends use include/mamori only")

    doc = open(os.path.join(SRC, "docs", "architecture.md"), encoding="utf-8").read()
    marker = "<!-- layering: graph -->"
    i = doc.index(marker)
    j = doc.index("\n| `util` |", i)
    k = doc.index("\n", j + 1)
    row = doc[j + 1:k]
    cells = row.split("|")
    cells[-2] = " scan "
    bad = doc[:j + 1] + "|".join(cells) + doc[k:]
    cyc = os.path.join(tmp, "architecture.md")
    with open(cyc, "w", encoding="utf-8") as f:
        f.write(bad)
    expect("documented-cycle", {"MAMORI_LAYERING_DOC": cyc},
           "doc-graph-has-no-cycle", "util")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(1 if failures else 0)
