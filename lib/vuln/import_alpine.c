/*
 * import_alpine.c - the Alpine secdb importer (YAML and JSON): one
 * advisory per CVE of a package's secfixes, fixed in that version.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "util/util.h"
#include "vuln/version.h"
#include "vuln/vuln_int.h"
#include "vuln/import_int.h"

/* --- Alpine secdb ------------------------------------------------------------ */

char *mm_imp_range_fixed(const char *fixed)
{
    json_t *ev = fixed ? json_pack("[{s:s},{s:s}]", "introduced", "0", "fixed", fixed)
                       : json_pack("[{s:s}]", "introduced", "0");
    json_t *r = json_pack("[{s:s,s:o}]", "type", "ECOSYSTEM", "events", ev);
    char *s = mm_imp_dump(r);
    json_decref(r);
    return s;
}

int mm_imp_secdb(imp *im, const char *label, json_t *root)
{
    int rc = 0;
    mm_buf eco = MM_BUF_INIT;
    size_t nodes = 0;
    const char *why = mm_imp_check_json(root, 0, &nodes);
    if (why)
        FAIL("%s: %s", label, why);
    const char *dv = json_string_value(json_object_get(root, "distroversion"));
    if (!dv || !*dv || strlen(dv) > 32 || strchr(dv, ':'))
        FAIL("%s: distroversion is not a release name", label);
    mm_buf_printf(&eco, "Alpine:%s", dv);
    json_t *pkgs = json_object_get(root, "packages");
    if (pkgs && !json_is_null(pkgs) && !json_is_array(pkgs))
        FAIL("%s: packages is not an array", label);
    size_t i;
    json_t *p;
    json_array_foreach(pkgs, i, p) {
        json_t *pk = json_object_get(p, "pkg");
        const char *name = json_string_value(json_object_get(pk, "name"));
        if (!json_is_object(p) || !json_is_object(pk) || !name || !*name ||
            strlen(name) > MAX_NAME)
            FAIL("%s: packages[%zu]: not a {pkg: {name, secfixes}} entry", label, i);
        json_t *sf = json_object_get(pk, "secfixes");
        if (!sf || json_is_null(sf))
            continue;
        if (!json_is_object(sf))
            FAIL("%s: package %s: secfixes is not a mapping", label, name);
        const char *ver;
        json_t *ids;
        json_object_foreach(sf, ver, ids) {
            if (json_is_null(ids))
                continue;
            if (!json_is_array(ids))
                FAIL("%s: package %s: secfixes %s is not a list", label, name, ver);
            /* "0": the package was never affected */
            bool never = !strcmp(ver, "0");
            char *ranges = never ? NULL : mm_imp_range_fixed(ver);
            size_t k;
            json_t *idv;
            json_array_foreach(ids, k, idv) {
                const char *s = json_string_value(idv);
                if (!s) {
                    free(ranges);
                    FAIL("%s: package %s: secfixes %s[%zu] is not a string", label,
                         name, ver, k);
                }
                if (never)
                    continue;
                /* "CVE-2019-5060 TALOS-2019-0844": the first word is the id,
                 * the others are aliases */
                while (isspace((unsigned char)*s))
                    s++;
                size_t n = strcspn(s, " \t");
                if (n == 0 || n > MAX_ID)
                    continue;
                char *id = mm_xstrndup(s, n);
                json_t *al = json_array();
                for (const char *q = s + n; *q;) {
                    while (*q == ' ' || *q == '\t')
                        q++;
                    size_t m = strcspn(q, " \t");
                    if (m && m <= MAX_ID)
                        json_array_append_new(al, json_stringn(q, m));
                    q += m;
                }
                char *aliases = json_array_size(al) ? mm_imp_dump(al) : NULL;
                json_decref(al);
                mm_vadv a = {.id = id, .aliases_json = aliases, .cvss_score = -1};
                mm_vaff f = {.ecosystem = eco.data, .package = name,
                             .ranges_json = ranges, .fixed = ver};
                rc = mm_vulndb_build_put(im->b, label, &a, &f, 1);
                free(id);
                free(aliases);
                if (rc) {
                    free(ranges);
                    goto out;
                }
                im->records++;
            }
            free(ranges);
        }
    }
out:
    mm_buf_free(&eco);
    return rc;
}
