/*
 * mamori/k8s.h - Kubernetes posture (NIST SP 800-190 section 3.3 and the
 * container rows of 3.4): one object model filled from every input, and
 * the checks that run on it.
 *
 * Inputs, all into one mm_k8s_set: YAML and JSON files and folders,
 * multi-document streams, List kinds (kubectl get -A -o json snapshots,
 * raw API list responses), standard input (helm template, kustomize
 * build), and a live cluster read through a kubeconfig (mm_k8s_client).
 * Untrusted input is capped (bytes per input, documents, nesting, nodes).
 *
 * Checks: Pod Security Standards (baseline, restricted) with the semantics
 * of the upstream admission library for a chosen policy version; workload
 * hardening (the union of kube-linter's and Polaris's checks); RBAC.  Each
 * finding carries its SP 800-190 section, upstream ids in references, the
 * object as "namespace/Kind/name" (loc.resource), the JSON path of the
 * offending field (loc.field), and the file and line where known.
 *
 * Ownership: a set owns its objects; strings returned through out
 * parameters belong to the caller unless said otherwise.
 */
#ifndef MAMORI_K8S_H
#define MAMORI_K8S_H

#include <stdio.h>

#include "mamori/common.h"
#include "mamori/finding.h"

#ifdef __cplusplus
extern "C" {
#endif

struct json_t;

/* --- limits ---------------------------------------------------------------- */
typedef struct mm_k8s_limits {
    uint64_t max_input;   /* bytes of one file or stream; 0 = 512 MiB */
    uint64_t max_total;   /* bytes over all inputs; 0 = 2 GiB */
    size_t max_docs;      /* documents per input; 0 = 200,000 */
    size_t max_objects;   /* objects in the set; 0 = 1,000,000 */
    size_t max_depth;     /* nesting; 0 = 100 */
    size_t max_nodes;     /* YAML nodes per document, aliases expanded;
                           * 0 = 2,000,000 */
    size_t max_files;     /* files read from folders; 0 = 100,000 */
} mm_k8s_limits;

/* --- the object model -------------------------------------------------------- */
typedef struct mm_k8s_set mm_k8s_set;

typedef struct mm_k8s_object {
    const char *api_version;  /* "apps/v1" */
    const char *kind;         /* "Deployment" */
    const char *ns;           /* metadata.namespace, NULL for none (cluster
                               * scope, or a manifest that names none) */
    const char *name;         /* metadata.name (or generateName) */
    const char *source;       /* file, "-", or "cluster <server>" */
    int line;                 /* 1-based line of the object; 0 unknown */
    const struct json_t *json; /* the object (borrowed) */
} mm_k8s_object;

int mm_k8s_set_new(mm_k8s_set **out, const mm_k8s_limits *lim);
void mm_k8s_set_free(mm_k8s_set *s);

/* A file (YAML or JSON, by content) or a folder (every *.yaml, *.yml and
 * *.json below it, sorted; links not followed).  Documents without
 * apiVersion and kind inside a folder (Chart.yaml, values.yaml) are
 * skipped with a warning; a named file must hold objects. */
int mm_k8s_load_path(mm_k8s_set *s, const char *path);
/* A buffer (standard input: name "-").  YAML streams, JSON values (one or
 * several concatenated), List kinds are flattened. */
int mm_k8s_load_buffer(mm_k8s_set *s, const char *name, const char *data,
                       size_t len);
/* Process command lines as node-trust input: each line of `ps -eo args`
 * (or `ps aux`: the columns before COMMAND are dropped) that runs kubelet,
 * kube-apiserver, etcd, kube-controller-manager or kube-scheduler becomes
 * a Process object (apiVersion mamori.io/v1, spec.args split on blanks).
 * Lines are capped at 64 KiB, processes at 10,000. */
int mm_k8s_load_ps(mm_k8s_set *s, const char *name, const char *data, size_t len);
/* The same from a file (at most 64 MiB). */
int mm_k8s_load_ps_file(mm_k8s_set *s, const char *path);
/* The same from /proc/PID/cmdline under proc_dir ("/proc"). */
int mm_k8s_load_proc(mm_k8s_set *s, const char *proc_dir);
/* Adds one object (a new reference is taken), as read from the API. */
int mm_k8s_add_json(mm_k8s_set *s, struct json_t *obj, const char *source);

size_t mm_k8s_count(const mm_k8s_set *s);
/* Object i (valid while the set lives). */
const mm_k8s_object *mm_k8s_get(const mm_k8s_set *s, size_t i);
size_t mm_k8s_warning_count(const mm_k8s_set *s);
const char *mm_k8s_warning(const mm_k8s_set *s, size_t i);
/* The line of a field (JSON path as in findings) of object i; 0 unknown. */
int mm_k8s_field_line(const mm_k8s_set *s, size_t i, const char *path);

/* The pod template of a workload: Pod (spec), Deployment, ReplicaSet,
 * StatefulSet, DaemonSet, Job, ReplicationController, DeploymentConfig
 * (spec.template), CronJob (spec.jobTemplate.spec.template), PodTemplate
 * (template).  meta and spec are borrowed; prefix is the JSON path of the spec
 * ("spec.template.spec").  False for other kinds. */
bool mm_k8s_pod_template(const mm_k8s_object *o, const struct json_t **meta,
                         const struct json_t **spec, const char **prefix);

/* --- checks ------------------------------------------------------------------ */
enum {
    MM_K8S_CHECK_PSS = 1u << 0,      /* Pod Security Standards */
    MM_K8S_CHECK_WORKLOAD = 1u << 1, /* workload hardening */
    MM_K8S_CHECK_RBAC = 1u << 2,
    MM_K8S_CHECK_REFS = 1u << 3,     /* references between objects: dangling
                                      * Services, missing Secrets... (off by
                                      * default: a manifest folder rarely holds
                                      * every object it names) */
    MM_K8S_CHECK_AVAIL = 1u << 4,    /* availability and conventions: replicas,
                                      * affinity, PDBs, labels (off by default) */
    MM_K8S_CHECK_NET = 1u << 5,      /* network segmentation: namespaces without
                                      * policies, pods not isolated for egress
                                      * (off by default) */
    MM_K8S_CHECK_SENS = 1u << 6,     /* mixed sensitivity on nodes (fires only
                                      * on workloads with a level) */
    MM_K8S_CHECK_NODE = 1u << 7,     /* node trust: kubelet, API server, etcd
                                      * settings (fires only where they are) */
    MM_K8S_CHECK_DEFAULT = 0xc7u,   /* pss, workload, rbac, sensitivity, node */
    MM_K8S_CHECK_ALL = 0xffu,
};
/* "pss,workload,rbac,refs,avail" or "all" or "default" -> bits. */
int mm_k8s_checks_parse(unsigned *out, const char *list);

typedef enum mm_pss_level {
    MM_PSS_PRIVILEGED = 0,
    MM_PSS_BASELINE,
    MM_PSS_RESTRICTED,
} mm_pss_level;

/* "privileged", "baseline", "restricted" (case-insensitive). */
int mm_pss_level_parse(mm_pss_level *out, const char *s);
/* "latest", "v1.25", "1.25" -> minor version number (latest = the newest
 * this build knows, MM_PSS_LATEST).  Versions older than 1.0 or past
 * latest are clamped as the admission library clamps them. */
#define MM_PSS_LATEST 37
int mm_pss_version_parse(int *minor, const char *s);

typedef struct mm_k8s_check_opts {
    unsigned checks;          /* MM_K8S_CHECK_* bits; 0 = default */
    mm_pss_level pss_level;   /* default restricted */
    int pss_version;          /* minor of 1.x; 0 = latest */
    bool no_annotations;      /* ignore mamori.io/ignore annotations */
    /* mixed sensitivity: the label or annotation key of a workload's level
     * (NULL = "mamori.io/sensitivity"), and "ns=level,ns=level" for
     * namespaces whose workloads carry none (NULL = none) */
    const char *sens_key;
    const char *sens_ns_map;
    /* node trust: the root under which files named by command lines
     * (kubelet --config, --encryption-provider-config) are read; NULL =
     * not read ("/" for this node) */
    const char *node_root;
} mm_k8s_check_opts;

void mm_k8s_check_opts_init(mm_k8s_check_opts *o);

/* Runs the checks over the set and appends findings to out.  Objects that
 * carry the annotation mamori.io/ignore ("ID,ID" or "*"; on the object or
 * on its pod template) drop the findings of those ids. */
int mm_k8s_check(const mm_k8s_set *s, const mm_k8s_check_opts *o,
                 mm_findings *out);

/* The Pod Security verdict of one object's pod template: for each failed
 * upstream check, its id ("privileged", "runAsNonRoot"...) in *ids
 * (caller frees with mm_strv_free).  MM_ENOTFOUND for an object without a
 * pod template.  For the admission webhook and the tests. */
int mm_k8s_pss_evaluate(const mm_k8s_set *s, size_t i, mm_pss_level level,
                        int version, char ***ids, size_t *n);

/* The rule catalogue (docs/k8s.md is written from it). */
typedef struct mm_k8s_rule {
    const char *id;           /* "MM-PSS-privileged", "MM-K8S-101" */
    const char *family;       /* "pss", "workload", "rbac", "refs", "avail" */
    mm_severity severity;
    const char *section;      /* SP 800-190 */
    const char *upstream;     /* "kube-linter privileged-container; Polaris
                               * runAsPrivileged", or NULL */
    const char *title;
    const char *remediation;
} mm_k8s_rule;

size_t mm_k8s_rule_count(void);
const mm_k8s_rule *mm_k8s_rule_get(size_t i);
const mm_k8s_rule *mm_k8s_rule_find(const char *id);

/* --- RBAC: who can ------------------------------------------------------------- */
typedef struct mm_k8s_grant {
    char *subject_kind;   /* "User", "Group", "ServiceAccount" */
    char *subject;        /* name, "ns:name" for service accounts */
    char *binding;        /* "ns/RoleBinding/name" or "ClusterRoleBinding/name" */
    char *role;           /* "Role/ns/name" or "ClusterRole/name" */
    char *scope;          /* the namespace, or "*" for cluster-wide */
} mm_k8s_grant;

/* Which subjects may VERB RESOURCE (resource may be "pods/exec" or
 * "deployments.apps"; group "" = core) in namespace ns (NULL = cluster
 * scope or any namespace), answered from the roles and bindings of the
 * set (aggregated ClusterRoles included).  Sorted by subject. */
int mm_k8s_who_can(const mm_k8s_set *s, const char *verb, const char *resource,
                   const char *ns, mm_k8s_grant **out, size_t *n);
void mm_k8s_grants_free(mm_k8s_grant *g, size_t n);
/* Writes the answer as a table (names made safe for a terminal) or as
 * JSON {"verb","resource","namespace","subjects":[{kind,name,scope,role,
 * binding}]}.  MM_EIO on a write error. */
int mm_k8s_grants_write(FILE *out, const mm_k8s_grant *g, size_t n, const char *verb,
                        const char *resource, const char *ns, bool json);

/* --- network segmentation: reachability ------------------------------------------ */
/* The connections a set's NetworkPolicies allow between its workloads
 * (objects with a pod template; a pod, ReplicaSet or Job whose controller
 * is in the set counts as its controller), with Kubernetes' semantics:
 * isolation per direction (policyTypes, defaulted as the API server does),
 * additive policies, pod/namespace selectors (matchLabels,
 * matchExpressions), ipBlock with except, numbered, ranged (endPort) and
 * named ports.  Workloads are named "namespace/Kind/name". */
typedef struct mm_k8s_reach mm_k8s_reach;
int mm_k8s_reach_build(mm_k8s_reach **out, const mm_k8s_set *s);
void mm_k8s_reach_free(mm_k8s_reach *r);
size_t mm_k8s_reach_count(const mm_k8s_reach *r);
const char *mm_k8s_reach_workload(const mm_k8s_reach *r, size_t i);
/* MM_ENOTFOUND when no workload has that name. */
int mm_k8s_reach_find(const mm_k8s_reach *r, const char *id, size_t *i);
/* Does a policy select workload i for ingress (true) or egress? */
bool mm_k8s_reach_isolated(const mm_k8s_reach *r, size_t i, bool ingress);
/* May a pod of `from` open proto ("TCP", "UDP", "SCTP") port (0 = some
 * port) on a pod of `to`? */
bool mm_k8s_reach_allowed(const mm_k8s_reach *r, size_t from, size_t to, const char *proto,
                          int port);
/* The ports allowed from -> to: "*", "TCP:80,UDP:53,TCP:8000-8080" or ""
 * (caller frees). */
char *mm_k8s_reach_ports(const mm_k8s_reach *r, size_t from, size_t to);
/* An address outside the cluster (ip, no prefix) to workload w (ingress)
 * or w to it (egress). */
bool mm_k8s_reach_ip_allowed(const mm_k8s_reach *r, size_t w, const char *ip, bool ingress,
                             const char *proto, int port);
/* format: "table", "json" or "dot".  MM_EIO on a write error. */
int mm_k8s_reach_write(const mm_k8s_reach *r, FILE *out, const char *format);

/* --- CIS Kubernetes Benchmark (kube-bench definitions) --------------------------- */
typedef struct mm_k8s_cis_opts {
    const char *cfg_dir;      /* kube-bench's cfg folder: config.yaml, <benchmark>/ */
    const char *benchmark;    /* "cis-1.9"; NULL: from version */
    const char *version;      /* Kubernetes "1.27" -> version_mapping; NULL (and
                               * no benchmark): the newest 1.N mapping */
    const char *targets;      /* "master,node"; NULL: target_mapping narrowed
                               * to what runs here */
    const char *checks;       /* "4.2.1,1.1": ids or groups; NULL all */
    const char *root;         /* files below it; NULL or "/" = this node */
    const char *ps_file;      /* recorded `ps -ef`; NULL: /proc and real ps */
    const char *proc_dir;     /* NULL = "/proc" */
    long timeout_ms;          /* per audit command; 0 = 10 s */
} mm_k8s_cis_opts;

typedef enum mm_k8s_cis_state {
    MM_CIS_PASS = 0,
    MM_CIS_FAIL,
    MM_CIS_WARN,              /* manual, unscored failures, audits that failed */
    MM_CIS_INFO,              /* type: skip */
} mm_k8s_cis_state;

typedef struct mm_k8s_cis_result {
    char *id, *text, *target, *group;
    mm_k8s_cis_state state;
    bool scored;
    char *audit;              /* the audit command as run (after substitution) */
    char *actual, *expected, *reason, *remediation;   /* may be NULL */
} mm_k8s_cis_result;

typedef struct mm_k8s_cis mm_k8s_cis;
/* Runs the benchmark's checks for the chosen targets.  MM_ENOTFOUND when
 * no benchmark maps to the version; MM_EFORMAT for a bad definition file. */
int mm_k8s_cis_run(mm_k8s_cis **out, const mm_k8s_cis_opts *o);
void mm_k8s_cis_free(mm_k8s_cis *c);
const char *mm_k8s_cis_benchmark(const mm_k8s_cis *c);
size_t mm_k8s_cis_count(const mm_k8s_cis *c);
const mm_k8s_cis_result *mm_k8s_cis_get(const mm_k8s_cis *c, size_t i);
const mm_k8s_cis_result *mm_k8s_cis_find(const mm_k8s_cis *c, const char *id);
size_t mm_k8s_cis_note_count(const mm_k8s_cis *c);
const char *mm_k8s_cis_note(const mm_k8s_cis *c, size_t i);
const char *mm_k8s_cis_state_name(mm_k8s_cis_state s);   /* "PASS"... */
/* A table (kube-bench's layout: [STATE] id text, then remediations and
 * totals) or JSON {"benchmark","results":[...],"totals":{...},"notes"}. */
int mm_k8s_cis_write(FILE *f, const mm_k8s_cis *c, bool json);
/* Every FAIL as a finding "CIS-K8S-<id>" (SP 800-190 3.3.1 for policies,
 * 3.3.5 otherwise; HIGH when scored, MEDIUM otherwise). */
int mm_k8s_cis_findings(const mm_k8s_cis *c, mm_findings *out);

/* --- a live cluster -------------------------------------------------------------- */
typedef struct mm_k8s_client mm_k8s_client;

typedef struct mm_k8s_client_opts {
    const char *kubeconfig;   /* NULL: $KUBECONFIG (first file of the list),
                               * else ~/.kube/config */
    const char *context;      /* NULL: current-context */
    long timeout_s;           /* per request; 0 = 30 */
    long exec_timeout_ms;     /* exec credential plugin; 0 = 30000 */
    size_t page_size;         /* list limit=; 0 = 500 */
    uint64_t max_response;    /* bytes of one response; 0 = 256 MiB */
    const char *user_agent;   /* NULL: "mamori/<version>" */
} mm_k8s_client_opts;

void mm_k8s_client_opts_init(mm_k8s_client_opts *o);
/* Reads the kubeconfig: server, CA (certificate-authority[-data]), client
 * certificate and key (file or -data), bearer token (token, tokenFile),
 * exec plugin (client.authentication.k8s.io/v1 and v1beta1 ExecCredential,
 * run without a shell, with a timeout, its token cached until its
 * expirationTimestamp).  insecure-skip-tls-verify is refused unless no CA
 * is given and the caller allows it (not from the CLI). */
int mm_k8s_client_new(mm_k8s_client **out, const mm_k8s_client_opts *o);
void mm_k8s_client_free(mm_k8s_client *c);
/* "https://host:port" of the cluster (borrowed). */
const char *mm_k8s_client_server(const mm_k8s_client *c);

/* One request.  method: GET, POST, PUT, PATCH, DELETE; path with query;
 * body may be NULL.  *status is the HTTP status; *resp (caller frees) the
 * body, capped.  MM_ENET when the server cannot be reached, MM_EAUTH on
 * 401 (after one credential refresh) - other statuses are returned. */
int mm_k8s_client_request(mm_k8s_client *c, const char *method, const char *path,
                          const char *content_type, const char *body,
                          size_t body_len, long *status, char **resp,
                          size_t *resp_len);
/* GET of a list path ("/api/v1/pods") page by page (limit/continue), each
 * item added to the set with the list's kind and apiVersion.  A 403 or 404
 * is reported as a warning in the set, not an error (a read-only account
 * may not list everything). */
int mm_k8s_client_list(mm_k8s_client *c, const char *path, mm_k8s_set *s);
/* Lists every kind the checks read (workloads, Services, NetworkPolicies,
 * RBAC, Namespaces, Nodes, ServiceAccounts, ConfigMaps names,
 * PodDisruptionBudgets, HorizontalPodAutoscalers, Ingresses) into s. */
int mm_k8s_client_snapshot(mm_k8s_client *c, mm_k8s_set *s);

/* The client of a pod's service account (in-cluster): server NULL = from
 * KUBERNETES_SERVICE_HOST/PORT; sa_dir NULL =
 * /var/run/secrets/kubernetes.io/serviceaccount (token, re-read after a
 * 401 as the kubelet rotates it, and ca.crt).  HTTPS only. */
int mm_k8s_client_new_sa(mm_k8s_client **out, const char *server, const char *sa_dir,
                         const mm_k8s_client_opts *opts);

/* --- node isolation (SP 800-190 §3.3.5) ---------------------------------------------- */
typedef struct mm_k8s_isolate_opts {
    const char *taint_key;    /* default "mamori.io/compromised" */
    const char *taint_value;  /* default "true" */
    const char *effect;       /* NoSchedule (default), PreferNoSchedule, NoExecute */
    const char *reason;       /* annotation mamori.io/isolation-reason (optional) */
} mm_k8s_isolate_opts;

typedef struct mm_k8s_isolate_result {
    bool cordoned;            /* this call set spec.unschedulable */
    bool tainted;             /* this call added the taint */
    bool already;             /* the node was cordoned and tainted already */
} mm_k8s_isolate_result;

void mm_k8s_isolate_opts_init(mm_k8s_isolate_opts *o);
/* Cordons NODE and taints it (the whole taint list kept, a taint of the
 * same key and effect replaced), as kubectl cordon and taint do; retried on
 * a 409.  MM_EAUTH on 403 (the account may not patch nodes), MM_ENOTFOUND
 * on 404. */
int mm_k8s_isolate_node(mm_k8s_client *c, const char *node, const mm_k8s_isolate_opts *o,
                        mm_k8s_isolate_result *res);

#ifdef __cplusplus
}
#endif
#endif
