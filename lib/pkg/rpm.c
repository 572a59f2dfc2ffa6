/*
 * pkg/rpm.c - the rpm analyzer: finds the rpm database of an image (Berkeley
 * DB "Packages", NDB "Packages.db" or "rpmdb.sqlite", under var/lib/rpm or
 * usr/lib/sysimage/rpm), decodes the header blob of every installed
 * package and adds the packages to the inventory.
 *
 * The header decoder and the SQLite walker live here; the BDB and NDB
 * container walkers in rpmdb_bdb.c and rpmdb_ndb.c (see rpmdb.h for why we
 * read them ourselves instead of through librpm).
 *
 * Header blob (as stored in the databases; big-endian): il (entries) and
 * dl (data bytes), then il index entries of 16 bytes (tag, type, offset
 * into the data, count), then the data.  The first entry of an installed
 * header is usually a "region" tag (61-63) describing the immutable part
 * signed by the packager; entries after the region ("dribbles", added at
 * install time) replace region entries of the same tag, which is what
 * taking the last entry of a tag gives.
 *
 * Length: the header decoder and the SQLite walker share the header
 * structures; the BDB and NDB walkers are already apart (rpmdb_bdb.c,
 * rpmdb_ndb.c).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "pkg/analyzers.h"
#include "pkg/osdb.h"
#include "pkg/rpmdb.h"
#include "util/util.h"

/* ---- header blob -------------------------------------------------------- */

enum {
    RPM_STRING_TYPE = 6,
    RPM_BIN_TYPE = 7,
    RPM_STRING_ARRAY_TYPE = 8,
    RPM_I18NSTRING_TYPE = 9,
    RPM_INT32_TYPE = 4,
};

enum {
    TAG_NAME = 1000,
    TAG_VERSION = 1001,
    TAG_RELEASE = 1002,
    TAG_EPOCH = 1003,
    TAG_LICENSE = 1014,
    TAG_ARCH = 1022,
    TAG_OLDFILENAMES = 1027,
    TAG_SOURCERPM = 1044,
    TAG_DIRINDEXES = 1116,
    TAG_BASENAMES = 1117,
    TAG_DIRNAMES = 1118,
};

/* The tags we read, in the order of the slots of hdr_entry[]. */
static const uint32_t wanted_tags[] = {
    TAG_NAME, TAG_VERSION, TAG_RELEASE, TAG_EPOCH, TAG_LICENSE, TAG_ARCH,
    TAG_OLDFILENAMES, TAG_SOURCERPM, TAG_DIRINDEXES, TAG_BASENAMES,
    TAG_DIRNAMES,
};
#define NWANTED (sizeof wanted_tags / sizeof wanted_tags[0])
enum { W_NAME, W_VERSION, W_RELEASE, W_EPOCH, W_LICENSE, W_ARCH,
       W_OLDFILENAMES, W_SOURCERPM, W_DIRINDEXES, W_BASENAMES, W_DIRNAMES };

typedef struct hdr_entry {
    bool present;
    uint32_t type, off, count;
} hdr_entry;

typedef struct hdr {
    const uint8_t *store; /* data store */
    uint32_t dl;
    const char *path;
    uint32_t recno;
    hdr_entry e[NWANTED];
} hdr;

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

static const char *tag_name(int w)
{
    static const char *const names[] = {
        "NAME", "VERSION", "RELEASE", "EPOCH", "LICENSE", "ARCH",
        "FILENAMES", "SOURCERPM", "DIRINDEXES", "BASENAMES", "DIRNAMES",
    };
    return names[w];
}

static int hdr_bad(const hdr *h, int w, const char *why)
{
    return mm_error_set(MM_EFORMAT, "%s: package record %u: tag %s (%u) %s",
                        h->path, h->recno, tag_name(w), wanted_tags[w], why);
}

/* The single string of a STRING (or first of an I18NSTRING) entry; NULL
 * with *rc set when malformed, NULL with *rc 0 when absent. */
static const char *hdr_string(const hdr *h, int w, int *rc)
{
    const hdr_entry *e = &h->e[w];
    *rc = 0;
    if (!e->present)
        return NULL;
    if (e->type != RPM_STRING_TYPE && e->type != RPM_I18NSTRING_TYPE &&
        e->type != RPM_STRING_ARRAY_TYPE) {
        *rc = hdr_bad(h, w, "is not a string");
        return NULL;
    }
    if (e->off >= h->dl ||
        !memchr(h->store + e->off, 0, h->dl - e->off)) {
        *rc = hdr_bad(h, w, "runs past the data store");
        return NULL;
    }
    return (const char *)h->store + e->off;
}

/* The strings of a STRING_ARRAY entry as pointers into the store. */
static int hdr_strings(const hdr *h, int w, const char ***out, uint32_t *n)
{
    const hdr_entry *e = &h->e[w];
    *out = NULL;
    *n = 0;
    if (!e->present)
        return 0;
    if (e->type != RPM_STRING_ARRAY_TYPE)
        return hdr_bad(h, w, "is not a string array");
    /* Each string takes at least one byte: this bounds the allocation by
     * the blob size. */
    if (e->count > MM_RPM_MAX_FILES || e->off >= h->dl ||
        e->count > h->dl - e->off)
        return hdr_bad(h, w, "has an impossible count");
    const char **v = mm_xmalloc(((size_t)e->count + 1) * sizeof *v);
    size_t off = e->off;
    for (uint32_t i = 0; i < e->count; i++) {
        const uint8_t *nul = off < h->dl
            ? memchr(h->store + off, 0, h->dl - off) : NULL;
        if (!nul) {
            free(v);
            return hdr_bad(h, w, "runs past the data store");
        }
        v[i] = (const char *)h->store + off;
        off = (size_t)(nul - h->store) + 1;
    }
    *out = v;
    *n = e->count;
    return 0;
}

/* Checks an INT32 entry and returns a pointer to its big-endian values. */
static int hdr_int32(const hdr *h, int w, const uint8_t **vals, uint32_t *n)
{
    const hdr_entry *e = &h->e[w];
    *vals = NULL;
    *n = 0;
    if (!e->present)
        return 0;
    if (e->type != RPM_INT32_TYPE)
        return hdr_bad(h, w, "is not an INT32");
    if (e->count > MM_RPM_MAX_FILES ||
        (uint64_t)e->off + 4ull * e->count > h->dl)
        return hdr_bad(h, w, "runs past the data store");
    *vals = h->store + e->off;
    *n = e->count;
    return 0;
}

/* "/usr/bin/" + "bash", made image-absolute when the header is odd. */
static char *file_path(const char *dir, size_t dlen, const char *base)
{
    size_t blen = strlen(base);
    bool slash = dlen ? dir[0] != '/' : base[0] != '/';
    char *s = mm_xmalloc(dlen + blen + 2);
    size_t o = 0;
    if (slash)
        s[o++] = '/';
    memcpy(s + o, dir, dlen);
    o += dlen;
    memcpy(s + o, base, blen + 1);
    return s;
}

static int hdr_files(const hdr *h, mm_package *p)
{
    const char **bases = NULL, **dirs = NULL;
    uint32_t nbases = 0, ndirs = 0, nidx = 0;
    const uint8_t *idx = NULL;
    int rc;
    if (h->e[W_BASENAMES].present) {
        if ((rc = hdr_strings(h, W_BASENAMES, &bases, &nbases)) != 0 ||
            (rc = hdr_strings(h, W_DIRNAMES, &dirs, &ndirs)) != 0 ||
            (rc = hdr_int32(h, W_DIRINDEXES, &idx, &nidx)) != 0)
            goto out;
        if (nidx != nbases) {
            rc = hdr_bad(h, W_DIRINDEXES, "does not match BASENAMES");
            goto out;
        }
        size_t *dlen = mm_xmalloc(((size_t)ndirs + 1) * sizeof *dlen);
        for (uint32_t i = 0; i < ndirs; i++)
            dlen[i] = strlen(dirs[i]);
        /* Shared directory names let a forged header ask for far more
         * path bytes than it holds (one long name times millions of
         * files); real packages stay well below this. */
        uint64_t budget = 16ull * h->dl + (1u << 20), used = 0;
        p->files = mm_xmalloc(((size_t)nbases + 1) * sizeof *p->files);
        for (uint32_t i = 0; i < nbases; i++) {
            uint32_t d = be32(idx + 4 * (size_t)i);
            if (d >= ndirs) {
                free(dlen);
                rc = hdr_bad(h, W_DIRINDEXES, "points past DIRNAMES");
                goto out;
            }
            used += dlen[d] + strlen(bases[i]) + 2;
            if (used > budget) {
                free(dlen);
                rc = mm_error_set(MM_ELIMIT, "%s: package record %u: file "
                                  "names add up to more than %llu bytes",
                                  h->path, h->recno,
                                  (unsigned long long)budget);
                goto out;
            }
            p->files[p->nfiles++] = file_path(dirs[d], dlen[d], bases[i]);
        }
        free(dlen);
    } else if (h->e[W_OLDFILENAMES].present) {
        if ((rc = hdr_strings(h, W_OLDFILENAMES, &bases, &nbases)) != 0)
            goto out;
        p->files = mm_xmalloc(((size_t)nbases + 1) * sizeof *p->files);
        for (uint32_t i = 0; i < nbases; i++)
            p->files[p->nfiles++] = file_path("", 0, bases[i]);
    }
    rc = 0;
out:
    free(bases);
    free(dirs);
    return rc;
}

/* SOURCERPM "util-linux-2.32.1-42.el8_8.src.rpm" -> name "util-linux",
 * version "2.32.1-42.el8_8".  false when it does not have that shape. */
static bool split_srpm(const char *s, char **name, char **version)
{
    size_t n = strlen(s);
    if (mm_str_endswith(s, ".src.rpm"))
        n -= strlen(".src.rpm");
    else if (mm_str_endswith(s, ".nosrc.rpm"))
        n -= strlen(".nosrc.rpm");
    else
        return false;
    const char *rel = NULL, *ver = NULL;
    for (size_t i = n; i > 0; i--) {
        if (s[i - 1] != '-')
            continue;
        if (!rel) {
            rel = s + i - 1;
        } else {
            ver = s + i - 1;
            break;
        }
    }
    if (!ver || ver == s)
        return false;
    *name = mm_xstrndup(s, (size_t)(ver - s));
    *version = mm_xstrndup(ver + 1, n - (size_t)(ver + 1 - s));
    return true;
}

static bool has_ctrl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

void mm_rpm_package_clear(mm_package *p)
{
    mm_package_clear(p);
}

int mm_rpm_header_parse(mm_package *out, const uint8_t *blob, size_t len,
                        const char *path, uint32_t recno)
{
    memset(out, 0, sizeof *out);
    out->epoch = -1;
    out->layer = -1;
    if (!blob || len < 8)
        return mm_error_set(MM_EFORMAT, "%s: package record %u: header of %zu "
                            "bytes is too short", path, recno, len);
    uint32_t il = be32(blob), dl = be32(blob + 4);
    if (il == 0 || il > MM_RPM_MAX_TAGS || dl > MM_RPM_MAX_BLOB ||
        8 + 16ull * il + dl > len)
        return mm_error_set(MM_EFORMAT, "%s: package record %u: header sizes "
                            "(%u entries, %u data bytes) do not fit in %zu "
                            "bytes", path, recno, il, dl, len);
    hdr h = {.store = blob + 8 + 16 * (size_t)il, .dl = dl, .path = path,
             .recno = recno};
    for (uint32_t i = 0; i < il; i++) {
        const uint8_t *ent = blob + 8 + 16 * (size_t)i;
        uint32_t tag = be32(ent);
        for (size_t w = 0; w < NWANTED; w++) {
            if (wanted_tags[w] != tag)
                continue;
            /* A later entry of the same tag wins (dribbles replace region
             * entries). */
            h.e[w] = (hdr_entry){true, be32(ent + 4), be32(ent + 8),
                                 be32(ent + 12)};
            break;
        }
    }
    int rc;
    const char *name = hdr_string(&h, W_NAME, &rc);
    if (rc) return rc;
    const char *ver = hdr_string(&h, W_VERSION, &rc);
    if (rc) return rc;
    const char *rel = hdr_string(&h, W_RELEASE, &rc);
    if (rc) return rc;
    if (!name || !*name || !ver || !*ver || !rel || !*rel)
        return mm_error_set(MM_EFORMAT, "%s: package record %u: header "
                            "without NAME, VERSION or RELEASE", path, recno);
    /* Real packages never carry control characters in these fields; a
     * header that does is forged (and would garble text reports). */
    if (has_ctrl(name) || has_ctrl(ver) || has_ctrl(rel))
        return mm_error_set(MM_EFORMAT, "%s: package record %u: control "
                            "character in NAME, VERSION or RELEASE", path,
                            recno);
    /* gpg-pubkey "packages" are the keys rpm trusts, stored as headers:
     * they install nothing and have no vulnerabilities to match. */
    if (strcmp(name, "gpg-pubkey") == 0)
        return 1;
    const char *arch = hdr_string(&h, W_ARCH, &rc);
    if (rc) return rc;
    if (arch && has_ctrl(arch))
        return hdr_bad(&h, W_ARCH, "holds a control character");
    const char *lic = hdr_string(&h, W_LICENSE, &rc);
    if (rc) return rc;
    const char *srpm = hdr_string(&h, W_SOURCERPM, &rc);
    if (rc) return rc;
    const uint8_t *ep;
    uint32_t nep;
    if ((rc = hdr_int32(&h, W_EPOCH, &ep, &nep)) != 0)
        return rc;
    if (nep > 0) {
        uint32_t e = be32(ep);
        if (e > INT_MAX)
            return hdr_bad(&h, W_EPOCH, "is out of range");
        out->epoch = (int)e;
    }
    out->type = MM_PKG_RPM;
    out->name = mm_xstrdup(name);
    /* version is "version-release" without the epoch: rpm itself, the
     * purl spec (epoch is a qualifier) and distribution advisories keep
     * the epoch apart, and a matcher compares (epoch, version, release)
     * with the epoch from its own field (-1: none, which rpm orders as 0).
     * Putting it in the string too would make every consumer strip it. */
    out->version = mm_xasprintf("%s-%s", ver, rel);
    out->arch = arch && *arch ? mm_xstrdup(arch) : NULL;
    out->license = lic && *lic ? mm_xstrdup(lic) : NULL;
    char *sname = NULL, *sver = NULL;
    if (srpm && split_srpm(srpm, &sname, &sver)) {
        /* pkg.h: set only where they differ from the binary package. */
        if (strcmp(sname, out->name) != 0)
            out->src_name = sname;
        else
            free(sname);
        if (strcmp(sver, out->version) != 0)
            out->src_version = sver;
        else
            free(sver);
    }
    if ((rc = hdr_files(&h, out)) != 0) {
        mm_rpm_package_clear(out);
        return rc;
    }
    return 0;
}

/* ---- SQLite (rpm >= 4.16: Fedora 33+, RHEL 9, Mariner) ----------------- */

/* Stops runaway queries on a hostile file (a schema can hide a view with a
 * recursive query behind the name Packages; we also refuse non-tables). */
static int sqlite_progress(void *ud)
{
    uint64_t *budget = ud;
    if (*budget == 0)
        return 1;
    (*budget)--;
    return 0;
}

int mm_rpmdb_sqlite_walk(const uint8_t *data, size_t len, const char *path,
                         mm_rpmdb_blob_fn fn, void *ud)
{
    if (!data || len < 100 || memcmp(data, "SQLite format 3", 16) != 0)
        return mm_error_set(MM_EFORMAT, "%s: not an SQLite database "
                            "(offset 0)", path);
    unsigned char *copy = NULL;
    unsigned char *buf = (unsigned char *)data;
    /* rpm runs its database in WAL mode (header bytes 18-19 = 2); an
     * in-memory database cannot, so a private copy says "rollback
     * journal" instead.  Only what was checkpointed into the main file is
     * seen: a -wal file left in an image is not read. */
    if (data[18] != 1 || data[19] != 1) {
        copy = sqlite3_malloc64(len);
        if (!copy)
            return mm_error_set(MM_ENOMEM, "%s: out of memory", path);
        memcpy(copy, data, len);
        copy[18] = copy[19] = 1;
        buf = copy;
    }
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_open_v2(":memory:", &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        rc = mm_error_set(MM_ENOMEM, "%s: cannot open SQLite: %s", path,
                          db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_free(copy);
        goto out;
    }
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, (int *)NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, (int *)NULL);
    sqlite3_limit(db, SQLITE_LIMIT_LENGTH, (int)MM_RPM_MAX_BLOB);
    uint64_t budget = len / 16 + 100000;
    sqlite3_progress_handler(db, 1000, sqlite_progress, &budget);
    /* FREEONCLOSE hands our copy to SQLite, which frees it even when the
     * call fails. */
    if (sqlite3_deserialize(db, "main", buf, (sqlite3_int64)len,
                            (sqlite3_int64)len,
                            SQLITE_DESERIALIZE_READONLY |
                            (copy ? SQLITE_DESERIALIZE_FREEONCLOSE : 0))
        != SQLITE_OK) {
        rc = mm_error_set(MM_EFORMAT, "%s: SQLite: %s", path,
                          sqlite3_errmsg(db));
        goto out;
    }
    sqlite3_exec(db, "PRAGMA cell_size_check=ON", NULL, NULL, NULL);
    if (sqlite3_prepare_v2(db, "SELECT type FROM sqlite_master "
                           "WHERE name = 'Packages'", -1, &st, NULL)
        != SQLITE_OK) {
        rc = mm_error_set(MM_EFORMAT, "%s: SQLite: %s", path,
                          sqlite3_errmsg(db));
        goto out;
    }
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW) {
        rc = step == SQLITE_DONE
            ? mm_error_set(MM_EFORMAT, "%s: SQLite database without a "
                           "Packages table", path)
            : mm_error_set(MM_EFORMAT, "%s: SQLite: %s", path,
                           sqlite3_errmsg(db));
        goto out;
    }
    const unsigned char *type = sqlite3_column_text(st, 0);
    if (!type || strcmp((const char *)type, "table") != 0) {
        rc = mm_error_set(MM_EFORMAT, "%s: SQLite: Packages is not a table",
                          path);
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT hnum, blob FROM Packages", -1, &st,
                           NULL) != SQLITE_OK) {
        rc = mm_error_set(MM_EFORMAT, "%s: SQLite: %s", path,
                          sqlite3_errmsg(db));
        goto out;
    }
    size_t count = 0;
    /* Rows of a forged file can share one overflow chain; no real file
     * holds more blob bytes than twice its size. */
    uint64_t bytes = 0, max_bytes = 2 * (uint64_t)len + (1u << 20);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 hnum = sqlite3_column_int64(st, 0);
        if (hnum <= 0 || hnum > UINT32_MAX) {
            rc = mm_error_set(MM_EFORMAT, "%s: package record %lld: bad "
                              "number", path, (long long)hnum);
            goto out;
        }
        const uint8_t *blob = sqlite3_column_blob(st, 1);
        int blen = sqlite3_column_bytes(st, 1);
        bytes += blob ? (uint64_t)blen : 0;
        if (bytes > max_bytes) {
            rc = mm_error_set(MM_EFORMAT, "%s: package record %lld: blobs "
                              "add up to more than the file holds", path,
                              (long long)hnum);
            goto out;
        }
        if (++count > MM_RPM_MAX_PACKAGES) {
            rc = mm_error_set(MM_ELIMIT, "%s: more than %u packages", path,
                              MM_RPM_MAX_PACKAGES);
            goto out;
        }
        rc = fn(ud, (uint32_t)hnum, blob, blob ? (size_t)blen : 0);
        if (rc != 0)
            goto out;
    }
    if (step != SQLITE_DONE)
        rc = mm_error_set(MM_EFORMAT, "%s: SQLite: %s", path,
                          budget == 0 ? "query budget exhausted"
                                      : sqlite3_errmsg(db));
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

/* ---- whole databases ----------------------------------------------------- */

mm_rpmdb_format mm_rpmdb_detect(const uint8_t *data, size_t len)
{
    if (!data)
        return MM_RPMDB_UNKNOWN;
    if (len >= 16 && memcmp(data, "SQLite format 3", 16) == 0)
        return MM_RPMDB_SQLITE;
    if (len >= 4 && memcmp(data, "RpmP", 4) == 0)
        return MM_RPMDB_NDB;
    if (len >= 16) {
        uint32_t m = (uint32_t)data[12] | (uint32_t)data[13] << 8 |
                     (uint32_t)data[14] << 16 | (uint32_t)data[15] << 24;
        if (m == 0x00061561u || m == 0x61150600u || m == 0x00053162u ||
            m == 0x62310500u)
            return MM_RPMDB_BDB;
    }
    return MM_RPMDB_UNKNOWN;
}

typedef struct collect {
    mm_package *pkgs;
    size_t n, cap;
    const char *path;
} collect;

static int collect_blob(void *ud, uint32_t recno, const uint8_t *blob,
                        size_t len)
{
    collect *c = ud;
    mm_package p;
    int rc = mm_rpm_header_parse(&p, blob, len, c->path, recno);
    if (rc == 1)
        return 0;
    if (rc != 0)
        return rc;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->pkgs = mm_xrealloc(c->pkgs, c->cap * sizeof *c->pkgs);
    }
    c->pkgs[c->n++] = p;
    return 0;
}

void mm_rpm_packages_free(mm_package *pkgs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mm_rpm_package_clear(&pkgs[i]);
    free(pkgs);
}

int mm_rpmdb_parse(mm_package **pkgs, size_t *npkgs, const uint8_t *data,
                   size_t len, const char *path)
{
    *pkgs = NULL;
    *npkgs = 0;
    if (!path)
        path = "rpm database";
    if (len == 0)
        return 0; /* an empty file is an empty database (rpm agrees) */
    collect c = {.path = path};
    int rc;
    switch (mm_rpmdb_detect(data, len)) {
    case MM_RPMDB_SQLITE:
        rc = mm_rpmdb_sqlite_walk(data, len, path, collect_blob, &c);
        break;
    case MM_RPMDB_NDB:
        rc = mm_rpmdb_ndb_walk(data, len, path, collect_blob, &c);
        break;
    case MM_RPMDB_BDB:
        rc = mm_rpmdb_bdb_walk(data, len, path, collect_blob, &c);
        break;
    default:
        rc = mm_error_set(MM_EFORMAT, "%s: not an rpm database (Berkeley DB, "
                          "NDB or SQLite) at offset 0", path);
        break;
    }
    if (rc != 0) {
        mm_rpm_packages_free(c.pkgs, c.n);
        return rc;
    }
    *pkgs = c.pkgs;
    *npkgs = c.n;
    return 0;
}

/* Adds pkgs to inv, found at abspath; layers/digests give each package's
 * layer, or NULL for the single layer/digest. */
static int add_packages(mm_inventory *inv, const mm_package *pkgs, size_t n,
                        const char *abspath, const int *layers,
                        const char *const *digests, int layer,
                        const char *digest)
{
    for (size_t i = 0; i < n; i++) {
        mm_package p = pkgs[i];
        /* mm_inventory_add copies: the casts only satisfy the struct. */
        p.path = (char *)abspath;
        p.layer = layers ? layers[i] : layer;
        p.layer_digest = (char *)(digests ? digests[i] : digest);
        int rc = mm_inventory_add(inv, &p, NULL);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int mm_rpmdb_read(mm_inventory *inv, const uint8_t *data, size_t len,
                  const char *path, int layer, const char *layer_digest)
{
    mm_package *pkgs;
    size_t n;
    int rc = mm_rpmdb_parse(&pkgs, &n, data, len, path);
    if (rc != 0)
        return rc;
    char *abspath = path && path[0] != '/' ? mm_xasprintf("/%s", path)
                                           : mm_xstrdup(path);
    rc = add_packages(inv, pkgs, n, abspath, NULL, NULL, layer, layer_digest);
    free(abspath);
    mm_rpm_packages_free(pkgs, n);
    return rc;
}

/* ---- the analyzer -------------------------------------------------------- */

/* Where rpm keeps its database; the order is the preference when an image
 * shows more than one written by the same layer (the newer location and
 * format first: a conversion leaves the old file behind, never the new). */
static const char *const db_paths[] = {
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/Packages.db",
    "usr/lib/sysimage/rpm/Packages",
    "var/lib/rpm/rpmdb.sqlite",
    "var/lib/rpm/Packages.db",
    "var/lib/rpm/Packages",
};
#define NDBPATHS (sizeof db_paths / sizeof db_paths[0])

typedef struct rpm_db {
    bool seen;        /* a version was read */
    int layer;        /* layer of the version read last */
    int err;          /* that version was corrupt: code and message */
    char *errmsg;
    mm_package *pkgs;
    size_t n;
    int *since;       /* per package: first layer of continuous presence */
} rpm_db;

typedef struct rpm_state {
    rpm_db db[NDBPATHS];
} rpm_state;

static int rpm_create(void **state, mm_actx *cx, const void *config)
{
    (void)cx;
    *state = mm_xcalloc(1, sizeof(rpm_state));
    return 0;
}

static int db_index(const char *path)
{
    for (size_t i = 0; i < NDBPATHS; i++)
        if (strcmp(path, db_paths[i]) == 0)
            return (int)i;
    return -1;
}

static mm_want rpm_wants(void *state, const mm_entry *e)
{
    (void)state;
    if (e->type != MM_ENT_REG || db_index(e->path) < 0)
        return MM_WANT_NONE;
    return MM_WANT_WHOLE;
}

static void db_reset(rpm_db *d)
{
    mm_rpm_packages_free(d->pkgs, d->n);
    free(d->since);
    free(d->errmsg);
    d->pkgs = NULL;
    d->since = NULL;
    d->errmsg = NULL;
    d->n = 0;
    d->err = 0;
}

/* Identity of an installed package across layers. */
static char *pkg_key(const mm_package *p)
{
    return mm_xasprintf("%s\x1f%d\x1f%s\x1f%s", p->name, p->epoch, p->version,
                        p->arch ? p->arch : "");
}

static int rpm_file(void *state, mm_actx *cx, const mm_entry *e,
                    const uint8_t *data, size_t len)
{
    (void)cx;
    rpm_state *st = state;
    int i = db_index(e->path);
    if (i < 0)
        return 0;
    rpm_db *d = &st->db[i];
    mm_package *pkgs;
    size_t n;
    int rc = mm_rpmdb_parse(&pkgs, &n, data, len, e->path);
    if (rc == MM_ENOMEM)
        return rc;
    /* Packages still present keep the layer they first came with. */
    mm_map *prev = mm_map_new();
    if (d->seen && !d->err) {
        for (size_t k = 0; k < d->n; k++) {
            char *key = pkg_key(&d->pkgs[k]);
            mm_map_put(prev, key, (void *)(intptr_t)(d->since[k] + 1));
            free(key);
        }
    }
    int *since = NULL;
    if (rc == 0) {
        since = mm_xmalloc((n + 1) * sizeof *since);
        for (size_t k = 0; k < n; k++) {
            char *key = pkg_key(&pkgs[k]);
            intptr_t v = (intptr_t)mm_map_get(prev, key);
            since[k] = v ? (int)(v - 1) : e->layer;
            free(key);
        }
    }
    mm_map_free(prev, NULL);
    db_reset(d);
    d->seen = true;
    d->layer = e->layer;
    if (rc != 0) {
        /* A corrupt version only fails the scan if the container sees it
         * (finish); a later layer may replace it. */
        d->err = rc;
        d->errmsg = mm_xstrdup(mm_error_last());
        return 0;
    }
    d->pkgs = pkgs;
    d->n = n;
    d->since = since;
    return 0;
}

static int rpm_finish(void *state, mm_actx *cx)
{
    rpm_state *st = state;
    const mm_tree *tree = mm_actx_tree(cx);
    int best = -1;
    for (size_t i = 0; i < NDBPATHS; i++) {
        rpm_db *d = &st->db[i];
        if (!d->seen)
            continue;
        const mm_node *node = tree ? mm_tree_get(tree, db_paths[i]) : NULL;
        if (!node) {
            db_reset(d); /* deleted by a later layer */
            d->seen = false;
            continue;
        }
        if (node->layer != d->layer) {
            /* The visible version is one we were not given (too big to
             * buffer: the reader warned).  Stale packages would lie. */
            mm_actx_warn(cx, "rpm: /%s: the version of layer %d was not "
                         "read; its packages are not listed", db_paths[i],
                         node->layer);
            db_reset(d);
            d->seen = false;
            continue;
        }
        if (best < 0 || d->layer > st->db[best].layer)
            best = (int)i;
    }
    if (best < 0)
        return 0;
    for (size_t i = 0; i < NDBPATHS; i++)
        if (st->db[i].seen && (int)i != best)
            mm_actx_warn(cx, "rpm: /%s ignored: the image also holds /%s, "
                         "written later or in the format rpm uses now",
                         db_paths[i], db_paths[best]);
    rpm_db *d = &st->db[best];
    if (d->err)
        return mm_osdb_unreadable(cx, db_paths[best], d->layer, d->errmsg);
    const char **digests = mm_xmalloc((d->n + 1) * sizeof *digests);
    for (size_t k = 0; k < d->n; k++)
        digests[k] = mm_actx_layer_digest(cx, d->since[k]);
    char *abspath = mm_xasprintf("/%s", db_paths[best]);
    int rc = add_packages(mm_actx_inventory(cx), d->pkgs, d->n, abspath,
                          d->since, digests, -1, NULL);
    free(abspath);
    free(digests);
    return rc;
}

static void rpm_destroy(void *state)
{
    rpm_state *st = state;
    if (!st)
        return;
    for (size_t i = 0; i < NDBPATHS; i++)
        db_reset(&st->db[i]);
    free(st);
}

const mm_analyzer_ops mm_analyzer_rpm = {
    .name = "rpm",
    .create = rpm_create,
    .wants = rpm_wants,
    .file = rpm_file,
    .finish = rpm_finish,
    .destroy = rpm_destroy,
};
