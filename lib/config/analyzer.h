/*
 * config/analyzer.h - the image misconfiguration checks (MM-IMG-*) as an
 * analyzer of the scan pipeline's single pass (lib/scan).  No options: the
 * pipeline includes it when MM_SCANNER_MISCONFIG is on.
 */
#ifndef MM_CONFIG_ANALYZER_H
#define MM_CONFIG_ANALYZER_H

#include "image/analyzer.h"

extern const mm_analyzer_ops mm_analyzer_misconfig;

#endif
