/*
 * profile_load.c - reading a behaviour profile file back (the format
 * profile_write.c writes, maybe edited by hand): untrusted-ish, so the file
 * size, images, entries, keys and strings are capped and every error names
 * the file, the line and the key.  Read with the one YAML loader
 * (util/yaml.c): the first document only, every scalar as text, each value's
 * position kept.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "runtime/profile_int.h"

/* ---- loading ------------------------------------------------------------------------------------ */

typedef struct ld {
    const char *file;
    mm_yaml_posmap *pm;
    mm_profile *p;
} ld;

/* Where value n starts (0 when unknown). */
static size_t line_of(ld *l, const json_t *n)
{
    int line;
    return n && mm_yaml_pos_of(l->pm, n, &line, NULL) ? (size_t)line : 0;
}

/* Where key k of the mapping m is written. */
static size_t key_line(ld *l, const json_t *m, const char *k)
{
    int line;
    return mm_yaml_pos_get(l->pm, m, k, 0, &line, NULL) ? (size_t)line : 0;
}

static int lerr_at(ld *l, size_t line, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int lerr_at(ld *l, size_t line, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *m = mm_xvasprintf(fmt, ap);
    va_end(ap);
    int rc = mm_error_set(MM_EFORMAT, "%s:%zu: key '%s': %s", l->file, line, key, m);
    free(m);
    return rc;
}

#define lerr(l, n, key, ...) lerr_at(l, line_of(l, n), key, __VA_ARGS__)

static const char *scalar(const json_t *n)
{
    return json_is_string(n) ? json_string_value(n) : NULL;
}

static bool is_null(ld *l, const json_t *n)
{
    const char *s = scalar(n);
    return s && mm_yaml_plain_of(l->pm, n) && (!*s || !strcmp(s, "null") || !strcmp(s, "~"));
}

/* A mapping with distinct keys, at most MAX_MAP_KEYS of them (the loader
 * keeps the first value of a repeated key and notes it). */
static int check_map(ld *l, const json_t *n, const char *key)
{
    if (!json_is_object(n))
        return lerr(l, n, key, "expected a mapping");
    if (json_object_size(n) > MAX_MAP_KEYS)
        return lerr(l, n, key, "more than %d keys", MAX_MAP_KEYS);
    const char *dk;
    int dline;
    if (mm_yaml_dup_of(l->pm, n, &dk, &dline, NULL))
        return lerr_at(l, (size_t)dline, dk, "duplicate key");
    return 0;
}

static int get_str(ld *l, const json_t *n, const char *key, const char **out)
{
    const char *s = scalar(n);
    if (!s)
        return lerr(l, n, key, "expected a string");
    if (json_string_length(n) > MAX_STR)
        return lerr(l, n, key, "longer than %d bytes", MAX_STR);
    if (strlen(s) != json_string_length(n))
        return lerr(l, n, key, "contains a NUL byte");
    *out = s;
    return 0;
}

static int get_u64(ld *l, const json_t *n, const char *key, uint64_t max, uint64_t *out)
{
    const char *s = scalar(n);
    if (!s || !*s)
        return lerr(l, n, key, "expected a number");
    for (const char *q = s; *q; q++)
        if (*q < '0' || *q > '9')
            return lerr(l, n, key, "'%.64s' is not a number", s);
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    if (errno || v > max)
        return lerr(l, n, key, "'%.64s' is out of range", s);
    *out = v;
    return 0;
}

static int get_action(ld *l, const json_t *n, mm_rule_action *act)
{
    const char *s = scalar(n);
    if (s) {
        mm_rule_action a;
        if (!strcmp(s, "kill"))
            a = MM_ACTION_KILL;
        else if (!strcmp(s, "none") || !strcmp(s, "alert"))
            a = MM_ACTION_NONE;
        else
            return lerr(l, n, "action", "unknown action '%.64s' (none or kill)", s);
        for (int c = 0; c < MM_PROF__COUNT; c++)
            act[c] = a;
        return 0;
    }
    int rc = check_map(l, n, "action");
    if (rc)
        return rc;
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)n, k, v) {
        int c = 0;
        while (c < MM_PROF__COUNT && strcmp(mm_profile_cat_name(c), k))
            c++;
        if (c == MM_PROF__COUNT)
            return lerr_at(l, key_line(l, n, k), k,
                           "not a category (processes, files, listen, connect)");
        const char *vs = scalar(v);
        if (vs && !strcmp(vs, "kill"))
            act[c] = MM_ACTION_KILL;
        else if (vs && (!strcmp(vs, "none") || !strcmp(vs, "alert")))
            act[c] = MM_ACTION_NONE;
        else
            return lerr(l, v, k, "unknown action (none or kill)");
    }
    return 0;
}

static int get_priority(ld *l, const json_t *n, mm_rule_priority *out)
{
    const char *s = scalar(n);
    if (!s || mm_rule_priority_parse(out, s))
        return lerr(l, n, "priority", "unknown priority '%.64s'", s ? s : "");
    return 0;
}

static int get_ports(ld *l, const json_t *n, pentry *e)
{
    const char *s = scalar(n);
    if (!s)
        return lerr(l, n, "port", "expected a port, a range 'A-B' or '*'");
    if (!strcmp(s, "*") || !strcmp(s, "any")) {
        e->plo = 0;
        e->phi = 65535;
        return 0;
    }
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9')
        return lerr(l, n, "port", "'%.64s' is not a port", s);
    unsigned long a = strtoul(s, &end, 10), b = a;
    if (*end == '-') {
        const char *q = end + 1;
        if (*q < '0' || *q > '9')
            return lerr(l, n, "port", "'%.64s' is not a port range", s);
        b = strtoul(q, &end, 10);
    }
    if (errno || *end || a > 65535 || b > 65535 || a > b)
        return lerr(l, n, "port", "'%.64s' is not a port or a range A-B within 0-65535", s);
    e->plo = (uint16_t)a;
    e->phi = (uint16_t)b;
    return 0;
}

static int get_proto(ld *l, const json_t *n, pentry *e)
{
    const char *s = scalar(n);
    if (s && !strcmp(s, "tcp"))
        e->proto = MM_L4_TCP;
    else if (s && !strcmp(s, "udp"))
        e->proto = MM_L4_UDP;
    else if (s && (!strcmp(s, "any") || !strcmp(s, "*")))
        e->proto = 0;
    else
        return lerr(l, n, "proto", "'%.64s' is not tcp, udp or any", s ? s : "");
    return 0;
}

static int get_dest(ld *l, const json_t *n, pentry *e)
{
    const char *s;
    int rc = get_str(l, n, "dest", &s);
    if (rc)
        return rc;
    if (!strcmp(s, "*") || !strcmp(s, "any")) {
        e->anynet = true;
        return 0;
    }
    char buf[80];
    if (strlen(s) >= sizeof buf)
        return lerr(l, n, "dest", "not an address or network");
    strcpy(buf, s);
    char *slash = strchr(buf, '/');
    long pf = -1;
    if (slash) {
        *slash = 0;
        char *end;
        if (slash[1] < '0' || slash[1] > '9')
            return lerr(l, n, "dest", "bad prefix length in '%s'", s);
        pf = strtol(slash + 1, &end, 10);
        if (*end)
            return lerr(l, n, "dest", "bad prefix length in '%s'", s);
    }
    memset(&e->net, 0, sizeof e->net);
    if (inet_pton(AF_INET, buf, e->net.ip) == 1) {
        e->net.family = AF_INET;
    } else if (inet_pton(AF_INET6, buf, e->net.ip) == 1) {
        e->net.family = AF_INET6;
        mm_profile_ip_norm(&e->net);
        if (e->net.family == AF_INET && pf >= 96)
            pf -= 96;
    } else {
        return lerr(l, n, "dest", "'%s' is not an IP address or CIDR network", s);
    }
    long max = e->net.family == AF_INET ? 32 : 128;
    if (pf < 0)
        pf = max;
    if (pf > max)
        return lerr(l, n, "dest", "prefix length of '%s' beyond %ld", s, max);
    e->prefix = (uint8_t)pf;
    mm_profile_ip_mask(&e->net, (unsigned)pf);
    return 0;
}

static int get_time(ld *l, const json_t *n, const char *key, int64_t *out)
{
    const char *s = scalar(n);
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
    if (!end || *end)
        return lerr(l, n, key, "not an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SSZ)");
    time_t t = timegm(&tm);
    if (t < 0 || (int64_t)t > INT64_MAX / 1000000000)
        return lerr(l, n, key, "out of range");
    *out = (int64_t)t * 1000000000;
    return 0;
}

static int load_entry(ld *l, pimage *im, int c, json_t *n)
{
    int rc = check_map(l, n, mm_profile_cat_name(c));
    if (rc)
        return rc;
    if (l->p->nentries >= MAX_ENTRIES)
        return mm_error_set(MM_ELIMIT, "%s:%zu: key '%s': more than %d entries", l->file,
                            line_of(l, n), mm_profile_cat_name(c), MAX_ENTRIES);
    l->p->nentries++;
    pentry *e = mm_profile_cat_push(&im->cat[c]);
    bool have_main = false;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)n, k, v) {
        const char *s;
        if (!strcmp(k, "count")) {
            rc = get_u64(l, v, k, INT64_MAX, &e->count);
        } else if (!strcmp(k, "first_seen")) {
            rc = get_time(l, v, k, &e->first);
        } else if (c == MM_PROF_PROCESS && (!strcmp(k, "exe") || !strcmp(k, "name"))) {
            if (!(rc = get_str(l, v, k, &s))) {
                if (!*s)
                    return lerr(l, v, k, "empty");
                char **slot = k[0] == 'e' ? &e->a : &e->b;
                *slot = mm_xstrdup(s);
                have_main = true;
            }
        } else if (c == MM_PROF_PROCESS && !strcmp(k, "parents")) {
            if (scalar(v)) {
                if (!(rc = get_str(l, v, k, &s)))
                    mm_strv_push(&e->parents, &e->nparents, s);
            } else if (json_is_array(v)) {
                size_t ni = json_array_size(v);
                if (ni > MAX_PARENTS)
                    return lerr(l, v, k, "more than %d parents", MAX_PARENTS);
                for (size_t i = 0; i < ni && !rc; i++)
                    if (!(rc = get_str(l, json_array_get(v, i), k, &s)))
                        mm_strv_push(&e->parents, &e->nparents, s);
            } else {
                rc = lerr(l, v, k, "expected a name or a list of names");
            }
        } else if (c == MM_PROF_FILE && !strcmp(k, "path")) {
            if (!(rc = get_str(l, v, k, &s))) {
                if (s[0] != '/' && !(s[0] == '*' && s[1] == '*'))
                    return lerr(l, v, k, "'%.64s' is not an absolute path or pattern", s);
                e->a = mm_xstrdup(s);
                have_main = true;
            }
        } else if ((c == MM_PROF_LISTEN || c == MM_PROF_CONNECT) && !strcmp(k, "port")) {
            rc = get_ports(l, v, e);
            have_main = true;
        } else if ((c == MM_PROF_LISTEN || c == MM_PROF_CONNECT) && !strcmp(k, "proto")) {
            rc = get_proto(l, v, e);
        } else if (c == MM_PROF_CONNECT && !strcmp(k, "dest")) {
            rc = get_dest(l, v, e);
            have_main = true;
        } else {
            return lerr_at(l, key_line(l, n, k), k, "unknown key in a %s entry",
                           mm_profile_cat_name(c));
        }
        if (rc)
            return rc;
    }
    if (c == MM_PROF_CONNECT && !e->net.family && !e->anynet)
        e->anynet = true;   /* no dest: any destination (on the given port) */
    if (!have_main) {
        static const char *const need[] = {"exe or name", "path", "port", "dest or port"};
        return lerr(l, n, mm_profile_cat_name(c), "an entry needs %s", need[c]);
    }
    mm_profile_entry_lits(e);
    if (c == MM_PROF_FILE && e->lit_a) {
        if (!im->cat[c].exact)
            im->cat[c].exact = mm_map_new();
        mm_map_put(im->cat[c].exact, e->lit_a, (void *)1);
    }
    return 0;
}

static int load_image(ld *l, json_t *n)
{
    int rc = check_map(l, n, "images");
    if (rc)
        return rc;
    if (l->p->nimg >= MAX_IMAGES)
        return mm_error_set(MM_ELIMIT, "%s:%zu: key 'images': more than %d images", l->file,
                            line_of(l, n), MAX_IMAGES);
    const char *name = NULL;
    json_t *nn = NULL;
    if ((nn = json_object_get(n, "image")) && (rc = get_str(l, nn, "image", &name)))
        return rc;
    if (!name || !*name)
        return lerr(l, n, "image", "an image entry needs a non-empty 'image'");
    for (size_t i = 0; i < l->p->nimg; i++)
        if (!strcmp(l->p->img[i].name, name))
            return lerr(l, nn, "image", "'%.200s' is listed twice", name);
    pimage *im = mm_profile_image_add(l->p, name);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)n, k, v) {
        if (!strcmp(k, "image"))
            continue;
        if (!strcmp(k, "priority")) {
            rc = get_priority(l, v, &im->pri);
        } else if (!strcmp(k, "action")) {
            rc = get_action(l, v, im->act);
        } else {
            int c = 0;
            while (c < MM_PROF__COUNT && strcmp(mm_profile_cat_name(c), k))
                c++;
            if (c == MM_PROF__COUNT)
                return lerr_at(l, key_line(l, n, k), k,
                               "unknown key in an image (image, priority, action, processes, "
                               "files, listen, connect)");
            if (is_null(l, v))
                continue;   /* "processes:" alone: not checked, like absent */
            if (!json_is_array(v))
                return lerr(l, v, k, "expected a list of entries");
            im->cat[c].present = true;
            for (size_t it = 0; it < json_array_size(v) && !rc; it++)
                rc = load_entry(l, im, c, json_array_get(v, it));
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* learned: {start, end, seconds} and generalisation: {dir_collapse,
 * net_collapse} are informational; kept so that a rewrite says the same. */
static int load_info(ld *l, json_t *n, const char *key)
{
    int rc = check_map(l, n, key);
    if (rc)
        return rc;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)n, k, v) {
        uint64_t u;
        if (!strcmp(key, "learned") && (!strcmp(k, "start") || !strcmp(k, "end")))
            rc = get_time(l, v, k, k[0] == 's' ? &l->p->start : &l->p->end);
        else if (!strcmp(key, "learned") && !strcmp(k, "seconds"))
            rc = get_u64(l, v, k, INT64_MAX, &u);
        else if (!strcmp(key, "generalisation") &&
                 (!strcmp(k, "dir_collapse") || !strcmp(k, "net_collapse"))) {
            if (!(rc = get_u64(l, v, k, 1000000, &u)) && u)
                *(k[0] == 'd' ? &l->p->o.dir_collapse : &l->p->o.net_collapse) = (size_t)u;
        } else
            return lerr_at(l, key_line(l, n, k), k, "unknown key in '%s'", key);
        if (rc)
            return rc;
    }
    return 0;
}

static int load_doc(ld *l, json_t *root)
{
    int rc = check_map(l, root, "(top)");
    if (rc)
        return rc;
    bool version = false;
    json_t *images = NULL;
    /* defaults first, so that images inherit them whatever the key order */
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)root, k, v) {
        if (!strcmp(k, "version")) {
            uint64_t ver;
            if ((rc = get_u64(l, v, k, 1000, &ver)))
                return rc;
            if (ver != MM_PROFILE_VERSION)
                return lerr(l, v, k, "unsupported profile version %llu (this mamori reads %d)",
                            (unsigned long long)ver, MM_PROFILE_VERSION);
            version = true;
        } else if (!strcmp(k, "priority")) {
            rc = get_priority(l, v, &l->p->pri);
        } else if (!strcmp(k, "action")) {
            rc = get_action(l, v, l->p->act);
        } else if (!strcmp(k, "images")) {
            images = v;
        } else if (!strcmp(k, "learned") || !strcmp(k, "generalisation")) {
            rc = load_info(l, v, k);
        } else {
            return lerr_at(l, key_line(l, root, k), k,
                           "unknown key (version, learned, generalisation, priority, action, "
                           "images)");
        }
        if (rc)
            return rc;
    }
    if (!version)
        return lerr(l, root, "version", "missing (this mamori reads version %d)", MM_PROFILE_VERSION);
    if (!images || is_null(l, images))
        return 0;
    if (!json_is_array(images))
        return lerr(l, images, "images", "expected a list of images");
    for (size_t it = 0; it < json_array_size(images) && !rc; it++)
        rc = load_image(l, json_array_get(images, it));
    return rc;
}

/* One load.  keys: also record where each key and value is written, which
 * only the messages need: a load runs without them (keeping only the
 * positions of plain null scalars, which is_null() reads) and, when it
 * fails, again with them for the message (the load is deterministic). */
static int load_once(mm_profile **out, const char *name, const char *yaml, size_t len,
                     bool keys)
{
    mm_yaml_limits lim;
    mm_yaml_limits_init(&lim);
    lim.scalars = MM_YAML_TEXT;
    lim.first_doc_only = true;         /* what follows a first document is not read */
    lim.pos_values = true;
    lim.pos_no_keys = !keys;
    lim.pos_nulls_only = !keys;        /* is_null() needs those; messages the rest */
    lim.dup_first_wins = true;         /* check_map names a repeated key */
    lim.max_nodes = MAX_PROFILE_FILE / 2;
    lim.errtag = "YAML";
    ld l = {.file = name, .pm = mm_yaml_posmap_new(), .p = NULL};
    json_t *root = NULL;
    int rc = mm_yaml_load_one(&root, yaml, len, name, &lim, l.pm);
    bool parsed = rc == 0;
    mm_profile *p = NULL;
    if (rc == 0) {
        p = mm_profile_alloc();
        l.p = p;
        /* an empty stream has no document (an empty one is a plain "") */
        rc = json_is_null(root)
                 ? mm_error_set(MM_EFORMAT, "%s:1: key '(top)': empty profile (needs version: %d)",
                                name, MM_PROFILE_VERSION)
                 : load_doc(&l, root);
    }
    json_decref(root);
    mm_yaml_posmap_free(l.pm);
    if (rc) {
        mm_profile_free(p);
        return parsed && !keys ? load_once(out, name, yaml, len, true) : rc;
    }
    *out = p;
    return 0;
}

int mm_profile_load_string(mm_profile **out, const char *name, const char *yaml, size_t len)
{
    *out = NULL;
    if (!name)
        name = "(profile)";
    if (len > MAX_PROFILE_FILE)
        return mm_error_set(MM_ELIMIT, "%s: larger than %u bytes", name, MAX_PROFILE_FILE);
    return load_once(out, name, yaml, len, false);
}

int mm_profile_load_file(mm_profile **out, const char *path)
{
    char *data;
    size_t len;
    *out = NULL;
    int rc = mm_file_read(path, MAX_PROFILE_FILE, &data, &len);
    if (rc)
        return rc;
    rc = mm_profile_load_string(out, path, data, len);
    free(data);
    return rc;
}

