/*
 * config/imagecheck.c - the misconfiguration analyzer (MM_SCANNER_MISCONFIG,
 * NIST SP 800-190 section 3.1.2): checks on the image config and history
 * and on the merged file tree, each with an id (MM-IMG-0xx), a severity,
 * a remediation and its CIS Docker Benchmark id where one exists
 * (docs/misconfig.md).
 *
 * During the layer pass it only keeps the few small files whose content
 * matters (/etc/passwd, /etc/shadow, .npmrc, .docker/config.json); every
 * other check runs in finish() against the merged tree, the inventory and
 * the config.  Sensitive files are looked for in deleted versions too: a
 * key removed by a later layer still ships in the earlier one.
 *
 * Credential names in ENV / labels / history are flagged here; credential
 * values anywhere are the secret scanner's (section 3.1.4): the two do not
 * overlap.
 *
 * Length: one analyzer's checks over the same gathered config, files and
 * tree, a section per input; the checks are a catalogue read as one list
 * (docs/misconfig.md).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>

#include "config/config_int.h"
#include "config/analyzer.h"
#include "util/util.h"

#define MAX_PER_CHECK 100           /* findings of one check, then a summary */
#define MAX_SMALL_FILE (4u << 20)   /* passwd, shadow, .npmrc, config.json */

enum {
    C_USER, C_HEALTH, C_UPDATE, C_ADD, C_SECRET, C_PORT, C_SETUID, C_REMOTE, C_SUDO,
    C_CACHE, C_TAG, C_EMPTYPW, C_DUPUID, C_UID0, C_SENSITIVE, C_WORLDW, C__N
};

typedef struct check {
    const char *id;
    const char *cis;   /* CIS Docker Benchmark, or NULL */
    const char *remediation;
} check;

static const check checks[C__N] = {
    [C_USER] = {"MM-IMG-001", "CIS Docker Benchmark 4.1",
        "Create an unprivileged user in the image and set USER to it."},
    [C_HEALTH] = {"MM-IMG-002", "CIS Docker Benchmark 4.6",
        "Add a HEALTHCHECK instruction to the image."},
    [C_UPDATE] = {"MM-IMG-003", "CIS Docker Benchmark 4.7",
        "Run the package index update and the install in the same RUN instruction."},
    [C_ADD] = {"MM-IMG-004", "CIS Docker Benchmark 4.9",
        "Use COPY instead of ADD; download remote files with a checksum check."},
    [C_SECRET] = {"MM-IMG-005", "CIS Docker Benchmark 4.10",
        "Do not keep credentials in ENV, ARG, labels or build history: mount them at build "
        "time (RUN --mount=type=secret) and inject them at run time."},
    [C_PORT] = {"MM-IMG-006", NULL,
        "Do not expose ssh or telnet: use docker exec / kubectl exec for access."},
    [C_SETUID] = {"MM-IMG-007", "CIS Docker Benchmark 4.8",
        "Remove the setuid/setgid bits the application does not need "
        "(RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} +)."},
    [C_REMOTE] = {"MM-IMG-008", NULL,
        "Remove ssh and telnet servers from the image: containers are reached with "
        "docker exec / kubectl exec (SP 800-190 4.1.2)."},
    [C_SUDO] = {"MM-IMG-009", NULL,
        "Remove sudo: run as the right user with USER instead of escalating inside the "
        "container."},
    [C_CACHE] = {"MM-IMG-010", NULL,
        "Clean package caches in the same RUN that fills them (rm -rf /var/lib/apt/lists/*, "
        "apk add --no-cache, pip --no-cache-dir, dnf clean all)."},
    [C_TAG] = {"MM-IMG-011", NULL,
        "Tag images with a version (and deploy by digest), not latest or no tag."},
    [C_EMPTYPW] = {"MM-IMG-012", NULL,
        "Lock the account (passwd -l NAME, or '!' / '*' in /etc/shadow) or set a password."},
    [C_DUPUID] = {"MM-IMG-013", NULL,
        "Give every account its own UID: shared UIDs make file ownership and audit logs "
        "ambiguous."},
    [C_UID0] = {"MM-IMG-014", NULL,
        "Only root may have UID 0: remove the account or give it an unprivileged UID."},
    [C_SENSITIVE] = {"MM-IMG-015", "CIS Docker Benchmark 4.10",
        "Keep credentials, keys and repository metadata out of the build context "
        "(.dockerignore) and out of every layer: deleting them in a later layer does not "
        "remove them from the image."},
    [C_WORLDW] = {"MM-IMG-016", NULL,
        "Remove write permission for others (chmod o-w) from files and folders in system "
        "paths."},
};

typedef struct small_file {
    char *data;
    size_t len;
    int layer;
} small_file;

typedef struct ic_state {
    small_file passwd, shadow;
    mm_map *tokens;     /* "layer\tpath" of .npmrc / config.json holding credentials */
    int count[C__N];    /* findings emitted per check */
    int over[C__N];     /* findings beyond the cap */
    mm_map *seen;       /* dedupe keys */
} ic_state;

/* --- emitting ----------------------------------------------------------------- */
typedef struct ev {
    const char *title;
    mm_severity sev;
    int layer;
    const char *path;      /* image-absolute, or NULL */
    int line;
    const char *package;
    const char *instruction;
    const char *evidence;
} ev;

static int emit(ic_state *st, mm_actx *cx, int c, const ev *e)
{
    if (st->count[c] >= MAX_PER_CHECK) {
        st->over[c]++;
        return 0;
    }
    st->count[c]++;
    mm_finding f;
    memset(&f, 0, sizeof f);
    f.id = (char *)checks[c].id;
    f.kind = MM_FIND_MISCONFIG;
    f.severity = e->sev;
    f.title = (char *)e->title;
    f.loc.layer = e->layer;
    f.loc.layer_digest = (char *)mm_actx_layer_digest(cx, e->layer);
    f.loc.instruction = (char *)(e->instruction ? e->instruction
                                                : mm_actx_layer_instruction(cx, e->layer));
    f.loc.path = (char *)e->path;
    f.loc.line = e->line;
    f.loc.package = (char *)e->package;
    f.evidence = (char *)e->evidence;
    f.remediation = (char *)checks[c].remediation;
    char *refs[1];
    if (checks[c].cis) {
        refs[0] = (char *)checks[c].cis;
        f.references = refs;
        f.nreferences = 1;
    }
    f.section = (char *)"3.1.2";
    return mm_findings_add(mm_actx_findings(cx), &f);
}

/* Once per key (e.g. one finding per .git folder). */
static bool first_time(ic_state *st, const char *key)
{
    if (mm_map_get(st->seen, key))
        return false;
    if (mm_map_count(st->seen) < 1000000)
        mm_map_put(st->seen, key, (void *)1);
    return true;
}

/* --- the layer pass ----------------------------------------------------------- */
static int ic_create(void **state, mm_actx *cx, const void *config)
{
    ic_state *st = mm_xcalloc(1, sizeof *st);
    st->tokens = mm_map_new();
    st->seen = mm_map_new();
    st->passwd.layer = st->shadow.layer = -1;
    *state = st;
    return 0;
}

static void ic_destroy(void *state)
{
    ic_state *st = state;
    if (!st)
        return;
    free(st->passwd.data);
    free(st->shadow.data);
    mm_map_free(st->tokens, NULL);
    mm_map_free(st->seen, NULL);
    free(st);
}

static bool is_npmrc(const char *p)
{
    return !strcmp(mm_path_base(p), ".npmrc");
}

static bool is_docker_config(const char *p)
{
    return mm_str_endswith(p, ".docker/config.json") || !strcmp(p, "docker/config.json");
}

static mm_want ic_wants(void *state, const mm_entry *e)
{
    (void)state;
    if (e->type != MM_ENT_REG || e->size > MAX_SMALL_FILE)
        return MM_WANT_NONE;
    if (!strcmp(e->path, "etc/passwd") || !strcmp(e->path, "etc/shadow") ||
        is_npmrc(e->path) || is_docker_config(e->path))
        return MM_WANT_WHOLE;
    return MM_WANT_NONE;
}

static int ic_file(void *state, mm_actx *cx, const mm_entry *e, const uint8_t *data,
                   size_t len)
{
    ic_state *st = state;
    (void)cx;
    small_file *sf = !strcmp(e->path, "etc/passwd") ? &st->passwd
                     : !strcmp(e->path, "etc/shadow") ? &st->shadow : NULL;
    if (sf) {
        free(sf->data);
        sf->data = mm_xstrndup((const char *)data, len);
        sf->len = len;
        sf->layer = e->layer;
        return 0;
    }
    bool cred = false;
    const char *d = (const char *)data;
    if (is_npmrc(e->path)) {
        /* _authToken=, _auth=, _password= with a value that is not a variable */
        mm_lines it;
        mm_lines_init(&it, d, len);
        const char *ln;
        size_t ll;
        while (mm_lines_next(&it, &ln, &ll)) {
            char *l = mm_xstrndup(ln, ll);
            char *eq = strchr(l, '=');
            if (eq && (strstr(l, "_authToken") || strstr(l, "_auth") || strstr(l, "_password"))
                && eq < l + ll) {
                char *v = mm_str_trim(eq + 1);
                if (*v && v[0] != '$')
                    cred = true;
            }
            free(l);
            if (cred)
                break;
        }
    } else {
        json_t *j = json_loadb(d, len, 0, NULL);
        json_t *auths = json_object_get(j, "auths");
        const char *k;
        json_t *v;
        json_object_foreach(auths, k, v) {
            const char *a = json_string_value(json_object_get(v, "auth"));
            if ((a && *a) || json_string_value(json_object_get(v, "identitytoken")))
                cred = true;
        }
        json_decref(j);
    }
    if (cred) {
        char *key = mm_xasprintf("%d\t%s", e->layer, e->path);
        if (mm_map_count(st->tokens) < 100000)
            mm_map_put(st->tokens, key, (void *)1);
        free(key);
    }
    return 0;
}

/* --- config and history --------------------------------------------------------- */
static bool is_root(const char *u)
{
    if (!u || !*u)
        return true;
    size_t n = strcspn(u, ":");
    return (n == 4 && !strncmp(u, "root", 4)) || (n == 1 && u[0] == '0');
}

static void secret_kv(ic_state *st, mm_actx *cx, const char *where, const char *k,
                      const char *v, int layer, const char *instr)
{
    if (!mm_sensitive_name(k) || mm_placeholder_value(v))
        return;
    char *key = mm_xasprintf("secret\t%s", k);
    bool first = first_time(st, key);
    free(key);
    if (!first)
        return;
    char *m = mm_mask_value(v);
    char *evd = mm_xasprintf("%s %s=%s", where, k, m);
    char *title = mm_xasprintf("credential-like %s \"%s\" with a value", where, k);
    /* the instruction quoted in the finding must not carry the value */
    const char *li = instr ? instr : mm_actx_layer_instruction(cx, layer);
    char *masked = li ? mm_mask_in(li, v) : mm_xstrdup("");
    ev e = {title, MM_SEV_HIGH, layer, NULL, 0, NULL, masked, evd};
    emit(st, cx, C_SECRET, &e);
    free(masked);
    free(title);
    free(evd);
    free(m);
}

/* "K=V K2=V2" (Docker writes ENV / ARG history unquoted, one pair per word
 * unless a value holds spaces; a word without '=' continues the value). */
static void secret_pairs(ic_state *st, mm_actx *cx, const char *where, const char *s,
                         int layer, const char *instr)
{
    char *dup = mm_xstrdup(s);
    char *save = NULL;
    for (char *w = strtok_r(dup, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
        char *eq = strchr(w, '=');
        if (!eq)
            continue;
        *eq = 0;
        char *v = eq + 1;
        size_t vl = strlen(v);
        if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
            v[vl - 1] = 0;
            v++;
        }
        secret_kv(st, cx, where, w, v, layer, instr);
    }
    free(dup);
}

static bool archive_name(const char *s)
{
    static const char *const ext[] = {".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2",
                                      ".tar.xz", ".txz", ".tar.zst", ".tzst"};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
        if (mm_str_endswith(s, ext[i]))
            return true;
    return false;
}

static void history_entry(ic_state *st, mm_actx *cx, const char *cb, int layer)
{
    char *s = mm_xstrndup(cb, strnlen(cb, 64 * 1024));
    char *instr = mm_xstrndup(cb, strnlen(cb, 300));
    char *p = s;
    char *end = s + strlen(s);
    /* BuildKit appends " # buildkit" */
    if (end - p > 11 && !strcmp(end - 11, " # buildkit"))
        *(end -= 11) = 0;
    /* build arguments: "|2 A=x B=y /bin/sh -c ..." */
    if (*p == '|' && isdigit((unsigned char)p[1])) {
        long n = strtol(p + 1, &p, 10);
        for (long i = 0; i < n && i < 1000 && *p; i++) {
            while (*p == ' ')
                p++;
            char *w = p;
            while (*p && *p != ' ')
                p++;
            char save = *p;
            *p = 0;
            char *eq = strchr(w, '=');
            if (eq) {
                *eq = 0;
                secret_kv(st, cx, "build argument", w, eq + 1, layer, instr);
                *eq = '=';
            }
            *p = save;
        }
        while (*p == ' ')
            p++;
    }
    const char *run = NULL;
    if (mm_str_startswith(p, "/bin/sh -c #(nop) ")) {
        p += strlen("/bin/sh -c #(nop) ");
        while (*p == ' ')
            p++;
    } else if (mm_str_startswith(p, "RUN ")) {
        run = p + 4;
        if (mm_str_startswith(run, "/bin/sh -c "))
            run += strlen("/bin/sh -c ");
    } else if (mm_str_startswith(p, "/bin/sh -c ")) {
        run = p + strlen("/bin/sh -c ");
    }
    if (run) {
        mm_sh_script sc;
        mm_sh_parse(&sc, run);
        bool upd = false, inst = false;
        const char *which = "apt-get update";
        for (size_t i = 0; i < sc.n; i++) {
            const mm_sh_cmd *c = &sc.cmds[i];
            const char *n = mm_sh_name(c);
            if (!strcmp(n, "apt-get") || !strcmp(n, "apt") || !strcmp(n, "apk") ||
                !strcmp(n, "yum") || !strcmp(n, "dnf") || !strcmp(n, "microdnf")) {
                if (mm_sh_has(c, "update") && strcmp(n, "yum") && strcmp(n, "dnf") &&
                    strcmp(n, "microdnf")) {
                    upd = true;
                    which = !strcmp(n, "apk") ? "apk update" : "apt-get update";
                }
                if (mm_sh_has(c, "install") || mm_sh_has(c, "add") || mm_sh_has(c, "upgrade") ||
                    mm_sh_has(c, "dist-upgrade"))
                    inst = true;
            }
        }
        mm_sh_free(&sc);
        if (upd && !inst) {
            char *evd = mm_xasprintf("%s alone in a RUN", which);
            ev e = {"package index update alone in a RUN instruction", MM_SEV_LOW, layer,
                    NULL, 0, NULL, instr, evd};
            emit(st, cx, C_UPDATE, &e);
            free(evd);
        }
    } else if (mm_str_startswith(p, "ADD ")) {
        const char *a = p + 4;
        while (*a == ' ')
            a++;
        bool rootfs = mm_str_startswith(a, "file:") && mm_str_endswith(a, " in / ") ;
        rootfs = rootfs || (mm_str_startswith(a, "file:") && mm_str_endswith(a, " in /"));
        /* the first source word */
        char *src = mm_xstrndup(a, strcspn(a, " "));
        bool flags = src[0] == '-';
        if (!rootfs && !flags && !archive_name(src)) {
            char *evd = mm_xasprintf("ADD %s", a);
            ev e = {"ADD used instead of COPY", MM_SEV_LOW, layer, NULL, 0, NULL, instr, evd};
            emit(st, cx, C_ADD, &e);
            free(evd);
        }
        free(src);
    } else if (mm_str_startswith(p, "ENV ")) {
        secret_pairs(st, cx, "ENV", p + 4, layer, instr);
    } else if (mm_str_startswith(p, "ARG ")) {
        secret_pairs(st, cx, "ARG", p + 4, layer, instr);
    }
    free(instr);
    free(s);
}

static int config_checks(ic_state *st, mm_actx *cx)
{
    const mm_image_info *im = mm_actx_image(cx);
    if (!im || !im->config_json)
        return 0;
    json_t *root = json_loads(im->config_json, 0, NULL);
    if (!root)
        return 0; /* the reader already validated it; nothing to say */
    json_t *cfg = json_object_get(root, "config");
    const char *user = json_string_value(json_object_get(cfg, "User"));
    if (is_root(user)) {
        char *evd = mm_xasprintf("User: \"%s\"", user ? user : "");
        ev e = {user && *user ? "image runs as root" : "image has no USER: it runs as root",
                MM_SEV_MEDIUM, -1, NULL, 0, NULL, NULL, evd};
        emit(st, cx, C_USER, &e);
        free(evd);
    }
    json_t *hc = json_object_get(cfg, "Healthcheck");
    json_t *test = json_object_get(hc, "Test");
    const char *t0 = json_string_value(json_array_get(test, 0));
    if (!t0 || !strcmp(t0, "NONE")) {
        ev e = {t0 ? "HEALTHCHECK disabled (NONE)" : "no HEALTHCHECK in the image config",
                MM_SEV_LOW, -1, NULL, 0, NULL, NULL, "Healthcheck: none"};
        emit(st, cx, C_HEALTH, &e);
    }
    /* ports */
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(cfg, "ExposedPorts"), k, v) {
        long port = strtol(k, NULL, 10);
        if (port == 22 || port == 23) {
            char *evd = mm_xasprintf("ExposedPorts: %s", k);
            ev e = {port == 22 ? "ssh port 22 exposed" : "telnet port 23 exposed",
                    MM_SEV_MEDIUM, -1, NULL, 0, NULL, NULL, evd};
            emit(st, cx, C_PORT, &e);
            free(evd);
        }
    }
    /* credentials in ENV and labels */
    size_t i;
    json_array_foreach(json_object_get(cfg, "Env"), i, v) {
        const char *s = json_string_value(v);
        const char *eq = s ? strchr(s, '=') : NULL;
        if (!eq)
            continue;
        char *name = mm_xstrndup(s, (size_t)(eq - s));
        secret_kv(st, cx, "ENV", name, eq + 1, -1, NULL);
        free(name);
    }
    json_object_foreach(json_object_get(cfg, "Labels"), k, v)
        if (json_is_string(v))
            secret_kv(st, cx, "label", k, json_string_value(v), -1, NULL);
    /* history: each entry that made a layer maps to the next layer index */
    int layer = 0;
    json_array_foreach(json_object_get(root, "history"), i, v) {
        bool empty = json_is_true(json_object_get(v, "empty_layer"));
        const char *cb = json_string_value(json_object_get(v, "created_by"));
        if (cb)
            history_entry(st, cx, cb, empty ? -1 : layer);
        if (!empty)
            layer++;
    }
    json_decref(root);

    /* tags */
    if (im->source_format && !strcmp(im->source_format, "docker-archive") &&
        im->nrepo_tags == 0) {
        ev e = {"image has no tag", MM_SEV_LOW, -1, NULL, 0, NULL, NULL, "RepoTags: none"};
        emit(st, cx, C_TAG, &e);
    }
    for (size_t t = 0; t < im->nrepo_tags; t++) {
        const char *tag = im->repo_tags[t];
        const char *ls = strrchr(tag, '/');
        const char *colon = strrchr(ls ? ls : tag, ':');
        if (!colon || !strcmp(colon + 1, "latest")) {
            char *evd = mm_xasprintf("tag %s", tag);
            ev e = {"image tagged latest", MM_SEV_LOW, -1, NULL, 0, NULL, NULL, evd};
            emit(st, cx, C_TAG, &e);
            free(evd);
        }
    }
    return 0;
}

/* --- /etc/passwd and /etc/shadow --------------------------------------------------- */
/* Splits a colon line into at most max fields (pointers into l). */
static size_t fields(char *l, char **f, size_t max)
{
    size_t n = 0;
    f[n++] = l;
    for (char *c = l; *c && n < max; c++) {
        if (*c == ':') {
            *c = 0;
            f[n++] = c + 1;
        }
    }
    return n;
}

static bool visible(mm_actx *cx, const char *path, int layer)
{
    const mm_node *n = mm_tree_get(mm_actx_tree(cx), path);
    return n && n->layer == layer && S_ISREG(n->mode);
}

/* The next record of an account file (passwd, shadow): its line, copied
 * to *l (the caller frees it), split at ':' into at most max fields;
 * comments, NIS +/- entries and lines over 4 KiB are skipped. */
static bool acct_next(mm_lines *it, char **l, char **f, size_t max, size_t *nf, int *lineno)
{
    const char *ln;
    size_t ll;
    while (mm_lines_next(it, &ln, &ll)) {
        if (!ll || ln[0] == '#' || ln[0] == '+' || ln[0] == '-' || ll > 4096)
            continue;
        *lineno = (int)it->lineno;
        *l = mm_xstrndup(ln, ll);
        *nf = fields(*l, f, max);
        return true;
    }
    return false;
}

/* A finding of an account file at line lineno; title and evd are taken. */
static void acct_finding(ic_state *st, mm_actx *cx, int c, mm_severity sev,
                         const small_file *af, const char *path, int lineno, char *title,
                         char *evd)
{
    ev e = {title, sev, af->layer, path, lineno, NULL, NULL, evd};
    emit(st, cx, c, &e);
    free(title);
    free(evd);
}

static int account_checks(ic_state *st, mm_actx *cx)
{
    mm_map *uids = mm_map_new();
    mm_map *uid_of = mm_map_new(); /* name -> 1 when UID 0 (for shadow severity) */
    mm_lines it;
    char *l, *f[10];
    size_t nf;
    int lineno;
    if (st->passwd.data && visible(cx, "etc/passwd", st->passwd.layer)) {
        mm_lines_init(&it, st->passwd.data, st->passwd.len);
        while (acct_next(&it, &l, f, 8, &nf, &lineno)) {
            char *end = NULL;
            unsigned long uid = nf >= 3 ? strtoul(f[2], &end, 10) : 0;
            if (nf < 4 || !*f[0] || !end || end == f[2] || *end) {
                mm_actx_warn(cx, "/etc/passwd:%d: not a NAME:PASSWORD:UID:GID line; skipped",
                             lineno);
                free(l);
                continue;
            }
            if (uid == 0)
                mm_map_put(uid_of, f[0], (void *)1);
            if (!*f[1])
                acct_finding(st, cx, C_EMPTYPW, uid == 0 ? MM_SEV_CRITICAL : MM_SEV_HIGH,
                             &st->passwd, "/etc/passwd", lineno,
                             mm_xasprintf("account \"%s\" has an empty password", f[0]),
                             mm_xasprintf("user %s (uid %lu): empty password field", f[0], uid));
            char key[32];
            snprintf(key, sizeof key, "%lu", uid);
            char *prev = mm_map_get(uids, key);
            if (uid == 0 && strcmp(f[0], "root") != 0)
                acct_finding(st, cx, C_UID0, MM_SEV_HIGH, &st->passwd, "/etc/passwd", lineno,
                             mm_xasprintf("account \"%s\" other than root has UID 0", f[0]),
                             mm_xasprintf("user %s has uid 0", f[0]));
            else if (prev)
                acct_finding(st, cx, C_DUPUID, MM_SEV_MEDIUM, &st->passwd, "/etc/passwd",
                             lineno, mm_xasprintf("duplicate UID %lu", uid),
                             mm_xasprintf("users %s and %s share uid %lu", prev, f[0], uid));
            if (!prev && mm_map_count(uids) < 100000)
                mm_map_put(uids, key, mm_xstrdup(f[0]));
            free(l);
        }
    }
    if (st->shadow.data && visible(cx, "etc/shadow", st->shadow.layer)) {
        mm_lines_init(&it, st->shadow.data, st->shadow.len);
        while (acct_next(&it, &l, f, 10, &nf, &lineno)) {
            if (nf < 2 || !*f[0]) {
                mm_actx_warn(cx, "/etc/shadow:%d: not a NAME:PASSWORD:... line; skipped",
                             lineno);
                free(l);
                continue;
            }
            if (!*f[1]) {
                bool root = !strcmp(f[0], "root") || mm_map_get(uid_of, f[0]);
                acct_finding(st, cx, C_EMPTYPW, root ? MM_SEV_CRITICAL : MM_SEV_HIGH,
                             &st->shadow, "/etc/shadow", lineno,
                             mm_xasprintf("account \"%s\" has an empty password", f[0]),
                             mm_xasprintf("user %s: empty password hash", f[0]));
            }
            free(l);
        }
    }
    mm_map_free(uids, free);
    mm_map_free(uid_of, NULL);
    return 0;
}

/* --- the merged tree ---------------------------------------------------------------- */
static const char *const known_setid[] = {
    "passwd", "chsh", "chfn", "gpasswd", "newgrp", "su", "mount", "umount", "chage",
    "expiry", "unix_chkpwd", "wall", "write", "bsd-write", "crontab", "ping", "ping6",
    "fusermount", "fusermount3", "pkexec", "dbus-daemon-launch-helper", "ssh-keysign",
    "ssh-agent", "pam_extrausers_chkpwd", "dotlockfile", "mail-lock", "sg", "newuidmap",
    "newgidmap", "Xorg.wrap", "at", "sudo", "sudoedit", "traceroute6.iputils", "bbsuid",
    "polkit-agent-helper-1", "chromium-sandbox", "utempter", "staprun", "mount.nfs",
    "userhelper", "pam_timestamp_check", "usernetctl", "locate", "mlocate", "plocate",
    "screen", "procmail", "lockfile", "exim4", "postdrop", "postqueue", NULL};

static bool known_setid_name(const char *b)
{
    for (const char *const *k = known_setid; *k; k++)
        if (!strcmp(b, *k))
            return true;
    return false;
}

static const char *const remote_bins[] = {
    "usr/sbin/sshd", "sbin/sshd", "usr/bin/sshd", "usr/sbin/dropbear", "usr/bin/dropbear",
    "usr/sbin/in.telnetd", "usr/sbin/telnetd", "usr/libexec/telnetd", "sbin/telnetd",
    "usr/sbin/tinysshd", "usr/sbin/utelnetd", "usr/lib/openssh/sshd-session", NULL};

static const char *const remote_pkgs[] = {
    "openssh-server", "openssh-server-pam", "dropbear", "dropbear-bin", "telnetd",
    "inetutils-telnetd", "telnetd-ssl", "telnet-server", "tinysshd", "tinyssh", NULL};

struct cache_acc {
    const char *prefix;    /* no leading "/" */
    const char *what;
    uint64_t files, bytes;
    int layer;             /* the newest layer that wrote into it */
};

typedef struct walk {
    ic_state *st;
    mm_actx *cx;
    mm_inventory *inv;
    bool has_inv;
    struct cache_acc caches[7];
    bool remote_found, sudo_found;
} walk;

static bool system_path(const char *p)
{
    static const char *const pre[] = {"usr", "bin", "sbin", "etc", "lib", "lib32", "lib64",
                                      "libx32"};
    for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++) {
        size_t n = strlen(pre[i]);
        if (!strncmp(p, pre[i], n) && (p[n] == '/' || p[n] == 0))
            return true;
    }
    return false;
}

static void sensitive(walk *w, const mm_node *n, bool deleted)
{
    const char *p = n->path;
    const char *b = mm_path_base(p);
    const char *title = NULL;
    mm_severity sev = MM_SEV_HIGH;
    char *path = NULL; /* the path reported, when not n->path */
    /* .git anywhere in the path: report the repository folder once */
    const char *g = strstr(p, ".git");
    while (g && !((g == p || g[-1] == '/') && (g[4] == '/' || g[4] == 0)))
        g = strstr(g + 1, ".git");
    if (g) {
        path = mm_xasprintf("/%.*s", (int)(g + 4 - p), p);
        title = "Git repository metadata (.git) left in the image";
        sev = MM_SEV_MEDIUM;
    } else if (!S_ISREG(n->mode)) {
        return;
    } else if (mm_str_endswith(p, ".aws/credentials") || !strcmp(p, "aws/credentials")) {
        title = "AWS credentials file left in the image";
    } else if (!strncmp(b, "id_", 3) && !mm_str_endswith(b, ".pub") &&
               (strstr(p, ".ssh/") || !strncmp(p, "etc/ssh/", 8)) &&
               (!strcmp(b, "id_rsa") || !strcmp(b, "id_dsa") || !strcmp(b, "id_ecdsa") ||
                !strcmp(b, "id_ed25519") || !strcmp(b, "id_ecdsa_sk") ||
                !strcmp(b, "id_ed25519_sk") || !strcmp(b, "id_xmss"))) {
        title = "SSH private key left in the image";
    } else if (!strncmp(p, "etc/ssh/ssh_host_", 17) && mm_str_endswith(b, "_key")) {
        title = "SSH host private key baked into the image (shared by every container)";
        sev = MM_SEV_MEDIUM;
    } else if (is_npmrc(p) || is_docker_config(p)) {
        char *key = mm_xasprintf("%d\t%s", n->layer, p);
        bool tok = mm_map_get(w->st->tokens, key) != NULL;
        free(key);
        if (!tok)
            return;
        title = is_npmrc(p) ? ".npmrc with a registry token left in the image"
                            : "Docker config.json with registry credentials left in the image";
    } else if (!strcmp(b, ".env") ||
               (!strncmp(b, ".env.", 5) && !strstr(b, "example") && !strstr(b, "sample") &&
                !strstr(b, "template") && !strstr(b, "dist") && !strstr(b, "default"))) {
        title = ".env file left in the image";
        sev = MM_SEV_MEDIUM;
    } else {
        return;
    }
    const char *rp = path ? path : NULL;
    char *abs = rp ? NULL : mm_xasprintf("/%s", p);
    char *key = mm_xasprintf("sens\t%d\t%s", deleted ? n->layer : -1, rp ? rp : abs);
    if (first_time(w->st, key)) {
        char *evd = deleted ? mm_xasprintf("deleted by a later layer, still shipped in layer %d",
                                           n->layer)
                            : mm_xasprintf("present in the final file system (layer %d)",
                                           n->layer);
        ev e = {title, sev, n->layer, rp ? rp : abs, 0, NULL, NULL, evd};
        emit(w->st, w->cx, C_SENSITIVE, &e);
        free(evd);
    }
    free(key);
    free(abs);
    free(path);
}

/* Ownership through merged-/usr: dpkg may list /bin/su for /usr/bin/su
 * (bin -> usr/bin) and the other way round. */
static bool owned(walk *w, const char *abs)
{
    if (!w->has_inv)
        return false;
    if (mm_inventory_owns(w->inv, abs))
        return true;
    static const char *const top[] = {"/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/",
                                       "/libx32/"};
    bool hit = false;
    for (size_t i = 0; i < sizeof top / sizeof top[0] && !hit; i++) {
        char *alt = NULL;
        if (mm_str_startswith(abs, "/usr") && mm_str_startswith(abs + 4, top[i]))
            alt = mm_xstrdup(abs + 4);
        else if (mm_str_startswith(abs, top[i]))
            alt = mm_xasprintf("/usr%s", abs);
        if (alt)
            hit = mm_inventory_owns(w->inv, alt);
        free(alt);
    }
    return hit;
}

static int visit(void *ud, const mm_node *n, bool deleted)
{
    walk *w = ud;
    sensitive(w, n, deleted);
    if (deleted)
        return 0;
    const char *p = n->path;
    uint32_t mode = n->mode;
    bool reg = S_ISREG(mode);
    /* setuid / setgid */
    if (reg && (mode & (S_ISUID | S_ISGID))) {
        char *abs = mm_xasprintf("/%s", p);
        bool own = owned(w, abs);
        bool known = known_setid_name(mm_path_base(p));
        mm_severity sev = own ? (known ? MM_SEV_LOW : MM_SEV_MEDIUM)
                              : (w->has_inv ? MM_SEV_HIGH : MM_SEV_MEDIUM);
        char *evd = mm_xasprintf("mode %04o, owner %u:%u%s", mode & 07777, n->uid, n->gid,
                                 own ? "" : w->has_inv ? ", not owned by any package" : "");
        const char *title = (mode & S_ISUID) && (mode & S_ISGID) ? "setuid and setgid file"
                            : (mode & S_ISUID) ? "setuid file" : "setgid file";
        ev e = {title, sev, n->layer, abs, 0, NULL, NULL, evd};
        emit(w->st, w->cx, C_SETUID, &e);
        free(evd);
        free(abs);
    }
    /* remote shells and sudo */
    for (const char *const *r = remote_bins; *r; r++) {
        if (!strcmp(p, *r) && (reg || S_ISLNK(mode))) {
            char *abs = mm_xasprintf("/%s", p);
            const char *b = mm_path_base(p);
            ev e = {strstr(b, "telnet") ? "telnet server installed" : "ssh server installed",
                    MM_SEV_HIGH, n->layer, abs, 0, NULL, NULL, "remote shell server binary"};
            emit(w->st, w->cx, C_REMOTE, &e);
            w->remote_found = true;
            free(abs);
        }
    }
    if ((!strcmp(p, "usr/bin/sudo") || !strcmp(p, "bin/sudo") || !strcmp(p, "usr/sbin/sudo")) &&
        (reg || S_ISLNK(mode))) {
        char *abs = mm_xasprintf("/%s", p);
        ev e = {"sudo installed", MM_SEV_MEDIUM, n->layer, abs, 0, NULL, NULL,
                (mode & S_ISUID) ? "setuid root sudo binary" : "sudo binary"};
        emit(w->st, w->cx, C_SUDO, &e);
        w->sudo_found = true;
        free(abs);
    }
    /* package caches */
    if (reg) {
        for (size_t i = 0; i < sizeof w->caches / sizeof w->caches[0]; i++) {
            struct cache_acc *c = &w->caches[i];
            if (!c->prefix)
                continue;
            size_t pl = strlen(c->prefix);
            if (strncmp(p, c->prefix, pl) || p[pl] != '/')
                continue;
            const char *rest = p + pl + 1;
            if (!strcmp(rest, "lock") || !strncmp(rest, "partial/", 8) ||
                !strcmp(rest, "auxfiles") || !strncmp(rest, "auxfiles/", 9))
                continue;
            if (!strcmp(c->prefix, "var/cache/apt/archives") && !mm_str_endswith(rest, ".deb"))
                continue;
            c->files++;
            c->bytes += n->size;
            if (n->layer > c->layer)
                c->layer = n->layer;
        }
    }
    /* world-writable in system paths: files, and folders without the sticky bit */
    if ((mode & S_IWOTH) && !S_ISLNK(mode) && system_path(p) &&
        !(S_ISDIR(mode) && (mode & S_ISVTX))) {
        char *abs = mm_xasprintf("/%s", p);
        char *evd = mm_xasprintf("mode %04o", mode & 07777);
        ev e = {S_ISDIR(mode) ? "world-writable folder in a system path (no sticky bit)"
                              : "world-writable file in a system path",
                MM_SEV_MEDIUM, n->layer, abs, 0, NULL, NULL, evd};
        emit(w->st, w->cx, C_WORLDW, &e);
        free(evd);
        free(abs);
    }
    return 0;
}

static int tree_checks(ic_state *st, mm_actx *cx)
{
    walk w;
    memset(&w, 0, sizeof w);
    w.st = st;
    w.cx = cx;
    w.inv = mm_actx_inventory(cx);
    w.has_inv = w.inv && mm_inventory_count(w.inv) > 0;
    struct cache_acc init[7] = {
        {"var/cache/apt/archives", "apt package archives (.deb)", 0, 0, -1},
        {"var/lib/apt/lists", "apt package lists", 0, 0, -1},
        {"var/cache/apk", "apk package cache", 0, 0, -1},
        {"root/.cache/pip", "pip cache", 0, 0, -1},
        {"var/cache/yum", "yum cache", 0, 0, -1},
        {"var/cache/dnf", "dnf cache", 0, 0, -1},
        {"root/.npm/_cacache", "npm cache", 0, 0, -1},
    };
    memcpy(w.caches, init, sizeof init);
    const mm_tree *t = mm_actx_tree(cx);
    if (t)
        mm_tree_foreach(t, visit, &w);
    for (size_t i = 0; i < sizeof w.caches / sizeof w.caches[0]; i++) {
        struct cache_acc *c = &w.caches[i];
        if (!c->files)
            continue;
        char *abs = mm_xasprintf("/%s", c->prefix);
        char *title = mm_xasprintf("package cache left in the image: %s", c->what);
        char *evd = mm_xasprintf("%llu files, %llu bytes", (unsigned long long)c->files,
                                 (unsigned long long)c->bytes);
        ev e = {title, MM_SEV_LOW, c->layer, abs, 0, NULL, NULL, evd};
        emit(st, cx, C_CACHE, &e);
        free(evd);
        free(title);
        free(abs);
    }
    /* packages, when their binaries were not seen (another path, or no tree) */
    size_t np = w.inv ? mm_inventory_count(w.inv) : 0;
    for (size_t i = 0; i < np; i++) {
        const mm_package *p = mm_inventory_get(w.inv, i);
        if (!p || !p->name || (p->type != MM_PKG_DPKG && p->type != MM_PKG_APK &&
                               p->type != MM_PKG_RPM))
            continue;
        char *pkg = mm_xasprintf("%s@%s", p->name, p->version ? p->version : "");
        for (const char *const *r = remote_pkgs; *r && !w.remote_found; r++) {
            if (!strcmp(p->name, *r)) {
                ev e = {strstr(p->name, "telnet") ? "telnet server installed"
                                                  : "ssh server installed",
                        MM_SEV_HIGH, p->layer, p->path, 0, pkg, NULL,
                        "remote shell server package"};
                emit(st, cx, C_REMOTE, &e);
            }
        }
        if (!strcmp(p->name, "sudo") && !w.sudo_found) {
            ev e = {"sudo installed", MM_SEV_MEDIUM, p->layer, p->path, 0, pkg, NULL,
                    "sudo package"};
            emit(st, cx, C_SUDO, &e);
        }
        free(pkg);
    }
    return 0;
}

static int ic_finish(void *state, mm_actx *cx)
{
    ic_state *st = state;
    int rc = config_checks(st, cx);
    if (rc == 0)
        rc = account_checks(st, cx);
    if (rc == 0)
        rc = tree_checks(st, cx);
    for (int c = 0; c < C__N && rc == 0; c++) {
        if (!st->over[c])
            continue;
        char *evd = mm_xasprintf("%d more findings of %s not listed (the first %d are)",
                                 st->over[c], checks[c].id, MAX_PER_CHECK);
        st->count[c] = 0; /* room for the summary */
        ev e = {"more findings of this check", MM_SEV_LOW, -1, NULL, 0, NULL, NULL, evd};
        rc = emit(st, cx, c, &e);
        free(evd);
    }
    return rc;
}

const mm_analyzer_ops mm_analyzer_misconfig = {
    .name = "misconfig",
    .create = ic_create,
    .wants = ic_wants,
    .file = ic_file,
    .finish = ic_finish,
    .destroy = ic_destroy,
};
