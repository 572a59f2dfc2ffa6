/*
 * netpol.c - network segmentation (SP 800-190 section 3.3.3): the
 * reachability between workloads that a set's NetworkPolicies allow, with
 * the semantics Kubernetes defines (networking.k8s.io/v1):
 *
 * - a pod is isolated for ingress (egress) when a policy of its namespace
 *   selects it (spec.podSelector, {} = every pod) and lists Ingress
 *   (Egress) in policyTypes; without policyTypes a policy is Ingress, plus
 *   Egress when it has egress rules.  Policies are additive: a connection
 *   is allowed when the source's egress AND the destination's ingress
 *   allow it; a side that is not isolated allows everything;
 * - a rule without from/to allows every peer; without ports every port; a
 *   peer is podSelector (the policy's namespace), namespaceSelector (every
 *   pod of the namespaces it selects), both (those pods in those
 *   namespaces) or ipBlock (cidr minus except; it matches outside
 *   addresses and pods whose status.podIP a snapshot records);
 * - a port is a number, a range (port..endPort) or a name, resolved against
 *   the destination pod's containerPorts; protocol defaults to TCP;
 * - namespaces carry kubernetes.io/metadata.name, as the API server sets it.
 *
 * Workloads are the objects with a pod template (a Pod, ReplicaSet or Job
 * whose controller is in the set counts once, as its controller).  The
 * matrix is computed per pair from per-rule bitsets of the peers they
 * select, so 1,000 workloads x 200 policies stay well under a second.
 *
 * Length: the policy semantics and the per-pair matrix share the peer
 * bitsets and the selector matching; parting them would export the bitset
 * layout for no reader's gain.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/k8s_int.h"
#include "k8s/netpol_int.h"

enum { P_TCP, P_UDP, P_SCTP, P_N };
static const char *const proto_name[P_N] = {"TCP", "UDP", "SCTP"};

static int proto_parse(const char *s)
{
    if (!s || !strcmp(s, "TCP"))
        return P_TCP;
    if (!strcmp(s, "UDP"))
        return P_UDP;
    if (!strcmp(s, "SCTP"))
        return P_SCTP;
    return -1;
}

struct peer {
    uint64_t *pods;         /* workloads selected (NULL for ipBlock) */
    bool ipblock;
    mm_cidr net;
    mm_cidr *except;
    size_t nexcept;
    char *text;             /* "10.0.0.0/8 except 10.1.0.0/16" */
};

struct portspec {
    int proto;              /* P_*, -1 unknown (matches nothing) */
    int port, end;          /* 0 = every port */
    char *name;             /* named port */
};

struct rule {
    bool all_peers;
    struct peer *peers;
    size_t npeers;
    struct portspec *ports;
    size_t nports;          /* 0 = every port */
};

struct pol {
    size_t obj;
    char *id;
    bool ingress, egress;
    struct rule *r[2];      /* [0] ingress, [1] egress */
    size_t nr[2];
};

struct wl {
    size_t obj;
    char *id;
    const char *ns;
    size_t nsi;
    const json_t *labels, *spec;
    bool has_ip;
    mm_cidr ip;
    size_t *pols[2];        /* policies selecting it, per direction */
    size_t npols[2];
    bool iso[2];
};

struct nsi {
    char *name;
    json_t *labels;         /* owned */
    size_t obj;             /* Namespace object, or (size_t)-1 */
};

struct mm_k8s_reach {
    const mm_k8s_set *s;
    struct wl *w;
    size_t nw;
    struct nsi *ns;
    size_t nns;
    struct pol *p;
    size_t np;
    size_t words;           /* bitset words */
};

#define BIT_SET(b, i) ((b)[(i) >> 6] |= 1ull << ((i) & 63))
#define BIT_GET(b, i) (((b)[(i) >> 6] >> ((i) & 63)) & 1)

/* --- addresses ------------------------------------------------------------------- */
static bool cidr_has(const mm_cidr *net, const mm_cidr *ip)
{
    return net->family == ip->family && ip->bits >= net->bits &&
           mm_prefix_eq(net->a, ip->a, net->bits);
}

static bool peer_has_ip(const struct peer *p, const mm_cidr *ip)
{
    if (!p->ipblock || !cidr_has(&p->net, ip))
        return false;
    for (size_t i = 0; i < p->nexcept; i++)
        if (cidr_has(&p->except[i], ip))
            return false;
    return true;
}

/* --- port sets ---------------------------------------------------------------------- */
void k8s_pset_add(k8s_pset *s, int proto, int lo, int hi)
{
    if (lo > hi)
        return;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->v = mm_xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = (k8s_prange){(uint8_t)proto, (uint16_t)lo, (uint16_t)hi};
}

static int prange_cmp(const void *a, const void *b)
{
    const k8s_prange *x = a, *y = b;
    if (x->proto != y->proto)
        return x->proto - y->proto;
    return (int)x->lo - (int)y->lo;
}

static void pset_norm(k8s_pset *s)
{
    if (s->n < 2)
        return;
    qsort(s->v, s->n, sizeof *s->v, prange_cmp);
    size_t o = 0;
    for (size_t i = 1; i < s->n; i++) {
        k8s_prange *l = &s->v[o];
        if (s->v[i].proto == l->proto && (int)s->v[i].lo <= (int)l->hi + 1) {
            if (s->v[i].hi > l->hi)
                l->hi = s->v[i].hi;
        } else {
            s->v[++o] = s->v[i];
        }
    }
    s->n = o + 1;
}

static void pset_all(k8s_pset *s)
{
    s->n = 0;
    for (int p = 0; p < P_N; p++)
        k8s_pset_add(s, p, 1, 65535);
}

static void pset_isect(k8s_pset *out, const k8s_pset *a, const k8s_pset *b)
{
    out->n = 0;
    for (size_t i = 0; i < a->n; i++)
        for (size_t j = 0; j < b->n; j++) {
            if (a->v[i].proto != b->v[j].proto)
                continue;
            int lo = a->v[i].lo > b->v[j].lo ? a->v[i].lo : b->v[j].lo;
            int hi = a->v[i].hi < b->v[j].hi ? a->v[i].hi : b->v[j].hi;
            k8s_pset_add(out, a->v[i].proto, lo, hi);
        }
    pset_norm(out);
}

bool k8s_pset_is_all(const k8s_pset *s)
{
    if (s->n != P_N)
        return false;
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].proto != i || s->v[i].lo != 1 || s->v[i].hi != 65535)
            return false;
    return true;
}

void k8s_pset_text(const k8s_pset *s, mm_buf *b)
{
    if (k8s_pset_is_all(s)) {
        mm_buf_adds(b, "*");
        return;
    }
    for (size_t i = 0; i < s->n; i++) {
        const k8s_prange *r = &s->v[i];
        if (r->lo == 1 && r->hi == 65535)
            mm_buf_printf(b, "%s%s:*", i ? "," : "", proto_name[r->proto]);
        else if (r->lo == r->hi)
            mm_buf_printf(b, "%s%s:%u", i ? "," : "", proto_name[r->proto], r->lo);
        else
            mm_buf_printf(b, "%s%s:%u-%u", i ? "," : "", proto_name[r->proto], r->lo, r->hi);
    }
}

/* Adds the ports of a rule, named ports resolved against workload dst
 * (NULL: names match nothing). */
static void rule_ports(const struct rule *r, const struct wl *dst, k8s_pset *s)
{
    if (!r->nports) {
        for (int p = 0; p < P_N; p++)
            k8s_pset_add(s, p, 1, 65535);
        return;
    }
    for (size_t i = 0; i < r->nports; i++) {
        const struct portspec *ps = &r->ports[i];
        if (ps->proto < 0)
            continue;
        if (!ps->name) {
            if (!ps->port)
                k8s_pset_add(s, ps->proto, 1, 65535);
            else
                k8s_pset_add(s, ps->proto, ps->port, ps->end > ps->port ? ps->end : ps->port);
            continue;
        }
        if (!dst)
            continue;
        static const char *const lists[] = {"initContainers", "containers"};
        for (int l = 0; l < 2; l++) {
            const json_t *arr = kj_arr(dst->spec, lists[l]);
            for (size_t c = 0; c < json_array_size(arr); c++) {
                const json_t *cp = kj_arr(json_array_get(arr, c), "ports");
                for (size_t k = 0; k < json_array_size(cp); k++) {
                    const json_t *pt = json_array_get(cp, k);
                    const char *n = kj_str(pt, "name");
                    json_int_t num;
                    if (n && !strcmp(n, ps->name) && proto_parse(kj_str(pt, "protocol")) == ps->proto &&
                        kj_int(pt, "containerPort", &num) && num > 0 && num < 65536)
                        k8s_pset_add(s, ps->proto, (int)num, (int)num);
                }
            }
        }
    }
}

/* --- building -------------------------------------------------------------------------- */
static const char *ns_or_default(const char *ns)
{
    return ns && *ns ? ns : "default";
}

static size_t ns_index(mm_k8s_reach *r, mm_map *m, const char *name)
{
    void *v = mm_map_get(m, name);
    if (v)
        return (size_t)(uintptr_t)v - 1;
    r->ns = mm_xrealloc(r->ns, (r->nns + 1) * sizeof *r->ns);
    struct nsi *n = &r->ns[r->nns];
    n->name = mm_xstrdup(name);
    n->labels = json_object();
    n->obj = (size_t)-1;
    json_object_set_new(n->labels, "kubernetes.io/metadata.name", json_string(name));
    mm_map_put(m, name, (void *)(uintptr_t)(r->nns + 1));
    return r->nns++;
}

static char *obj_key(const char *kind, const char *ns, const char *name)
{
    return mm_xasprintf("%s\x1f%s\x1f%s", kind ? kind : "", ns_or_default(ns), name ? name : "");
}

static bool controlled(const mm_k8s_object *o, const mm_map *all)
{
    const json_t *owners = kj_arr(kj_obj(o->json, "metadata"), "ownerReferences");
    for (size_t k = 0; k < json_array_size(owners); k++) {
        const json_t *ow = json_array_get(owners, k);
        if (!kj_true(ow, "controller"))
            continue;
        char *key = obj_key(kj_str(ow, "kind"), o->ns, kj_str(ow, "name"));
        bool in = mm_map_get(all, key) != NULL;
        free(key);
        if (in)
            return true;
    }
    return false;
}

static char *res_id(const mm_k8s_object *o)
{
    return mm_xasprintf("%s/%s/%s", ns_or_default(o->ns), o->kind, o->name ? o->name : "?");
}

static void parse_peer(mm_k8s_reach *r, const struct pol *p, const char *pns, const json_t *j,
                       struct peer *pe)
{
    memset(pe, 0, sizeof *pe);
    const json_t *ipb = kj_obj(j, "ipBlock");
    if (ipb) {
        pe->ipblock = true;
        const char *c = kj_str(ipb, "cidr");
        if (!mm_cidr_parse(c, &pe->net)) {
            mm_k8s_warn((mm_k8s_set *)r->s, "%s: ipBlock.cidr \"%s\" is not a CIDR; the peer "
                        "matches nothing", p->id, c ? c : "");
            pe->net.family = -1;
        }
        mm_buf t = {0};
        mm_buf_adds(&t, c ? c : "?");
        const json_t *ex = kj_arr(ipb, "except");
        pe->except = mm_xcalloc(json_array_size(ex) + 1, sizeof *pe->except);
        for (size_t i = 0; i < json_array_size(ex); i++) {
            const char *e = json_string_value(json_array_get(ex, i));
            mm_buf_printf(&t, "%s%s", i ? "," : " except ", e ? e : "?");
            if (mm_cidr_parse(e, &pe->except[pe->nexcept]))
                pe->nexcept++;
        }
        pe->text = mm_buf_detach(&t);
        return;
    }
    const json_t *ps = kj_get(j, "podSelector"), *nss = kj_get(j, "namespaceSelector");
    /* null is absent, as the API server decodes it */
    if (json_is_null(ps))
        ps = NULL;
    if (json_is_null(nss))
        nss = NULL;
    pe->pods = mm_xcalloc(r->words ? r->words : 1, sizeof *pe->pods);
    if (!ps && !nss)
        return;     /* an empty peer: the API server rejects it; matches nothing */
    bool *nsok = mm_xcalloc(r->nns ? r->nns : 1, sizeof *nsok);
    for (size_t n = 0; n < r->nns; n++)
        nsok[n] = nss ? json_is_object(nss) && k8s_selector_matches(nss, r->ns[n].labels, false)
                      : !strcmp(r->ns[n].name, pns);
    for (size_t w = 0; w < r->nw; w++) {
        if (!nsok[r->w[w].nsi])
            continue;
        if (ps && !(json_is_object(ps) && k8s_selector_matches(ps, r->w[w].labels, false)))
            continue;
        BIT_SET(pe->pods, w);
    }
    free(nsok);
}

static void parse_rules(mm_k8s_reach *r, struct pol *p, const char *pns, const json_t *arr, int d)
{
    size_t n = json_array_size(arr);
    p->r[d] = mm_xcalloc(n ? n : 1, sizeof *p->r[d]);
    p->nr[d] = n;
    for (size_t i = 0; i < n; i++) {
        const json_t *rj = json_array_get(arr, i);
        struct rule *ru = &p->r[d][i];
        const json_t *peers = kj_arr(rj, d ? "to" : "from");
        ru->all_peers = json_array_size(peers) == 0;
        ru->peers = mm_xcalloc(json_array_size(peers) + 1, sizeof *ru->peers);
        for (size_t k = 0; k < json_array_size(peers); k++)
            parse_peer(r, p, pns, json_array_get(peers, k), &ru->peers[ru->npeers++]);
        const json_t *ports = kj_arr(rj, "ports");
        ru->ports = mm_xcalloc(json_array_size(ports) + 1, sizeof *ru->ports);
        for (size_t k = 0; k < json_array_size(ports); k++) {
            const json_t *pj = json_array_get(ports, k);
            struct portspec *ps = &ru->ports[ru->nports++];
            ps->proto = proto_parse(kj_str(pj, "protocol"));
            const json_t *pv = kj_get(pj, "port");
            json_int_t v;
            if (json_is_string(pv)) {
                const char *sv = json_string_value(pv);
                char *end;
                long num = strtol(sv, &end, 10);
                if (*sv && !*end) {         /* an int-or-string holding digits */
                    if (num > 0 && num < 65536)
                        ps->port = (int)num;
                    else
                        ps->proto = -1;     /* out of range: matches nothing */
                } else {
                    ps->name = mm_xstrdup(sv);
                }
            } else if (kj_int(pj, "port", &v)) {
                if (v < 1 || v > 65535)
                    ps->proto = -1;
                else
                    ps->port = (int)v;
            }
            if (kj_int(pj, "endPort", &v) && ps->port && !ps->name && v >= ps->port && v <= 65535)
                ps->end = (int)v;
        }
    }
}

static void add_pol(struct wl *w, int d, size_t p)
{
    w->pols[d] = mm_xrealloc(w->pols[d], (w->npols[d] + 1) * sizeof *w->pols[d]);
    w->pols[d][w->npols[d]++] = p;
    w->iso[d] = true;
}

int mm_k8s_reach_build(mm_k8s_reach **out, const mm_k8s_set *s)
{
    if (!out || !s)
        return mm_error_set(MM_EINVAL, "k8s reach: no set");
    mm_k8s_reach *r = mm_xcalloc(1, sizeof *r);
    r->s = s;
    mm_map *nsm = mm_map_new(), *all = mm_map_new();
    size_t n = mm_k8s_count(s);
    for (size_t i = 0; i < n; i++) {
        const mm_k8s_object *o = mm_k8s_get(s, i);
        if (!o->kind)
            continue;
        char *k = obj_key(o->kind, o->ns, o->name);
        mm_map_put(all, k, (void *)1);
        free(k);
        if (!strcmp(o->kind, "Namespace") && o->name) {
            size_t ni = ns_index(r, nsm, o->name);
            r->ns[ni].obj = i;
            const json_t *lab = kj_obj(kj_obj(o->json, "metadata"), "labels");
            const char *key;
            json_t *v;
            json_object_foreach((json_t *)lab, key, v)
                if (json_is_string(v))
                    json_object_set(r->ns[ni].labels, key, v);
            json_object_set_new(r->ns[ni].labels, "kubernetes.io/metadata.name",
                                json_string(o->name));
        }
    }
    for (size_t i = 0; i < n; i++) {
        const mm_k8s_object *o = mm_k8s_get(s, i);
        const json_t *meta, *spec;
        const char *prefix;
        if (!o->kind || !strcmp(o->kind, "PodTemplate") || !mm_k8s_pod_template(o, &meta, &spec, &prefix) ||
            controlled(o, all))
            continue;
        r->w = mm_xrealloc(r->w, (r->nw + 1) * sizeof *r->w);
        struct wl *w = &r->w[r->nw++];
        memset(w, 0, sizeof *w);
        w->obj = i;
        w->id = res_id(o);
        w->ns = ns_or_default(o->ns);
        w->nsi = ns_index(r, nsm, w->ns);
        w->labels = kj_obj(meta, "labels");
        w->spec = spec;
        w->has_ip = mm_cidr_parse(kj_str(kj_obj(o->json, "status"), "podIP"), &w->ip);
    }
    for (size_t i = 0; i < n; i++) {
        const mm_k8s_object *o = mm_k8s_get(s, i);
        if (o->kind && !strcmp(o->kind, "NetworkPolicy"))
            ns_index(r, nsm, ns_or_default(o->ns));
    }
    r->words = (r->nw + 63) / 64;
    for (size_t i = 0; i < n; i++) {
        const mm_k8s_object *o = mm_k8s_get(s, i);
        if (!o->kind || strcmp(o->kind, "NetworkPolicy"))
            continue;
        const json_t *spec = kj_obj(o->json, "spec");
        r->p = mm_xrealloc(r->p, (r->np + 1) * sizeof *r->p);
        struct pol *p = &r->p[r->np];
        memset(p, 0, sizeof *p);
        p->obj = i;
        p->id = res_id(o);
        const char *pns = ns_or_default(o->ns);
        const json_t *types = kj_arr(spec, "policyTypes");
        if (json_array_size(types)) {
            for (size_t k = 0; k < json_array_size(types); k++) {
                const char *t = json_string_value(json_array_get(types, k));
                if (t && !strcmp(t, "Ingress"))
                    p->ingress = true;
                else if (t && !strcmp(t, "Egress"))
                    p->egress = true;
            }
        } else {
            /* the API server's default: Ingress, plus Egress when there are
             * egress rules */
            p->ingress = true;
            p->egress = json_array_size(kj_arr(spec, "egress")) > 0;
        }
        parse_rules(r, p, pns, kj_arr(spec, "ingress"), 0);
        parse_rules(r, p, pns, kj_arr(spec, "egress"), 1);
        const json_t *ps = kj_obj(spec, "podSelector");
        for (size_t w = 0; w < r->nw; w++) {
            if (strcmp(r->w[w].ns, pns))
                continue;
            /* a missing podSelector is {} after defaulting: every pod */
            if (ps && !k8s_selector_matches(ps, r->w[w].labels, false))
                continue;
            if (p->ingress)
                add_pol(&r->w[w], 0, r->np);
            if (p->egress)
                add_pol(&r->w[w], 1, r->np);
        }
        r->np++;
    }
    mm_map_free(nsm, NULL);
    mm_map_free(all, NULL);
    *out = r;
    return 0;
}

void mm_k8s_reach_free(mm_k8s_reach *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nw; i++) {
        free(r->w[i].id);
        free(r->w[i].pols[0]);
        free(r->w[i].pols[1]);
    }
    for (size_t i = 0; i < r->nns; i++) {
        free(r->ns[i].name);
        json_decref(r->ns[i].labels);
    }
    for (size_t i = 0; i < r->np; i++) {
        for (int d = 0; d < 2; d++) {
            for (size_t k = 0; k < r->p[i].nr[d]; k++) {
                struct rule *ru = &r->p[i].r[d][k];
                for (size_t j = 0; j < ru->npeers; j++) {
                    free(ru->peers[j].pods);
                    free(ru->peers[j].except);
                    free(ru->peers[j].text);
                }
                for (size_t j = 0; j < ru->nports; j++)
                    free(ru->ports[j].name);
                free(ru->peers);
                free(ru->ports);
            }
            free(r->p[i].r[d]);
        }
        free(r->p[i].id);
    }
    free(r->w);
    free(r->ns);
    free(r->p);
    free(r);
}

/* --- queries ---------------------------------------------------------------------------- */
size_t mm_k8s_reach_count(const mm_k8s_reach *r)
{
    return r ? r->nw : 0;
}

const char *mm_k8s_reach_workload(const mm_k8s_reach *r, size_t i)
{
    return r && i < r->nw ? r->w[i].id : NULL;
}

int mm_k8s_reach_find(const mm_k8s_reach *r, const char *id, size_t *i)
{
    for (size_t k = 0; r && id && k < r->nw; k++)
        if (!strcmp(r->w[k].id, id)) {
            *i = k;
            return 0;
        }
    return mm_error_set(MM_ENOTFOUND, "no workload \"%s\"", id ? id : "");
}

bool mm_k8s_reach_isolated(const mm_k8s_reach *r, size_t i, bool ingress)
{
    return r && i < r->nw && r->w[i].iso[ingress ? 0 : 1];
}

size_t k8s_reach_nworkloads(const mm_k8s_reach *r)
{
    return r->nw;
}

size_t k8s_reach_obj(const mm_k8s_reach *r, size_t i)
{
    return r->w[i].obj;
}

static bool rule_has_pod(const struct rule *ru, const mm_k8s_reach *r, size_t w)
{
    if (ru->all_peers)
        return true;
    for (size_t k = 0; k < ru->npeers; k++) {
        const struct peer *pe = &ru->peers[k];
        if (pe->pods ? BIT_GET(pe->pods, w) : r->w[w].has_ip && peer_has_ip(pe, &r->w[w].ip))
            return true;
    }
    return false;
}

/* The ports workload `from` may open to workload `to` (from's egress and
 * to's ingress), into out; tmp and tmp2 are scratch sets. */
void k8s_reach_cell(const mm_k8s_reach *r, size_t from, size_t to, k8s_pset *out,
                    k8s_pset *in, k8s_pset *eg)
{
    const struct wl *a = &r->w[from], *b = &r->w[to];
    in->n = eg->n = 0;
    if (!b->iso[0])
        pset_all(in);
    else
        for (size_t i = 0; i < b->npols[0]; i++) {
            const struct pol *p = &r->p[b->pols[0][i]];
            for (size_t k = 0; k < p->nr[0]; k++)
                if (rule_has_pod(&p->r[0][k], r, from))
                    rule_ports(&p->r[0][k], b, in);
        }
    if (!in->n) {
        out->n = 0;
        return;
    }
    if (!a->iso[1])
        pset_all(eg);
    else
        for (size_t i = 0; i < a->npols[1]; i++) {
            const struct pol *p = &r->p[a->pols[1][i]];
            for (size_t k = 0; k < p->nr[1]; k++)
                if (rule_has_pod(&p->r[1][k], r, to))
                    rule_ports(&p->r[1][k], b, eg);
        }
    pset_norm(in);
    pset_norm(eg);
    pset_isect(out, in, eg);
}

static bool pset_has(const k8s_pset *s, int proto, int port)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].proto == proto && (port == 0 || (port >= s->v[i].lo && port <= s->v[i].hi)))
            return true;
    return false;
}

bool mm_k8s_reach_allowed(const mm_k8s_reach *r, size_t from, size_t to, const char *proto,
                          int port)
{
    if (!r || from >= r->nw || to >= r->nw)
        return false;
    int pr = proto_parse(proto);
    if (pr < 0)
        return false;
    k8s_pset o = {0}, a = {0}, b = {0};
    k8s_reach_cell(r, from, to, &o, &a, &b);
    bool ok = pset_has(&o, pr, port);
    free(o.v);
    free(a.v);
    free(b.v);
    return ok;
}

char *mm_k8s_reach_ports(const mm_k8s_reach *r, size_t from, size_t to)
{
    if (!r || from >= r->nw || to >= r->nw)
        return NULL;
    k8s_pset o = {0}, a = {0}, b = {0};
    k8s_reach_cell(r, from, to, &o, &a, &b);
    mm_buf t = {0};
    k8s_pset_text(&o, &t);
    free(o.v);
    free(a.v);
    free(b.v);
    return mm_buf_detach(&t);
}

bool mm_k8s_reach_ip_allowed(const mm_k8s_reach *r, size_t w, const char *ip, bool ingress,
                             const char *proto, int port)
{
    mm_cidr addr;
    int pr = proto_parse(proto);
    if (!r || w >= r->nw || pr < 0 || !mm_cidr_parse(ip, &addr) || strchr(ip, '/'))
        return false;
    int d = ingress ? 0 : 1;
    const struct wl *x = &r->w[w];
    if (!x->iso[d])
        return true;
    k8s_pset s = {0};
    for (size_t i = 0; i < x->npols[d]; i++) {
        const struct pol *p = &r->p[x->pols[d][i]];
        for (size_t k = 0; k < p->nr[d]; k++) {
            const struct rule *ru = &p->r[d][k];
            bool hit = ru->all_peers;
            for (size_t j = 0; !hit && j < ru->npeers; j++)
                hit = peer_has_ip(&ru->peers[j], &addr);
            if (hit)
                rule_ports(ru, ingress ? x : NULL, &s);
        }
    }
    bool ok = pset_has(&s, pr, port);
    free(s.v);
    return ok;
}

/* The address blocks workload w accepts (ingress) or reaches (egress)
 * outside the cluster, one "cidr[ except ...] ports" string each ("*"
 * for every address). */
void k8s_reach_ipblocks(const mm_k8s_reach *r, size_t w, bool ingress, char ***v, size_t *n)
{
    int d = ingress ? 0 : 1;
    const struct wl *x = &r->w[w];
    if (!x->iso[d]) {
        mm_strv_push(v, n, "* *");
        return;
    }
    for (size_t i = 0; i < x->npols[d]; i++) {
        const struct pol *p = &r->p[x->pols[d][i]];
        for (size_t k = 0; k < p->nr[d]; k++) {
            const struct rule *ru = &p->r[d][k];
            k8s_pset s = {0};
            rule_ports(ru, ingress ? x : NULL, &s);
            pset_norm(&s);
            mm_buf pt = {0};
            k8s_pset_text(&s, &pt);
            free(s.v);
            if (!pt.len) {
                mm_buf_free(&pt);
                continue;
            }
            for (size_t j = 0; j < (ru->all_peers ? 1 : ru->npeers); j++) {
                if (!ru->all_peers && !ru->peers[j].ipblock)
                    continue;
                char *t = mm_xasprintf("%s %s", ru->all_peers ? "*" : ru->peers[j].text, pt.data);
                mm_strv_push(v, n, t);
                free(t);
            }
            mm_buf_free(&pt);
        }
    }
}

/* Policies selecting workload w, per direction (ids borrowed). */
size_t k8s_reach_policies(const mm_k8s_reach *r, size_t w, bool ingress, const char **ids,
                          size_t max)
{
    int d = ingress ? 0 : 1;
    size_t k = 0;
    for (size_t i = 0; i < r->w[w].npols[d] && k < max; i++)
        ids[k++] = r->p[r->w[w].pols[d][i]].id;
    return r->w[w].npols[d];
}

size_t k8s_reach_nnamespaces(const mm_k8s_reach *r)
{
    return r->nns;
}

/* Namespace i: its name, its Namespace object (or (size_t)-1), whether a
 * policy lives in it, and its first workload (or (size_t)-1). */
const char *k8s_reach_namespace(const mm_k8s_reach *r, size_t i, size_t *obj, bool *has_pol,
                                size_t *first_wl)
{
    *obj = r->ns[i].obj;
    *has_pol = false;
    for (size_t p = 0; p < r->np && !*has_pol; p++) {
        const mm_k8s_object *o = mm_k8s_get(r->s, r->p[p].obj);
        *has_pol = !strcmp(ns_or_default(o->ns), r->ns[i].name);
    }
    *first_wl = (size_t)-1;
    for (size_t w = 0; w < r->nw; w++)
        if (r->w[w].nsi == i) {
            *first_wl = w;
            break;
        }
    return r->ns[i].name;
}
