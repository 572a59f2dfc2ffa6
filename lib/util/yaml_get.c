/*
 * yaml_get.c - typed reads of values loaded by the one YAML loader
 * (yaml.c), for the loaders of closed-schema files (gate policies, secret
 * rules): a string or a list of strings, NUL bytes and over-long values
 * refused, each error "NAME:LINE:COL: what: ..." at the value's key or
 * list item.  A value is named by its parent and its key (objects) or its
 * index (arrays), the way the posmap records positions.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/util.h"

json_t *mm_yaml_child(const json_t *parent, const char *key, size_t idx)
{
    return key ? json_object_get(parent, key) : json_array_get(parent, idx);
}

json_t *mm_yaml_ref_get(mm_yaml_ref r) { return mm_yaml_child(r.parent, r.key, r.idx); }

int mm_yaml_ref_errf(const mm_yaml_posmap *pm, const char *name, int code, mm_yaml_ref r,
                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *m = mm_xvasprintf(fmt, ap);
    va_end(ap);
    int rc = mm_yaml_errf(pm, name, r.parent, r.key, r.idx, code, "%s", m);
    free(m);
    return rc;
}

int mm_yaml_get_str(const mm_yaml_posmap *pm, const char *name, const json_t *parent,
                    const char *key, size_t idx, const char *what, size_t maxlen, char **out)
{
    *out = NULL;
    const json_t *v = mm_yaml_child(parent, key, idx);
    if (!json_is_string(v))
        return mm_yaml_errf(pm, name, parent, key, idx, MM_EFORMAT, "%s: expected a string",
                            what);
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (memchr(s, 0, len))
        return mm_yaml_errf(pm, name, parent, key, idx, MM_EFORMAT, "%s: NUL byte in value",
                            what);
    if (maxlen && len > maxlen)
        return mm_yaml_errf(pm, name, parent, key, idx, MM_EFORMAT,
                            "%s: value longer than %zu bytes", what, maxlen);
    *out = mm_xstrndup(s, len);
    return 0;
}

int mm_yaml_get_strlist(const mm_yaml_posmap *pm, const char *name, const json_t *parent,
                        const char *key, size_t idx, const char *what, size_t max,
                        size_t maxlen, unsigned flags, char ***v, size_t *nv)
{
    const json_t *n = mm_yaml_child(parent, key, idx);
    char *s;
    int rc;
    if (json_is_string(n)) {          /* a single string is a list of one */
        if ((rc = mm_yaml_get_str(pm, name, parent, key, idx, what, maxlen, &s)) < 0)
            return rc;
        mm_strv_push(v, nv, s);
        free(s);
        return 0;
    }
    if (!json_is_array(n))
        return mm_yaml_errf(pm, name, parent, key, idx, MM_EFORMAT,
                            "%s: expected a list of strings", what);
    for (size_t i = 0; i < json_array_size(n); i++) {
        if (*nv >= max)
            return mm_yaml_errf(pm, name, n, NULL, i, MM_EFORMAT, "%s: more than %zu entries",
                                what, max);
        char item[96];
        snprintf(item, sizeof item, "%s[%zu]", what, i);
        if ((rc = mm_yaml_get_str(pm, name, n, NULL, i, item, maxlen, &s)) < 0)
            return rc;
        if ((flags & MM_YAML_NONEMPTY) && !*s) {
            free(s);
            return mm_yaml_errf(pm, name, n, NULL, i, MM_EFORMAT, "%s: empty string", item);
        }
        mm_strv_push(v, nv, s);
        free(s);
    }
    return 0;
}
