/*
 * mamori/filter.h - which findings a user wants to see: a severity set,
 * "ignore unfixed" and an ignore file (.mamoriignore, also trivy's
 * .trivyignore syntax), applied to a result's findings after the scan.
 *
 * Ignore file: one entry a line, "ID [exp:YYYY-MM-DD] [# reason]"; blank
 * lines and lines starting with '#' are comments.  An entry matches a
 * finding whose id is ID, or (vulnerabilities) one of whose aliases is ID,
 * so ignoring CVE-2023-1234 also ignores GO-2023-0001 that aliases it.  An
 * entry whose expiry date has passed (the day after exp: in UTC) no longer
 * applies and is reported as a warning, so forgotten exceptions surface.
 */
#ifndef MAMORI_FILTER_H
#define MAMORI_FILTER_H

#include "mamori/result.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mm_ignore_entry {
    char *id;
    int64_t expires;   /* epoch seconds of the end of the exp: day; 0 = never */
    char *reason;      /* text after '#', or NULL */
    int line;          /* 1-based line in the file */
} mm_ignore_entry;

typedef struct mm_ignorefile {
    char *path;        /* as given, for messages */
    mm_ignore_entry *v;
    size_t n;
} mm_ignorefile;

/* The file is capped at 4 MiB and 100,000 entries; a malformed line (bad
 * date, unknown "key:" token) is an MM_EFORMAT naming FILE:LINE. */
int mm_ignorefile_load(mm_ignorefile **out, const char *path);
int mm_ignorefile_parse(mm_ignorefile **out, const char *data, size_t len,
                        const char *name);
void mm_ignorefile_free(mm_ignorefile *f);

/* Bit of a severity in a severity set. */
#define MM_SEV_BIT(s) (1u << (unsigned)(s))
#define MM_SEV_ALL 0x1fu

/* "CRITICAL,HIGH" (case-insensitive, comma-separated) -> bit set.
 * MM_EINVAL naming the unknown word. */
int mm_severity_set_parse(unsigned *out, const char *list);

typedef struct mm_filter {
    unsigned severities;      /* MM_SEV_BIT set; 0 = every severity */
    bool ignore_unfixed;      /* drop vulnerabilities with no fixed version */
    const mm_ignorefile *ignore; /* NULL = none */
    int64_t now;              /* epoch seconds for expiry; 0 = time(NULL) */
} mm_filter;

void mm_filter_init(mm_filter *f);

typedef struct mm_filter_stats {
    size_t kept;
    size_t by_severity[MM_SEV_CRITICAL + 1]; /* of the kept findings */
    size_t dropped_severity, dropped_unfixed, dropped_ignored;
    size_t expired;           /* ignore entries past their date */
} mm_filter_stats;

/* Is this finding a vulnerability without a fixed version?  (Matching
 * sets a remediation only when a fix exists.) */
bool mm_finding_unfixed(const mm_finding *f);

/* Removes from r's findings every finding the filter excludes; adds a
 * warning to r for each expired ignore entry.  stats may be NULL. */
int mm_filter_apply(mm_result *r, const mm_filter *f, mm_filter_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
