/*
 * mamori/mamori.h - everything a front-end (cli/, server/, agent/) may use.
 */
#ifndef MAMORI_MAMORI_H
#define MAMORI_MAMORI_H
#include "mamori/common.h"
#include "mamori/pkg.h"
#include "mamori/finding.h"
#include "mamori/scan.h"
#include "mamori/report.h"
#include "mamori/sp800190.h"
#include "mamori/store.h"
#include "mamori/registry.h"
#include "mamori/trust.h"
#include "mamori/policy.h"
#include "mamori/regscan.h"
#include "mamori/k8s.h"
#endif
