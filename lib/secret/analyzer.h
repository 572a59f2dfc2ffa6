/*
 * secret/analyzer.h - the clear-text secret scanner as an analyzer of the
 * scan pipeline's single pass (lib/scan), with what the pipeline gives it.
 */
#ifndef MM_SECRET_ANALYZER_H
#define MM_SECRET_ANALYZER_H

#include "mamori/secret.h"
#include "image/analyzer.h"

typedef struct mm_secret_config {
    const mm_secret_rules *rules;   /* compiled; borrowed for the scan */
    bool scan_binaries;             /* --secret-scan-binaries */
} mm_secret_config;

/* create() takes a const mm_secret_config *. */
extern const mm_analyzer_ops mm_analyzer_secret;

#endif
