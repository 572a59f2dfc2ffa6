"""imgkit - writes small container images for mamori's integration tests.

Builds docker-archive tars and OCI image layouts (directory or tar) from
layers held in memory, or streamed from a tar file on disk for the big ones,
with the digests, diff_ids and history computed as real tools compute them.
Every piece can be overridden (a raw blob, a wrong digest, a missing file) so
that the malformed-input tests can break exactly one thing at a time.

Standard library only (zstd layers use the `zstd` program when asked for).
"""

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_TYPES = {
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
    "none": "application/vnd.oci.image.layer.v1.tar",
}
CHUNK = 1 << 20


# ---- tar entries -------------------------------------------------------------

def F(name, data=b"", mode=0o644):
    """A regular file; data may be str or bytes."""
    if isinstance(data, str):
        data = data.encode()
    return {"name": name, "type": tarfile.REGTYPE, "data": data, "mode": mode}


def D(name, mode=0o755):
    return {"name": name, "type": tarfile.DIRTYPE, "mode": mode}


def S(name, target):
    """A symbolic link."""
    return {"name": name, "type": tarfile.SYMTYPE, "link": target,
            "mode": 0o777}


def H(name, target):
    """A hard link to an earlier entry of the same layer."""
    return {"name": name, "type": tarfile.LNKTYPE, "link": target,
            "mode": 0o644}


def WH(path):
    """A whiteout deleting `path` from the layers below."""
    d, b = os.path.split(path.rstrip("/"))
    return F(os.path.join(d, ".wh." + b))


def OPQ(dirpath):
    """An opaque-directory marker: hides everything below from lower layers."""
    return F(os.path.join(dirpath, ".wh..wh..opq"))


def _tarinfo(e):
    ti = tarfile.TarInfo(e["name"])
    ti.type = e["type"]
    ti.mode = e.get("mode", 0o644)
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    ti.mtime = e.get("mtime", 1700000000)
    if "link" in e:
        ti.linkname = e["link"]
    if e["type"] == tarfile.REGTYPE:
        ti.size = len(e.get("data", b""))
    return ti


def tar_bytes(entries, fmt=tarfile.PAX_FORMAT):
    """The uncompressed tar of a list of entries, names kept verbatim (so
    '../x' and '/abs' survive: tarfile does not sanitise when writing)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for e in entries:
            ti = _tarinfo(e)
            data = e.get("data", b"") if e["type"] == tarfile.REGTYPE else None
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def sha256_hex(b):
    return hashlib.sha256(b).hexdigest()


def compress(raw, how):
    if how == "gzip":
        return gzip.compress(raw, compresslevel=6, mtime=0)
    if how == "zstd":
        return subprocess.run(["zstd", "-q", "-c", "-3"], input=raw,
                              stdout=subprocess.PIPE, check=True).stdout
    if how == "none":
        return raw
    raise ValueError(how)


# ---- layers ------------------------------------------------------------------

class Layer:
    """One layer: entries (in memory), or a tar file on disk (`tarpath`, or
    a callable returning the tar stream's chunks),
    or a verbatim blob (`raw_blob`, with the diff_id to claim)."""

    def __init__(self, entries=None, tarpath=None, compression="gzip",
                 created_by=None, raw_blob=None, diff_id=None,
                 media_type=None, existing=None):
        self.entries = entries
        self.tarpath = tarpath
        self.compression = compression
        self.created_by = created_by
        self.raw_blob = raw_blob
        self.forced_diff_id = diff_id
        self.forced_media_type = media_type
        self.existing = existing  # a blob already in the layout:
        # {"digest", "diffId", "size", "mediaType"}
        self._mem = None   # (blob bytes, diff_id) once computed

    @property
    def media_type(self):
        if self.existing:
            return self.existing["mediaType"]
        return self.forced_media_type or LAYER_TYPES[self.compression]

    def _materialise(self):
        if self._mem is None:
            if self.raw_blob is not None:
                diff = self.forced_diff_id or "sha256:" + sha256_hex(self.raw_blob)
                self._mem = (self.raw_blob, diff)
            else:
                raw = tar_bytes(self.entries or [])
                self._mem = (compress(raw, self.compression),
                             self.forced_diff_id or "sha256:" + sha256_hex(raw))
        return self._mem

    def write_blob(self, blobdir, compression=None):
        """Writes the blob under blobdir/<hex>; returns
        (digest, diff_id, size)."""
        if self.existing is not None:
            e = self.existing
            return e["digest"], e["diffId"], e["size"]
        if self.tarpath is not None:
            return _stream_blob(self.tarpath, blobdir,
                                compression or self.compression,
                                self.forced_diff_id)
        blob, diff = self._materialise()
        if compression is not None and compression != self.compression:
            raw = tar_bytes(self.entries or [])
            blob = compress(raw, compression)
        hx = sha256_hex(blob)
        with open(os.path.join(blobdir, hx), "wb") as f:
            f.write(blob)
        return "sha256:" + hx, diff, len(blob)


def _source_chunks(src):
    """A tar source: a file path, or a callable returning byte chunks."""
    if callable(src):
        yield from src()
        return
    with open(src, "rb") as f:
        while True:
            b = f.read(CHUNK)
            if not b:
                return
            yield b


def _stream_blob(tarpath, blobdir, how, forced_diff):
    """Compresses a tar file into a blob without holding it in memory,
    hashing both sides on the way."""
    tmp = os.path.join(blobdir, ".tmp-blob")
    hraw, hblob = hashlib.sha256(), hashlib.sha256()
    size = 0

    class _Sink:
        def __init__(self, f):
            self.f = f

        def write(self, b):
            nonlocal size
            hblob.update(b)
            size += len(b)
            return self.f.write(b)

        def flush(self):
            self.f.flush()

    with open(tmp, "wb") as out:
        sink = _Sink(out)
        if how == "gzip":
            z = gzip.GzipFile(fileobj=sink, mode="wb", compresslevel=1, mtime=0)
        elif how == "none":
            z = sink
        else:
            raise ValueError("streamed layers: gzip or none")
        for b in _source_chunks(tarpath):
            hraw.update(b)
            z.write(b)
        if z is not sink:
            z.close()
    hx = hblob.hexdigest()
    os.replace(tmp, os.path.join(blobdir, hx))
    return "sha256:" + hx, forced_diff or "sha256:" + hraw.hexdigest(), size


# ---- images ------------------------------------------------------------------

class Image:
    def __init__(self, layers, os_="linux", arch="amd64", variant=None,
                 config=None, user="", env=None, created="2024-01-02T03:04:05Z",
                 history=None):
        self.layers = layers
        self.os = os_
        self.arch = arch
        self.variant = variant
        self.extra_config = config or {}
        self.user = user
        self.env = env or ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
        self.created = created
        self.history = history

    def config_bytes(self, diff_ids):
        cfg = {
            "created": self.created,
            "architecture": self.arch,
            "os": self.os,
            "config": {"User": self.user, "Env": self.env},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }
        if self.variant:
            cfg["variant"] = self.variant
        hist = self.history
        if hist is None:
            hist = [{"created": self.created,
                     "created_by": l.created_by or "layer %d" % i}
                    for i, l in enumerate(self.layers)]
        cfg["history"] = hist
        cfg.update(self.extra_config)
        return json.dumps(cfg, sort_keys=True).encode()


def _write_json_blob(blobdir, doc):
    b = doc if isinstance(doc, bytes) else json.dumps(doc, sort_keys=True).encode()
    hx = sha256_hex(b)
    with open(os.path.join(blobdir, hx), "wb") as f:
        f.write(b)
    return "sha256:" + hx, len(b)


def oci_add_image(layout, image, compression=None):
    """Writes an image's blobs and manifest into an OCI layout directory
    (created if needed).  Returns a descriptor for the manifest (with
    platform), ready for an index; also the per-layer details under
    'mamori:layers'."""
    blobdir = os.path.join(layout, "blobs", "sha256")
    os.makedirs(blobdir, exist_ok=True)
    if not os.path.exists(os.path.join(layout, "oci-layout")):
        with open(os.path.join(layout, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)
    ldescs, diff_ids, details = [], [], []
    for l in image.layers:
        dg, diff, size = l.write_blob(blobdir, compression)
        mt = l.media_type if compression is None else LAYER_TYPES[compression]
        ldescs.append({"mediaType": mt, "digest": dg, "size": size})
        diff_ids.append(diff)
        details.append({"digest": dg, "diffId": diff, "size": size})
    cdg, csize = _write_json_blob(blobdir, image.config_bytes(diff_ids))
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": cdg,
                           "size": csize},
                "layers": ldescs}
    mdg, msize = _write_json_blob(blobdir, manifest)
    plat = {"architecture": image.arch, "os": image.os}
    if image.variant:
        plat["variant"] = image.variant
    return {"mediaType": OCI_MANIFEST, "digest": mdg, "size": msize,
            "platform": plat, "mamori:config": cdg, "mamori:layers": details}


def _clean(desc):
    return {k: v for k, v in desc.items() if not k.startswith("mamori:")}


def oci_write_index(layout, descs, tags=None, nested=False):
    """Writes index.json listing manifest descriptors.  tags: names for
    org.opencontainers.image.ref.name, one per descriptor.  nested: put the
    descriptors in an image index blob, which index.json points to (the
    shape `docker buildx` and skopeo write for multi-platform images)."""
    descs = [_clean(d) for d in descs]
    if tags:
        for d, t in zip(descs, tags):
            if t:
                d.setdefault("annotations", {})[
                    "org.opencontainers.image.ref.name"] = t
    if nested:
        blobdir = os.path.join(layout, "blobs", "sha256")
        inner = {"schemaVersion": 2, "mediaType": OCI_INDEX,
                 "manifests": descs}
        dg, size = _write_json_blob(blobdir, inner)
        descs = [{"mediaType": OCI_INDEX, "digest": dg, "size": size}]
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "mediaType": OCI_INDEX,
                   "manifests": descs}, f)


def write_oci(layout, image, tag="latest", compression=None):
    """One image as an OCI layout directory.  Returns its descriptor."""
    d = oci_add_image(layout, image, compression)
    oci_write_index(layout, [d], tags=[tag])
    return d


def tar_dir(src, out):
    """A tar of a directory's contents, names relative ('index.json',
    'blobs/sha256/...'), the way an OCI layout tar is made."""
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
        for name in sorted(os.listdir(src)):
            t.add(os.path.join(src, name), arcname=name)
    return out


def write_docker_archive(path, image, repo_tags=("mamori/test:1.0",),
                         omit=(), layer_compression="none"):
    """A `docker save` tar: <hex>/layer.tar per layer, <hex>.json config,
    manifest.json and repositories.  omit: member names to leave out (for
    the missing-manifest case).  Returns a dict of what was written."""
    members = []   # (name, bytes or path)
    diff_ids, lnames, details = [], [], []
    tmpfiles = []
    for i, l in enumerate(image.layers):
        if l.tarpath is not None:
            d = os.path.dirname(os.path.abspath(path))
            dg, diff, size = _stream_blob(l.tarpath, d, layer_compression,
                                          l.forced_diff_id)
            bp = os.path.join(d, dg.split(":")[1])
            tmpfiles.append(bp)
            hx = dg.split(":")[1]
            members.append(("%s/layer.tar" % hx, bp))
        else:
            if l.raw_blob is not None:
                blob, diff = l._materialise()
            else:
                raw = tar_bytes(l.entries or [])
                blob = compress(raw, layer_compression)
                diff = l.forced_diff_id or "sha256:" + sha256_hex(raw)
            hx = sha256_hex(blob)
            size = len(blob)
            members.append(("%s/layer.tar" % hx, blob))
            dg = "sha256:" + hx
        diff_ids.append(diff)
        lnames.append("%s/layer.tar" % hx)
        details.append({"digest": dg, "diffId": diff, "size": size})
    cfg = image.config_bytes(diff_ids)
    chx = sha256_hex(cfg)
    members.append(("%s.json" % chx, cfg))
    manifest = [{"Config": "%s.json" % chx, "RepoTags": list(repo_tags),
                 "Layers": lnames}]
    members.append(("manifest.json", json.dumps(manifest).encode()))
    repos = {}
    for rt in repo_tags:
        r, t = rt.rsplit(":", 1)
        repos.setdefault(r, {})[t] = lnames[-1].split("/")[0] if lnames else ""
    members.append(("repositories", json.dumps(repos).encode()))
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        for name, data in members:
            if name in omit:
                continue
            if isinstance(data, bytes):
                ti = tarfile.TarInfo(name)
                ti.size = len(data)
                ti.mtime = 1700000000
                t.addfile(ti, io.BytesIO(data))
            else:
                t.add(data, arcname=name)
    for p in tmpfiles:
        os.unlink(p)
    return {"config": "sha256:" + chx, "layers": details}


# ---- big layers ----------------------------------------------------------------

def _ustar_header(name, typeflag, mode, size=0):
    """A ustar header for a short name (at most 100 bytes)."""
    h = bytearray(512)
    nb = name.encode()
    h[0:len(nb)] = nb
    h[100:108] = b"%07o\0" % mode
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"%011o\0" % 1700000000
    h[148:156] = b"        "
    h[156:157] = typeflag
    h[257:265] = b"ustar\x0000"
    h[265:269] = b"root"
    h[297:301] = b"root"
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def many_files_chunks(nfiles, per_dir=1000, counter=None):
    """The tar stream of nfiles empty regular files spread over directories
    of per_dir files each, yielded in chunks (constant memory; much faster
    than tarfile for a million entries).  counter, a list, receives the
    number of entries (directories included) when the stream ends."""
    n = 0
    buf = []
    for i in range(nfiles):
        if i % per_dir == 0:
            buf.append(_ustar_header("d%04d/" % (i // per_dir), b"5", 0o755))
            n += 1
        buf.append(_ustar_header("d%04d/f%07d" % (i // per_dir, i), b"0", 0o644))
        n += 1
        if len(buf) >= 2048:
            yield b"".join(buf)
            buf = []
    buf.append(bytes(1024))
    yield b"".join(buf)
    if counter is not None:
        counter.append(n)


def write_many_files_tar(path, nfiles, per_dir=1000):
    """many_files_chunks() to a file; returns the number of entries."""
    c = []
    with open(path, "wb") as f:
        for b in many_files_chunks(nfiles, per_dir, c):
            f.write(b)
    return c[0]


def copy_layout(src, dst):
    """Copies an OCI layout, hard-linking blobs when it can (they are
    immutable), so tests can rewrite index.json without touching src."""
    os.makedirs(os.path.join(dst, "blobs", "sha256"), exist_ok=True)
    for name in os.listdir(src):
        if name != "blobs":
            shutil.copy(os.path.join(src, name), os.path.join(dst, name))
    sb = os.path.join(src, "blobs", "sha256")
    for b in os.listdir(sb):
        s, d = os.path.join(sb, b), os.path.join(dst, "blobs", "sha256", b)
        try:
            os.link(s, d)
        except OSError:
            shutil.copy(s, d)
