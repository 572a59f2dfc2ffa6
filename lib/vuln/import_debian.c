/*
 * import_debian.c - the Debian security tracker JSON importer: one
 * package at a time from the streamed top-level object, per release.
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

/* --- Debian security tracker -------------------------------------------------- */

static const struct { const char *code, *eco; } debian_releases[] = {
    {"jessie", "Debian:8"}, {"stretch", "Debian:9"}, {"buster", "Debian:10"},
    {"bullseye", "Debian:11"}, {"bookworm", "Debian:12"}, {"trixie", "Debian:13"},
    {"forky", "Debian:14"}, {"sid", "Debian:sid"},
};

/* One source package of the tracker: {"CVE-..": {description, releases:
 * {codename: {status, fixed_version, urgency}}}}. */
int mm_imp_tracker_package(imp *im, const char *label, const char *pkg, json_t *cves)
{
    int rc = 0;
    if (!*pkg || strlen(pkg) > MAX_NAME)
        FAIL("%s: a package name is empty or too long", label);
    if (!json_is_object(cves))
        FAIL("%s: package %s: not an object of CVE ids", label, pkg);
    size_t nodes = 0;
    const char *why = mm_imp_check_json(cves, 0, &nodes);
    if (why)
        FAIL("%s: package %s: %s", label, pkg, why);
    const char *id;
    json_t *c;
    json_object_foreach(cves, id, c) {
        if (!json_is_object(c))
            FAIL("%s: package %s: record %.200s is not an object", label, pkg, id);
        if (!*id || strlen(id) > MAX_ID)
            FAIL("%s: package %s: a record id is empty or too long", label, pkg);
        bool bad = false;
        const char *desc = mm_imp_opt_str(c, "description", &bad);
        json_t *rels = json_object_get(c, "releases");
        if (bad || (rels && !json_is_object(rels)))
            FAIL("%s: package %s: record %s: description or releases of the "
                 "wrong type", label, pkg, id);
        mm_vaff rows[sizeof debian_releases / sizeof debian_releases[0]];
        char *ranges[sizeof debian_releases / sizeof debian_releases[0]] = {0};
        size_t n = 0;
        for (size_t r = 0; r < sizeof debian_releases / sizeof debian_releases[0]; r++) {
            json_t *rel = json_object_get(rels, debian_releases[r].code);
            if (!rel)
                continue;
            const char *status = mm_imp_opt_str(rel, "status", &bad);
            const char *fv = mm_imp_opt_str(rel, "fixed_version", &bad);
            const char *urg = mm_imp_opt_str(rel, "urgency", &bad);
            if (!json_is_object(rel) || bad) {
                for (size_t k = 0; k < n; k++)
                    free(ranges[k]);
                FAIL("%s: package %s: record %s: release %s: status, fixed_version "
                     "or urgency of the wrong type", label, pkg, id,
                     debian_releases[r].code);
            }
            if (!status)
                continue;
            const char *fixed = NULL;
            if (!strcmp(status, "resolved")) {
                /* fixed_version "0": this release was never affected */
                if (!fv || !strcmp(fv, "0"))
                    continue;
                fixed = fv;
            } else if (strcmp(status, "open") && strcmp(status, "undetermined")) {
                continue;
            }
            ranges[n] = mm_imp_range_fixed(fixed);
            rows[n] = (mm_vaff){.ecosystem = debian_releases[r].eco, .package = pkg,
                                .ranges_json = ranges[n], .fixed = fixed,
                                .severity = mm_imp_vendor_severity(urg)};
            n++;
        }
        if (n) {
            mm_vadv a = {.id = id, .summary = desc, .cvss_score = -1};
            rc = mm_vulndb_build_put(im->b, label, &a, rows, n);
            if (!rc)
                im->records++;
        }
        for (size_t k = 0; k < n; k++)
            free(ranges[k]);
        if (rc)
            goto out;
    }
out:
    return rc;
}
