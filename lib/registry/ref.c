/*
 * ref.c - image references (REGISTRY/REPO[:TAG][@sha256:HEX]) as Docker
 * reads them: the grammar of the distribution "reference" package (lower
 * case path components joined by '.', '_', '__' or dashes; tags of at most
 * 128 word characters; a host part recognised by a '.' or ':' or the name
 * "localhost"), its normalisation (docker.io, "library/"), and the choice
 * between a local path and a reference on the command line.
 *
 * References come from users and from registries (catalog answers, tags),
 * so the parser refuses anything outside the grammar rather than guessing.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mamori/registry.h"
#include "util/util.h"

#define MAX_REF 1024      /* whole reference */
#define MAX_NAME 255      /* registry + repository, as Docker caps it */
#define MAX_TAG 128

void mm_imageref_free(mm_imageref *r)
{
    if (!r)
        return;
    free(r->registry);
    free(r->api_host);
    free(r->repository);
    free(r->tag);
    free(r->digest);
    free(r);
}

static bool is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One path component: [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)* */
static bool valid_component(const char *s, size_t n)
{
    if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
        return false;
    for (size_t i = 0; i < n;) {
        if (is_lower_alnum(s[i])) {
            i++;
            continue;
        }
        size_t j = i;
        if (s[i] == '.') {
            j = i + 1;
        } else if (s[i] == '_') {
            j = i + 1;
            if (j < n && s[j] == '_')
                j++;
        } else if (s[i] == '-') {
            while (j < n && s[j] == '-')
                j++;
        } else {
            return false;
        }
        if (j >= n || !is_lower_alnum(s[j]))
            return false;
        i = j;
    }
    return true;
}

/* host[:port]: DNS labels of letters, digits and inner dashes joined by
 * dots, or a bracketed IPv6 address; the port is 1-65535. */
static bool valid_host(const char *s, size_t n)
{
    if (n == 0)
        return false;
    size_t hlen = n;
    const char *colon = NULL;
    if (s[0] == '[') {
        const char *e = memchr(s, ']', n);
        if (!e)
            return false;
        for (const char *p = s + 1; p < e; p++)
            if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
                return false;
        if (e == s + 1)
            return false;
        hlen = (size_t)(e - s) + 1;
        if (hlen < n) {
            if (s[hlen] != ':')
                return false;
            colon = s + hlen;
        }
    } else {
        colon = memchr(s, ':', n);
        if (colon)
            hlen = (size_t)(colon - s);
        if (hlen == 0)
            return false;
        size_t lab = 0;
        for (size_t i = 0; i < hlen; i++) {
            char c = s[i];
            if (c == '.') {
                if (lab == 0 || s[i - 1] == '-')
                    return false;
                lab = 0;
                continue;
            }
            if (!isalnum((unsigned char)c) && c != '-')
                return false;
            if (c == '-' && lab == 0)
                return false;
            lab++;
        }
        if (lab == 0 || s[hlen - 1] == '-')
            return false;
    }
    if (colon) {
        const char *p = colon + 1, *e = s + n;
        if (p == e || e - p > 5)
            return false;
        long port = 0;
        for (; p < e; p++) {
            if (!isdigit((unsigned char)*p))
                return false;
            port = port * 10 + (*p - '0');
        }
        if (port < 1 || port > 65535)
            return false;
    }
    return true;
}

static bool valid_tag(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > MAX_TAG)
        return false;
    if (!isalnum((unsigned char)s[0]) && s[0] != '_')
        return false;
    for (size_t i = 1; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
            return false;
    return true;
}

/* Does the first component name a registry host (docker's rule)? */
static bool looks_like_host(const char *s, size_t n)
{
    if (n == 9 && memcmp(s, "localhost", 9) == 0)
        return true;
    return memchr(s, '.', n) || memchr(s, ':', n) || (n && s[0] == '[');
}

int mm_imageref_parse(mm_imageref **out, const char *s)
{
    *out = NULL;
    if (!s || !*s)
        return mm_error_set(MM_EINVAL, "empty image reference");
    size_t slen = strlen(s);
    if (slen > MAX_REF)
        return mm_error_set(MM_EINVAL, "image reference of %zu bytes: longer than %d",
                            slen, MAX_REF);
    for (size_t i = 0; i < slen; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
            return mm_error_set(MM_EINVAL,
                                "image reference \"%.64s\": unexpected character at offset %zu",
                                s, i);
    char *work = mm_xstrdup(s);
    char *digest = NULL, *tag = NULL;
    int rc = 0;
    char *at = strchr(work, '@');
    if (at) {
        *at = 0;
        const char *d = at + 1;
        if (!mm_str_startswith(d, "sha256:")) {
            rc = mm_error_set(MM_EINVAL, "image reference \"%s\": only sha256 digests are "
                              "supported (got \"%.32s\")", s, d);
            goto fail;
        }
        if (!mm_digest_valid(d)) {
            rc = mm_error_set(MM_EINVAL, "image reference \"%s\": the digest is not "
                              "sha256: and 64 lowercase hex digits", s);
            goto fail;
        }
        digest = mm_xstrdup(d);
    }
    /* the tag is after the last ':' that follows the last '/' */
    char *slash = strrchr(work, '/');
    char *colon = strrchr(slash ? slash : work, ':');
    if (colon) {
        *colon = 0;
        if (!valid_tag(colon + 1)) {
            rc = mm_error_set(MM_EINVAL, "image reference \"%s\": invalid tag \"%.140s\" "
                              "(letters, digits, '_', '.', '-'; at most %d)",
                              s, colon + 1, MAX_TAG);
            goto fail;
        }
        tag = mm_xstrdup(colon + 1);
    }
    const char *name = work;
    char *registry = NULL;
    const char *first_end = strchr(name, '/');
    if (first_end && looks_like_host(name, (size_t)(first_end - name))) {
        size_t hl = (size_t)(first_end - name);
        if (!valid_host(name, hl)) {
            rc = mm_error_set(MM_EINVAL, "image reference \"%s\": invalid registry host "
                              "\"%.*s\"", s, (int)(hl > 255 ? 255 : hl), name);
            goto fail;
        }
        registry = mm_xstrndup(name, hl);
        name = first_end + 1;
    } else {
        registry = mm_xstrdup("docker.io");
    }
    if (strcmp(registry, "index.docker.io") == 0) {
        free(registry);
        registry = mm_xstrdup("docker.io");
    }
    /* the repository path */
    if (!*name) {
        rc = mm_error_set(MM_EINVAL, "image reference \"%s\": no repository name", s);
        free(registry);
        goto fail;
    }
    for (const char *p = name;;) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (!valid_component(p, n)) {
            bool upper = false;
            for (size_t i = 0; i < n; i++)
                upper |= isupper((unsigned char)p[i]) != 0;
            rc = mm_error_set(MM_EINVAL, "image reference \"%s\": invalid repository "
                              "component \"%.*s\"%s", s, (int)(n > 255 ? 255 : n), p,
                              upper ? " (repository names must be lowercase)" : "");
            free(registry);
            goto fail;
        }
        if (!e)
            break;
        p = e + 1;
    }
    mm_imageref *r = mm_xcalloc(1, sizeof *r);
    bool hub = strcmp(registry, "docker.io") == 0;
    if (hub && !strchr(name, '/'))
        r->repository = mm_xasprintf("library/%s", name);
    else
        r->repository = mm_xstrdup(name);
    if (strlen(registry) + 1 + strlen(r->repository) > MAX_NAME) {
        rc = mm_error_set(MM_EINVAL, "image reference \"%.64s...\": the name is longer "
                          "than %d characters", s, MAX_NAME);
        free(registry);
        mm_imageref_free(r);
        goto fail;
    }
    r->registry = registry;
    r->api_host = mm_xstrdup(hub ? "registry-1.docker.io" : registry);
    r->tag = tag;
    r->digest = digest;
    free(work);
    *out = r;
    return 0;
fail:
    free(work);
    free(tag);
    free(digest);
    return rc;
}

char *mm_imageref_format(const mm_imageref *r)
{
    mm_buf b = MM_BUF_INIT;
    mm_buf_printf(&b, "%s/%s", r->registry, r->repository);
    if (r->tag)
        mm_buf_printf(&b, ":%s", r->tag);
    else if (!r->digest)
        mm_buf_adds(&b, ":latest");
    if (r->digest)
        mm_buf_printf(&b, "@%s", r->digest);
    return mm_buf_detach(&b);
}

static bool exists(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0;
}

bool mm_imageref_is_remote(const char *s)
{
    if (!s || !*s || strlen(s) > MAX_REF)
        return false;
    if (s[0] == '/' || s[0] == '.' || s[0] == '~')
        return false;
    if (exists(s))
        return false;
    /* PATH:REF naming an image inside a local OCI layout */
    const char *c = strrchr(s, ':');
    if (c && c != s) {
        char *p = mm_xstrndup(s, (size_t)(c - s));
        bool local = exists(p);
        free(p);
        if (local)
            return false;
    }
    /* a missing archive is a missing file, not an image on Docker Hub */
    static const char *const sfx[] = {".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.xz"};
    for (size_t i = 0; i < sizeof sfx / sizeof *sfx; i++)
        if (mm_str_endswith(s, sfx[i]))
            return false;
    mm_imageref *r;
    if (mm_imageref_parse(&r, s) < 0) {
        mm_error_clear();
        return false;
    }
    mm_imageref_free(r);
    /* not on disk and a valid reference: "team/app" is docker.io/team/app
     * as docker reads it */
    return true;
}
