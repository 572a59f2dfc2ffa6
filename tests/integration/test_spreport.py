"""test_spreport - `mamori report`, the SP 800-190 report, end to end.

Real scans first: `mamori rootfs` of a small root filesystem the test
writes (Debian os-release, an AWS key in a config file, an ssh server
binary, a file whose name is hostile markup), `mamori k8s` of a manifest
(a privileged Deployment with a hostile image name, a cluster-admin
binding).  Then `mamori report` over their JSON reports and over the
store:

- the matrix: 33 rows; rows the scans answer are `findings` or
  `passing` with the evidence naming the input; rows no input could show
  (vulnerabilities without a database, the host benchmark without a host
  report, the server's rows) are `not covered`;
- every finding of the inputs is listed once, under its own section;
- HTML: parsed with Python's HTML parser, every tag and attribute is one
  the writer uses, links only to `#` anchors, and the hostile strings come
  out as text;
- --severity, --store, -o, and errors (exit 2 naming file and field).
"""

import html.parser
import json
import os
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrun
from mmrun import Fail, Skip, check, eq

AWS_ID = "AKIA2E0A8F3B244C9986"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EVIL_FILE = "<script>alert(1)<"
EVIL_IMAGE = 'x"><img src=x onerror=alert(1)>'
EVIL_JS = "javascript:alert(1)"

MANIFEST = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: '%s'
        securityContext:
          privileged: true
      - name: side
        image: '%s'
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: everyone-admin
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
- kind: ServiceAccount
  name: web
  namespace: shop
""" % (EVIL_IMAGE, EVIL_JS)


def write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(data)
    os.chmod(path, mode)


def make_inputs(r):
    root = os.path.join(r.root, "rootfs")
    write(os.path.join(root, "etc/os-release"),
          'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n')
    write(os.path.join(root, "app/settings.env"),
          "AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n" % (AWS_ID, AWS_SECRET))
    write(os.path.join(root, "usr/sbin/sshd"), "#!/bin/sh\necho sshd\n", 0o755)
    write(os.path.join(root, "app", EVIL_FILE + ".env"), "AWS_ACCESS_KEY_ID=%s\n" % AWS_ID)
    man = os.path.join(r.root, "deploy.yaml")
    write(man, MANIFEST)
    rj = os.path.join(r.root, "root.json")
    kj = os.path.join(r.root, "k8s.json")
    res = r.run(["rootfs", root, "--format", "json", "-o", rj])
    check(res.rc == 0, "rootfs scan: " + res.describe())
    res = r.run(["k8s", man, "--format", "json", "-o", kj])
    check(res.rc == 0, "k8s scan: " + res.describe())
    return root, rj, kj


def load(p):
    with open(p) as f:
        return json.load(f)


def rows_of(rep):
    return {x["id"]: x for x in rep["rows"]}


def matrix(r, ctx):
    root, rj, kj = ctx
    rootrep, k8srep = load(rj), load(kj)
    check("k8s" in k8srep["scanners"], "k8s report lists its scanner: %r" % k8srep["scanners"])
    res = r.run(["report", rj, kj, "--format", "json"])
    check(res.rc == 0, res.describe())
    rep = res.json
    eq(rep["kind"], "sp800-190-report", "kind")
    eq(len(rep["rows"]), 33, "rows")
    eq([x["id"] for x in rep["rows"]], ["R%02d" % i for i in range(1, 34)], "row order")
    rows = rows_of(rep)
    for x in rep["rows"]:
        check(x["state"] in ("passing", "findings", "not covered"), "state %r" % x)
        check(x["evidence"], "row %s has evidence" % x["id"])
    # the secret scanner found the key: R07 findings, evidence names the input
    eq(rows["R07"]["state"], "findings", "R07 " + rows["R07"]["evidence"])
    check(root in rows["R07"]["evidence"], "R07 evidence names the root: %r"
          % rows["R07"]["evidence"])
    # the ssh server binary
    eq(rows["R04"]["state"], "findings", "R04 " + rows["R04"]["evidence"])
    check("MM-IMG-008" in rows["R04"]["evidence"], rows["R04"]["evidence"])
    # the OS
    eq(rows["R03"]["state"], "passing", "R03")
    check("debian 12" in rows["R03"]["evidence"], rows["R03"]["evidence"])
    # malware ran on the root and found nothing
    eq(rows["R06"]["state"], "passing", "R06 " + rows["R06"]["evidence"])
    # no vulnerability database in the private cache: R01 not covered
    check("vuln" not in rootrep["scanners"], "no vuln db expected")
    eq(rows["R01"]["state"], "not covered", "R01")
    # Kubernetes: cluster-admin binding (3.3.1), privileged (PSS, 3.4.3)
    eq(rows["R14"]["state"], "findings", "R14 " + rows["R14"]["evidence"])
    eq(rows["R21"]["state"], "findings", "R21 " + rows["R21"]["evidence"])
    check(rows["R17"]["state"] in ("passing", "findings"), "R17 covered by k8s")
    # no host report, nothing from the server
    for rid in ("R02", "R19", "R24", "R25", "R27", "R28", "R29", "R30", "R31", "R32"):
        eq(rows[rid]["state"], "not covered", rid)
    eq(rows["R33"]["state"], "passing", "R33")
    # every finding of the inputs, once, under its own section
    want = sorted((f["id"], f["section"], f["severity"])
                  for d in (rootrep, k8srep) for f in d["findings"])
    got = sorted((f["id"], s["section"], f["severity"])
                 for s in rep["sections"] for f in s["findings"])
    eq(got, want, "findings by section")
    secs = [s["section"] for s in rep["sections"]]
    for s in ("3.1.2", "3.1.4", "3.3.1", "3.4.3"):
        check(s in secs, "section %s present: %r" % (s, secs))
    eq(secs, sorted(secs, key=lambda s: [int(x) for x in s.split(".")]), "section order")
    for s in rep["sections"]:
        n = {k: 0 for k in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")}
        for f in s["findings"]:
            n[f["severity"]] += 1
        eq(s["counts"], n, "counts of " + s["section"])
    eq(rep["summary"]["findings"], len(want), "summary")
    eq(len(rep["inputs"]), 2, "inputs")
    check("k8s" in rep["inputs"][1]["lookedAt"], rep["inputs"][1])


TAGS = {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p",
        "span", "section", "table", "thead", "tbody", "tr", "th", "td", "a"}
ATTRS = {"lang", "charset", "http-equiv", "content", "name", "class", "id", "href"}


class Audit(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.bad, self.text, self.tr_ids, self.h3_ids, self.hrefs = [], [], [], [], []

    def handle_starttag(self, tag, attrs):
        if tag not in TAGS:
            self.bad.append("tag <%s>" % tag)
        for k, v in attrs:
            if k not in ATTRS:
                self.bad.append("attribute %s=%r on <%s>" % (k, v, tag))
            if k == "href" and not (v or "").startswith("#"):
                self.bad.append("href %r" % v)
            if k == "href":
                self.hrefs.append(v)
            if v and ("javascript" in v.lower() or "<" in v):
                self.bad.append("hostile attribute value %r" % v)
            if tag == "tr" and k == "id":
                self.tr_ids.append(v)
            if tag == "h3" and k == "id":
                self.h3_ids.append(v)

    def handle_data(self, data):
        self.text.append(data)

    def handle_comment(self, data):
        self.bad.append("comment")

    def handle_pi(self, data):
        self.bad.append("processing instruction")


def html_report(r, ctx):
    root, rj, kj = ctx
    out = os.path.join(r.root, "report.html")
    res = r.run(["report", rj, kj, "-o", out, "--title", "<b>Shop</b> & co"])
    check(res.rc == 0, res.describe())
    eq(res.out, "", "nothing on stdout with -o")
    doc = open(out, encoding="utf-8").read()
    check(doc.startswith("<!DOCTYPE html>"), "doctype")
    a = Audit()
    a.feed(doc)
    a.close()
    eq(a.bad, [], "markup the writer does not use")
    eq(a.tr_ids, ["R%02d" % i for i in range(1, 34)], "matrix rows")
    for s in ("s-3.1.4", "s-3.3.1", "s-3.4.3"):
        check(s in a.h3_ids, "section heading %s: %r" % (s, a.h3_ids))
    targets = {"#" + i for i in a.h3_ids + a.tr_ids}
    check(a.hrefs, "the matrix links to sections")
    for h in a.hrefs:
        check(h in targets, "link %r to an anchor that exists" % h)
    text = "".join(a.text)
    # the hostile strings are shown, as text
    check(EVIL_FILE in text, "hostile file name shown as text")
    check(EVIL_IMAGE in text, "hostile image name shown as text")
    check(EVIL_JS in text, "javascript: shown as text")
    check("<b>Shop</b> & co" in text, "title as text")
    for raw in ("<script", "<img", "<b>"):
        check(raw not in doc, "raw %r in the HTML" % raw)
    check("Content-Security-Policy" in doc and "@media print" in doc, "CSP and print CSS")
    check("Coverage matrix" in text and "Findings by section" in text, "parts")
    # the matrix comes before the findings
    check(doc.index('id="matrix"') < doc.index('id="findings"'), "matrix first")


def severity_filter(r, ctx):
    root, rj, kj = ctx
    res = r.run(["report", rj, kj, "--format", "json", "--severity", "CRITICAL"])
    check(res.rc == 0, res.describe())
    rep = res.json
    sev = {f["severity"] for s in rep["sections"] for f in s["findings"]}
    check(sev <= {"CRITICAL"}, "only CRITICAL listed: %r" % sev)
    rows = rows_of(rep)
    # the secret is not CRITICAL... or is: either way the row stays findings
    eq(rows["R07"]["state"], "findings", "R07 under the filter")
    check(rep["summary"]["hidden"] > 0, "hidden counted")
    eq(rep["severities"], ["CRITICAL"], "severities")


def from_store(r, ctx):
    root, rj, kj = ctx
    res = r.run(["report", "--store", "--format", "json"])
    check(res.rc == 0, res.describe())
    rep = res.json
    eq(len(rep["inputs"]), 1, "one stored scan (the rootfs; k8s is not recorded)")
    check(rep["inputs"][0]["name"].startswith("store:"), rep["inputs"][0]["name"])
    eq(rep["inputs"][0]["target"], root, "target")
    eq(rows_of(rep)["R07"]["state"], "findings", "R07 from the store")
    eq(rows_of(rep)["R14"]["state"], "not covered", "no k8s in the store")
    # files and the store together
    res = r.run(["report", "--store", kj, "--format", "json"])
    check(res.rc == 0, res.describe())
    eq(len(res.json["inputs"]), 2, "file + store")
    # standard input, with a file
    with open(kj, "rb") as f:
        p = subprocess.run([r.bin, "report", "-", rj, "--format", "json"], stdin=f,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=r.cwd,
                           env=r.env(), timeout=300)
    eq(p.returncode, 0, "stdin: %r" % p.stderr[:500])
    rep = json.loads(p.stdout)
    eq([i["name"] for i in rep["inputs"]], ["-", rj], "stdin input named -")
    eq(rows_of(rep)["R14"]["state"], "findings", "k8s from stdin")
    # a store row the report cannot read is skipped with a warning
    db = sqlite3.connect(os.path.join(r.cache, "mamori.db"))
    db.execute("INSERT INTO scans (key, target, kind, scanned_at, npackages, nfindings, report) "
               "VALUES ('sha256:bad', 'bad', 'rootfs', 4102444800, 0, 0, '{\"schemaVersion\": 9}')")
    db.commit()
    db.close()
    res = r.run(["report", "--store", "--format", "json"])
    check(res.rc == 0, res.describe())
    check("store:sha256:bad" in res.err and "skipped" in res.err, "warning: %r" % res.err)
    eq(len(res.json["inputs"]), 1, "the readable scan is still reported")
    # an empty store
    res = r.run(["report", "--store", "--cache-dir", os.path.join(r.root, "empty")])
    eq(res.rc, 2, "empty store: " + res.describe())


def errors(r, ctx):
    root, rj, kj = ctx
    notrep = os.path.join(r.root, "not-a-report.json")
    write(notrep, '{"hello": 1}')
    r.expect_error(["report", notrep], must_name=["not-a-report.json", "schemaVersion"],
                   one_line=True)
    bad = os.path.join(r.root, "bad.json")
    d = load(kj)
    d["findings"][0]["severity"] = "SEVERE"
    write(bad, json.dumps(d))
    r.expect_error(["report", rj, bad], must_name=["bad.json", "findings[0].severity"])
    r.expect_error(["report", os.path.join(r.root, "missing.json")], must_name=["missing.json"])
    trunc = os.path.join(r.root, "trunc.json")
    write(trunc, open(rj).read()[:200])
    r.expect_error(["report", trunc], must_name=["trunc.json", "line"])
    res = r.run(["report"])
    eq(res.rc, 2, "no input")
    res = r.run(["report", rj, "--format", "pdf"])
    eq(res.rc, 2, "bad format")
    res = r.run(["report", rj, "--severity", "SEVERE"])
    eq(res.rc, 2, "bad severity")


def main():
    suite = mmrun.Suite()
    names = ["report-matrix", "report-html", "report-severity", "report-store",
             "report-errors"]
    try:
        r = mmrun.Runner()
    except Skip as e:
        suite.skip_all(names, str(e))
        suite.finish()
    try:
        try:
            ctx = make_inputs(r)
        except (Fail, Skip) as e:
            suite.not_run(names, e)
            suite.finish()
        suite.case("report-matrix", matrix, r, ctx)
        suite.case("report-html", html_report, r, ctx)
        suite.case("report-severity", severity_filter, r, ctx)
        suite.case("report-store", from_store, r, ctx)
        suite.case("report-errors", errors, r, ctx)
    finally:
        r.close()
    suite.finish()


if __name__ == "__main__":
    main()
