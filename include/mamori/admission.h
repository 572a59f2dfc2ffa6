/*
 * mamori/admission.h - deploy-time enforcement: the verdicts of the
 * Kubernetes ValidatingAdmissionWebhook and of Docker's authorization
 * plugin, from the existing policy files (SP 800-190 §3.1/§3.2: the image
 * gate of mamori/policy.h at the moment of deploy; §3.3: Pod Security
 * levels, privileged containers, host namespaces, sensitive mounts).
 *
 * The transport (HTTPS, a Unix socket) is the caller's: these functions
 * take a request body and give the response body, so that the decisions
 * are tested without a server.  Bodies are untrusted: capped
 * (MM_ADM_MAX_BODY), closed-shape parsing, a clear error for anything else.
 *
 * - AdmissionReview (admission.k8s.io/v1 and v1beta1): the object's images
 *   (a Pod, or the pod template of a workload) through the policy gate,
 *   its pod spec against a Pod Security level; modes enforce (deny),
 *   warn (allowed, with `warnings`) and audit (allowed, with
 *   `auditAnnotations`); exempt namespaces allowed untouched.  Image
 *   decisions are cached for a TTL by reference and the digest it
 *   resolves to (a HEAD, itself cached briefly), per decider (one policy).
 * - Docker AuthZ (AuthZPlugin.AuthZReq): container create and exec, image
 *   pull; privileged, host namespaces, dangerous capabilities, unconfined
 *   profiles and sensitive host mounts are refused; a request that should
 *   carry a body whose body the plugin did not get is refused (the
 *   CVE-2024-41110 pattern: dockerd forwarded no body, so the plugin cannot
 *   judge it).
 */
#ifndef MAMORI_ADMISSION_H
#define MAMORI_ADMISSION_H

#include "mamori/common.h"
#include "mamori/finding.h"
#include "mamori/httpd.h"
#include "mamori/k8s.h"
#include "mamori/policy.h"
#include "mamori/registry.h"
#include "mamori/scan.h"
#include "mamori/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MM_ADM_MAX_BODY (3u << 20)   /* the API server's own request cap */

typedef enum mm_adm_mode {
    MM_ADM_ENFORCE = 0,   /* violations deny */
    MM_ADM_WARN,          /* allowed; violations as AdmissionReview warnings */
    MM_ADM_AUDIT,         /* allowed; violations as audit annotations only */
} mm_adm_mode;

int mm_adm_mode_parse(mm_adm_mode *out, const char *s);
const char *mm_adm_mode_name(mm_adm_mode m);

struct mm_adm_verdict;

/* What the webhook and the plugin decide with.  Borrowed pointers. */
typedef struct mm_adm_config {
    mm_adm_mode mode;
    const mm_policy *policy;        /* the image gate; NULL = no image checks */
    mm_policy_env env;              /* what the gate consults (store, registry) */
    unsigned k8s_checks;            /* more mamori k8s checks on the object
                                       (MM_K8S_CHECK_WORKLOAD ...; 0 = none):
                                       findings at workload_min or above are
                                       violations */
    mm_severity workload_min;       /* default HIGH */
    bool placement;                 /* sensitivity placement (SP 800-190
                                       §3.3.5): a workload labelled
                                       sensitivity_label=S must select nodes
                                       with the same label and value */
    const char *sensitivity_label;  /* default "mamori.io/sensitivity" */
    bool pss;                       /* check the Pod Security level */
    mm_pss_level pss_level;         /* default baseline */
    int pss_version;                /* 0 = latest */
    const char *const *exempt_namespaces;  /* allowed untouched (globs) */
    size_t nexempt;
    int64_t cache_ttl_s;            /* image decisions; 0 = 300, <0 = no cache */
    int64_t resolve_ttl_s;          /* tag -> digest (HEAD) cached; 0 = 60 */
    const mm_pipeline_opts *scan;   /* an image never scanned is scanned
                                       (recorded in the store the gate
                                       reads) and the request waits for it
                                       at most scan_budget_ms; NULL = no */
    int scan_budget_ms;             /* default 8000 (timeoutSeconds 10 - 2) */
    bool allow_unscanned;           /* an image never scanned is allowed with a
                                       warning naming it (scan it later);
                                       default: a violation.  Never cached. */
    /* Docker AuthZ */
    const char *const *sensitive_mounts;   /* host paths (and below) refused;
                                              NULL = the built-in list */
    size_t nsensitive;
    mm_store *record;               /* keep every decision here (key
                                       "admission:<uid>", findings =
                                       violations); NULL = not kept.  Its
                                       own store, not the one env reads. */
    /* told of every decision the HTTP handler makes (kind "admission" or
     * "authz"; v NULL and err set for a malformed request); called on the
     * server's threads */
    void (*on_verdict)(void *ud, const char *kind, const struct mm_adm_verdict *v,
                       const char *err);
    void *on_verdict_ud;
} mm_adm_config;

void mm_adm_config_init(mm_adm_config *c);

/* The decider: the config, and the cache of image decisions (thread-safe:
 * one per server, shared by its threads). */
typedef struct mm_admission mm_admission;

int mm_admission_new(mm_admission **out, const mm_adm_config *c);
void mm_admission_free(mm_admission *a);

/* One decision, for the response and the finding the caller stores. */
typedef struct mm_adm_verdict {
    bool allowed;              /* what the response says */
    bool violation;            /* something was wrong (denied or not) */
    bool exempt;               /* an exempt namespace */
    char *uid;                 /* the request uid (AdmissionReview) */
    char *message;             /* every violation, "; "-joined (or NULL) */
    char **violations;         /* one line each */
    size_t nviolations;
    char **notes;              /* allowed, but said: an unscanned image */
    size_t nnotes;
    size_t cache_hits;         /* image decisions from the cache */
} mm_adm_verdict;

void mm_adm_verdict_free(mm_adm_verdict *v);

/* An AdmissionReview request body -> the AdmissionReview response body
 * (*resp, caller frees; same apiVersion as the request) and the verdict.
 * MM_EFORMAT / MM_ELIMIT for a body that is not an AdmissionReview request
 * (the message names the field); nothing is decided then. */
int mm_admission_review(mm_admission *a, const char *body, size_t len, char **resp,
                        mm_adm_verdict **verdict);

/* A Docker AuthZ plugin request (/AuthZPlugin.AuthZReq body) -> the
 * response body {"Allow":..,"Msg":..,"Err":..} and the verdict.  A body
 * that is not an AuthZ request gives a response with Err set (dockerd then
 * refuses the request) and MM_EFORMAT. */
int mm_admission_authz(mm_admission *a, const char *body, size_t len, char **resp,
                       mm_adm_verdict **verdict);

/* The ValidatingWebhookConfiguration, Service and Deployment (YAML, one
 * stream) for running `mamori admission serve` in a cluster. */
typedef struct mm_adm_manifest_opts {
    const char *name;          /* default "mamori-admission" */
    const char *namespace_;    /* default "mamori-system" */
    const char *image;         /* default "ghcr.io/mamori/mamori:latest" */
    const char *ca_bundle_pem; /* the CA of the serving certificate (PEM) */
    int timeout_s;             /* webhook timeoutSeconds (1..30, default 10) */
    const char *failure_policy;/* Fail (default) or Ignore */
    mm_adm_mode mode;
    const char *const *exempt_namespaces;
    size_t nexempt;
} mm_adm_manifest_opts;

char *mm_admission_manifests(const mm_adm_manifest_opts *o);

/* The lib/httpd handler (ctx: the mm_admission): /validate (AdmissionReview),
 * /healthz, and Docker's plugin endpoints /Plugin.Activate,
 * /AuthZPlugin.AuthZReq, /AuthZPlugin.AuthZRes.  Bad requests get 400 (the
 * webhook) or an answer with Err (the plugin); the server keeps serving. */
void mm_admission_http(void *ctx, const mm_http_req *req, mm_http_resp *resp);

#ifdef __cplusplus
}
#endif
#endif
