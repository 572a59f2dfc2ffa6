/*
 * model/filter.c - the user's view of findings: severity sets, "ignore
 * unfixed" and ignore files (.mamoriignore, and trivy's .trivyignore which
 * shares the syntax "ID [exp:YYYY-MM-DD]"), applied to a result after the
 * scan (include/mamori/filter.h).
 *
 * Expired entries stop applying and are reported as warnings: an exception
 * that was meant to last a sprint must not silently last forever.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mamori/filter.h"
#include "util/util.h"

#define IGNORE_MAX_BYTES (4u << 20)
#define IGNORE_MAX_ENTRIES 100000
#define IGNORE_MAX_ID 256

void mm_ignorefile_free(mm_ignorefile *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].id);
        free(f->v[i].reason);
    }
    free(f->v);
    free(f->path);
    free(f);
}

/* "YYYY-MM-DD" -> epoch seconds of the start of the following day (UTC),
 * i.e. the moment the entry stops applying; -1 when not a real date. */
static int64_t parse_exp(const char *s, size_t n)
{
    if (n != 10)
        return -1;
    char d[11];
    memcpy(d, s, 10);
    d[10] = 0;
    int64_t t;
    if (mm_time_parse(d, MM_TIME_DATE | MM_TIME_STRICT_DAY, &t, NULL) < 0 || t < 0)
        return -1;
    return t + 86400;
}

int mm_ignorefile_parse(mm_ignorefile **out, const char *data, size_t len,
                        const char *name)
{
    if (!out)
        return mm_error_set(MM_EINVAL, "ignore file: no output pointer");
    *out = NULL;
    if (!name)
        name = "<memory>";
    if (len > IGNORE_MAX_BYTES)
        return mm_error_set(MM_ELIMIT, "%s: %zu bytes, over the %u-byte limit "
                            "of an ignore file", name, len, IGNORE_MAX_BYTES);
    mm_ignorefile *f = mm_xcalloc(1, sizeof *f);
    f->path = mm_xstrdup(name);
    size_t cap = 0;
    mm_lines it;
    const char *line;
    size_t ll;
    mm_lines_init(&it, data ? data : "", data ? len : 0);
    while (mm_lines_next(&it, &line, &ll)) {
        const char *p = line, *end = line + ll;
        const char *hash = memchr(p, '#', ll);
        const char *body_end = hash ? hash : end;
        while (p < body_end && isspace((unsigned char)*p))
            p++;
        if (p == body_end)
            continue; /* blank or comment */
        if (memchr(line, 0, ll)) {
            mm_ignorefile_free(f);
            return mm_error_set(MM_EFORMAT, "%s:%zu: NUL byte in the line",
                                name, it.lineno);
        }
        const char *id = p;
        while (p < body_end && !isspace((unsigned char)*p))
            p++;
        size_t idlen = (size_t)(p - id);
        if (idlen > IGNORE_MAX_ID) {
            mm_ignorefile_free(f);
            return mm_error_set(MM_EFORMAT, "%s:%zu: id longer than %d bytes",
                                name, it.lineno, IGNORE_MAX_ID);
        }
        int64_t exp = 0;
        for (;;) {
            while (p < body_end && isspace((unsigned char)*p))
                p++;
            if (p == body_end)
                break;
            const char *tok = p;
            while (p < body_end && !isspace((unsigned char)*p))
                p++;
            size_t tl = (size_t)(p - tok);
            if (tl > 4 && strncasecmp(tok, "exp:", 4) == 0) {
                exp = parse_exp(tok + 4, tl - 4);
                if (exp < 0) {
                    mm_ignorefile_free(f);
                    return mm_error_set(MM_EFORMAT, "%s:%zu: \"%.*s\": the "
                                        "expiry date must be exp:YYYY-MM-DD",
                                        name, it.lineno, (int)(tl > 64 ? 64 : tl), tok);
                }
            } else {
                mm_ignorefile_free(f);
                return mm_error_set(MM_EFORMAT, "%s:%zu: unexpected \"%.*s\" "
                                    "after the id (expected exp:YYYY-MM-DD or "
                                    "# reason)", name, it.lineno,
                                    (int)(tl > 64 ? 64 : tl), tok);
            }
        }
        if (f->n >= IGNORE_MAX_ENTRIES) {
            mm_ignorefile_free(f);
            return mm_error_set(MM_ELIMIT, "%s:%zu: more than %d entries",
                                name, it.lineno, IGNORE_MAX_ENTRIES);
        }
        if (f->n == cap) {
            cap = cap ? cap * 2 : 16;
            f->v = mm_xrealloc(f->v, cap * sizeof *f->v);
        }
        mm_ignore_entry *e = &f->v[f->n++];
        memset(e, 0, sizeof *e);
        e->id = mm_xstrndup(id, idlen);
        e->expires = exp;
        e->line = (int)it.lineno;
        if (hash) {
            char *r = mm_xstrndup(hash + 1, (size_t)(end - hash - 1));
            mm_str_trim(r);
            if (*r)
                e->reason = r;
            else
                free(r);
        }
    }
    *out = f;
    return 0;
}

int mm_ignorefile_load(mm_ignorefile **out, const char *path)
{
    if (!out || !path)
        return mm_error_set(MM_EINVAL, "ignore file: no path");
    char *data = NULL;
    size_t len = 0;
    int rc = mm_file_read(path, IGNORE_MAX_BYTES, &data, &len);
    if (rc < 0)
        return mm_error_wrap(rc, "ignore file %s: ", path);
    rc = mm_ignorefile_parse(out, data, len, path);
    free(data);
    return rc;
}

int mm_severity_set_parse(unsigned *out, const char *list)
{
    if (!out || !list)
        return mm_error_set(MM_EINVAL, "severity list: none given");
    unsigned bits = 0;
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char word[32];
        if (n == 0 || n >= sizeof word)
            return mm_error_set(MM_EINVAL, "severity list \"%s\": expected "
                                "UNKNOWN, LOW, MEDIUM, HIGH or CRITICAL "
                                "separated by commas", list);
        memcpy(word, p, n);
        word[n] = 0;
        mm_str_trim(word);
        mm_severity s;
        if (mm_severity_parse(&s, word) < 0)
            return mm_error_set(MM_EINVAL, "severity \"%s\": expected UNKNOWN, "
                                "LOW, MEDIUM, HIGH or CRITICAL", word);
        bits |= MM_SEV_BIT(s);
        p += n;
        if (*p == ',')
            p++;
    }
    if (!bits)
        return mm_error_set(MM_EINVAL, "severity list: empty");
    *out = bits;
    return 0;
}

void mm_filter_init(mm_filter *f)
{
    if (f)
        memset(f, 0, sizeof *f);
}

bool mm_finding_unfixed(const mm_finding *f)
{
    return f && f->kind == MM_FIND_VULNERABILITY && !f->remediation;
}

struct apply_ctx {
    const mm_filter *f;
    int64_t now;
    mm_filter_stats st;
};

/* Does an entry name this finding: its id, or an alias (the references of
 * a vulnerability that are ids rather than URLs)? */
static bool names(const mm_ignore_entry *e, const mm_finding *f)
{
    if (f->id && strcmp(e->id, f->id) == 0)
        return true;
    if (f->kind != MM_FIND_VULNERABILITY)
        return false;
    for (size_t i = 0; i < f->nreferences; i++)
        if (f->references[i] && !strchr(f->references[i], '/') &&
            strcmp(e->id, f->references[i]) == 0)
            return true;
    return false;
}

static bool keep_one(void *ud, const mm_finding *fi)
{
    struct apply_ctx *c = ud;
    const mm_filter *f = c->f;
    mm_severity s = (unsigned)fi->severity <= MM_SEV_CRITICAL ? fi->severity
                                                              : MM_SEV_UNKNOWN;
    if (f->severities && !(f->severities & MM_SEV_BIT(s))) {
        c->st.dropped_severity++;
        return false;
    }
    if (f->ignore_unfixed && mm_finding_unfixed(fi)) {
        c->st.dropped_unfixed++;
        return false;
    }
    if (f->ignore) {
        for (size_t i = 0; i < f->ignore->n; i++) {
            const mm_ignore_entry *e = &f->ignore->v[i];
            if (e->expires && e->expires <= c->now)
                continue;
            if (names(e, fi)) {
                c->st.dropped_ignored++;
                return false;
            }
        }
    }
    c->st.kept++;
    c->st.by_severity[s]++;
    return true;
}

int mm_filter_apply(mm_result *r, const mm_filter *f, mm_filter_stats *stats)
{
    if (!r || !f)
        return mm_error_set(MM_EINVAL, "filter: no result or filter");
    struct apply_ctx c;
    memset(&c, 0, sizeof c);
    c.f = f;
    c.now = f->now ? f->now : (int64_t)time(NULL);
    if (f->ignore) {
        for (size_t i = 0; i < f->ignore->n; i++) {
            const mm_ignore_entry *e = &f->ignore->v[i];
            if (e->expires && e->expires <= c.now) {
                char day[32];
                mm_time_rfc3339(e->expires - 86400, day);
                day[10] = 0;
                c.st.expired++;
                mm_result_warn(r, "%s:%d: ignore entry %s expired on %s; it "
                               "no longer applies", f->ignore->path, e->line,
                               e->id, day);
            }
        }
    }
    mm_findings_retain(mm_result_findings(r), keep_one, &c);
    if (stats)
        *stats = c.st;
    return 0;
}
