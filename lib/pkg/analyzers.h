/*
 * pkg/analyzers.h - the inventory analyzers of lib/pkg, one per package
 * manager or language ecosystem, for the scan pipeline's table (lib/scan).
 * None takes options (create()'s config is NULL).  The OS analyzer must
 * finish first: the others (and purls) need the distribution.
 */
#ifndef MM_PKG_ANALYZERS_H
#define MM_PKG_ANALYZERS_H

#include "image/analyzer.h"

extern const mm_analyzer_ops mm_analyzer_os;
extern const mm_analyzer_ops mm_analyzer_dpkg;
extern const mm_analyzer_ops mm_analyzer_apk;
extern const mm_analyzer_ops mm_analyzer_rpm;
extern const mm_analyzer_ops mm_analyzer_python;
extern const mm_analyzer_ops mm_analyzer_npm;
extern const mm_analyzer_ops mm_analyzer_gobin;
extern const mm_analyzer_ops mm_analyzer_java;
extern const mm_analyzer_ops mm_analyzer_gem;
extern const mm_analyzer_ops mm_analyzer_cargo;
extern const mm_analyzer_ops mm_analyzer_composer;

#endif
