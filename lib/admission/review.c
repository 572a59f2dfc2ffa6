/*
 * review.c - the Kubernetes side of deploy-time enforcement: an
 * AdmissionReview request (admission.k8s.io/v1 or v1beta1) parsed into the
 * object under review, its images judged by the policy gate (cached per
 * reference for a TTL), its pod spec by the Pod Security level, and the
 * AdmissionReview response written in the request's apiVersion: denied
 * with a 403 Status (enforce), allowed with `warnings` (warn) or with
 * `auditAnnotations` (audit).  Also the decider object and its config.
 */
#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "admission/admission_int.h"

static const char *const mode_names[] = {"enforce", "warn", "audit"};

int mm_adm_mode_parse(mm_adm_mode *out, const char *s)
{
    for (int i = 0; i < 3; i++)
        if (s && !strcmp(s, mode_names[i])) {
            *out = (mm_adm_mode)i;
            return 0;
        }
    return mm_error_set(MM_EINVAL, "mode '%s': enforce, warn or audit", s ? s : "");
}

const char *mm_adm_mode_name(mm_adm_mode m)
{
    return (unsigned)m < 3 ? mode_names[m] : "enforce";
}

void mm_adm_config_init(mm_adm_config *c)
{
    memset(c, 0, sizeof *c);
    c->mode = MM_ADM_ENFORCE;
    c->pss = true;
    c->pss_level = MM_PSS_BASELINE;
    c->workload_min = MM_SEV_HIGH;
}

int mm_admission_new(mm_admission **out, const mm_adm_config *c)
{
    mm_admission *a = mm_xcalloc(1, sizeof *a);
    if (c)
        a->c = *c;
    else
        mm_adm_config_init(&a->c);
    pthread_mutex_init(&a->mu, NULL);
    pthread_mutex_init(&a->check_mu, NULL);
    pthread_mutex_init(&a->record_mu, NULL);
    pthread_mutex_init(&a->job_mu, NULL);
    pthread_cond_init(&a->job_cv, NULL);
    if (a->c.scan && a->c.scan_budget_ms <= 0)
        a->c.scan_budget_ms = 8000;
    *out = a;
    return 0;
}

static void centry_free(adm_centry *e)
{
    free(e->key);
    mm_strv_free(e->msgs, e->nmsgs);
}

void mm_admission_free(mm_admission *a)
{
    if (!a)
        return;
    adm_jobs_free(a);
    pthread_mutex_destroy(&a->job_mu);
    pthread_cond_destroy(&a->job_cv);
    for (size_t i = 0; i < a->ncache; i++)
        centry_free(&a->cache[i]);
    free(a->cache);
    pthread_mutex_destroy(&a->mu);
    pthread_mutex_destroy(&a->check_mu);
    pthread_mutex_destroy(&a->record_mu);
    free(a);
}

void mm_adm_verdict_free(mm_adm_verdict *v)
{
    if (!v)
        return;
    free(v->uid);
    free(v->message);
    mm_strv_free(v->violations, v->nviolations);
    mm_strv_free(v->notes, v->nnotes);
    free(v);
}

void adm_violation(mm_adm_verdict *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = mm_xvasprintf(fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < v->nviolations; i++)
        if (!strcmp(v->violations[i], s)) {
            free(s);
            return;
        }
    mm_strv_push(&v->violations, &v->nviolations, s);
    free(s);
    v->violation = true;
}

void adm_finish(const mm_admission *a, mm_adm_verdict *v)
{
    v->allowed = !v->violation || a->c.mode != MM_ADM_ENFORCE;
    if (v->nviolations) {
        mm_buf b = MM_BUF_INIT;
        for (size_t i = 0; i < v->nviolations; i++) {
            if (i)
                mm_buf_adds(&b, "; ");
            mm_buf_adds(&b, v->violations[i]);
        }
        v->message = mm_buf_detach(&b);
    }
}

static int64_t now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* Puts key -> msgs (taken) in the cache, replacing an expired entry or
 * the oldest when full.  Under a->mu. */
static void cache_put(mm_admission *a, const char *key, int64_t expires, char **msgs, size_t n,
                      int64_t t)
{
    size_t slot = a->ncache;
    for (size_t i = 0; i < a->ncache; i++)
        if (a->cache[i].expires <= t || !strcmp(a->cache[i].key, key)) {
            slot = i;
            centry_free(&a->cache[i]);
            break;
        }
    if (slot == a->ncache) {
        if (a->ncache >= ADM_CACHE_MAX) {   /* full: drop the oldest */
            slot = 0;
            for (size_t i = 1; i < a->ncache; i++)
                if (a->cache[i].expires < a->cache[slot].expires)
                    slot = i;
            centry_free(&a->cache[slot]);
        } else {
            a->cache = mm_xrealloc(a->cache, (a->ncache + 1) * sizeof *a->cache);
            a->ncache++;
        }
    }
    a->cache[slot] = (adm_centry){mm_xstrdup(key), expires, msgs, n};
}

static char *image_key(mm_admission *a, const char *image, int64_t t);

/* The key of a cached image decision: the policy's digest and the image
 * ("POLICY-DIGEST|REF@DIGEST"), so that a decision is never reused under
 * another policy. */
static char *decision_key(mm_admission *a, const char *image, int64_t t)
{
    char *ik = image_key(a, image, t);
    const char *pd = a->c.policy ? mm_policy_digest(a->c.policy) : NULL;
    char *key = mm_xasprintf("%s|%s", pd ? pd : "-", ik);
    free(ik);
    return key;
}

/* The image part of a decision's key: a registry reference is resolved to
 * its digest (HEAD on the manifest, itself cached for resolve_ttl), so
 * that a tag moved to another image is judged again; "REF@DIGEST".  A
 * local archive, or a reference that cannot be resolved, is keyed as
 * written (the check then says why). */
static char *image_key(mm_admission *a, const char *image, int64_t t)
{
    if (!a->c.env.registry || !mm_imageref_is_remote(image))
        return mm_xstrdup(image);
    mm_imageref *ref = NULL;
    if (mm_imageref_parse(&ref, image) < 0) {
        mm_error_clear();
        return mm_xstrdup(image);
    }
    char *norm = mm_imageref_format(ref);
    if (ref->digest) {
        mm_imageref_free(ref);
        return norm;
    }
    char *tkey = mm_xasprintf("tag:%s", norm);
    char *key = NULL;
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; i < a->ncache && !key; i++)
        if (!strcmp(a->cache[i].key, tkey) && a->cache[i].expires > t && a->cache[i].nmsgs)
            key = mm_xasprintf("%s@%s", norm, a->cache[i].msgs[0]);
    pthread_mutex_unlock(&a->mu);
    if (!key) {
        char dg[72];
        pthread_mutex_lock(&a->check_mu);
        int rc = mm_registry_resolve(a->c.env.registry, ref, dg);
        pthread_mutex_unlock(&a->check_mu);
        if (rc == 0) {
            key = mm_xasprintf("%s@%s", norm, dg);
            int64_t rttl = a->c.resolve_ttl_s ? a->c.resolve_ttl_s : 60;
            if (rttl > 0) {
                char **d = NULL;
                size_t nd = 0;
                mm_strv_push(&d, &nd, dg);
                pthread_mutex_lock(&a->mu);
                cache_put(a, tkey, t + rttl, d, nd, t);
                pthread_mutex_unlock(&a->mu);
            }
        } else {
            mm_error_clear();
            key = mm_xstrdup(image);
        }
    }
    free(tkey);
    free(norm);
    mm_imageref_free(ref);
    return key;
}

/* The gate's verdict on one image: its deny reasons appended to v (none:
 * allowed).  Cached by reference and digest for the TTL. */
void adm_image(mm_admission *a, const char *image, mm_adm_verdict *v)
{
    if (!a->c.policy)
        return;
    int64_t ttl = a->c.cache_ttl_s ? a->c.cache_ttl_s : 300;
    int64_t t = now_s();
    char *key = ttl > 0 ? decision_key(a, image, t) : NULL;
    if (ttl > 0) {
        pthread_mutex_lock(&a->mu);
        for (size_t i = 0; i < a->ncache; i++) {
            adm_centry *e = &a->cache[i];
            if (strcmp(e->key, key) || e->expires <= t)
                continue;
            for (size_t k = 0; k < e->nmsgs; k++)
                adm_violation(v, "%s", e->msgs[k]);
            v->cache_hits++;
            pthread_mutex_unlock(&a->mu);
            free(key);
            return;
        }
        pthread_mutex_unlock(&a->mu);
    }
    char **msgs = NULL;
    size_t n = 0;
    mm_policy_decision *d = NULL;
    pthread_mutex_lock(&a->check_mu);
    int rc = mm_policy_check(&d, a->c.policy, image, &a->c.env);
    char err[512];
    snprintf(err, sizeof err, "%s", rc < 0 ? mm_error_last() : "");
    pthread_mutex_unlock(&a->check_mu);
    char scan_note[300] = "";
    if (rc == 0 && !d->allow && !d->scanned_at && a->c.scan) {
        /* never scanned: scan it now, within the budget */
        char serr[256];
        if (adm_scan_wait(a, image, serr, sizeof serr) == 0) {
            mm_policy_decision_free(d);
            d = NULL;
            pthread_mutex_lock(&a->check_mu);
            rc = mm_policy_check(&d, a->c.policy, image, &a->c.env);
            snprintf(err, sizeof err, "%s", rc < 0 ? mm_error_last() : "");
            pthread_mutex_unlock(&a->check_mu);
        } else {
            snprintf(scan_note, sizeof scan_note, " - scanned at admission: %s", serr);
        }
    }
    bool cache = rc == 0;
    char **notes = NULL;
    size_t nnotes = 0;
    if (rc < 0) {
        char *m = mm_xasprintf("image %s: could not be checked: %s", image, err);
        mm_strv_push(&msgs, &n, m);
        free(m);
    } else if (!d->allow) {
        for (size_t i = 0; i < d->nreasons; i++) {
            if (!d->reasons[i].deny)
                continue;
            bool unscanned = !strcmp(d->reasons[i].rule, "scan");
            char *m = mm_xasprintf("image %s: %s (%s)%s", image, d->reasons[i].message,
                                   d->reasons[i].rule,
                                   !strcmp(d->reasons[i].rule, "scan") ? scan_note : "");
            if (unscanned)
                cache = false;  /* it will be scanned: ask again next time */
            if (unscanned && a->c.allow_unscanned)
                mm_strv_push(&notes, &nnotes, m);
            else
                mm_strv_push(&msgs, &n, m);
            free(m);
        }
        if (!n && !nnotes)
            mm_strv_push(&msgs, &n, "image denied by policy");
    }
    mm_policy_decision_free(d);
    for (size_t k = 0; k < n; k++)
        adm_violation(v, "%s", msgs[k]);
    for (size_t k = 0; k < nnotes; k++) {
        char *m = mm_xasprintf("%s; allowed until it is scanned (allow_unscanned)", notes[k]);
        mm_strv_push(&v->notes, &v->nnotes, m);
        free(m);
    }
    mm_strv_free(notes, nnotes);
    if (ttl > 0 && cache) {
        pthread_mutex_lock(&a->mu);
        cache_put(a, key, t + ttl, msgs, n, t);
        pthread_mutex_unlock(&a->mu);
    } else {
        mm_strv_free(msgs, n);
    }
    free(key);
}

static bool exempt(const mm_admission *a, const char *ns)
{
    for (size_t i = 0; ns && i < a->c.nexempt; i++)
        if (a->c.exempt_namespaces[i] && fnmatch(a->c.exempt_namespaces[i], ns, 0) == 0)
            return true;
    return false;
}

static void images_of(const json_t *spec, const char *key, char ***out, size_t *n)
{
    size_t i;
    json_t *ct;
    json_array_foreach(json_object_get(spec, key), i, ct) {
        const char *img = json_string_value(json_object_get(ct, "image"));
        if (!img || !*img)
            continue;
        bool seen = false;
        for (size_t k = 0; k < *n && !seen; k++)
            seen = !strcmp((*out)[k], img);
        if (!seen)
            mm_strv_push(out, n, img);
    }
}

/* Does the pod spec pin its pods to nodes labelled key=val: a nodeSelector
 * with it, or every required node-affinity term holding `key In [val]`
 * (only that value)? */
static bool selects_level(const json_t *spec, const char *key, const char *val)
{
    const char *ns = json_string_value(json_object_get(json_object_get(spec, "nodeSelector"),
                                                       key));
    if (ns && !strcmp(ns, val))
        return true;
    const json_t *req = json_object_get(json_object_get(json_object_get(spec, "affinity"),
                                                        "nodeAffinity"),
                                        "requiredDuringSchedulingIgnoredDuringExecution");
    const json_t *nst = json_object_get(req, "nodeSelectorTerms");
    if (!json_array_size(nst))
        return false;
    size_t i;
    json_t *t;
    json_array_foreach(nst, i, t) {   /* terms are ORed: each must pin */
        bool pinned = false;
        size_t k;
        json_t *e;
        json_array_foreach(json_object_get(t, "matchExpressions"), k, e) {
            const char *ek = json_string_value(json_object_get(e, "key"));
            const char *op = json_string_value(json_object_get(e, "operator"));
            const json_t *vals = json_object_get(e, "values");
            if (ek && op && !strcmp(ek, key) && !strcmp(op, "In") && json_array_size(vals) == 1 &&
                json_string_value(json_array_get(vals, 0)) &&
                !strcmp(json_string_value(json_array_get(vals, 0)), val))
                pinned = true;
        }
        if (!pinned)
            return false;
    }
    return true;
}

static void placement(const mm_admission *a, const json_t *obj, const json_t *tmeta,
                      const json_t *spec, mm_adm_verdict *v)
{
    const char *key = a->c.sensitivity_label ? a->c.sensitivity_label : "mamori.io/sensitivity";
    const char *lv = json_string_value(json_object_get(json_object_get(tmeta, "labels"), key));
    if (!lv)
        lv = json_string_value(json_object_get(json_object_get(json_object_get(obj, "metadata"),
                                                               "labels"), key));
    if (!lv || !*lv)
        return;
    if (!selects_level(spec, key, lv))
        adm_violation(v, "sensitivity \"%s\": the pods do not select nodes labelled %s=%s "
                      "(nodeSelector or required node affinity; SP 800-190 3.3.5)", lv, key, lv);
}

/* The object's pod spec: images and Pod Security. */
static void judge_object(mm_admission *a, json_t *obj, const char *ns, mm_adm_verdict *v)
{
    mm_k8s_set *set;
    if (mm_k8s_set_new(&set, NULL))
        return;
    if (ns && !json_object_get(json_object_get(obj, "metadata"), "namespace")) {
        /* the API server fills the namespace from the request */
        json_t *meta = json_object_get(obj, "metadata");
        if (json_is_object(meta))
            json_object_set_new(meta, "namespace", json_string(ns));
    }
    if (mm_k8s_add_json(set, obj, "admission") || mm_k8s_count(set) != 1) {
        mm_k8s_set_free(set);
        return;
    }
    const mm_k8s_object *o = mm_k8s_get(set, 0);
    const json_t *meta, *spec;
    const char *prefix;
    if (!mm_k8s_pod_template(o, &meta, &spec, &prefix)) {
        mm_k8s_set_free(set);
        return;
    }
    char **imgs = NULL;
    size_t ni = 0;
    images_of(spec, "initContainers", &imgs, &ni);
    images_of(spec, "containers", &imgs, &ni);
    images_of(spec, "ephemeralContainers", &imgs, &ni);
    if (ni > ADM_MAX_IMAGES) {
        adm_violation(v, "%zu images in one pod spec (cap %d)", ni, ADM_MAX_IMAGES);
        ni = ADM_MAX_IMAGES;
    }
    for (size_t i = 0; i < ni; i++)
        adm_image(a, imgs[i], v);
    mm_strv_free(imgs, ni);
    if (a->c.placement)
        placement(a, obj, meta, spec, v);
    if (a->c.k8s_checks) {
        mm_k8s_check_opts co;
        mm_k8s_check_opts_init(&co);
        co.checks = a->c.k8s_checks & ~(unsigned)MM_K8S_CHECK_PSS;  /* PSS: below */
        mm_findings *fs = NULL;
        if (co.checks && mm_findings_new(&fs) == 0 && mm_k8s_check(set, &co, fs) == 0) {
            for (size_t i = 0; i < mm_findings_count(fs); i++) {
                const mm_finding *f = mm_findings_get(fs, i);
                if (f->severity >= a->c.workload_min)
                    adm_violation(v, "%s %s: %s", f->id, mm_severity_name(f->severity),
                                  f->title ? f->title : "");
            }
        }
        mm_findings_free(fs);
    }
    if (a->c.pss) {
        char **ids = NULL;
        size_t nids = 0;
        if (mm_k8s_pss_evaluate(set, 0, a->c.pss_level, a->c.pss_version, &ids, &nids) == 0 &&
            nids) {
            mm_buf b = MM_BUF_INIT;
            for (size_t i = 0; i < nids; i++) {
                if (i)
                    mm_buf_adds(&b, ", ");
                mm_buf_adds(&b, ids[i]);
            }
            static const char *const lv[] = {"privileged", "baseline", "restricted"};
            adm_violation(v, "violates Pod Security \"%s\": %s", lv[a->c.pss_level], b.data);
            mm_buf_free(&b);
        }
        mm_strv_free(ids, nids);
    }
    mm_k8s_set_free(set);
}

static json_t *response_doc(const mm_admission *a, const char *api_version, const char *uid,
                            const mm_adm_verdict *v)
{
    json_t *r = json_object();
    json_object_set_new(r, "uid", json_string(uid));
    json_object_set_new(r, "allowed", json_boolean(v->allowed));
    if (!v->allowed) {
        char *m = mm_xasprintf("mamori: %s", v->message ? v->message : "denied by policy");
        json_object_set_new(r, "status", json_pack("{s:s,s:s,s:s,s:i}", "status", "Failure",
                                                   "message", m, "reason", "Forbidden",
                                                   "code", 403));
        free(m);
    }
    if (v->allowed && ((v->violation && a->c.mode == MM_ADM_WARN) || v->nnotes)) {
        json_t *w = json_array();
        for (size_t i = 0; a->c.mode == MM_ADM_WARN && i < v->nviolations; i++) {
            char *m = mm_xasprintf("mamori: %s", v->violations[i]);
            json_array_append_new(w, json_string(m));
            free(m);
        }
        for (size_t i = 0; i < v->nnotes; i++) {
            char *m = mm_xasprintf("mamori: %s", v->notes[i]);
            json_array_append_new(w, json_string(m));
            free(m);
        }
        json_object_set_new(r, "warnings", w);
    }
    if (v->violation) {
        json_t *ann = json_object();
        json_object_set_new(ann, "mamori.io/violations", json_string(v->message));
        json_object_set_new(ann, "mamori.io/mode", json_string(mm_adm_mode_name(a->c.mode)));
        json_object_set_new(r, "auditAnnotations", ann);
    }
    return json_pack("{s:s,s:s,s:o}", "apiVersion", api_version, "kind", "AdmissionReview",
                     "response", r);
}

int mm_admission_review(mm_admission *a, const char *body, size_t len, char **resp,
                        mm_adm_verdict **verdict)
{
    *resp = NULL;
    if (verdict)
        *verdict = NULL;
    if (len > MM_ADM_MAX_BODY)
        return mm_error_set(MM_ELIMIT, "AdmissionReview of %zu bytes (cap %u)", len,
                            MM_ADM_MAX_BODY);
    json_error_t je;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!doc)
        return mm_error_set(MM_EFORMAT, "AdmissionReview: not JSON: %s (offset %d)", je.text,
                            je.position);
    int rc = 0;
    const char *av = json_string_value(json_object_get(doc, "apiVersion"));
    const char *kind = json_string_value(json_object_get(doc, "kind"));
    json_t *req = json_object_get(doc, "request");
    const char *uid = json_string_value(json_object_get(req, "uid"));
    if (!json_is_object(doc) || !kind || strcmp(kind, "AdmissionReview")) {
        rc = mm_error_set(MM_EFORMAT, "AdmissionReview: field \"kind\" is not AdmissionReview");
    } else if (!av || (strcmp(av, "admission.k8s.io/v1") && strcmp(av, "admission.k8s.io/v1beta1"))) {
        rc = mm_error_set(MM_EFORMAT, "AdmissionReview: field \"apiVersion\" %s%s%s is not "
                          "admission.k8s.io/v1 or v1beta1", av ? "\"" : "", av ? av : "absent",
                          av ? "\"" : "");
    } else if (!json_is_object(req)) {
        rc = mm_error_set(MM_EFORMAT, "AdmissionReview: field \"request\" is missing");
    } else if (!uid || !*uid || strlen(uid) > 128) {
        rc = mm_error_set(MM_EFORMAT, "AdmissionReview: field \"request.uid\" is missing or "
                          "not a short string");
    }
    json_t *obj = json_object_get(req, "object");
    const char *op = json_string_value(json_object_get(req, "operation"));
    const char *ns = json_string_value(json_object_get(req, "namespace"));
    if (!rc && obj && !json_is_object(obj) && !json_is_null(obj))
        rc = mm_error_set(MM_EFORMAT, "AdmissionReview: field \"request.object\" is not an "
                          "object");
    if (rc) {
        json_decref(doc);
        return rc;
    }
    mm_adm_verdict *v = mm_xcalloc(1, sizeof *v);
    v->uid = mm_xstrdup(uid);
    if (exempt(a, ns))
        v->exempt = true;
    else if (json_is_object(obj) && (!op || !strcmp(op, "CREATE") || !strcmp(op, "UPDATE")))
        judge_object(a, obj, ns, v);
    adm_finish(a, v);
    if (a->c.record) {
        const json_t *meta = json_object_get(obj, "metadata");
        const char *name = json_string_value(json_object_get(meta, "name"));
        if (!name)
            name = json_string_value(json_object_get(meta, "generateName"));
        const char *okind = json_string_value(json_object_get(obj, "kind"));
        char *target = mm_xasprintf("%s/%s/%s", ns ? ns : "-", okind ? okind : "-",
                                    name ? name : "-");
        adm_record(a, "admission", target, v);
        free(target);
    }
    json_t *out = response_doc(a, av, uid, v);
    *resp = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(out);
    json_decref(doc);
    if (verdict)
        *verdict = v;
    else
        mm_adm_verdict_free(v);
    return 0;
}
