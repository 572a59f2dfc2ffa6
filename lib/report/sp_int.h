/*
 * report/sp_int.h - what the SP 800-190 report's files share: the inputs
 * and findings read from mamori JSON reports (sp_read.c), the row table and
 * the row states (sp800190.c), and the two writers (sp_html.c, sp_json.c).
 */
#ifndef MM_SP_INT_H
#define MM_SP_INT_H

#include <stdio.h>

#include "mamori/sp800190.h"
#include "util/util.h"

/* What an input shows was looked at: the evidence a row can rest on. */
enum {
    SP_CAP_SCAN = 1u << 0,       /* an image or root filesystem was read */
    SP_CAP_OS = 1u << 1,         /* ... and its OS identified */
    SP_CAP_VULN = 1u << 2,       /* vulnerability matching ran */
    SP_CAP_SECRET = 1u << 3,
    SP_CAP_MISCONFIG = 1u << 4,  /* image configuration checks */
    SP_CAP_MALWARE = 1u << 5,
    SP_CAP_K8S = 1u << 6,        /* Kubernetes posture checks */
    SP_CAP_COMPLIANCE = 1u << 7, /* host benchmark (CIS, SCAP) */
    SP_CAP_PULL = 1u << 8,       /* pulled from a registry (transport checked) */
    SP_CAP_DOCKERFILE = 1u << 9, /* a Dockerfile was linted */
    SP_CAP_NET = 1u << 10,       /* network sensor alerts */
    SP_CAP_RUNTIME = 1u << 11,   /* runtime alerts */
    SP_CAP_REGSCAN = 1u << 12,   /* a registry scan (stale images) */
    SP_CAP_ADMISSION = 1u << 13, /* admission decisions (mamori admission --record) */
    SP_CAP_SIGNATURE = 1u << 14, /* the image's signatures were verified (issue 20) */
    SP_CAP__COUNT = 15
};
const char *mm_sp_cap_name(unsigned bit_index);

typedef struct sp_input {
    char *name;        /* file or store:KEY */
    char *target;      /* the report's target */
    char *kind;        /* the report's kind */
    char *scanned_at;
    char *os;          /* "debian 12", or NULL */
    unsigned caps;
    size_t nfindings;
} sp_input;

typedef struct sp_finding {
    size_t input;
    char *id, *kind, *title, *section, *where, *evidence, *remediation;
    mm_severity sev;
} sp_finding;

typedef struct sp_rowres {
    mm_sprow_state state;
    size_t findings, shown;
    char *evidence;
} sp_rowres;

struct mm_spreport {
    mm_spreport_limits lim;
    sp_input *in;
    size_t nin, capin;
    sp_finding *f;
    size_t nf, capf;
    unsigned sevmask;
    bool computed;
    sp_rowres *rows;   /* mm_sprow_count() entries once computed */
};

/* Forgets the computed rows (an input was added, the filter changed). */
void mm_sp_invalidate(mm_spreport *r);
/* Computes the rows (once, after the last input). */
void mm_sp_compute(mm_spreport *r);
/* Is finding f shown under the severity filter? */
bool mm_sp_shown(const mm_spreport *r, const sp_finding *f);
/* The title of a section ("Image vulnerabilities"), or NULL. */
const char *mm_sp_section_title(const char *section);
/* Findings' indexes grouped by section (ordered 3.1.1 < 3.1.2 < ... with
 * unknown sections last), each group by severity then id; only shown ones.
 * *groups receives ngroups start offsets into *idx (plus a final one). */
void mm_sp_group(const mm_spreport *r, size_t **idx, size_t **groups,
                 size_t *ngroups);

int mm_sp_write_html(FILE *out, mm_spreport *r, const mm_spreport_opts *o);
int mm_sp_write_json(FILE *out, mm_spreport *r, const mm_spreport_opts *o);

#endif
