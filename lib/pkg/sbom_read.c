/*
 * pkg/sbom_read.c - a CycloneDX (1.4-1.6) or SPDX (2.2/2.3) JSON SBOM read
 * back into an mm_result (include/mamori/sbom.h), ours or another tool's,
 * so that it can be matched against today's vulnerability database.
 *
 * The package-url is the common ground of all SBOM writers: it gives the
 * ecosystem, the name (with its namespace), the version and, for OS
 * packages, arch/epoch/distro.  What purls lack - the source package that
 * Debian keys its advisories by, the file and layer a package came from -
 * each writer keeps in its own properties (mamori:*, aquasecurity:trivy:*,
 * syft:*), read here when present.  The document is untrusted: sizes,
 * counts and nesting are capped, and anything of the wrong JSON type is
 * ignored rather than trusted.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "mamori/sbom.h"
#include "util/util.h"

#define SBOM_MAX_BYTES (256ull << 20)
#define SBOM_MAX_COMPONENTS 1000000
#define SBOM_MAX_DEPTH 16
#define SBOM_MAX_FIELD 4096

/* --- package-urls --------------------------------------------------------- */

struct purl {
    char *type, *ns, *name, *version;
    char *arch, *distro, *epoch, *upstream;
};

static void purl_free(struct purl *p)
{
    free(p->type);
    free(p->ns);
    free(p->name);
    free(p->version);
    free(p->arch);
    free(p->distro);
    free(p->epoch);
    free(p->upstream);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n); NUL bytes are refused (NULL). */
static char *pct_decode(const char *s, size_t n)
{
    mm_buf b = MM_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
            hexval(s[i + 2]) >= 0) {
            c = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
            i += 2;
        }
        if (c == 0) {
            mm_buf_free(&b);
            return NULL;
        }
        mm_buf_addc(&b, (char)c);
    }
    return mm_buf_detach(&b);
}

/* purl-spec: pkg:type/namespace/name@version?qualifiers#subpath. */
static bool purl_parse(const char *s, struct purl *p)
{
    memset(p, 0, sizeof *p);
    if (!s || strncmp(s, "pkg:", 4) != 0 || strlen(s) > SBOM_MAX_FIELD)
        return false;
    s += 4;
    while (*s == '/')
        s++;
    size_t len = strcspn(s, "#");
    const char *q = memchr(s, '?', len);
    size_t mainlen = q ? (size_t)(q - s) : len;
    if (q) {
        const char *qs = q + 1, *qe = s + len;
        while (qs < qe) {
            const char *amp = memchr(qs, '&', (size_t)(qe - qs));
            const char *end = amp ? amp : qe;
            const char *eq = memchr(qs, '=', (size_t)(end - qs));
            if (eq) {
                size_t kl = (size_t)(eq - qs);
                char **dst = NULL;
                if (kl == 4 && !strncasecmp(qs, "arch", 4)) dst = &p->arch;
                else if (kl == 6 && !strncasecmp(qs, "distro", 6)) dst = &p->distro;
                else if (kl == 5 && !strncasecmp(qs, "epoch", 5)) dst = &p->epoch;
                else if (kl == 8 && !strncasecmp(qs, "upstream", 8)) dst = &p->upstream;
                if (dst && !*dst)
                    *dst = pct_decode(eq + 1, (size_t)(end - eq - 1));
            }
            qs = amp ? amp + 1 : qe;
        }
    }
    /* version: after the last '@' (an '@' in a name is encoded) */
    const char *at = NULL;
    for (size_t i = 0; i < mainlen; i++)
        if (s[i] == '@')
            at = s + i;
    const char *slash1 = memchr(s, '/', mainlen);
    if (at && slash1 && at < slash1)
        at = NULL;
    size_t pathlen = at ? (size_t)(at - s) : mainlen;
    if (at)
        p->version = pct_decode(at + 1, mainlen - pathlen - 1);
    if (!slash1 || (size_t)(slash1 - s) >= pathlen) {
        purl_free(p);
        return false;
    }
    p->type = mm_xstrndup(s, (size_t)(slash1 - s));
    for (char *c = p->type; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    const char *rest = slash1 + 1;
    size_t restlen = pathlen - (size_t)(rest - s);
    while (restlen && rest[restlen - 1] == '/')
        restlen--;
    const char *last = NULL;
    for (size_t i = 0; i < restlen; i++)
        if (rest[i] == '/')
            last = rest + i;
    if (last) {
        p->ns = pct_decode(rest, (size_t)(last - rest));
        p->name = pct_decode(last + 1, restlen - (size_t)(last + 1 - rest));
    } else {
        p->name = pct_decode(rest, restlen);
    }
    if (!p->name || !*p->name) {
        purl_free(p);
        return false;
    }
    return true;
}

/* The mamori package of a purl: type and the name as the ecosystem writes
 * it (Maven group:artifact, npm @scope/name, Go module path). */
static bool purl_package(const struct purl *u, mm_package *pk, char **owned_name,
                         char **owned_version)
{
    const mm_pkg_type_info *ti = mm_pkg_type_by_purl(u->type);
    if (!ti)
        return false;
    pk->type = ti->type;
    switch (pk->type) {
    case MM_PKG_GOMOD: case MM_PKG_NPM: case MM_PKG_COMPOSER:
        *owned_name = u->ns && *u->ns ? mm_xasprintf("%s/%s", u->ns, u->name)
                                      : mm_xstrdup(u->name);
        break;
    case MM_PKG_MAVEN:
        *owned_name = u->ns && *u->ns ? mm_xasprintf("%s:%s", u->ns, u->name)
                                      : mm_xstrdup(u->name);
        break;
    default:
        *owned_name = mm_xstrdup(u->name);
        break;
    }
    pk->name = *owned_name;
    /* deb purls of other tools carry the epoch as a qualifier; mamori's
     * keep it in the version.  rpm keeps it apart (mm_package.epoch). */
    if (u->version && u->epoch && pk->type == MM_PKG_DPKG &&
        strcmp(u->epoch, "0") != 0 && !strchr(u->version, ':'))
        *owned_version = mm_xasprintf("%s:%s", u->epoch, u->version);
    else
        *owned_version = mm_xstrdup(u->version);
    pk->version = *owned_version;
    if (pk->type == MM_PKG_RPM && u->epoch)
        pk->epoch = atoi(u->epoch);
    pk->arch = u->arch;
    return pk->version && *pk->version;
}

/* --- collecting --------------------------------------------------------- */

struct reader {
    const char *name;
    mm_result *r;
    size_t ncomp;
    char *os_family, *os_version, *os_desc;
    char *distro;             /* first purl distro qualifier seen */
    /* a mamori report's own spelling of the next package (the purl's name
     * is normalised, the report's is the one its findings name) */
    const char *own_name, *own_version;
};

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s && strlen(s) <= SBOM_MAX_FIELD ? s : NULL;
}

/* Value of the CycloneDX property named name (first match). */
static const char *prop(json_t *c, const char *name)
{
    json_t *ps = json_object_get(c, "properties");
    size_t n = json_array_size(ps);
    for (size_t i = 0; i < n && i < 4096; i++) {
        json_t *p = json_array_get(ps, i);
        const char *k = jstr(p, "name");
        if (k && !strcmp(k, name))
            return jstr(p, "value");
    }
    return NULL;
}

/* Splits "name[ version]" / "name@version" (syft's upstream qualifier). */
static void split_src(const char *s, char **name, char **version)
{
    size_t n = strcspn(s, " @");
    *name = n ? mm_xstrndup(s, n) : NULL;
    *version = NULL;
    if (s[n]) {
        const char *v = s + n + 1;
        while (*v == ' ')
            v++;
        size_t vl = strcspn(v, " ");
        if (vl)
            *version = mm_xstrndup(v, vl);
    }
}

/* Adds one package; the strings in extra are optional. */
static void add_package(struct reader *rd, const char *purl, const char *fallback_version,
                        const char *src_name, const char *src_version,
                        const char *src_text, const char *path, int layer,
                        const char *layer_digest)
{
    struct purl u;
    if (!purl_parse(purl, &u))
        return;
    mm_package pk;
    memset(&pk, 0, sizeof pk);
    pk.epoch = -1;
    pk.layer = layer;
    char *nm = NULL, *ver = NULL;
    if (!u.version && fallback_version)
        u.version = mm_xstrdup(fallback_version);
    if (!purl_package(&u, &pk, &nm, &ver)) {
        free(nm);
        free(ver);
        purl_free(&u);
        return;
    }
    if (rd->own_name && *rd->own_name)
        pk.name = (char *)rd->own_name;   /* the name as the report (and its findings) spell it */
    if (rd->own_version && *rd->own_version)
        pk.version = (char *)rd->own_version;
    if (u.distro && !rd->distro)
        rd->distro = mm_xstrdup(u.distro);
    char *sn = NULL, *sv = NULL;
    if (src_name) {
        sn = mm_xstrdup(src_name);
        sv = mm_xstrdup(src_version);
    } else if (src_text) {
        split_src(src_text, &sn, &sv);
    } else if (u.upstream) {
        split_src(u.upstream, &sn, &sv);
    }
    if (sn && !strcmp(sn, pk.name)) {
        /* same name: keep only a differing version */
        free(sn);
        sn = NULL;
    }
    if (sv && !strcmp(sv, pk.version)) {
        free(sv);
        sv = NULL;
    }
    pk.src_name = sn;
    pk.src_version = sv;
    pk.purl = (char *)purl;
    pk.path = (char *)path;
    pk.layer_digest = (char *)layer_digest;
    mm_inventory_add(mm_result_inventory(rd->r), &pk, NULL);
    free(sn);
    free(sv);
    free(nm);
    free(ver);
    purl_free(&u);
}

static void set_os(struct reader *rd, const char *family, const char *version,
                   const char *desc)
{
    if (rd->os_family || !family)
        return;
    rd->os_family = mm_xstrdup(family);
    for (char *c = rd->os_family; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    rd->os_version = mm_xstrdup(version);
    rd->os_desc = mm_xstrdup(desc);
}

/* --- CycloneDX ------------------------------------------------------------- */

static int cdx_components(struct reader *rd, json_t *arr, int depth)
{
    if (depth > SBOM_MAX_DEPTH)
        return mm_error_set(MM_ELIMIT, "%s: components nested deeper than %d",
                            rd->name, SBOM_MAX_DEPTH);
    size_t n = json_array_size(arr);
    for (size_t i = 0; i < n; i++) {
        json_t *c = json_array_get(arr, i);
        if (!json_is_object(c))
            continue;
        if (++rd->ncomp > SBOM_MAX_COMPONENTS)
            return mm_error_set(MM_ELIMIT, "%s: more than %d components",
                                rd->name, SBOM_MAX_COMPONENTS);
        const char *type = jstr(c, "type");
        if (type && !strcmp(type, "operating-system")) {
            set_os(rd, jstr(c, "name"), jstr(c, "version"), jstr(c, "description"));
        } else if (jstr(c, "purl")) {
            const char *sn = prop(c, "mamori:package:src-name");
            const char *sv = prop(c, "mamori:package:src-version");
            char *tsv = NULL;
            if (!sn) {
                sn = prop(c, "aquasecurity:trivy:SrcName");
                const char *v = prop(c, "aquasecurity:trivy:SrcVersion");
                const char *rel = prop(c, "aquasecurity:trivy:SrcRelease");
                const char *ep = prop(c, "aquasecurity:trivy:SrcEpoch");
                if (sn && v) {
                    mm_buf b = MM_BUF_INIT;
                    if (ep && strcmp(ep, "0") != 0)
                        mm_buf_printf(&b, "%s:", ep);
                    mm_buf_adds(&b, v);
                    if (rel && *rel)
                        mm_buf_printf(&b, "-%s", rel);
                    tsv = mm_buf_detach(&b);
                }
                sv = tsv;
            }
            if (!sn) {
                sn = prop(c, "syft:metadata:source");
                sv = prop(c, "syft:metadata:sourceVersion");
            }
            const char *path = prop(c, "mamori:path");
            if (!path)
                path = prop(c, "aquasecurity:trivy:FilePath");
            if (!path)
                path = prop(c, "syft:location:0:path");
            const char *li = prop(c, "mamori:layer:index");
            const char *ld = prop(c, "mamori:layer:digest");
            if (!ld)
                ld = prop(c, "aquasecurity:trivy:LayerDiffID");
            int layer = li && isdigit((unsigned char)*li) ? atoi(li) : -1;
            add_package(rd, jstr(c, "purl"), jstr(c, "version"), sn, sv, NULL,
                        path, layer, ld);
            free(tsv);
        }
        json_t *sub = json_object_get(c, "components");
        if (json_is_array(sub)) {
            int rc = cdx_components(rd, sub, depth + 1);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

/* The result of an SBOM: an image's or a root's, named by target or else
 * the file; *im the image's info (NULL for a root). */
static int result_new(struct reader *rd, mm_result **rp, bool image, const char *target,
                      mm_image_info **im)
{
    *im = NULL;
    int rc = mm_result_new(rp, image ? MM_TARGET_IMAGE : MM_TARGET_ROOTFS,
                           target && *target ? target : rd->name);
    if (rc < 0)
        return rc;
    rd->r = *rp;
    if (image)
        *im = mm_result_image_mut(rd->r);
    return 0;
}

static int read_cyclonedx(struct reader *rd, json_t *doc, mm_result **rp)
{
    const char *spec = jstr(doc, "specVersion");
    if (!spec || (strcmp(spec, "1.4") && strcmp(spec, "1.5") && strcmp(spec, "1.6")))
        return mm_error_set(MM_EUNSUPPORTED, "%s: CycloneDX specVersion %s: "
                            "1.4, 1.5 or 1.6 expected", rd->name,
                            spec ? spec : "(missing)");
    json_t *meta = json_object_get(doc, "metadata");
    json_t *mc = json_object_get(meta, "component");
    const char *mtype = jstr(mc, "type");
    const char *target = jstr(mc, "name");
    bool image = mtype && !strcmp(mtype, "container");
    mm_image_info *im;
    int rc = result_new(rd, rp, image, target, &im);
    if (rc < 0)
        return rc;
    if (im) {
        im->source_format = mm_xstrdup("sbom");
        const char *cd = prop(mc, "mamori:image:config-digest");
        if (!cd)
            cd = prop(mc, "aquasecurity:trivy:ImageID");
        im->config_digest = mm_xstrdup(cd);
        im->manifest_digest = mm_xstrdup(prop(mc, "mamori:image:manifest-digest"));
        im->os = mm_xstrdup(prop(mc, "mamori:image:os"));
        im->architecture = mm_xstrdup(prop(mc, "mamori:image:architecture"));
        json_t *ps = json_object_get(mc, "properties");
        for (size_t i = 0; i < json_array_size(ps) && i < 4096; i++) {
            const char *k = jstr(json_array_get(ps, i), "name");
            const char *v = jstr(json_array_get(ps, i), "value");
            if (k && v && (!strcmp(k, "mamori:image:repo-tag") ||
                           !strcmp(k, "aquasecurity:trivy:RepoTag")))
                mm_strv_push(&im->repo_tags, &im->nrepo_tags, v);
        }
    }
    return cdx_components(rd, json_object_get(doc, "components"), 0);
}

/* --- SPDX ----------------------------------------------------------------- */

static const char *spdx_purl(json_t *p)
{
    json_t *refs = json_object_get(p, "externalRefs");
    for (size_t i = 0; i < json_array_size(refs) && i < 1024; i++) {
        json_t *r = json_array_get(refs, i);
        const char *t = jstr(r, "referenceType");
        if (t && !strcmp(t, "purl"))
            return jstr(r, "referenceLocator");
    }
    return NULL;
}

static int read_spdx(struct reader *rd, json_t *doc, mm_result **rp)
{
    const char *ver = jstr(doc, "spdxVersion");
    if (!ver || (strcmp(ver, "SPDX-2.2") && strcmp(ver, "SPDX-2.3")))
        return mm_error_set(MM_EUNSUPPORTED, "%s: spdxVersion %s: SPDX-2.2 or "
                            "SPDX-2.3 expected", rd->name, ver ? ver : "(missing)");
    json_t *pkgs = json_object_get(doc, "packages");
    /* the described package names the target */
    const char *target = NULL;
    bool image = false;
    for (size_t i = 0; i < json_array_size(pkgs); i++) {
        json_t *p = json_array_get(pkgs, i);
        const char *purpose = jstr(p, "primaryPackagePurpose");
        if (purpose && !strcmp(purpose, "CONTAINER")) {
            target = jstr(p, "name");
            image = true;
            break;
        }
    }
    if (!target)
        target = jstr(doc, "name");
    mm_image_info *im;
    int rc = result_new(rd, rp, image, target, &im);
    if (rc < 0)
        return rc;
    if (im)
        im->source_format = mm_xstrdup("sbom");
    size_t n = json_array_size(pkgs);
    if (n > SBOM_MAX_COMPONENTS)
        return mm_error_set(MM_ELIMIT, "%s: more than %d packages", rd->name,
                            SBOM_MAX_COMPONENTS);
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(pkgs, i);
        if (!json_is_object(p))
            continue;
        const char *purpose = jstr(p, "primaryPackagePurpose");
        if (purpose && (!strcmp(purpose, "OPERATING_SYSTEM") ||
                        !strcmp(purpose, "OPERATING-SYSTEM"))) {
            set_os(rd, jstr(p, "name"), jstr(p, "versionInfo"), jstr(p, "description"));
            continue;
        }
        const char *purl = spdx_purl(p);
        if (!purl)
            continue;
        /* "built from source package X V" (mamori), "built package from:
         * X V" (trivy) */
        const char *si = jstr(p, "sourceInfo"), *src = NULL;
        if (si) {
            static const char *const pre[] = {"built from source package ",
                                              "built package from: "};
            for (size_t k = 0; k < 2 && !src; k++)
                if (mm_str_startswith(si, pre[k]))
                    src = si + strlen(pre[k]);
        }
        /* mamori's comment: "type T; found in PATH; layer N (DIGEST)" */
        const char *cm = jstr(p, "comment");
        char *path = NULL, *digest = NULL;
        int layer = -1;
        if (cm) {
            const char *f = strstr(cm, "; found in ");
            if (f) {
                f += strlen("; found in ");
                path = mm_xstrndup(f, strcspn(f, ";"));
            }
            const char *l = strstr(cm, "; layer ");
            if (l && isdigit((unsigned char)l[8])) {
                layer = atoi(l + 8);
                const char *d = strstr(l, "(sha256:");
                if (d)
                    digest = mm_xstrndup(d + 1, strcspn(d + 1, ")"));
            }
        }
        add_package(rd, purl, jstr(p, "versionInfo"), NULL, NULL, src, path,
                    layer, digest);
        free(path);
        free(digest);
    }
    return 0;
}

/* --- mamori's own JSON report (docs/json-format.md) -------------------------- */

/* The inventory of a mamori JSON report (schemaVersion 1): what `mamori
 * server` keeps of every scan, re-matched after a database update.  Each
 * package is read through its purl, as for an SBOM, with the report's own
 * srcName/srcVersion, path and layer. */
static int read_mamori(struct reader *rd, json_t *doc, mm_result **rp)
{
    const char *kind = jstr(doc, "kind");
    json_t *img = json_object_get(doc, "image");
    bool image = (kind && !strcmp(kind, "image")) || json_is_object(img);
    const char *target = jstr(doc, "target");
    json_t *pk = json_object_get(doc, "packages");
    if (pk && !json_is_array(pk))
        return mm_error_set(MM_EFORMAT, "%s: packages: not an array", rd->name);
    if (json_array_size(pk) > SBOM_MAX_COMPONENTS)
        return mm_error_set(MM_ELIMIT, "%s: packages: more than %d", rd->name,
                            SBOM_MAX_COMPONENTS);
    mm_image_info *im;
    int rc = result_new(rd, rp, image, target, &im);
    if (rc < 0)
        return rc;
    if (im && json_is_object(img)) {
        im->source_format = mm_xstrdup("sbom");
        im->config_digest = mm_xstrdup(jstr(img, "configDigest"));
        im->manifest_digest = mm_xstrdup(jstr(img, "manifestDigest"));
        im->os = mm_xstrdup(jstr(img, "os"));
        im->architecture = mm_xstrdup(jstr(img, "architecture"));
        json_t *tags = json_object_get(img, "repoTags");
        for (size_t i = 0; i < json_array_size(tags) && i < 4096; i++) {
            const char *t = json_string_value(json_array_get(tags, i));
            if (t && strlen(t) <= SBOM_MAX_FIELD)
                mm_strv_push(&im->repo_tags, &im->nrepo_tags, t);
        }
    }
    json_t *os = json_object_get(doc, "os");
    set_os(rd, jstr(os, "family"), jstr(os, "version"), jstr(os, "name"));
    for (size_t i = 0; i < json_array_size(pk); i++) {
        json_t *p = json_array_get(pk, i);
        const char *purl = jstr(p, "purl");
        if (!json_is_object(p) || !purl)
            continue;   /* no purl: nothing to match it by */
        json_t *layer = json_object_get(p, "layer");
        int li = json_is_integer(layer) && json_integer_value(layer) >= 0 &&
                 json_integer_value(layer) < 100000 ? (int)json_integer_value(layer) : -1;
        rd->own_name = jstr(p, "name");
        /* an rpm epoch is a member of its own there, and part of the version
         * in the report: the purl's version is kept then */
        rd->own_version = json_object_get(p, "epoch") ? NULL : jstr(p, "version");
        add_package(rd, purl, jstr(p, "version"), jstr(p, "srcName"), jstr(p, "srcVersion"),
                    NULL, jstr(p, "path"), li, jstr(p, "layerDigest"));
        rd->own_name = rd->own_version = NULL;
    }
    return 0;
}

/* --- entry points ---------------------------------------------------------- */

int mm_sbom_parse(mm_result **out, const char *data, size_t len, const char *name)
{
    if (!out || !data)
        return mm_error_set(MM_EINVAL, "sbom: no document");
    *out = NULL;
    if (!name)
        name = "<memory>";
    if (len > SBOM_MAX_BYTES)
        return mm_error_set(MM_ELIMIT, "%s: %zu bytes, over the SBOM limit",
                            name, len);
    json_error_t je;
    json_t *doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (!doc)
        return mm_error_set(MM_EFORMAT, "%s: line %d column %d: %s", name,
                            je.line, je.column, je.text);
    struct reader rd;
    memset(&rd, 0, sizeof rd);
    rd.name = name;
    mm_result *r = NULL;
    int rc;
    if (!json_is_object(doc)) {
        rc = mm_error_set(MM_EFORMAT, "%s: not a JSON object: CycloneDX or "
                          "SPDX JSON expected", name);
    } else if (jstr(doc, "bomFormat") && !strcmp(jstr(doc, "bomFormat"), "CycloneDX")) {
        rc = read_cyclonedx(&rd, doc, &r);
    } else if (jstr(doc, "spdxVersion")) {
        rc = read_spdx(&rd, doc, &r);
    } else if (json_integer_value(json_object_get(doc, "schemaVersion")) == 1 &&
               json_is_array(json_object_get(doc, "packages"))) {
        rc = read_mamori(&rd, doc, &r);
    } else {
        rc = mm_error_set(MM_EFORMAT, "%s: neither \"bomFormat\": \"CycloneDX\" "
                          "nor \"spdxVersion\" nor a mamori report: not a CycloneDX or SPDX "
                          "JSON SBOM",
                          name);
    }
    if (rc == 0 && r) {
        const char *fam = rd.os_family, *ver = rd.os_version;
        char *dfam = NULL, *dver = NULL;
        if (!fam && rd.distro) {
            /* "debian-12", "alpine-3.18.4", "ubuntu-22.04" */
            const char *dash = strchr(rd.distro, '-');
            if (dash) {
                dfam = mm_xstrndup(rd.distro, (size_t)(dash - rd.distro));
                dver = mm_xstrdup(dash + 1);
                fam = dfam;
                ver = dver;
            }
        }
        if (fam)
            mm_result_set_os(r, fam, ver, NULL, rd.os_desc);
        else
            mm_result_warn(r, "%s: the SBOM names no operating system", name);
        free(dfam);
        free(dver);
        mm_inventory_sort(mm_result_inventory(r));
        const mm_image_info *im = mm_result_image(r);
        if (im && im->config_digest)
            mm_result_set_key(r, im->config_digest);
    }
    free(rd.os_family);
    free(rd.os_version);
    free(rd.os_desc);
    free(rd.distro);
    json_decref(doc);
    if (rc < 0) {
        mm_result_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int mm_sbom_load(mm_result **out, const char *path)
{
    if (!out || !path)
        return mm_error_set(MM_EINVAL, "sbom: no path");
    *out = NULL;
    char *data = NULL;
    size_t len = 0;
    int rc = mm_file_read(path, SBOM_MAX_BYTES, &data, &len);
    if (rc < 0)
        return rc;
    rc = mm_sbom_parse(out, data, len, path);
    free(data);
    return rc;
}
