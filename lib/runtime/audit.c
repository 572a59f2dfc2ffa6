/*
 * audit.c - Kubernetes audit events as rule-engine events: parsing an audit
 * Event or EventList (JSON) into MM_EVT_K8S_AUDIT events, and the fields
 * that rules of `source: k8s_audit` read from them - Falco's k8s-audit
 * fields (`ka.*`, as the k8saudit plugin defines them) and the generic JSON
 * ones (`jevt.value[/json/pointer]`, `jevt.obj`, `jevt.time`,
 * `jevt.rawtime`).  Fields that name several things (every container's
 * image) are lists: `in` needs every value in the set, `intersects` one.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mamori/audit.h"
#include "runtime/runtime_int.h"

struct mm_audit_event {
    json_t *root;          /* borrowed from the batch */
};

struct mm_audit_batch {
    json_t *doc;
    mm_audit_event *aev;
    mm_event *ev;
    size_t n;
};

#define MAX_DEPTH 64

static int depth_ok(const json_t *j, int d)
{
    if (d > MAX_DEPTH)
        return 0;
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)j, k, v) if (!depth_ok(v, d + 1)) return 0;
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) if (!depth_ok(v, d + 1)) return 0;
    }
    return 1;
}

/* An audit.k8s.io Event: kind Event (or no kind) with the keys every
 * event has. */
static bool is_event(const json_t *j)
{
    if (!json_is_object(j))
        return false;
    json_t *kind = json_object_get(j, "kind");
    if (kind && (!json_is_string(kind) || strcmp(json_string_value(kind), "Event")))
        return false;
    return json_is_string(json_object_get(j, "stage")) &&
           json_is_string(json_object_get(j, "verb")) &&
           json_is_string(json_object_get(j, "auditID"));
}

static int64_t event_time(const json_t *j)
{
    static const char *const keys[] = {"stageTimestamp", "requestReceivedTimestamp",
                                       "timestamp"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *s = json_string_value(json_object_get(j, keys[i]));
        int64_t t;
        if (s && mm_time_parse_rfc3339(s, &t) == 0 && t >= 0 && t < 9000000000LL) {
            /* seconds from the parser; the fraction (up to ns) from the text */
            int64_t ns = 0;
            const char *dot = strchr(s, '.');
            if (dot && dot > strchr(s, 'T')) {
                int k = 0;
                for (dot++; k < 9 && *dot >= '0' && *dot <= '9'; dot++, k++)
                    ns = ns * 10 + (*dot - '0');
                for (; k < 9; k++)
                    ns *= 10;
            }
            return t * 1000000000LL + ns;
        }
    }
    return 0;
}

int mm_audit_batch_parse(mm_audit_batch **out, const char *text, size_t len)
{
    *out = NULL;
    if (len > MM_AUDIT_MAX_TEXT)
        return mm_error_set(MM_ELIMIT, "audit event of %zu bytes (cap %u)", len,
                            MM_AUDIT_MAX_TEXT);
    json_error_t je;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!doc)
        return mm_error_set(MM_EFORMAT, "not JSON: %s (column %d)", je.text, je.column);
    if (!depth_ok(doc, 0)) {
        json_decref(doc);
        return mm_error_set(MM_ELIMIT, "audit event nested deeper than %d", MAX_DEPTH);
    }
    json_t *items = NULL;
    const char *kind = json_string_value(json_object_get(doc, "kind"));
    if (kind && !strcmp(kind, "EventList")) {
        items = json_object_get(doc, "items");
        if (!json_is_array(items)) {
            json_decref(doc);
            return mm_error_set(MM_EFORMAT, "EventList without items");
        }
        if (json_array_size(items) > MM_AUDIT_MAX_ITEMS) {
            json_decref(doc);
            return mm_error_set(MM_ELIMIT, "EventList of %zu items (cap %u)",
                                json_array_size(items), MM_AUDIT_MAX_ITEMS);
        }
    } else if (!is_event(doc)) {
        json_decref(doc);
        return mm_error_set(MM_EFORMAT, "data not recognized as a k8s audit event");
    }
    mm_audit_batch *b = mm_xcalloc(1, sizeof *b);
    b->doc = doc;
    size_t n = items ? json_array_size(items) : 1;
    b->aev = mm_xcalloc(n ? n : 1, sizeof *b->aev);
    b->ev = mm_xcalloc(n ? n : 1, sizeof *b->ev);
    for (size_t i = 0; i < n; i++) {
        json_t *e = items ? json_array_get(items, i) : doc;
        if (!is_event(e)) {
            mm_audit_batch_free(b);
            return mm_error_set(MM_EFORMAT, "items[%zu]: data not recognized as a k8s "
                                "audit event", i);
        }
        b->aev[b->n].root = e;
        mm_event *ev = &b->ev[b->n];
        ev->type = MM_EVT_K8S_AUDIT;
        ev->ts = event_time(e);
        ev->audit = &b->aev[b->n];
        b->n++;
    }
    *out = b;
    return 0;
}

size_t mm_audit_batch_count(const mm_audit_batch *b)
{
    return b ? b->n : 0;
}

const mm_event *mm_audit_batch_event(const mm_audit_batch *b, size_t i)
{
    return b && i < b->n ? &b->ev[i] : NULL;
}

void mm_audit_batch_free(mm_audit_batch *b)
{
    if (!b)
        return;
    json_decref(b->doc);
    free(b->aev);
    free(b->ev);
    free(b);
}

/* ---- JSON pointers (RFC 6901) -------------------------------------------------------- */

static const json_t *jptr(const json_t *j, const char *p)
{
    if (!p || !*p)
        return j;
    if (*p != '/')
        return NULL;
    char tok[512];
    while (j && *p == '/') {
        p++;
        size_t n = 0;
        while (*p && *p != '/') {
            char c = *p++;
            if (c == '~') {
                if (*p == '0')
                    c = '~';
                else if (*p == '1')
                    c = '/';
                else
                    return NULL;
                p++;
            }
            if (n + 1 >= sizeof tok)
                return NULL;
            tok[n++] = c;
        }
        tok[n] = 0;
        if (json_is_object(j)) {
            j = json_object_get(j, tok);
        } else if (json_is_array(j)) {
            char *e;
            if (!n || (n > 1 && tok[0] == '0'))
                return NULL;
            unsigned long ix = strtoul(tok, &e, 10);
            if (*e)
                return NULL;
            j = json_array_get(j, ix);
        } else {
            return NULL;
        }
    }
    return j;
}

const char *mm_audit_event_str(const mm_audit_event *e, const char *json_pointer)
{
    if (!e)
        return NULL;
    return json_string_value(jptr(e->root, json_pointer));
}

/* ---- fields ---------------------------------------------------------------------------- */

enum {
    K_JEVT_TIME = MM_FID_AUDIT, K_JEVT_TIME_ISO, K_JEVT_RAWTIME, K_JEVT_VALUE, K_JEVT_OBJ,
    K_AUDITID, K_STAGE, K_AUTH_DECISION, K_AUTH_REASON, K_USER_NAME, K_USER_GROUPS,
    K_IMPUSER_NAME, K_VERB, K_URI, K_URI_PARAM, K_TARGET_NAME, K_TARGET_NS,
    K_TARGET_RESOURCE, K_TARGET_SUBRESOURCE, K_BINDING_SUBJECTS, K_BINDING_HAS_NAME,
    K_BINDING_ROLE, K_CM_NAME, K_CM_OBJ, K_POD_IMAGES, K_CT_IMAGE, K_POD_REPOS,
    K_CT_REPO, K_INIT_IMAGES, K_INIT_REPOS, K_EPH_IMAGES, K_EPH_REPOS, K_HOST_IPC,
    K_HOST_NETWORK, K_HOST_PID, K_CT_HOST_NETWORK, K_POD_PRIV, K_INIT_PRIV, K_EPH_PRIV,
    K_CT_PRIV, K_HOSTPATHS, K_VOLUME_HOSTPATH, K_HOST_PORTS, K_ADD_CAPS, K_APE,
    K_READONLY_FS, K_ROLE_RULES, K_ROLE_VERBS, K_ROLE_RESOURCES, K_ROLE_APIGROUPS,
    K_ROLE_NONRES, K_SVC_TYPE, K_SVC_PORTS, K_RESP_NAME, K_RESP_CODE, K_RESP_REASON,
    K_USERAGENT, K_SOURCEIPS,
};

#define L 1   /* list field */
static const mm_fdef afields[] = {
    {"jevt.time", K_JEVT_TIME, FT_STR, ARG_NONE, 0},
    {"jevt.time.iso8601", K_JEVT_TIME_ISO, FT_STR, ARG_NONE, 0},
    {"jevt.rawtime", K_JEVT_RAWTIME, FT_NUM, ARG_NONE, 0},
    {"jevt.value", K_JEVT_VALUE, FT_STR, ARG_KEY, 0},
    {"jevt.obj", K_JEVT_OBJ, FT_STR, ARG_NONE, 0},
    {"ka.auditid", K_AUDITID, FT_STR, ARG_NONE, 0},
    {"ka.stage", K_STAGE, FT_STR, ARG_NONE, 0},
    {"ka.auth.decision", K_AUTH_DECISION, FT_STR, ARG_NONE, 0},
    {"ka.auth.reason", K_AUTH_REASON, FT_STR, ARG_NONE, 0},
    {"ka.user.name", K_USER_NAME, FT_STR, ARG_NONE, 0},
    {"ka.user.groups", K_USER_GROUPS, FT_STR, ARG_NONE, L},
    {"ka.impuser.name", K_IMPUSER_NAME, FT_STR, ARG_NONE, 0},
    {"ka.verb", K_VERB, FT_STR, ARG_NONE, 0},
    {"ka.uri", K_URI, FT_STR, ARG_NONE, 0},
    {"ka.uri.param", K_URI_PARAM, FT_STR, ARG_KEY, 0},
    {"ka.target.name", K_TARGET_NAME, FT_STR, ARG_NONE, 0},
    {"ka.target.namespace", K_TARGET_NS, FT_STR, ARG_NONE, 0},
    {"ka.target.resource", K_TARGET_RESOURCE, FT_STR, ARG_NONE, 0},
    {"ka.target.subresource", K_TARGET_SUBRESOURCE, FT_STR, ARG_NONE, 0},
    {"ka.req.binding.subjects", K_BINDING_SUBJECTS, FT_STR, ARG_NONE, 0},
    {"ka.req.binding.subject.has_name", K_BINDING_HAS_NAME, FT_STR, ARG_KEY, 0},
    {"ka.req.binding.role", K_BINDING_ROLE, FT_STR, ARG_NONE, 0},
    {"ka.req.configmap.name", K_CM_NAME, FT_STR, ARG_NONE, 0},
    {"ka.req.configmap.obj", K_CM_OBJ, FT_STR, ARG_NONE, 0},
    {"ka.req.pod.containers.image", K_POD_IMAGES, FT_STR, ARG_NONE, L},
    {"ka.req.container.image", K_CT_IMAGE, FT_STR, ARG_NONE, 0},
    {"ka.req.pod.containers.image.repository", K_POD_REPOS, FT_STR, ARG_NONE, L},
    {"ka.req.container.image.repository", K_CT_REPO, FT_STR, ARG_NONE, 0},
    {"ka.req.pod.initContainers.image", K_INIT_IMAGES, FT_STR, ARG_NONE, L},
    {"ka.req.pod.initContainers.image.repository", K_INIT_REPOS, FT_STR, ARG_NONE, L},
    {"ka.req.pod.ephemeralContainers.image", K_EPH_IMAGES, FT_STR, ARG_NONE, L},
    {"ka.req.pod.ephemeralContainers.image.repository", K_EPH_REPOS, FT_STR, ARG_NONE, L},
    {"ka.req.pod.host_ipc", K_HOST_IPC, FT_STR, ARG_NONE, 0},
    {"ka.req.pod.host_network", K_HOST_NETWORK, FT_STR, ARG_NONE, 0},
    {"ka.req.pod.host_pid", K_HOST_PID, FT_STR, ARG_NONE, 0},
    {"ka.req.container.host_network", K_CT_HOST_NETWORK, FT_STR, ARG_NONE, 0},
    {"ka.req.pod.containers.privileged", K_POD_PRIV, FT_STR, ARG_NONE, L},
    {"ka.req.pod.initContainers.privileged", K_INIT_PRIV, FT_STR, ARG_NONE, L},
    {"ka.req.pod.ephemeralContainers.privileged", K_EPH_PRIV, FT_STR, ARG_NONE, L},
    {"ka.req.container.privileged", K_CT_PRIV, FT_STR, ARG_NONE, 0},
    {"ka.req.pod.volumes.hostpath", K_HOSTPATHS, FT_STR, ARG_NONE, L},
    {"ka.req.volume.hostpath", K_VOLUME_HOSTPATH, FT_STR, ARG_KEY, 0},
    {"ka.req.pod.containers.host_port", K_HOST_PORTS, FT_STR, ARG_NONE, L},
    {"ka.req.pod.containers.add_capabilities", K_ADD_CAPS, FT_STR, ARG_NONE, L},
    {"ka.req.pod.containers.allow_privilege_escalation", K_APE, FT_STR, ARG_NONE, L},
    {"ka.req.pod.containers.read_only_fs", K_READONLY_FS, FT_STR, ARG_NONE, L},
    {"ka.req.role.rules", K_ROLE_RULES, FT_STR, ARG_NONE, 0},
    {"ka.req.role.rules.verbs", K_ROLE_VERBS, FT_STR, ARG_NONE, L},
    {"ka.req.role.rules.resources", K_ROLE_RESOURCES, FT_STR, ARG_NONE, L},
    {"ka.req.role.rules.apiGroups", K_ROLE_APIGROUPS, FT_STR, ARG_NONE, L},
    {"ka.req.role.rules.nonResourceURLs", K_ROLE_NONRES, FT_STR, ARG_NONE, L},
    {"ka.req.service.type", K_SVC_TYPE, FT_STR, ARG_NONE, 0},
    {"ka.req.service.ports", K_SVC_PORTS, FT_STR, ARG_NONE, 0},
    {"ka.resp.name", K_RESP_NAME, FT_STR, ARG_NONE, 0},
    {"ka.response.code", K_RESP_CODE, FT_STR, ARG_NONE, 0},
    {"ka.response.reason", K_RESP_REASON, FT_STR, ARG_NONE, 0},
    {"ka.useragent", K_USERAGENT, FT_STR, ARG_NONE, 0},
    {"ka.sourceips", K_SOURCEIPS, FT_STR, ARG_NONE, L},
};
#undef L

const mm_fdef *mm_audit_field_find(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof afields / sizeof afields[0]; i++)
        if (strlen(afields[i].name) == len && !memcmp(afields[i].name, name, len))
            return &afields[i];
    return NULL;
}

/* A JSON scalar as text (objects and arrays as compact JSON); false for
 * null and absent values. */
static bool jtext(mm_evalctx *c, const json_t *j, mm_fval *v)
{
    char b[64];
    memset(v, 0, sizeof *v);
    switch (json_typeof(j)) {
    case JSON_STRING:
        v->s = json_string_value(j);
        v->len = json_string_length(j);
        if (memchr(v->s, 0, v->len))   /* \u0000 inside: keep what a C string sees */
            v->len = strlen(v->s);
        return true;
    case JSON_INTEGER:
        snprintf(b, sizeof b, "%lld", (long long)json_integer_value(j));
        break;
    case JSON_REAL:
        snprintf(b, sizeof b, "%g", json_real_value(j));
        break;
    case JSON_TRUE: snprintf(b, sizeof b, "true"); break;
    case JSON_FALSE: snprintf(b, sizeof b, "false"); break;
    case JSON_OBJECT: case JSON_ARRAY: {
        char *d = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!d)
            return false;
        v->s = mm_evalctx_strdup(c, d, strlen(d));
        v->len = strlen(d);
        free(d);
        return true;
    }
    default:
        return false;
    }
    v->s = mm_evalctx_strdup(c, b, strlen(b));
    v->len = strlen(b);
    return true;
}

static int one(mm_evalctx *c, const json_t *root, const char *ptr, mm_fval *v)
{
    const json_t *j = jptr(root, ptr);
    return j && jtext(c, j, v) ? 1 : 0;
}

static int put(mm_fval *v, int n, const char *s, size_t len)
{
    if (n >= MM_FIELD_MAXV)
        return n;
    memset(&v[n], 0, sizeof v[n]);
    v[n].s = s;
    v[n].len = len;
    return n + 1;
}

/* "registry:5000/team/app:1.2@sha256:..." -> "registry:5000/team/app" */
static void image_repo(mm_evalctx *c, const char *img, mm_fval *out)
{
    size_t n = strcspn(img, "@");
    const char *slash = memrchr(img, '/', n);
    const char *colon = memrchr(img, ':', n);
    if (colon && (!slash || colon > slash))
        n = (size_t)(colon - img);
    memset(out, 0, sizeof *out);
    out->s = mm_evalctx_strdup(c, img, n);
    out->len = n;
}

enum cpart { C_IMAGE, C_REPO, C_PRIV, C_APE, C_ROFS };

/* One value per container of the list at ptr. */
static int containers(mm_evalctx *c, const json_t *root, const char *ptr, int what, mm_fval *v)
{
    const json_t *arr = jptr(root, ptr);
    if (!json_is_array(arr))
        return 0;
    int n = 0;
    size_t i;
    const json_t *ct;
    json_array_foreach(arr, i, ct) {
        const char *img = json_string_value(json_object_get(ct, "image"));
        const json_t *sc = json_object_get(ct, "securityContext");
        switch (what) {
        case C_IMAGE:
            if (img)
                n = put(v, n, img, strlen(img));
            break;
        case C_REPO:
            if (img && n < MM_FIELD_MAXV)
                image_repo(c, img, &v[n++]);
            break;
        case C_PRIV:
            n = put(v, n, json_is_true(json_object_get(sc, "privileged")) ? "true" : "false",
                    MM_LEN_UNKNOWN);
            break;
        case C_APE: {
            const json_t *a = json_object_get(sc, "allowPrivilegeEscalation");
            if (json_is_boolean(a))
                n = put(v, n, json_is_true(a) ? "true" : "false", MM_LEN_UNKNOWN);
            break;
        }
        case C_ROFS:
            n = put(v, n, json_is_true(json_object_get(sc, "readOnlyRootFilesystem"))
                              ? "true" : "false", MM_LEN_UNKNOWN);
            break;
        }
    }
    return n;
}

/* The strings of key in every element of the array at ptr (flattening
 * string arrays): role rules' verbs, containers' host ports ... */
static int each(mm_evalctx *c, const json_t *root, const char *ptr, const char *key,
                const char *key2, mm_fval *v)
{
    const json_t *arr = jptr(root, ptr);
    if (!json_is_array(arr))
        return 0;
    int n = 0;
    size_t i;
    const json_t *el;
    json_array_foreach(arr, i, el) {
        const json_t *x = json_object_get(el, key);
        if (key2)
            x = json_object_get(x, key2);
        if (!x)
            continue;
        if (json_is_array(x)) {
            size_t k;
            const json_t *s;
            json_array_foreach(x, k, s) {
                if (n < MM_FIELD_MAXV && jtext(c, s, &v[n]))
                    n++;
            }
        } else if (n < MM_FIELD_MAXV && jtext(c, x, &v[n])) {
            n++;
        }
    }
    return n;
}

static int str_list(mm_evalctx *c, const json_t *root, const char *ptr, mm_fval *v)
{
    const json_t *arr = jptr(root, ptr);
    if (!json_is_array(arr))
        return 0;
    int n = 0;
    size_t i;
    const json_t *el;
    json_array_foreach(arr, i, el) {
        if (n < MM_FIELD_MAXV && jtext(c, el, &v[n]))
            n++;
    }
    return n;
}

static int bool_str(mm_fval *v, bool b)
{
    return put(v, 0, b ? "true" : "false", MM_LEN_UNKNOWN);
}

/* ka.uri.param[KEY]: the first value of KEY in the request URI's query,
 * percent-decoded */
static int uri_param(mm_evalctx *c, const json_t *root, const char *key, mm_fval *v)
{
    const char *uri = json_string_value(json_object_get(root, "requestURI"));
    const char *q = uri ? strchr(uri, '?') : NULL;
    if (!q || !key)
        return 0;
    size_t kl = strlen(key);
    for (const char *p = q + 1; *p;) {
        const char *amp = strchr(p, '&');
        size_t seg = amp ? (size_t)(amp - p) : strlen(p);
        if (seg > kl && !strncmp(p, key, kl) && p[kl] == '=') {
            const char *val = p + kl + 1;
            size_t vl = seg - kl - 1;
            char *d = mm_evalctx_strdup(c, val, vl);
            size_t o = 0;
            for (size_t i = 0; i < vl; i++) {
                unsigned hi, lo;
                if (val[i] == '%' && i + 2 < vl + 1 && sscanf(val + i + 1, "%1x%1x", &hi, &lo) == 2) {
                    d[o++] = (char)(hi * 16 + lo);
                    i += 2;
                } else {
                    d[o++] = val[i] == '+' ? ' ' : val[i];
                }
            }
            d[o] = 0;
            return put(v, 0, d, o);
        }
        p += seg + (amp ? 1 : 0);
    }
    return 0;
}

int mm_audit_extract(mm_evalctx *c, const mm_fref *f, mm_fval *v)
{
    const mm_event *ev = c->ev;
    if (!ev || !ev->audit)
        return 0;
    const json_t *r = ev->audit->root;
    const char *resource = json_string_value(jptr(r, "/objectRef/resource"));
    bool pod = resource && !strcmp(resource, "pods");
    switch (f->def->id) {
    case K_JEVT_TIME: case K_JEVT_TIME_ISO: {
        if (!ev->ts)
            return 0;
        char b[32];
        mm_time_rfc3339(ev->ts / 1000000000LL, b);
        return put(v, 0, mm_evalctx_strdup(c, b, strlen(b)), strlen(b));
    }
    case K_JEVT_RAWTIME:
        memset(v, 0, sizeof *v);
        v->n = ev->ts;
        return 1;
    case K_JEVT_VALUE: return one(c, r, f->key, v);
    case K_JEVT_OBJ: return jtext(c, r, v) ? 1 : 0;
    case K_AUDITID: return one(c, r, "/auditID", v);
    case K_STAGE: return one(c, r, "/stage", v);
    case K_AUTH_DECISION: return one(c, r, "/annotations/authorization.k8s.io~1decision", v);
    case K_AUTH_REASON: return one(c, r, "/annotations/authorization.k8s.io~1reason", v);
    case K_USER_NAME: return one(c, r, "/user/username", v);
    case K_USER_GROUPS: return str_list(c, r, "/user/groups", v);
    case K_IMPUSER_NAME: return one(c, r, "/impersonatedUser/username", v);
    case K_VERB: return one(c, r, "/verb", v);
    case K_URI: return one(c, r, "/requestURI", v);
    case K_URI_PARAM: return uri_param(c, r, f->key, v);
    case K_TARGET_NAME: return one(c, r, "/objectRef/name", v);
    case K_TARGET_NS: return one(c, r, "/objectRef/namespace", v);
    case K_TARGET_RESOURCE: return one(c, r, "/objectRef/resource", v);
    case K_TARGET_SUBRESOURCE: return one(c, r, "/objectRef/subresource", v);
    case K_BINDING_SUBJECTS: return one(c, r, "/requestObject/subjects", v);
    case K_BINDING_HAS_NAME: {
        const json_t *s = jptr(r, "/requestObject/subjects");
        if (!json_is_array(s))
            return 0;
        size_t i;
        const json_t *el;
        json_array_foreach(s, i, el) {
            const char *nm = json_string_value(json_object_get(el, "name"));
            if (nm && f->key && !strcmp(nm, f->key))
                return bool_str(v, true);
        }
        return bool_str(v, false);
    }
    case K_BINDING_ROLE: return one(c, r, "/requestObject/roleRef/name", v);
    case K_CM_NAME: return one(c, r, "/objectRef/name", v);
    case K_CM_OBJ: return one(c, r, "/requestObject/data", v);
    case K_POD_IMAGES: return containers(c, r, "/requestObject/spec/containers", C_IMAGE, v);
    case K_CT_IMAGE: return containers(c, r, "/requestObject/spec/containers", C_IMAGE, v) ? 1 : 0;
    case K_POD_REPOS: return containers(c, r, "/requestObject/spec/containers", C_REPO, v);
    case K_CT_REPO: return containers(c, r, "/requestObject/spec/containers", C_REPO, v) ? 1 : 0;
    case K_INIT_IMAGES: return containers(c, r, "/requestObject/spec/initContainers", C_IMAGE, v);
    case K_INIT_REPOS: return containers(c, r, "/requestObject/spec/initContainers", C_REPO, v);
    case K_EPH_IMAGES:
        return containers(c, r, "/requestObject/spec/ephemeralContainers", C_IMAGE, v);
    case K_EPH_REPOS:
        return containers(c, r, "/requestObject/spec/ephemeralContainers", C_REPO, v);
    case K_HOST_IPC: return one(c, r, "/requestObject/spec/hostIPC", v);
    case K_HOST_NETWORK: case K_CT_HOST_NETWORK:
        return one(c, r, "/requestObject/spec/hostNetwork", v);
    case K_HOST_PID: return one(c, r, "/requestObject/spec/hostPID", v);
    case K_POD_PRIV: return containers(c, r, "/requestObject/spec/containers", C_PRIV, v);
    case K_INIT_PRIV: return containers(c, r, "/requestObject/spec/initContainers", C_PRIV, v);
    case K_EPH_PRIV:
        return containers(c, r, "/requestObject/spec/ephemeralContainers", C_PRIV, v);
    case K_CT_PRIV: {
        mm_fval t[MM_FIELD_MAXV];
        int n = containers(c, r, "/requestObject/spec/containers", C_PRIV, t);
        if (!n)
            return 0;
        for (int i = 0; i < n; i++)
            if (!strcmp(t[i].s, "true"))
                return bool_str(v, true);
        return bool_str(v, false);
    }
    case K_HOSTPATHS: return each(c, r, "/requestObject/spec/volumes", "hostPath", "path", v);
    case K_VOLUME_HOSTPATH: {
        if (!pod)
            return 0;
        const json_t *vols = jptr(r, "/requestObject/spec/volumes");
        size_t i;
        const json_t *el;
        json_array_foreach(vols, i, el) {
            const char *p = json_string_value(jptr(el, "/hostPath/path"));
            if (p && f->key && fnmatch(f->key, p, 0) == 0)
                return bool_str(v, true);
        }
        return bool_str(v, false);
    }
    case K_HOST_PORTS: {
        const json_t *cts = jptr(r, "/requestObject/spec/containers");
        int n = 0;
        size_t i;
        const json_t *ct;
        json_array_foreach(cts, i, ct) {
            mm_fval t[MM_FIELD_MAXV];
            int k = each(c, ct, "/ports", "hostPort", NULL, t);
            for (int j = 0; j < k && n < MM_FIELD_MAXV; j++)
                v[n++] = t[j];
        }
        return n;
    }
    case K_ADD_CAPS: {
        const json_t *cts = jptr(r, "/requestObject/spec/containers");
        int n = 0;
        size_t i;
        const json_t *ct;
        json_array_foreach(cts, i, ct) {
            mm_fval t[MM_FIELD_MAXV];
            int k = str_list(c, ct, "/securityContext/capabilities/add", t);
            for (int j = 0; j < k && n < MM_FIELD_MAXV; j++)
                v[n++] = t[j];
        }
        return n;
    }
    case K_APE: return containers(c, r, "/requestObject/spec/containers", C_APE, v);
    case K_READONLY_FS: return containers(c, r, "/requestObject/spec/containers", C_ROFS, v);
    case K_ROLE_RULES: return one(c, r, "/requestObject/rules", v);
    case K_ROLE_VERBS: return each(c, r, "/requestObject/rules", "verbs", NULL, v);
    case K_ROLE_RESOURCES: return each(c, r, "/requestObject/rules", "resources", NULL, v);
    case K_ROLE_APIGROUPS: return each(c, r, "/requestObject/rules", "apiGroups", NULL, v);
    case K_ROLE_NONRES: return each(c, r, "/requestObject/rules", "nonResourceURLs", NULL, v);
    case K_SVC_TYPE: return one(c, r, "/requestObject/spec/type", v);
    case K_SVC_PORTS: return one(c, r, "/requestObject/spec/ports", v);
    case K_RESP_NAME: return one(c, r, "/responseObject/metadata/name", v);
    case K_RESP_CODE: return one(c, r, "/responseStatus/code", v);
    case K_RESP_REASON: return one(c, r, "/responseStatus/reason", v);
    case K_USERAGENT: return one(c, r, "/userAgent", v);
    case K_SOURCEIPS: return str_list(c, r, "/sourceIPs", v);
    }
    return 0;
}

/* ---- built-in rules -------------------------------------------------------------------- */

extern const char mm_audit_rules_yaml[];
extern const size_t mm_audit_rules_yaml_len;

int mm_audit_load_default_rules(mm_ruleset *rs)
{
    return mm_ruleset_load_string(rs, "builtin:k8s-audit-rules.yaml", mm_audit_rules_yaml,
                                  mm_audit_rules_yaml_len);
}

const char *mm_audit_event_node(const mm_audit_event *e)
{
    if (!e)
        return NULL;
    const json_t *r = e->root;
    const char *res = json_string_value(jptr(r, "/objectRef/resource"));
    const char *s;
    if (res && !strcmp(res, "nodes") && (s = json_string_value(jptr(r, "/objectRef/name"))))
        return s;
    if ((s = json_string_value(jptr(r, "/requestObject/spec/nodeName"))) && *s)
        return s;
    if ((s = json_string_value(jptr(r, "/responseObject/spec/nodeName"))) && *s)
        return s;
    s = json_string_value(jptr(r, "/user/username"));
    if (s && !strncmp(s, "system:node:", 12) && s[12])
        return s + 12;
    return NULL;
}
