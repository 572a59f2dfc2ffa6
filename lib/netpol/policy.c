/*
 * policy.c - the segmentation policy file: YAML through the one loader
 * (mm_yaml_load_one, positions kept for errors) into np_policy records,
 * every field checked and capped (it is untrusted input: a policy file may
 * come with a workload), plus selecting the policy of a workload and the
 * DNS-name patterns of egress rules.
 */
#include <arpa/inet.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "netpol_int.h"
#include "util/util.h"

#define NP_MAX_FILE (4u << 20)
#define NP_MAX_POLICIES 10000
#define NP_MAX_RULES 1000
#define NP_MAX_PEERS 10000
#define NP_MAX_PORTS 1000
#define NP_MAX_NAMES 1000
#define NP_MAX_LABELS 64

typedef struct pctx {
    const char *file;
    mm_yaml_posmap *pm;
} pctx;

__attribute__((format(printf, 6, 7)))
static int perr(const pctx *c, int code, const json_t *parent, const char *key,
                size_t idx, const char *fmt, ...)
{
    int line = 0, col = 0;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (parent && mm_yaml_pos_get(c->pm, parent, key, idx, &line, &col))
        return mm_error_set(code, "%s:%d:%d: %s", c->file, line, col, msg);
    return mm_error_set(code, "%s: %s", c->file, msg);
}

static void rule_free(np_rule *r)
{
    free(r->cidrs);
    mm_strv_free(r->peers, r->npeers);
    mm_strv_free(r->names, r->nnames);
    free(r->ports);
}

static void policy_free(np_policy *p)
{
    free(p->name);
    free(p->m_container);
    free(p->m_image);
    mm_strv_free(p->m_labels, p->nm_labels);
    for (size_t i = 0; i < p->nin; i++)
        rule_free(&p->in[i]);
    for (size_t i = 0; i < p->nout; i++)
        rule_free(&p->out[i]);
    free(p->in);
    free(p->out);
}

void mm_netpol_free(mm_netpol *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        policy_free(&p->p[i]);
    free(p->p);
    free(p);
}

size_t mm_netpol_count(const mm_netpol *p) { return p ? p->n : 0; }

const char *mm_netpol_name(const mm_netpol *p, size_t i)
{
    return p && i < p->n ? p->p[i].name : NULL;
}

/* "10.0.0.0/8", "10.1.2.3", "fd00::/8": host bits cleared. */
bool np_parse_cidr(const char *s, np_cidr *out)
{
    char buf[64];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n + 1);
    char *slash = strchr(buf, '/');
    long plen = -1;
    if (slash) {
        *slash = 0;
        char *end;
        if (!slash[1] || slash[1] == '+' || slash[1] == '-')
            return false;
        plen = strtol(slash + 1, &end, 10);
        if (*end)
            return false;
    }
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, buf, out->a.ip) == 1) {
        out->a.family = AF_INET;
        if (plen < 0)
            plen = 32;
        if (plen > 32)
            return false;
    } else if (inet_pton(AF_INET6, buf, out->a.ip) == 1) {
        out->a.family = AF_INET6;
        if (plen < 0)
            plen = 128;
        if (plen > 128)
            return false;
    } else {
        return false;
    }
    out->plen = (uint8_t)plen;
    size_t bytes = out->a.family == AF_INET ? 4 : 16;
    for (size_t b = 0; b < bytes; b++) {
        long keep = plen - (long)b * 8;
        if (keep <= 0)
            out->a.ip[b] = 0;
        else if (keep < 8)
            out->a.ip[b] &= (uint8_t)(0xff << (8 - keep));
    }
    return true;
}

/* A container name: what podman and docker accept. */
bool np_peer_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') &&
            !(ch >= '0' && ch <= '9') && ch != '_' && ch != '.' && ch != '-')
            return false;
    }
    return true;
}

/* A DNS name pattern: labels of [a-z0-9-_], optional leading "*.". */
bool np_dns_pattern_ok(const char *s)
{
    if (!strncmp(s, "*.", 2))
        s += 2;
    size_t n = strlen(s), lab = 0;
    if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '.') {
            if (lab == 0)
                return false;
            lab = 0;
            continue;
        }
        if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') &&
            !(ch >= '0' && ch <= '9') && ch != '-' && ch != '_')
            return false;
        if (++lab > 63)
            return false;
    }
    return true;
}

bool np_name_match(const char *pat, const char *name)
{
    if (!strncmp(pat, "*.", 2))
        pat += 2;
    size_t pl = strlen(pat), nl = strlen(name);
    if (nl && name[nl - 1] == '.')
        nl--;
    if (nl == pl)
        return !strncasecmp(pat, name, nl);
    return nl > pl && name[nl - pl - 1] == '.' &&
           !strncasecmp(pat, name + nl - pl, pl);
}

/* "tcp/80", "80" (tcp), "udp/53", "tcp/8000-8080", "icmp"; or an integer. */
static bool parse_port(const json_t *v, np_port *out)
{
    memset(out, 0, sizeof *out);
    out->proto = 6;
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        if (x < 1 || x > 65535)
            return false;
        out->lo = out->hi = (uint16_t)x;
        return true;
    }
    if (!json_is_string(v))
        return false;
    const char *s = json_string_value(v);
    if (!strcasecmp(s, "icmp")) {
        out->proto = 1;
        return true;
    }
    const char *slash = strchr(s, '/');
    if (slash) {
        size_t pl = (size_t)(slash - s);
        if (pl == 3 && !strncasecmp(s, "tcp", 3))
            out->proto = 6;
        else if (pl == 3 && !strncasecmp(s, "udp", 3))
            out->proto = 17;
        else
            return false;
        s = slash + 1;
    }
    char *end;
    if (*s < '0' || *s > '9')
        return false;
    long lo = strtol(s, &end, 10), hi = lo;
    if (*end == '-') {
        if (end[1] < '0' || end[1] > '9')
            return false;
        hi = strtol(end + 1, &end, 10);
    }
    if (*end || lo < 1 || hi > 65535 || lo > hi)
        return false;
    out->lo = (uint16_t)lo;
    out->hi = (uint16_t)hi;
    return true;
}

/* A list of strings (a lone string is a list of one); *arr on success. */
static int str_list(const pctx *c, const json_t *obj, const char *key,
                    const char *path, size_t max, json_t **arr)
{
    json_t *v = json_object_get(obj, key);
    *arr = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return perr(c, MM_EFORMAT, obj, key, 0, "%s.%s: expected a list", path, key);
    if (json_array_size(v) > max)
        return perr(c, MM_ELIMIT, obj, key, 0, "%s.%s: more than %zu entries",
                    path, key, max);
    *arr = v;
    return 0;
}

static int parse_rule(const pctx *c, const json_t *r, const char *path,
                      bool egress, np_rule *out)
{
    if (!json_is_object(r))
        return perr(c, MM_EFORMAT, NULL, NULL, 0, "%s: expected a mapping", path);
    const char *k;
    json_t *v;
    const char *peers_key = egress ? "to" : "from";
    json_object_foreach((json_t *)r, k, v) {
        if (strcmp(k, peers_key) && strcmp(k, "ports") &&
            (!egress || strcmp(k, "names")))
            return perr(c, MM_EFORMAT, r, k, 0, "%s: unknown field '%s'%s", path, k,
                        !egress && !strcmp(k, "names") ?
                        " (names are for egress rules)" : "");
    }
    json_t *arr;
    int rc;
    if ((rc = str_list(c, r, peers_key, path, NP_MAX_PEERS, &arr)))
        return rc;
    for (size_t i = 0; arr && i < json_array_size(arr); i++) {
        json_t *e = json_array_get(arr, i);
        const char *s = json_string_value(e);
        if (!s)
            return perr(c, MM_EFORMAT, arr, NULL, i, "%s.%s[%zu]: expected a string",
                        path, peers_key, i);
        np_cidr cd;
        if (np_parse_cidr(s, &cd)) {
            out->cidrs = mm_xrealloc(out->cidrs, (out->ncidrs + 1) * sizeof cd);
            out->cidrs[out->ncidrs++] = cd;
        } else if (!strchr(s, '/') && !strchr(s, ':') && np_peer_name_ok(s)) {
            mm_strv_push(&out->peers, &out->npeers, s);
        } else {
            return perr(c, MM_EFORMAT, arr, NULL, i,
                        "%s.%s[%zu]: '%s' is neither an address, a CIDR nor a container name",
                        path, peers_key, i, s);
        }
    }
    if ((rc = str_list(c, r, "names", path, NP_MAX_NAMES, &arr)))
        return rc;
    for (size_t i = 0; arr && i < json_array_size(arr); i++) {
        const char *s = json_string_value(json_array_get(arr, i));
        if (!s || !np_dns_pattern_ok(s))
            return perr(c, MM_EFORMAT, arr, NULL, i, "%s.names[%zu]: not a DNS name%s%s",
                        path, i, s ? ": " : "", s ? s : "");
        char *low = mm_xstrdup(s);
        for (char *p = low; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        mm_strv_push(&out->names, &out->nnames, low);
        free(low);
    }
    if ((rc = str_list(c, r, "ports", path, NP_MAX_PORTS, &arr)))
        return rc;
    for (size_t i = 0; arr && i < json_array_size(arr); i++) {
        np_port pt;
        json_t *e = json_array_get(arr, i);
        if (!parse_port(e, &pt))
            return perr(c, MM_EFORMAT, arr, NULL, i,
                        "%s.ports[%zu]: expected tcp/N, udp/N, N, N-M or icmp", path, i);
        out->ports = mm_xrealloc(out->ports, (out->nports + 1) * sizeof pt);
        out->ports[out->nports++] = pt;
    }
    if (!out->ncidrs && !out->npeers && !out->nnames && !out->nports)
        return perr(c, MM_EFORMAT, NULL, NULL, 0,
                    "%s: an empty rule (it would allow everything; say so with ports or peers)",
                    path);
    return 0;
}

static int parse_rules(const pctx *c, const json_t *pol, const char *key,
                       const char *path, bool egress, np_rule **out, size_t *n)
{
    json_t *arr = json_object_get(pol, key);
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return perr(c, MM_EFORMAT, pol, key, 0, "%s.%s: expected a list of rules", path, key);
    if (json_array_size(arr) > NP_MAX_RULES)
        return perr(c, MM_ELIMIT, pol, key, 0, "%s.%s: more than %d rules", path, key,
                    NP_MAX_RULES);
    *out = mm_xcalloc(json_array_size(arr) ? json_array_size(arr) : 1, sizeof **out);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        char sub[160];
        snprintf(sub, sizeof sub, "%s.%s[%zu]", path, key, i);
        (*n)++;
        int rc = parse_rule(c, json_array_get(arr, i), sub, egress, &(*out)[i]);
        if (rc)
            return rc == MM_EFORMAT && !strstr(mm_error_last(), ":") ?
                   perr(c, rc, arr, NULL, i, "%s", mm_error_last()) : rc;
    }
    return 0;
}

static bool policy_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') &&
            !(ch >= '0' && ch <= '9') && ch != '_' && ch != '-' && ch != '.')
            return false;
    }
    return true;
}

static int parse_match(const pctx *c, const json_t *pol, const char *path, np_policy *p)
{
    json_t *m = json_object_get(pol, "match");
    if (!m || json_is_null(m))
        return 0;
    if (!json_is_object(m))
        return perr(c, MM_EFORMAT, pol, "match", 0, "%s.match: expected a mapping", path);
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v) {
        if (!strcmp(k, "container") || !strcmp(k, "image")) {
            if (!json_is_string(v) || !*json_string_value(v) ||
                strlen(json_string_value(v)) > 255)
                return perr(c, MM_EFORMAT, m, k, 0, "%s.match.%s: expected a name", path, k);
            char **slot = !strcmp(k, "container") ? &p->m_container : &p->m_image;
            *slot = mm_xstrdup(json_string_value(v));
        } else if (!strcmp(k, "labels")) {
            if (!json_is_object(v) || json_object_size(v) > NP_MAX_LABELS)
                return perr(c, MM_EFORMAT, m, k, 0,
                            "%s.match.labels: expected a mapping of at most %d labels",
                            path, NP_MAX_LABELS);
            const char *lk;
            json_t *lv;
            json_object_foreach(v, lk, lv) {
                char num[32];
                const char *s = json_string_value(lv);
                if (json_is_integer(lv)) {
                    snprintf(num, sizeof num, "%lld", (long long)json_integer_value(lv));
                    s = num;
                } else if (json_is_boolean(lv)) {
                    s = json_is_true(lv) ? "true" : "false";
                }
                if (!s || strlen(lk) > 253 || strlen(s) > 253)
                    return perr(c, MM_EFORMAT, v, lk, 0,
                                "%s.match.labels.%s: expected a scalar", path, lk);
                char *kv = mm_xasprintf("%s=%s", lk, s);
                mm_strv_push(&p->m_labels, &p->nm_labels, kv);
                free(kv);
            }
        } else {
            return perr(c, MM_EFORMAT, m, k, 0,
                        "%s.match: unknown field '%s' (container, image, labels)", path, k);
        }
    }
    return 0;
}

static int parse_policy(const pctx *c, const json_t *pol, size_t idx, np_policy *p)
{
    char path[64];
    snprintf(path, sizeof path, "policies[%zu]", idx);
    if (!json_is_object(pol))
        return perr(c, MM_EFORMAT, NULL, NULL, 0, "%s: expected a mapping", path);
    p->log = true;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)pol, k, v) {
        static const char *const known[] = {"name", "match", "default", "log",
                                            "ingress", "egress", NULL};
        bool ok = false;
        for (size_t i = 0; known[i]; i++)
            ok |= !strcmp(k, known[i]);
        if (!ok)
            return perr(c, MM_EFORMAT, pol, k, 0, "%s: unknown field '%s'", path, k);
    }
    const char *name = json_string_value(json_object_get(pol, "name"));
    if (!name || !policy_name_ok(name))
        return perr(c, MM_EFORMAT, pol, json_object_get(pol, "name") ? "name" : NULL, 0,
                    "%s.name: expected a name of 1-64 letters, digits, '_', '-', '.'", path);
    p->name = mm_xstrdup(name);
    json_t *d = json_object_get(pol, "default");
    if (d && !json_is_null(d)) {
        const char *s = json_string_value(d);
        if (s && !strcmp(s, "deny"))
            p->allow = false;
        else if (s && !strcmp(s, "allow"))
            p->allow = true;
        else
            return perr(c, MM_EFORMAT, pol, "default", 0,
                        "%s.default: expected deny or allow", path);
    }
    json_t *lg = json_object_get(pol, "log");
    if (lg && !json_is_null(lg)) {
        if (!json_is_boolean(lg))
            return perr(c, MM_EFORMAT, pol, "log", 0, "%s.log: expected true or false", path);
        p->log = json_is_true(lg);
    }
    int rc;
    if ((rc = parse_match(c, pol, path, p)) ||
        (rc = parse_rules(c, pol, "ingress", path, false, &p->in, &p->nin)) ||
        (rc = parse_rules(c, pol, "egress", path, true, &p->out, &p->nout)))
        return rc;
    return 0;
}

int mm_netpol_load_string(mm_netpol **out, const char *name, const char *data, size_t len)
{
    *out = NULL;
    if (!name)
        name = "<policy>";
    if (len > NP_MAX_FILE)
        return mm_error_set(MM_ELIMIT, "%s: larger than %u bytes", name, NP_MAX_FILE);
    pctx c = {.file = name, .pm = mm_yaml_posmap_new()};
    json_t *doc = NULL;
    mm_yaml_limits lim;
    mm_yaml_limits_init(&lim);
    lim.max_depth = 16;
    mm_netpol *np = mm_xcalloc(1, sizeof *np);
    int rc = mm_yaml_load_one(&doc, data, len, name, &lim, c.pm);
    if (rc)
        goto done;
    if (!json_is_object(doc)) {
        rc = perr(&c, MM_EFORMAT, NULL, NULL, 0, "expected a mapping with version and policies");
        goto done;
    }
    const char *k;
    json_t *v;
    json_object_foreach(doc, k, v) {
        if (strcmp(k, "version") && strcmp(k, "policies")) {
            rc = perr(&c, MM_EFORMAT, doc, k, 0, "unknown field '%s'", k);
            goto done;
        }
    }
    json_t *ver = json_object_get(doc, "version");
    if (!json_is_integer(ver) || json_integer_value(ver) != 1) {
        rc = perr(&c, MM_EFORMAT, doc, ver ? "version" : NULL, 0,
                  "version: expected 1");
        goto done;
    }
    json_t *pols = json_object_get(doc, "policies");
    if (!json_is_array(pols)) {
        rc = perr(&c, MM_EFORMAT, doc, pols ? "policies" : NULL, 0,
                  "policies: expected a list");
        goto done;
    }
    if (json_array_size(pols) > NP_MAX_POLICIES) {
        rc = perr(&c, MM_ELIMIT, doc, "policies", 0, "policies: more than %d",
                  NP_MAX_POLICIES);
        goto done;
    }
    np->p = mm_xcalloc(json_array_size(pols) ? json_array_size(pols) : 1, sizeof *np->p);
    for (size_t i = 0; i < json_array_size(pols); i++) {
        np->n++;
        rc = parse_policy(&c, json_array_get(pols, i), i, &np->p[i]);
        if (rc)
            goto done;
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(np->p[j].name, np->p[i].name)) {
                rc = perr(&c, MM_EFORMAT, json_array_get(pols, i), "name", 0,
                          "policies[%zu].name: '%s' is also policies[%zu]'s name",
                          i, np->p[i].name, j);
                goto done;
            }
        }
    }
done:
    json_decref(doc);
    mm_yaml_posmap_free(c.pm);
    if (rc) {
        mm_netpol_free(np);
        return rc;
    }
    *out = np;
    return 0;
}

int mm_netpol_load_file(mm_netpol **out, const char *path)
{
    char *data = NULL;
    size_t len = 0;
    *out = NULL;
    int rc = mm_file_read(path, NP_MAX_FILE, &data, &len);
    if (rc)
        return rc == MM_ELIMIT ?
               mm_error_set(rc, "%s: larger than %u bytes", path, NP_MAX_FILE) :
               mm_error_wrap(rc, "%s", path);
    rc = mm_netpol_load_string(out, path, data, len);
    free(data);
    return rc;
}

long mm_netpol_select(const mm_netpol *p, const char *name, const char *image,
                      const char *const *labels, size_t nlabels)
{
    for (size_t i = 0; p && i < p->n; i++) {
        const np_policy *q = &p->p[i];
        if (!q->m_container && !q->m_image && !q->nm_labels)
            continue;                      /* no selector: applied by name only */
        if (q->m_container && (!name || fnmatch(q->m_container, name, 0)))
            continue;
        if (q->m_image) {
            if (!image)
                continue;
            bool ok = !fnmatch(q->m_image, image, 0);
            if (!ok && !strchr(q->m_image, ':')) {   /* repo without the tag */
                const char *colon = strrchr(image, ':'), *slash = strrchr(image, '/');
                if (colon && (!slash || colon > slash)) {
                    char *repo = mm_xstrndup(image, (size_t)(colon - image));
                    ok = !fnmatch(q->m_image, repo, 0);
                    free(repo);
                }
            }
            if (!ok)
                continue;
        }
        bool all = true;
        for (size_t l = 0; l < q->nm_labels && all; l++) {
            bool found = false;
            for (size_t j = 0; j < nlabels && !found; j++)
                found = labels[j] && !strcmp(labels[j], q->m_labels[l]);
            all = found;
        }
        if (all)
            return (long)i;
    }
    return -1;
}

size_t mm_netpol_name_sets(const mm_netpol *p, size_t idx, const char *name,
                           int family, mm_netpol_set_fn fn, void *ud)
{
    if (!p || idx >= p->n || !name)
        return 0;
    const np_policy *q = &p->p[idx];
    size_t n = 0;
    for (size_t r = 0; r < q->nout; r++) {
        bool hit = false;
        for (size_t i = 0; i < q->out[r].nnames && !hit; i++)
            hit = np_name_match(q->out[r].names[i], name);
        if (!hit)
            continue;
        char set[32];
        snprintf(set, sizeof set, "eg%zu_%s", r, family == AF_INET6 ? "v6" : "v4");
        if (fn)
            fn(ud, set);
        n++;
    }
    return n;
}
