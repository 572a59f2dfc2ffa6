#!/usr/bin/env python3
"""regimages.py HOST OCI_DIR REF N - pushes N images to the plain-HTTP
registry at HOST through its HTTP API (bench/workers.sh): each is the
layers of the image REF of the OCI layout OCI_DIR (the shared base,
uploaded once and mounted into the other repositories) plus a small
application layer of its own, spread over 10 repositories (bench/app0..9,
tags v1..).  Standard library only."""
import gzip
import hashlib
import http.client
import io
import json
import os
import sys
import tarfile

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def req(host, method, path, body=None, headers=None):
    c = http.client.HTTPConnection(host, timeout=300)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    hd = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, hd, data


def put_blob(host, repo, data, mount_from=None, digest=None):
    """data: bytes, or a function giving them (read only when needed)"""
    if digest is None:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
    if mount_from:
        st, _, _ = req(host, "POST", "/v2/%s/blobs/uploads/?mount=%s&from=%s"
                       % (repo, digest, mount_from))
        if st == 201:
            return digest
    st, hd, body = req(host, "HEAD", "/v2/%s/blobs/%s" % (repo, digest))
    if st == 200:
        return digest
    if callable(data):
        data = data()
    st, hd, body = req(host, "POST", "/v2/%s/blobs/uploads/" % repo)
    assert st == 202, (st, body)
    loc = hd["location"]
    if loc.startswith("http"):
        loc = "/" + loc.split("/", 3)[3]
    loc += ("&" if "?" in loc else "?") + "digest=" + digest
    st, _, body = req(host, "PUT", loc, body=data,
                      headers={"Content-Type": "application/octet-stream",
                               "Content-Length": str(len(data))})
    assert st == 201, (st, body)
    return digest


def app_layer(i):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in (("srv/app/app.py", b"print('app %d')\n" % i),
                           ("srv/app/requirements.txt", b"requests==2.31.0\n"),
                           ("srv/app/VERSION", b"%d\n" % i)):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mtime = 1700000000
            tf.addfile(ti, io.BytesIO(data))
    tar = raw.getvalue()
    return tar, gzip.compress(tar, mtime=0)


def main():
    host, oci, ref, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    index = json.load(open(os.path.join(oci, "index.json")))
    md = [m for m in index["manifests"]
          if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref][0]

    def blob(d):
        return open(os.path.join(oci, "blobs", "sha256", d.split(":")[1]), "rb").read()

    base = json.loads(blob(md["digest"]))
    bconf = json.loads(blob(base["config"]["digest"]))
    first = None
    for i in range(n):
        repo = "bench/app%d" % (i % 10)
        for l in base["layers"]:
            put_blob(host, repo, lambda d=l["digest"]: blob(d), mount_from=first,
                     digest=l["digest"])
        tar, gz = app_layer(i)
        ad = put_blob(host, repo, gz)
        conf = dict(bconf)
        conf["rootfs"] = {"type": "layers", "diff_ids": list(bconf["rootfs"]["diff_ids"]) +
                          ["sha256:" + hashlib.sha256(tar).hexdigest()]}
        conf["history"] = list(bconf.get("history", [])) + [{"created_by": "COPY app %d" % i}]
        cdata = json.dumps(conf).encode()
        cd = put_blob(host, repo, cdata)
        man = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
               "config": {"mediaType": base["config"]["mediaType"], "size": len(cdata),
                          "digest": cd},
               "layers": list(base["layers"]) + [{
                   "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                   "size": len(gz), "digest": ad}]}
        st, _, body = req(host, "PUT", "/v2/%s/manifests/v%d" % (repo, i),
                          body=json.dumps(man).encode(),
                          headers={"Content-Type": OCI_MANIFEST})
        assert st == 201, (st, body)
        first = first or repo
    print("%d images over %d repositories, each %d base layer(s) + 1 of its own"
          % (n, min(n, 10), len(base["layers"])))


if __name__ == "__main__":
    main()
