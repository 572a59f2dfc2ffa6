/*
 * pkg/purl.c - package-urls (purl-spec, ECMA-427) for inventory records.
 *
 * A purl is the key SBOMs and vulnerability feeds share, so it must be the
 * canonical form other tools produce for the same package: lowercase type,
 * each namespace segment, the name and the version percent-encoded
 * (alphanumerics, ".-_~" and ":" stay as they are, as the spec demands),
 * qualifiers sorted by key with empty values dropped.  The per-type rules
 * (namespace, name normalisation) come from the purl-spec type definitions.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/pkg.h"
#include "util/util.h"

/* Appends s (n bytes) percent-encoded: everything outside the spec's
 * unreserved set (and ':', which the spec says must never be encoded) is
 * written as %XX with upper-case hex. */
static void pct_add(mm_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || c == '.' || c == '-' || c == '_' || c == '~' ||
            c == ':') {
            mm_buf_addc(b, (char)c);
        } else {
            mm_buf_addc(b, '%');
            mm_buf_addc(b, hex[c >> 4]);
            mm_buf_addc(b, hex[c & 15]);
        }
    }
}

static void pct_adds(mm_buf *b, const char *s)
{
    pct_add(b, s, strlen(s));
}

/* Appends a namespace: segments split on '/', empty ones dropped, each
 * encoded, joined with '/', then a trailing '/'. */
static void add_namespace(mm_buf *b, const char *ns, size_t n)
{
    size_t i = 0;
    bool any = false;
    while (i < n) {
        size_t j = i;
        while (j < n && ns[j] != '/')
            j++;
        if (j > i) {
            if (any)
                mm_buf_addc(b, '/');
            pct_add(b, ns + i, j - i);
            any = true;
        }
        i = j + 1;
    }
    if (any)
        mm_buf_addc(b, '/');
}

/* The purl namespace of an rpm-based distribution (os-release ID). */
static const char *rpm_vendor(const char *os_id)
{
    static const struct { const char *id, *ns; } map[] = {
        {"rhel", "redhat"},     {"redhat", "redhat"},
        {"centos", "centos"},   {"fedora", "fedora"},
        {"rocky", "rocky"},     {"almalinux", "almalinux"},
        {"ol", "oracle"},       {"oracle", "oracle"},
        {"amzn", "amazon"},     {"amazon", "amazon"},
        {"mariner", "mariner"}, {"azurelinux", "azurelinux"},
        {"sles", "suse"},       {"sle-micro", "suse"},
        {"suse", "suse"},       {"opensuse", "opensuse"},
        {"opensuse-leap", "opensuse"},
        {"opensuse-tumbleweed", "opensuse"},
        {"photon", "photon"},
    };
    if (!os_id || !*os_id)
        return NULL;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].id, os_id) == 0)
            return map[i].ns;
    return os_id;
}

/* Is s all digits (and non-empty)? */
static bool all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

struct qual { const char *k; const char *v; };

static int qual_cmp(const void *a, const void *b)
{
    return strcmp(((const struct qual *)a)->k, ((const struct qual *)b)->k);
}

static void add_qualifiers(mm_buf *b, struct qual *q, size_t n)
{
    qsort(q, n, sizeof *q, qual_cmp);
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (!q[i].v || !*q[i].v)
            continue;
        mm_buf_addc(b, first ? '?' : '&');
        first = false;
        mm_buf_adds(b, q[i].k);
        mm_buf_addc(b, '=');
        pct_adds(b, q[i].v);
    }
}

char *mm_purl_for(const mm_package *pkg, const char *os_id,
                  const char *distro)
{
    if (!pkg || !pkg->name || !*pkg->name)
        return NULL;
    mm_buf b = MM_BUF_INIT;
    const char *name = pkg->name;
    const char *version = pkg->version;
    char *owned_name = NULL, *owned_ver = NULL;
    char epoch_buf[24] = "";
    struct qual q[4];
    size_t nq = 0;

    switch (pkg->type) {
    case MM_PKG_DPKG:
        /* Debian keeps the epoch inside the version ("1:2.4.47-2"). */
        mm_buf_adds(&b, "pkg:deb/");
        add_namespace(&b, os_id && *os_id ? os_id : "debian",
                      strlen(os_id && *os_id ? os_id : "debian"));
        pct_adds(&b, name);
        q[nq++] = (struct qual){"arch", pkg->arch};
        q[nq++] = (struct qual){"distro", distro};
        break;
    case MM_PKG_APK:
        mm_buf_adds(&b, "pkg:apk/");
        add_namespace(&b, os_id && *os_id ? os_id : "alpine",
                      strlen(os_id && *os_id ? os_id : "alpine"));
        pct_adds(&b, name);
        q[nq++] = (struct qual){"arch", pkg->arch};
        q[nq++] = (struct qual){"distro", distro};
        break;
    case MM_PKG_RPM: {
        /* rpm purls carry version-release and the epoch as a qualifier. */
        int epoch = pkg->epoch;
        if (version) {
            const char *colon = strchr(version, ':');
            if (colon && all_digits(version, (size_t)(colon - version))) {
                if (epoch < 0 && colon - version < 10)
                    epoch = atoi(version);
                version = colon + 1;
            }
        }
        if (epoch > 0) {
            snprintf(epoch_buf, sizeof epoch_buf, "%d", epoch);
            q[nq++] = (struct qual){"epoch", epoch_buf};
        }
        mm_buf_adds(&b, "pkg:rpm/");
        const char *vendor = rpm_vendor(os_id);
        if (vendor)
            add_namespace(&b, vendor, strlen(vendor));
        pct_adds(&b, name);
        q[nq++] = (struct qual){"arch", pkg->arch};
        q[nq++] = (struct qual){"distro", distro};
        break;
    }
    case MM_PKG_PYTHON:
        /* purl-spec pypi: lowercase, '_' becomes '-'. */
        owned_name = mm_xstrdup(name);
        for (char *p = owned_name; *p; p++)
            *p = *p == '_' ? '-' : (char)tolower((unsigned char)*p);
        mm_buf_adds(&b, "pkg:pypi/");
        pct_adds(&b, owned_name);
        break;
    case MM_PKG_NPM: {
        /* "@scope/name": the scope (with its '@', encoded) is the namespace. */
        mm_buf_adds(&b, "pkg:npm/");
        const char *slash = name[0] == '@' ? strchr(name, '/') : NULL;
        if (slash && slash[1]) {
            pct_add(&b, name, (size_t)(slash - name));
            mm_buf_addc(&b, '/');
            pct_adds(&b, slash + 1);
        } else {
            pct_adds(&b, name);
        }
        break;
    }
    case MM_PKG_GOMOD: {
        /* Module path: namespace up to the last '/', the rest is the name.
         * Go paths are case-sensitive, so no lowercasing.  The toolchain
         * ("stdlib") writes versions as "go1.21.5"; purls use "v1.21.5". */
        mm_buf_adds(&b, "pkg:golang/");
        const char *slash = strrchr(name, '/');
        if (slash && slash[1]) {
            add_namespace(&b, name, (size_t)(slash - name));
            pct_adds(&b, slash + 1);
        } else {
            pct_adds(&b, name);
        }
        if (version && strcmp(name, "stdlib") == 0 &&
            mm_str_startswith(version, "go"))
            version = owned_ver = mm_xasprintf("v%s", version + 2);
        break;
    }
    case MM_PKG_MAVEN: {
        mm_buf_adds(&b, "pkg:maven/");
        const char *colon = strchr(name, ':');
        if (colon && colon[1]) {
            add_namespace(&b, name, (size_t)(colon - name));
            const char *art = colon + 1;
            const char *c2 = strchr(art, ':'); /* group:artifact:classifier */
            pct_add(&b, art, c2 ? (size_t)(c2 - art) : strlen(art));
        } else {
            pct_adds(&b, name);
        }
        break;
    }
    case MM_PKG_COMPOSER: {
        /* "vendor/project", both lowercased per the composer type. */
        owned_name = mm_xstrdup(name);
        for (char *p = owned_name; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        mm_buf_adds(&b, "pkg:composer/");
        char *slash = strchr(owned_name, '/');
        if (slash && slash[1]) {
            add_namespace(&b, owned_name, (size_t)(slash - owned_name));
            pct_adds(&b, slash + 1);
        } else {
            pct_adds(&b, owned_name);
        }
        break;
    }
    default: {
        /* a type whose purl is "pkg:TYPE/NAME@VERSION" (gem, cargo) */
        const mm_pkg_type_info *ti = mm_pkg_type_info_get(pkg->type);
        if (!ti->purl_type) {
            mm_buf_free(&b);
            return NULL;
        }
        mm_buf_printf(&b, "pkg:%s/", ti->purl_type);
        pct_adds(&b, name);
        break;
    }
    }

    if (version && *version) {
        mm_buf_addc(&b, '@');
        pct_adds(&b, version);
    }
    add_qualifiers(&b, q, nq);
    free(owned_name);
    free(owned_ver);
    return mm_buf_detach(&b);
}
