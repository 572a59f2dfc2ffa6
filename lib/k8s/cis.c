/*
 * cis.c - the CIS Kubernetes Benchmark on the node mamori runs on, from
 * kube-bench's own YAML definitions, read unchanged (cfg/config.yaml and
 * cfg/<benchmark>/{master,node,controlplane,etcd,policies}.yaml) by the
 * project's one YAML loader:
 *
 * - the benchmark: asked for, or version_mapping[Kubernetes version], or
 *   the newest plain "1.N" mapping; cfg/<benchmark>/config.yaml is merged
 *   over cfg/config.yaml (maps deeply, lists replaced), as viper does;
 * - targets: asked for, or target_mapping[benchmark] narrowed to what runs
 *   here (master, controlplane, policies with an API server; etcd with
 *   etcd; node with a kubelet);
 * - variables: per component of the target's section, $<c>bin (the first
 *   `bins` entry running, else the component's name), $<c>conf, $<c>svc,
 *   $<c>kubeconfig, $<c>cafile, $<c>datadir (the first existing file of
 *   the list, else the default);
 * - checks: type skip is INFO, manual WARN; audit_env, audit and
 *   audit_config run and the tests decide (cistest.c); an audit that fails
 *   (non-zero exit, timeout) makes the check FAIL (scored) or WARN.
 *
 * Audits run through mm_proc_run: a plain command line is split on blanks
 * and run without a shell; one that needs a shell (pipes, quotes, $,
 * redirections, several lines) runs as /bin/sh -c AUDIT; both with a
 * timeout.  For tests and offline audits, files are read below a root
 * (absolute paths under /etc, /var, /lib/systemd, /usr/lib/systemd,
 * /home, /opt, /run, /srv and /snap in audits are moved below it) and
 * processes come from a recorded `ps -ef`: an audit whose first stage is
 * ps (ps -ef, ps -fC NAME, ps -C NAME) gets the recorded lines, the rest
 * of its pipeline runs on them.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "k8s/cis_int.h"

#define MAX_OUT (4u << 20)

struct proc {
    char *comm;             /* basename of argv0, 15 bytes as ps -C sees it */
    char *cmd;              /* the command line */
    char *line;             /* the recorded ps line (or the command line) */
};

struct run {
    const mm_k8s_cis_opts *o;
    const char *root;       /* NULL for "/" */
    struct proc *p;
    size_t np;
    char *ps_header;
    bool recorded;
    char **vk, **vv;        /* variables */
    size_t nv;
    mm_k8s_cis *out;
};

static void note(mm_k8s_cis *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(mm_k8s_cis *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *t = mm_xvasprintf(fmt, ap);
    va_end(ap);
    mm_strv_push(&c->notes, &c->nnotes, t);
    free(t);
}

/* --- processes ------------------------------------------------------------------------------- */
static void add_proc(struct run *r, const char *cmd, const char *line)
{
    const char *e = cmd;
    while (*e && *e != ' ')
        e++;
    char *a0 = mm_xstrndup(cmd, (size_t)(e - cmd));
    const char *b = strrchr(a0, '/');
    char *comm = mm_xstrndup(b ? b + 1 : a0, 15);
    free(a0);
    r->p = mm_xrealloc(r->p, (r->np + 1) * sizeof *r->p);
    r->p[r->np++] = (struct proc){comm, mm_xstrdup(cmd), mm_xstrdup(line)};
}

static int load_ps(struct run *r, const char *path)
{
    char *data;
    size_t len;
    int rc = mm_file_read(path, 64u << 20, &data, &len);
    if (rc < 0)
        return rc;
    int nf = -1;            /* fields before the command column */
    char *save = NULL;
    for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        size_t ll = strlen(l);
        if (ll && l[ll - 1] == '\r')
            l[--ll] = 0;
        if (nf < 0) {
            /* the header: the command is the last column (CMD, COMMAND) */
            int f = 0;
            bool cmd = false;
            for (char *p = l; *p;) {
                while (*p == ' ' || *p == '\t')
                    p++;
                if (!*p)
                    break;
                char *e = p;
                while (*e && *e != ' ' && *e != '\t')
                    e++;
                if ((e - p == 3 && !strncmp(p, "CMD", 3)) || (e - p == 7 && !strncmp(p, "COMMAND", 7))) {
                    cmd = true;
                    break;
                }
                f++;
                p = e;
            }
            if (!cmd) {
                rc = mm_error_set(MM_EFORMAT, "%s:1: not `ps -ef` output (no CMD column)", path);
                break;
            }
            nf = f;
            r->ps_header = mm_xstrdup(l);
            continue;
        }
        /* skip nf blank-separated fields: the rest is the command line */
        char *p = l;
        for (int f = 0; f < nf && *p; f++) {
            while (*p == ' ' || *p == '\t')
                p++;
            while (*p && *p != ' ' && *p != '\t')
                p++;
        }
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p)
            add_proc(r, p, l);
    }
    free(data);
    r->recorded = true;
    return rc;
}

static void load_proc(struct run *r, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strspn(e->d_name, "0123456789") != strlen(e->d_name))
            continue;
        char *path = mm_xasprintf("%s/%s/cmdline", dir, e->d_name);
        size_t len = 0;
        char *data = mm_file_read_proc(path, 64u << 10, &len);
        free(path);
        if (!data || !len) {
            free(data);
            continue;
        }
        for (size_t i = 0; i + 1 < len; i++)
            if (!data[i])
                data[i] = ' ';
        add_proc(r, data, data);
        free(data);
    }
    closedir(d);
}

/* kube-bench's verifyBin: a process whose name (ps -C) is the first word
 * of the candidate and whose command line is ^(\S*\/)*CANDIDATE. */
static bool running(const struct run *r, const char *cand)
{
    char *c = mm_xstrdup(cand);
    size_t l = strlen(c);
    if (l && (c[l - 1] == '"' || c[l - 1] == '\''))
        c[--l] = 0;
    const char *cc = c + strspn(c, "\"'");
    const char *sp = strchr(cc, ' ');
    char *first = mm_xstrndup(cc, sp ? (size_t)(sp - cc) : strlen(cc));
    bool hit = false;
    for (size_t i = 0; i < r->np && !hit; i++) {
        if (strncmp(r->p[i].comm, first, 15))
            continue;
        const char *cmd = r->p[i].cmd;
        const char *w = cmd;
        while (*w && *w != ' ')
            w++;
        /* skip the leading directories of the first word */
        const char *start = cmd;
        for (const char *q = cmd; q < w; q++)
            if (*q == '/')
                start = q + 1;
        hit = !strncmp(start, cc, strlen(cc));
    }
    free(first);
    free(c);
    return hit;
}

/* --- files and variables ----------------------------------------------------------------------- */
static char *rooted(const struct run *r, const char *path)
{
    return r->root ? mm_xasprintf("%s%s", r->root, path) : mm_xstrdup(path);
}

static bool exists(const struct run *r, const char *path)
{
    char *p = rooted(r, path);
    struct stat st;
    bool ok = stat(p, &st) == 0;
    free(p);
    return ok;
}

static void set_var(struct run *r, const char *k, const char *v)
{
    for (size_t i = 0; i < r->nv; i++)
        if (!strcmp(r->vk[i], k)) {
            free(r->vv[i]);
            r->vv[i] = mm_xstrdup(v);
            return;
        }
    size_t n = r->nv;
    mm_strv_push(&r->vk, &n, k);
    mm_strv_push(&r->vv, &r->nv, v);
}

static void file_var(struct run *r, const json_t *sec, const char *comp, const char *list,
                     const char *def, const char *ext)
{
    const json_t *l = kj_get(sec, list);
    const char *v = NULL;
    if (json_is_string(l) && exists(r, json_string_value(l)))
        v = json_string_value(l);
    for (size_t i = 0; !v && i < json_array_size(l); i++) {
        const char *f = json_string_value(json_array_get(l, i));
        if (f && exists(r, f))
            v = f;
    }
    if (!v)
        v = kj_str(sec, def);
    if (!v)
        return;
    char *k = mm_xasprintf("$%s%s", comp, ext);
    set_var(r, k, v);
    free(k);
}

/* Variables of one target: each component of its section. */
static void target_vars(struct run *r, const json_t *cfg, const char *target)
{
    const json_t *sec = kj_obj(cfg, target);
    const json_t *comps = kj_arr(sec, "components");
    for (size_t i = 0; i < json_array_size(comps); i++) {
        const char *comp = json_string_value(json_array_get(comps, i));
        const json_t *cs = comp ? kj_obj(sec, comp) : NULL;
        if (!cs)
            continue;
        const json_t *bins = kj_arr(cs, "bins");
        if (json_array_size(bins)) {
            const char *bin = NULL;
            for (size_t k = 0; k < json_array_size(bins) && !bin; k++) {
                const char *b = json_string_value(json_array_get(bins, k));
                if (b && running(r, b))
                    bin = b;
            }
            if (!bin) {
                if (!kj_true(cs, "optional"))
                    note(r->out, "%s: no running program for component %s (kube-bench stops "
                         "here; mamori runs the checks with $%sbin=%s)", target, comp, comp,
                         comp);
                bin = comp;
            }
            char *k = mm_xasprintf("$%sbin", comp);
            set_var(r, k, bin);
            free(k);
        }
        file_var(r, cs, comp, "confs", "defaultconf", "conf");
        file_var(r, cs, comp, "svc", "defaultsvc", "svc");
        file_var(r, cs, comp, "kubeconfig", "defaultkubeconfig", "kubeconfig");
        file_var(r, cs, comp, "cafile", "defaultcafile", "cafile");
        file_var(r, cs, comp, "datadirs", "defaultdatadir", "datadir");
    }
}

static char *subst(const struct run *r, const char *s)
{
    if (!s)
        return NULL;
    char *cur = mm_xstrdup(s);
    /* longest names first, so $kubeletkubeconfig is not cut by $kubeletconf */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < r->nv; i++) {
            size_t kl = strlen(r->vk[i]);
            if ((pass == 0) != (kl > 12))
                continue;
            mm_buf b = {0};
            const char *p = cur;
            for (const char *q; (q = strstr(p, r->vk[i]));) {
                mm_buf_add(&b, p, (size_t)(q - p));
                mm_buf_adds(&b, r->vv[i]);
                p = q + kl;
            }
            mm_buf_adds(&b, p);
            free(cur);
            cur = mm_buf_detach(&b);
        }
    return cur;
}

/* Moves absolute host paths of an audit below the root. */
static char *reroot(const struct run *r, const char *s)
{
    if (!r->root)
        return mm_xstrdup(s);
    static const char *const pre[] = {"/etc/", "/var/", "/lib/systemd/", "/usr/lib/systemd/",
                                      "/home/", "/opt/", "/run/", "/srv/", "/snap/", NULL};
    mm_buf b = {0};
    for (const char *p = s; *p; p++) {
        bool tok = p == s || strchr(" \t\n'\"=(:,;|<>", p[-1]);
        if (*p == '/' && tok)
            for (int i = 0; pre[i]; i++)
                if (!strncmp(p, pre[i], strlen(pre[i]))) {
                    mm_buf_adds(&b, r->root);
                    break;
                }
        mm_buf_addc(&b, *p);
    }
    return mm_buf_detach(&b);
}

/* --- running an audit ------------------------------------------------------------------------- */
static bool needs_shell(const char *s)
{
    return strpbrk(s, "|&;<>()$`'\"\\*?[]{}~\n#") != NULL;
}

static int run_argv(const char *const *argv, const char *input, size_t inlen, long tmo,
                    char **out, char **err)
{
    mm_proc_opts po;
    memset(&po, 0, sizeof po);
    po.argv = argv;
    po.input = input;
    po.input_len = inlen;
    po.timeout_ms = tmo;
    po.max_out = MAX_OUT;
    po.max_err = 64u << 10;
    mm_proc_result pr;
    int rc = mm_proc_run(&pr, &po);
    if (rc < 0) {
        *err = mm_xasprintf("failed to run: %s", mm_error_last());
        return -1;
    }
    mm_buf b = {0};
    if (pr.out)
        mm_buf_add(&b, pr.out, pr.out_len);
    if (pr.err)
        mm_buf_add(&b, pr.err, pr.err_len);
    *out = mm_buf_detach(&b);
    int st = 0;
    if (pr.spawn_errno)
        *err = mm_xasprintf("failed to run %s: %s", argv[0], strerror(pr.spawn_errno)), st = -1;
    else if (pr.timed_out)
        *err = mm_xasprintf("timed out after %ld ms", tmo), st = -1;
    else if (!WIFEXITED(pr.status) || WEXITSTATUS(pr.status))
        *err = mm_xasprintf("exit status %d", WIFEXITED(pr.status) ? WEXITSTATUS(pr.status) : -1),
        st = -1;
    mm_proc_result_free(&pr);
    return st;
}

/* A leading ps stage served from the recorded processes: *emu the lines,
 * *rest the remaining pipeline (NULL for none).  False when not ps. */
static bool emulate_ps(const struct run *r, const char *audit, char **emu, char **rest, bool *ok)
{
    const char *bar = strchr(audit, '|');
    char *stage = mm_xstrndup(audit, bar ? (size_t)(bar - audit) : strlen(audit));
    char *save = NULL, *t = strtok_r(stage, " \t", &save);
    if (!t || (strcmp(t, "ps") && strcmp(t, "/bin/ps") && strcmp(t, "/usr/bin/ps"))) {
        free(stage);
        return false;
    }
    const char *name = NULL;
    bool full = false;
    for (char *a = strtok_r(NULL, " \t", &save); a; a = strtok_r(NULL, " \t", &save)) {
        if (!strcmp(a, "-C") || !strcmp(a, "-fC") || !strcmp(a, "-Cf"))
            name = strtok_r(NULL, " \t", &save);
        else if (!strcmp(a, "-ef") || !strcmp(a, "-e") || !strcmp(a, "aux") || !strcmp(a, "-A"))
            full = true;
    }
    mm_buf b = {0};
    if (r->ps_header)
        mm_buf_printf(&b, "%s\n", r->ps_header);
    size_t hits = 0;
    for (size_t i = 0; i < r->np; i++)
        if (full || !name || !strncmp(r->p[i].comm, name, 15)) {
            mm_buf_printf(&b, "%s\n", r->p[i].line);
            hits++;
        }
    *ok = full || hits > 0;     /* ps -C NAME exits 1 when nothing matches */
    *emu = mm_buf_detach(&b);
    *rest = bar ? mm_xstrdup(bar + 1) : NULL;
    free(stage);
    return true;
}

/* Output of one audit ("" for none); -1 with *err when it failed. */
static int run_audit(const struct run *r, const char *raw, char **out, char **err)
{
    *out = NULL;
    *err = NULL;
    char *a = reroot(r, raw ? raw : "");
    mm_str_trim(a);
    long tmo = r->o->timeout_ms > 0 ? r->o->timeout_ms : 10000;
    int rc = 0;
    char *emu = NULL, *rest = NULL;
    bool ok;
    if (!*a) {
        *out = mm_xstrdup("");
    } else if (r->recorded && emulate_ps(r, a, &emu, &rest, &ok)) {
        if (rest) {
            const char *argv[] = {"/bin/sh", "-c", rest, NULL};
            rc = run_argv(argv, emu, strlen(emu), tmo, out, err);
        } else {
            *out = emu;
            emu = NULL;
            if (!ok) {
                *err = mm_xstrdup("exit status 1 (no such process)");
                rc = -1;
            }
        }
    } else if (needs_shell(a)) {
        const char *argv[] = {"/bin/sh", "-c", a, NULL};
        rc = run_argv(argv, NULL, 0, tmo, out, err);
    } else {
        size_t n = 0, cap = strlen(a) / 2 + 2;
        const char **v = mm_xcalloc(cap, sizeof *v);
        char *save = NULL;
        for (char *t = strtok_r(a, " \t", &save); t && n + 1 < cap; t = strtok_r(NULL, " \t", &save))
            v[n++] = t;
        rc = run_argv(v, NULL, 0, tmo, out, err);
        free(v);
    }
    free(emu);
    free(rest);
    free(a);
    if (!*out)
        *out = mm_xstrdup("");
    return rc;
}

/* --- running ----------------------------------------------------------------------------------- */
static bool target_runs(const struct run *r, const json_t *cfg, const char *target)
{
    const char *sec = !strcmp(target, "node") ? "node" : !strcmp(target, "etcd") ? "etcd" : "master";
    const char *comp = !strcmp(target, "node") ? "kubelet" : !strcmp(target, "etcd") ? "etcd"
                                                                                  : "apiserver";
    const json_t *bins = kj_arr(kj_obj(kj_obj(cfg, sec), comp), "bins");
    for (size_t i = 0; i < json_array_size(bins); i++) {
        const char *b = json_string_value(json_array_get(bins, i));
        if (b && running(r, b))
            return true;
    }
    return false;
}

static bool wanted(const mm_k8s_cis_opts *o, const char *id)
{
    if (!o->checks || !*o->checks)
        return true;
    char *d = mm_xstrdup(o->checks), *save = NULL;
    bool hit = false;
    for (char *t = strtok_r(d, ", ", &save); t && !hit; t = strtok_r(NULL, ", ", &save)) {
        size_t l = strlen(t);
        hit = !strncmp(id, t, l) && (id[l] == 0 || id[l] == '.');
    }
    free(d);
    return hit;
}

static void add_result(mm_k8s_cis *c, const mm_k8s_cis_result *x)
{
    c->r = mm_xrealloc(c->r, (c->n + 1) * sizeof *c->r);
    c->r[c->n++] = *x;
}

static void run_check(struct run *r, const char *target, const char *group, const json_t *ck,
                      char *id)
{
    mm_k8s_cis_result x;
    memset(&x, 0, sizeof x);
    x.id = id;
    x.text = subst(r, kj_str(ck, "text") ? kj_str(ck, "text") : "");
    x.target = mm_xstrdup(target);
    x.group = mm_xstrdup(group ? group : "");
    x.remediation = subst(r, kj_str(ck, "remediation"));
    x.scored = kj_true(ck, "scored");
    const char *type = kj_str(ck, "type");
    const json_t *tests = kj_obj(ck, "tests");
    char *t = type ? mm_xstrdup(type) : NULL;
    if (t)
        mm_str_trim(t);
    if (x.scored && (!t || !*t) && !tests) {
        x.state = MM_CIS_WARN;
        x.reason = mm_xstrdup("There are no tests");
    } else if (t && !strcmp(t, "skip")) {
        x.state = MM_CIS_INFO;
        x.reason = mm_xstrdup("Test marked as skip");
    } else if (t && !strcmp(t, "manual")) {
        x.state = MM_CIS_WARN;
        x.reason = mm_xstrdup("Test marked as a manual test");
    } else if (!tests || !json_array_size(kj_arr(tests, "test_items"))) {
        x.state = x.scored ? MM_CIS_FAIL : MM_CIS_WARN;
        x.reason = mm_xstrdup("No tests defined");
    } else {
        char *audit = subst(r, kj_str(ck, "audit")), *conf = subst(r, kj_str(ck, "audit_config")),
             *env = subst(r, kj_str(ck, "audit_env"));
        char *aout = NULL, *cout = NULL, *eout = NULL, *err = NULL;
        int rc = 0;
        if (env && *env)
            rc = run_audit(r, env, &eout, &err);
        if (rc == 0)
            rc = run_audit(r, audit, &aout, &err);
        if (rc == 0)
            rc = run_audit(r, conf, &cout, &err);
        x.audit = audit;
        audit = NULL;
        if (rc == 0) {
            bool ok;
            char *ex = NULL, *perr = NULL;
            k8s_cis_eval(tests, kj_true(ck, "use_multiple_values"), aout, conf && *conf, cout,
                         eout, &ok, &ex, &perr);
            x.expected = ex;
            x.actual = mm_xstrdup(aout);
            mm_str_trim(x.actual);
            if (!*x.actual && cout) {
                free(x.actual);
                x.actual = mm_xstrdup(cout);
                mm_str_trim(x.actual);
            }
            x.state = ok ? MM_CIS_PASS : x.scored ? MM_CIS_FAIL : MM_CIS_WARN;
            if (perr && !ok)
                x.reason = perr;
            else
                free(perr);
        } else {
            x.state = x.scored ? MM_CIS_FAIL : MM_CIS_WARN;
            x.reason = err;
            err = NULL;
            x.actual = mm_xstrdup(aout ? aout : "");
            mm_str_trim(x.actual);
        }
        free(audit);
        free(conf);
        free(env);
        free(aout);
        free(cout);
        free(eout);
        free(err);
    }
    free(t);
    add_result(r->out, &x);
}

int mm_k8s_cis_run(mm_k8s_cis **out, const mm_k8s_cis_opts *o)
{
    if (!out || !o || !o->cfg_dir)
        return mm_error_set(MM_EINVAL, "cis: no definitions folder");
    *out = NULL;
    struct run r;
    memset(&r, 0, sizeof r);
    r.o = o;
    r.root = o->root && *o->root && strcmp(o->root, "/") ? o->root : NULL;
    r.out = mm_xcalloc(1, sizeof *r.out);
    char *path = mm_xasprintf("%s/config.yaml", o->cfg_dir);
    json_t *cfg;
    int rc = k8s_cis_load_yaml(path, &cfg, NULL, NULL);
    free(path);
    if (rc < 0)
        goto fail;
    r.out->benchmark = k8s_cis_pick_benchmark(o, cfg);
    if (!r.out->benchmark || strchr(r.out->benchmark, '/') || r.out->benchmark[0] == '.') {
        rc = r.out->benchmark ? mm_error_set(MM_EINVAL, "cis: bad benchmark name \"%s\"",
                                             r.out->benchmark) : MM_ENOTFOUND;
        json_decref(cfg);
        goto fail;
    }
    path = mm_xasprintf("%s/%s/config.yaml", o->cfg_dir, r.out->benchmark);
    json_t *vc;
    if (k8s_cis_load_yaml(path, &vc, NULL, NULL) == 0) {
        k8s_cis_merge(cfg, vc);
        json_decref(vc);
    }
    free(path);
    if (o->ps_file)
        rc = load_ps(&r, o->ps_file);
    else
        load_proc(&r, o->proc_dir ? o->proc_dir : "/proc");
    if (rc < 0) {
        json_decref(cfg);
        goto fail;
    }
    /* targets */
    char **targets = NULL;
    size_t nt = 0;
    if (o->targets && *o->targets) {
        char *d = mm_xstrdup(o->targets), *save = NULL;
        for (char *t = strtok_r(d, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
            mm_strv_push(&targets, &nt, t);
        free(d);
    } else {
        const json_t *tm = kj_arr(kj_obj(cfg, "target_mapping"), r.out->benchmark);
        for (size_t i = 0; i < json_array_size(tm); i++) {
            const char *t = json_string_value(json_array_get(tm, i));
            if (t && target_runs(&r, cfg, t))
                mm_strv_push(&targets, &nt, t);
        }
        if (!nt) {
            note(r.out, "no kubelet, API server or etcd runs here: every target of %s is "
                 "checked", r.out->benchmark);
            for (size_t i = 0; i < json_array_size(tm); i++)
                if (json_string_value(json_array_get(tm, i)))
                    mm_strv_push(&targets, &nt, json_string_value(json_array_get(tm, i)));
        }
    }
    for (size_t ti = 0; ti < nt && rc == 0; ti++) {
        if (strchr(targets[ti], '/') || targets[ti][0] == '.') {
            rc = mm_error_set(MM_EINVAL, "cis: bad target \"%s\"", targets[ti]);
            break;
        }
        path = mm_xasprintf("%s/%s/%s.yaml", o->cfg_dir, r.out->benchmark, targets[ti]);
        json_t *ctl;
        char *raw = NULL;
        mm_yaml_posmap *pm = mm_yaml_posmap_new();
        rc = k8s_cis_load_yaml(path, &ctl, &raw, pm);
        free(path);
        if (rc < 0) {
            free(raw);
            mm_yaml_posmap_free(pm);
            break;
        }
        for (size_t i = 0; i < r.nv; i++) {
            free(r.vk[i]);
            free(r.vv[i]);
        }
        r.nv = 0;
        target_vars(&r, cfg, targets[ti]);
        const json_t *groups = kj_arr(ctl, "groups");
        for (size_t g = 0; g < json_array_size(groups); g++) {
            const json_t *grp = json_array_get(groups, g);
            const json_t *checks = kj_arr(grp, "checks");
            for (size_t k = 0; k < json_array_size(checks); k++) {
                const json_t *ck = json_array_get(checks, k);
                char *id = kj_str(ck, "id") ? mm_xstrdup(kj_str(ck, "id"))
                                            : k8s_cis_raw_scalar(raw, pm, ck, "id");
                if (id && wanted(o, id))
                    run_check(&r, targets[ti], kj_str(grp, "text"), ck, id);
                else
                    free(id);
            }
        }
        json_decref(ctl);
        free(raw);
        mm_yaml_posmap_free(pm);
    }
    mm_strv_free(targets, nt);
    json_decref(cfg);
fail:
    for (size_t i = 0; i < r.np; i++) {
        free(r.p[i].comm);
        free(r.p[i].cmd);
        free(r.p[i].line);
    }
    free(r.p);
    free(r.ps_header);
    mm_strv_free(r.vk, r.nv);
    mm_strv_free(r.vv, r.nv);
    if (rc < 0) {
        mm_k8s_cis_free(r.out);
        return rc;
    }
    *out = r.out;
    return 0;
}
