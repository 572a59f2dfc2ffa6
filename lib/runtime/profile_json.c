/*
 * profile_json.c - a behaviour profile file as JSON (issue 20a): the
 * agent uploads what it learned to `mamori server`, which stores profiles
 * as JSON documents and hands enforced ones back as JSON, a document the
 * profile loader reads as it is (JSON is YAML's flow style).  The file is
 * checked with the profile loader first (its caps and errors), then its
 * YAML tree is written out as compact JSON.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "runtime/profile_int.h"
#include "util/util.h"

int mm_profile_doc_json(char **out, const char *name, const char *text, size_t len)
{
    *out = NULL;
    mm_profile *p = NULL;
    int rc = mm_profile_load_string(&p, name, text, len);
    mm_profile_free(p);
    if (rc)
        return rc;
    json_t *doc = NULL;
    mm_yaml_limits lim;
    mm_yaml_limits_init(&lim);
    lim.max_scalar = MAX_STR;
    lim.no_aliases = false;
    rc = mm_yaml_load_one(&doc, text, len, name, &lim, NULL);
    if (rc)
        return rc;
    if (!json_is_object(doc)) {
        json_decref(doc);
        return mm_error_set(MM_EFORMAT, "%s: not a profile document", name);
    }
    *out = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    json_decref(doc);
    if (!*out)
        return mm_error_set(MM_EFORMAT, "%s: cannot be written as JSON", name);
    return 0;
}

int mm_profile_file_json(char **out, const char *path)
{
    *out = NULL;
    char *data = NULL;
    size_t len = 0;
    int rc = mm_file_read(path, MAX_PROFILE_FILE, &data, &len);
    if (rc)
        return rc;
    rc = mm_profile_doc_json(out, path, data, len);
    free(data);
    return rc;
}
