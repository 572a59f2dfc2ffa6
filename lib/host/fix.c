/*
 * fix.c - `--fix`: the safe changes that make failed checks pass (SP 800-190
 * §3.4.3 "enforce"), shown first and applied only on request.
 *
 * Safe means: a file's mode and owner (only ever tightened: a mode keeps at
 * most the bits the benchmark allows), keys of daemon.json (icc, log-level,
 * no-new-privileges, live-restore, userland-proxy, experimental, iptables),
 * sysctl settings (one file of mamori's in /etc/sysctl.d), audit watch rules
 * (one rules.d file) and modprobe "install MOD /bin/false" lines.  Nothing
 * that can lose data (userns-remap moves every image) or cut a host off
 * (ip_forward on a container host) is ever changed.
 *
 * The plan prints as a unified diff of every file whose content changes
 * plus "chmod"/"chown" lines for metadata.  Applying it first copies each
 * file to a private backup folder and writes rollback.sh there (content,
 * mode and owner of everything about to change, or removal of a file that
 * did not exist), then changes files atomically (a temp file in the same
 * folder, fsync, rename).  A daemon is restarted only with opts.restart;
 * otherwise a note says what to restart or reload.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"
#include "host_int.h"

#define MAX_FIX_FILE (4u << 20)

typedef struct fix_item {
    char *path;              /* root-relative */
    bool content;            /* new content (else metadata only) */
    bool existed;
    char *old_text, *new_text;
    bool has_meta;
    mode_t old_mode, new_mode;
    uid_t old_uid, new_uid;
    gid_t old_gid, new_gid;
    char *why;               /* check ids */
} fix_item;

struct mm_fix_plan {
    mm_fix_opts o;
    char *root;
    fix_item *v;
    size_t n, cap;
    bool daemon_json, sysctl, audit;
    char *sysctl_file, *audit_file, *modprobe_file;
};

static fix_item *item_for(mm_fix_plan *p, const char *path)
{
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->v[i].path, path))
            return &p->v[i];
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->v = mm_xrealloc(p->v, p->cap * sizeof *p->v);
    }
    fix_item *it = &p->v[p->n++];
    memset(it, 0, sizeof *it);
    it->path = mm_xstrdup(path);
    return it;
}

static void add_why(fix_item *it, const char *id)
{
    if (it->why && strstr(it->why, id))
        return;
    char *w = it->why ? mm_xasprintf("%s, %s", it->why, id) : mm_xstrdup(id);
    free(it->why);
    it->why = w;
}

/* Loads the current content of a file item once. */
static int load_text(mm_fix_plan *p, fix_item *it)
{
    if (it->content)
        return 0;
    it->content = true;
    char *d = NULL;
    size_t len = 0;
    int rc = mm_host_read(p->root, it->path, MAX_FIX_FILE, &d, &len);
    if (rc == MM_ENOTFOUND) {
        mm_error_clear();
        it->existed = false;
        it->old_text = mm_xstrdup("");
    } else if (rc < 0) {
        return rc;
    } else {
        it->existed = true;
        it->old_text = mm_xstrndup(d, len);
        free(d);
    }
    it->new_text = mm_xstrdup(it->old_text);
    return 0;
}

static void stat_meta(mm_fix_plan *p, fix_item *it)
{
    if (it->has_meta)
        return;
    struct stat st;
    if (mm_host_stat(p->root, it->path, &st) != 0)
        return;
    it->has_meta = true;
    it->old_mode = it->new_mode = st.st_mode & 07777;
    it->old_uid = it->new_uid = st.st_uid;
    it->old_gid = it->new_gid = st.st_gid;
}

/* Appends a line to new_text unless an identical line is there; a
 * "KEY = VALUE" sysctl line replaces an earlier line of the same key. */
static void add_line(fix_item *it, const char *line, const char *key)
{
    mm_buf b = MM_BUF_INIT;
    mm_lines lit;
    const char *l;
    size_t n;
    bool have = false;
    mm_lines_init(&lit, it->new_text, strlen(it->new_text));
    while (mm_lines_next(&lit, &l, &n)) {
        if (n == strlen(line) && !memcmp(l, line, n))
            have = true;
        if (key && n > strlen(key) && !strncmp(l, key, strlen(key)) &&
            (l[strlen(key)] == ' ' || l[strlen(key)] == '=') && !(n == strlen(line) && !memcmp(l, line, n)))
            continue; /* the old value of this key goes */
        mm_buf_add(&b, l, n);
        mm_buf_addc(&b, '\n');
    }
    if (!have) {
        if (!b.len)
            mm_buf_adds(&b, "# written by mamori host compliance --fix (docs/compliance.md)\n");
        mm_buf_printf(&b, "%s\n", line);
    }
    free(it->new_text);
    it->new_text = mm_buf_detach(&b);
}

static int json_set(mm_fix_plan *p, fix_item *it, const char *key, const char *value)
{
    json_error_t e;
    json_t *doc = *it->new_text ? json_loads(it->new_text, JSON_REJECT_DUPLICATES, &e) : json_object();
    if (!doc || !json_is_object(doc)) {
        json_decref(doc);
        return mm_error_set(MM_EFORMAT, "%s: not a JSON object: nothing is changed", it->path);
    }
    json_t *v = json_loads(value, JSON_DECODE_ANY, &e);
    if (!v) {
        json_decref(doc);
        return mm_error_set(MM_EINVAL, "fix: bad JSON value %s for %s", value, key);
    }
    json_object_set_new(doc, key, v);
    char *s = json_dumps(doc, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    free(it->new_text);
    it->new_text = mm_xasprintf("%s\n", s);
    free(s);
    p->daemon_json = true;
    return 0;
}

static int apply_line(mm_fix_plan *p, const mm_check_result *r, const char *line)
{
    const char *path = r->target;
    if (!strncmp(line, "chmod ", 6) || !strncmp(line, "chown ", 6)) {
        if (!path || path[0] != '/')
            return 0;
        fix_item *it = item_for(p, path);
        stat_meta(p, it);
        if (!it->has_meta)
            return 0;
        add_why(it, r->id);
        if (line[2] == 'm') {   /* chmod (else chown) */
            unsigned m = (unsigned)strtoul(line + 6, NULL, 8);
            it->new_mode &= m;   /* only ever take bits away */
        } else {
            char user[64], group[64];
            if (sscanf(line + 6, "%63[^:]:%63s", user, group) != 2)
                return 0;
            int64_t gid = !strcmp(group, "root") ? 0 : mm_host_group_gid(p->root, group);
            if (strcmp(user, "root") || gid < 0)
                return 0;   /* only ever give files to root */
            it->new_uid = 0;
            it->new_gid = (gid_t)gid;
        }
        return 0;
    }
    if (!strncmp(line, "json ", 5)) {
        char key[128];
        int off = 0;
        if (sscanf(line + 5, "%127s %n", key, &off) != 1 || !path)
            return 0;
        fix_item *it = item_for(p, path);
        int rc = load_text(p, it);
        if (rc < 0)
            return rc;
        add_why(it, r->id);
        return json_set(p, it, key, line + 5 + off);
    }
    if (!strncmp(line, "sysctl ", 7)) {
        char key[256], val[256];
        if (sscanf(line + 7, "%255s %255s", key, val) != 2)
            return 0;
        fix_item *it = item_for(p, p->sysctl_file);
        int rc = load_text(p, it);
        if (rc < 0)
            return rc;
        add_why(it, r->id);
        char *l = mm_xasprintf("%s = %s", key, val);
        add_line(it, l, key);
        free(l);
        p->sysctl = true;
        return 0;
    }
    if (!strncmp(line, "audit ", 6)) {
        fix_item *it = item_for(p, p->audit_file);
        int rc = load_text(p, it);
        if (rc < 0)
            return rc;
        add_why(it, r->id);
        add_line(it, line + 6, NULL);
        p->audit = true;
        return 0;
    }
    if (!strncmp(line, "modprobe ", 9)) {
        fix_item *it = item_for(p, p->modprobe_file);
        int rc = load_text(p, it);
        if (rc < 0)
            return rc;
        add_why(it, r->id);
        char *l1 = mm_xasprintf("install %s /bin/false", line + 9);
        char *l2 = mm_xasprintf("blacklist %s", line + 9);
        add_line(it, l1, NULL);
        add_line(it, l2, NULL);
        free(l1);
        free(l2);
        return 0;
    }
    return 0;
}

int mm_fix_plan_new(mm_fix_plan **out, const mm_checks *c, const mm_fix_opts *o)
{
    mm_fix_plan *p = mm_xcalloc(1, sizeof *p);
    if (o)
        p->o = *o;
    p->root = mm_xstrdup(o && o->root ? o->root : "/");
    p->sysctl_file = mm_xstrdup(o && o->sysctl_file ? o->sysctl_file : "/etc/sysctl.d/90-mamori.conf");
    p->audit_file = mm_xstrdup(o && o->audit_file ? o->audit_file
                                                  : "/etc/audit/rules.d/90-mamori-docker.rules");
    p->modprobe_file = mm_xstrdup("/etc/modprobe.d/90-mamori-cis.conf");
    p->o.root = p->root;
    for (size_t i = 0; i < mm_checks_count(c); i++) {
        const mm_check_result *r = mm_checks_get(c, i);
        if (r->status != MM_CHECK_FAIL || !r->fixable || !r->fix)
            continue;
        char *fx = mm_xstrdup(r->fix), *save = NULL;
        int rc = 0;
        for (char *l = strtok_r(fx, "\n", &save); l && rc == 0; l = strtok_r(NULL, "\n", &save))
            rc = apply_line(p, r, l);
        free(fx);
        if (rc < 0) {
            mm_fix_plan_free(p);
            return rc;
        }
    }
    /* drop what changes nothing */
    size_t k = 0;
    for (size_t i = 0; i < p->n; i++) {
        fix_item *it = &p->v[i];
        bool text = it->content && strcmp(it->old_text, it->new_text);
        bool meta = it->has_meta && (it->old_mode != it->new_mode || it->old_uid != it->new_uid ||
                                     it->old_gid != it->new_gid);
        if (text || meta) {
            p->v[k++] = *it;
        } else {
            free(it->path); free(it->old_text); free(it->new_text); free(it->why);
        }
    }
    p->n = k;
    *out = p;
    return 0;
}

void mm_fix_plan_free(mm_fix_plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].path);
        free(p->v[i].old_text);
        free(p->v[i].new_text);
        free(p->v[i].why);
    }
    free(p->v);
    free(p->root);
    free(p->sysctl_file);
    free(p->audit_file);
    free(p->modprobe_file);
    free(p);
}

size_t mm_fix_plan_count(const mm_fix_plan *p)
{
    return p ? p->n : 0;
}

/* ---- unified diff ------------------------------------------------------------------------ */

typedef struct lines {
    const char **l;
    size_t *len;
    size_t n;
} lines;

static void split(lines *s, const char *text)
{
    memset(s, 0, sizeof *s);
    size_t cap = 0;
    mm_lines it;
    const char *l;
    size_t n;
    mm_lines_init(&it, text, strlen(text));
    while (mm_lines_next(&it, &l, &n)) {
        if (s->n == cap) {
            cap = cap ? cap * 2 : 64;
            s->l = mm_xrealloc(s->l, cap * sizeof *s->l);
            s->len = mm_xrealloc(s->len, cap * sizeof *s->len);
        }
        s->l[s->n] = l;
        s->len[s->n++] = n;
    }
}

static bool same(const lines *a, size_t i, const lines *b, size_t j)
{
    return a->len[i] == b->len[j] && !memcmp(a->l[i], b->l[j], a->len[i]);
}

/* Edit script by LCS (files here are small configuration files; past
 * 4M cells the whole file is one hunk). ops: '=', '-', '+'. */
static char *edit_script(const lines *a, const lines *b, size_t *nops)
{
    size_t n = a->n, m = b->n;
    mm_buf ops = MM_BUF_INIT;
    if ((n + 1) * (m + 1) > 4000000u) {
        for (size_t i = 0; i < n; i++)
            mm_buf_addc(&ops, '-');
        for (size_t j = 0; j < m; j++)
            mm_buf_addc(&ops, '+');
    } else {
        uint32_t *t = mm_xcalloc((n + 1) * (m + 1), sizeof *t);
#define T(i, j) t[(i) * (m + 1) + (j)]
        for (size_t i = n; i-- > 0;)
            for (size_t j = m; j-- > 0;)
                T(i, j) = same(a, i, b, j) ? T(i + 1, j + 1) + 1
                        : T(i + 1, j) >= T(i, j + 1) ? T(i + 1, j) : T(i, j + 1);
        size_t i = 0, j = 0;
        while (i < n || j < m) {
            if (i < n && j < m && same(a, i, b, j)) {
                mm_buf_addc(&ops, '=');
                i++, j++;
            } else if (j < m && (i == n || T(i, j + 1) >= T(i + 1, j))) {
                mm_buf_addc(&ops, '+');
                j++;
            } else {
                mm_buf_addc(&ops, '-');
                i++;
            }
        }
#undef T
        free(t);
    }
    *nops = ops.len;
    return mm_buf_detach(&ops);
}

static void write_diff(FILE *f, const fix_item *it)
{
    lines a, b;
    split(&a, it->old_text);
    split(&b, it->new_text);
    size_t nops;
    char *ops = edit_script(&a, &b, &nops);
    fprintf(f, "--- %s%s\n+++ %s\n", it->existed ? "a" : "/dev/null", it->existed ? it->path : "",
            it->path[0] == '/' ? it->path : it->path);
    /* hunks with 3 lines of context */
    size_t k = 0;
    while (k < nops) {
        while (k < nops && ops[k] == '=')
            k++;
        if (k >= nops)
            break;
        size_t start = k >= 3 ? k - 3 : 0, end = k;
        /* extend while changes are within 6 lines */
        size_t last = k;
        for (size_t q = k; q < nops; q++) {
            if (ops[q] != '=')
                last = q;
            else if (q - last > 6)
                break;
        }
        end = last + 4 < nops ? last + 4 : nops;
        /* line numbers at start */
        size_t ai = 0, bi = 0;
        for (size_t q = 0; q < start; q++) {
            if (ops[q] != '+') ai++;
            if (ops[q] != '-') bi++;
        }
        size_t ac = 0, bc = 0;
        for (size_t q = start; q < end; q++) {
            if (ops[q] != '+') ac++;
            if (ops[q] != '-') bc++;
        }
        fprintf(f, "@@ -%zu,%zu +%zu,%zu @@\n", ac ? ai + 1 : ai, ac, bc ? bi + 1 : bi, bc);
        size_t x = ai, y = bi;
        for (size_t q = start; q < end; q++) {
            if (ops[q] == '=') {
                fprintf(f, " %.*s\n", (int)a.len[x], a.l[x]);
                x++, y++;
            } else if (ops[q] == '-') {
                fprintf(f, "-%.*s\n", (int)a.len[x], a.l[x]);
                x++;
            } else {
                fprintf(f, "+%.*s\n", (int)b.len[y], b.l[y]);
                y++;
            }
        }
        k = end;
    }
    free(ops);
    free(a.l); free(a.len); free(b.l); free(b.len);
}

int mm_fix_plan_diff(FILE *f, const mm_fix_plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        const fix_item *it = &p->v[i];
        fprintf(f, "# %s (%s)\n", it->path, it->why ? it->why : "");
        if (it->content && strcmp(it->old_text, it->new_text))
            write_diff(f, it);
        if (it->has_meta && it->old_mode != it->new_mode)
            fprintf(f, "# chmod %04o %s   (was %04o)\n", (unsigned)it->new_mode, it->path,
                    (unsigned)it->old_mode);
        if (it->has_meta && (it->old_uid != it->new_uid || it->old_gid != it->new_gid))
            fprintf(f, "# chown %u:%u %s   (was %u:%u)\n", (unsigned)it->new_uid,
                    (unsigned)it->new_gid, it->path, (unsigned)it->old_uid, (unsigned)it->old_gid);
    }
    return ferror(f) ? mm_error_set(MM_EIO, "writing the diff failed") : 0;
}

/* ---- apply ------------------------------------------------------------------------------- */

static int mkdirs(const char *path, mode_t mode)
{
    int rc = mm_mkdir_parents(path, 0755);
    if (rc == 0 && mkdir(path, mode) != 0 && errno != EEXIST)
        rc = mm_error_set(MM_EIO, "%s: %s", path, strerror(errno));
    return rc;
}

static int write_file(const char *path, const char *data, size_t len, mode_t mode, bool keep_owner,
                      uid_t uid, gid_t gid)
{
    char *tmp = mm_xasprintf("%s.mamori-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int rc = mm_error_set(MM_EIO, "%s: %s", tmp, strerror(errno));
        free(tmp);
        return rc;
    }
    int rc = 0;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w <= 0) {
            rc = mm_error_set(MM_EIO, "%s: %s", tmp, strerror(errno));
            break;
        }
        off += (size_t)w;
    }
    if (!rc && (fchmod(fd, mode) != 0 || (keep_owner && fchown(fd, uid, gid) != 0 && geteuid() == 0)))
        rc = mm_error_set(MM_EIO, "%s: %s", tmp, strerror(errno));
    if (!rc && fsync(fd) != 0)
        rc = mm_error_set(MM_EIO, "%s: %s", tmp, strerror(errno));
    close(fd);
    if (!rc && rename(tmp, path) != 0)
        rc = mm_error_set(MM_EIO, "%s: %s", path, strerror(errno));
    if (rc)
        unlink(tmp);
    free(tmp);
    return rc;
}

/* Single quotes for sh. */
static void shq(mm_buf *b, const char *s)
{
    mm_buf_addc(b, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            mm_buf_adds(b, "'\\''");
        else
            mm_buf_addc(b, *s);
    }
    mm_buf_addc(b, '\'');
}

int mm_fix_plan_apply(mm_fix_plan *p, char **backup, char **notes)
{
    *backup = NULL;
    *notes = NULL;
    if (!p->n)
        return 0;
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    char *bdir = p->o.backup_dir ? mm_xstrdup(p->o.backup_dir) : NULL;
    if (!bdir) {
        char *rel = mm_xasprintf("/var/backups/mamori/%s-%d", stamp, (int)getpid());
        bdir = mm_host_path(p->root, rel);
        free(rel);
    }
    int rc = mkdirs(bdir, 0700);
    if (rc < 0) {
        free(bdir);
        return rc;
    }
    /* 1. backups and the rollback script, before any change */
    mm_buf rb = MM_BUF_INIT;
    mm_buf_printf(&rb, "#!/bin/sh\n# rollback of mamori host compliance --fix (%s)\nset -e\n", stamp);
    for (size_t i = 0; i < p->n && rc == 0; i++) {
        fix_item *it = &p->v[i];
        char *full = mm_host_path(p->root, it->path);
        if (it->content && it->existed) {
            char *bfile = mm_xasprintf("%s/files%s", bdir, it->path);
            char *bd = mm_xstrndup(bfile, mm_path_dirlen(bfile));
            struct stat st;
            rc = mkdirs(bd, 0700);
            if (!rc && stat(full, &st) == 0)
                rc = write_file(bfile, it->old_text, strlen(it->old_text), st.st_mode & 07777, true,
                                st.st_uid, st.st_gid);
            mm_buf_adds(&rb, "cp -p ");
            shq(&rb, bfile);
            mm_buf_addc(&rb, ' ');
            shq(&rb, full);
            mm_buf_addc(&rb, '\n');
            free(bd);
            free(bfile);
        } else if (it->content) {
            mm_buf_adds(&rb, "rm -f ");
            shq(&rb, full);
            mm_buf_addc(&rb, '\n');
        }
        if (it->has_meta) {
            mm_buf_printf(&rb, "chmod %04o ", (unsigned)it->old_mode);
            shq(&rb, full);
            mm_buf_printf(&rb, "\nchown %u:%u ", (unsigned)it->old_uid, (unsigned)it->old_gid);
            shq(&rb, full);
            mm_buf_addc(&rb, '\n');
        }
        free(full);
    }
    if (rc == 0) {
        char *rbp = mm_xasprintf("%s/rollback.sh", bdir);
        rc = write_file(rbp, rb.data, rb.len, 0700, false, 0, 0);
        free(rbp);
    }
    mm_buf_free(&rb);
    /* 2. the changes */
    mm_buf nb = MM_BUF_INIT;
    for (size_t i = 0; i < p->n && rc == 0; i++) {
        fix_item *it = &p->v[i];
        char *full = mm_host_path(p->root, it->path);
        if (it->content && strcmp(it->old_text, it->new_text)) {
            struct stat st;
            bool had = stat(full, &st) == 0;
            char *dir = mm_xstrndup(full, mm_path_dirlen(full));
            rc = mkdirs(dir, 0755);
            free(dir);
            if (!rc)
                rc = write_file(full, it->new_text, strlen(it->new_text),
                                had ? st.st_mode & 07777 : 0644, had, had ? st.st_uid : 0,
                                had ? st.st_gid : 0);
        }
        if (!rc && it->has_meta && it->old_mode != it->new_mode && chmod(full, it->new_mode) != 0)
            rc = mm_error_set(MM_EIO, "chmod %s: %s", full, strerror(errno));
        if (!rc && it->has_meta && (it->old_uid != it->new_uid || it->old_gid != it->new_gid) &&
            lchown(full, it->new_uid, it->new_gid) != 0)
            rc = mm_error_set(MM_EIO, "chown %s: %s", full, strerror(errno));
        free(full);
    }
    bool live = !strcmp(p->root, "/");
    if (rc == 0 && p->sysctl) {
        if (live && p->o.live_sysctl) {
            for (size_t i = 0; i < p->n; i++) {
                if (strcmp(p->v[i].path, p->sysctl_file))
                    continue;
                const char *argv[] = {"sysctl", "-p", p->sysctl_file, NULL};
                char *o = NULL, *e = NULL;
                int st = mm_host_run(argv, 1u << 20, &o, NULL, &e);
                mm_buf_printf(&nb, "sysctl -p %s: %s\n", p->sysctl_file, st == 0 ? "loaded" : "failed");
                free(o);
                free(e);
                mm_error_clear();
            }
        } else {
            mm_buf_printf(&nb, "sysctl settings take effect at boot or with `sysctl --system`\n");
        }
    }
    if (rc == 0 && p->audit)
        mm_buf_printf(&nb, "audit rules take effect with `augenrules --load` (or a restart of auditd)\n");
    if (rc == 0 && p->daemon_json) {
        if (p->o.restart && live) {
            const char *argv[] = {"systemctl", "restart", "docker", NULL};
            char *o = NULL, *e = NULL;
            int st = mm_host_run(argv, 1u << 20, &o, NULL, &e);
            mm_buf_printf(&nb, "systemctl restart docker: %s\n", st == 0 ? "done" : "failed");
            free(o);
            free(e);
            mm_error_clear();
        } else {
            mm_buf_printf(&nb, "daemon.json changed: restart docker to apply it (not done without --restart%s)\n",
                          live ? "" : "; never outside the root \"/\"");
        }
    }
    *backup = bdir;
    *notes = mm_buf_detach(&nb);
    return rc;
}
