/*
 * cis_linux.c - native checks of the CIS Debian Linux benchmark items that
 * matter on a container host and that no packaged SCAP content covers for
 * Debian 12 (ssg-debian ships Debian 10/11 content only): unused file
 * system modules, /tmp and /dev/shm mount options, kernel and network
 * sysctls, auditd and its identity/sudoers rules, sshd's configuration and
 * the permissions of the account files (SP 800-190 §3.5.1 attack surface,
 * §3.5.4 user access, §3.5.5 file system tampering).
 *
 * A sysctl passes only when both the running kernel (/proc/sys, unless
 * no_live) and the persistent configuration (sysctl.d, in systemd's order:
 * /etc over /run over /usr/lib by file name, then /etc/sysctl.conf last)
 * hold the value, as the benchmark's audit asks.  sshd_config is read as
 * sshd reads it: the first value of a keyword wins, Include is followed
 * (sshd_config.d/NAME.conf on Debian), Match blocks are not global.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <dirent.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>

#include "util/util.h"
#include "host_int.h"
#include "cis_int.h"

#define MAX_CONF (4u << 20)

typedef struct lctx {
    mm_checks *c;
    const char *root, *proc;
    bool live;
} lctx;

/* ---- files of a conf.d folder set ------------------------------------------------- */

/* The files of dirs (root-relative) matching *.conf, one per base name,
 * the first dir winning; sorted by base name. */
static void confd_files(const char *root, const char *const *dirs, char ***out, size_t *n)
{
    mm_map *seen = mm_map_new();
    char **names = NULL;
    size_t nn = 0;
    for (size_t i = 0; dirs[i]; i++) {
        char *p = mm_host_path(root, dirs[i]);
        DIR *d = opendir(p);
        free(p);
        if (!d)
            continue;
        struct dirent *e;
        while ((e = readdir(d)) && nn < 10000) {
            if (!mm_str_endswith(e->d_name, ".conf") || mm_map_get(seen, e->d_name))
                continue;
            mm_map_put(seen, e->d_name, mm_xasprintf("%s/%s", dirs[i], e->d_name));
            mm_strv_push(&names, &nn, e->d_name);
        }
        closedir(d);
    }
    if (nn)
        qsort(names, nn, sizeof *names, mm_host_strpcmp);
    for (size_t i = 0; i < nn; i++)
        mm_strv_push(out, n, mm_map_get(seen, names[i]));
    mm_strv_free(names, nn);
    mm_map_free(seen, free);
}

/* ---- kernel modules ---------------------------------------------------------------- */

static void modules(lctx *x)
{
    static const struct { const char *id, *mod, *dir; } mods[] = {
        {"CIS-DEBIAN-1.1.1.1", "cramfs", "fs/cramfs"},
        {"CIS-DEBIAN-1.1.1.2", "freevxfs", "fs/freevxfs"},
        {"CIS-DEBIAN-1.1.1.3", "hfs", "fs/hfs"},
        {"CIS-DEBIAN-1.1.1.4", "hfsplus", "fs/hfsplus"},
        {"CIS-DEBIAN-1.1.1.5", "jffs2", "fs/jffs2"},
        {"CIS-DEBIAN-1.1.1.9", "usb-storage", "drivers/usb/storage"},
    };
    static const char *const dirs[] = {"/etc/modprobe.d", "/run/modprobe.d", "/lib/modprobe.d",
                                       "/usr/lib/modprobe.d", NULL};
    char **files = NULL;
    size_t nf = 0;
    confd_files(x->root, dirs, &files, &nf);
    mm_buf conf = MM_BUF_INIT;
    for (size_t i = 0; i < nf; i++) {
        char *d = NULL;
        size_t len;
        if (mm_host_read(x->root, files[i], MAX_CONF, &d, &len) == 0) {
            mm_buf_add(&conf, d, len);
            mm_buf_addc(&conf, '\n');
        }
        free(d);
    }
    mm_buf_addc(&conf, 0);
    mm_strv_free(files, nf);
    mm_error_clear();
    char *loaded = NULL;
    if (x->live) {
        char *p = mm_xasprintf("%s/modules", x->proc);
        loaded = mm_file_read_proc(p, 4u << 20, NULL);
        free(p);
    }
    struct utsname un;
    bool have_uname = x->live && uname(&un) == 0;
    for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++) {
        const char *m = mods[i].mod;
        char us[64];
        snprintf(us, sizeof us, "%s", m);
        for (char *q = us; *q; q++)
            if (*q == '-')
                *q = '_';
        mm_host_target t = {m, NULL, NULL, NULL};
        char *fix = mm_xasprintf("modprobe %s", m);
        t.fix = fix;
        /* loaded now? (/proc/modules names use '_') */
        bool is_loaded = false;
        if (loaded) {
            size_t ul = strlen(us);
            for (const char *l = loaded; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                if (!strncmp(l, us, ul) && l[ul] == ' ')
                    is_loaded = true;
        }
        /* "install MOD /bin/false" (or /bin/true) in modprobe.d */
        bool disabled = false, blacklisted = false;
        mm_lines it;
        const char *line;
        size_t n;
        mm_lines_init(&it, conf.data, strlen(conf.data));
        while (mm_lines_next(&it, &line, &n)) {
            char *l = mm_xstrndup(line, n), *save = NULL;
            char *w0 = strtok_r(l, " \t", &save), *w1 = w0 ? strtok_r(NULL, " \t", &save) : NULL;
            char *w2 = w1 ? strtok_r(NULL, " \t", &save) : NULL;
            bool same = w1 && (!strcmp(w1, m) || !strcmp(w1, us));
            if (same && w0 && !strcmp(w0, "install") && w2 &&
                (mm_str_endswith(w2, "/false") || mm_str_endswith(w2, "/true")))
                disabled = true;
            if (same && w0 && !strcmp(w0, "blacklist"))
                blacklisted = true;
            free(l);
        }
        bool available = true;
        if (have_uname) {
            char *kd = mm_xasprintf("/lib/modules/%s/kernel/%s", un.release, mods[i].dir);
            struct stat st;
            available = mm_host_stat(x->root, kd, &st) == 0;
            free(kd);
        }
        if (is_loaded)
            mm_checks_add(x->c, mods[i].id, MM_CHECK_FAIL, &t, "%s is loaded", m);
        else if (disabled)
            mm_checks_add(x->c, mods[i].id, MM_CHECK_PASS, &t, "%s cannot be loaded (install /bin/false)%s",
                          m, blacklisted ? ", blacklisted" : "");
        else if (!available)
            mm_checks_add(x->c, mods[i].id, MM_CHECK_PASS, &t, "%s is not available in kernel %s", m,
                          un.release);
        else
            mm_checks_add(x->c, mods[i].id, MM_CHECK_FAIL, &t, "%s can be loaded on demand", m);
        free(fix);
    }
    free(loaded);
    mm_buf_free(&conf);
}

/* ---- mount options ------------------------------------------------------------------- */

/* Options of the file system mounted at mp: from mountinfo (live) or fstab. */
static char *mount_opts(lctx *x, const char *mp)
{
    char *data = NULL;
    size_t len = 0;
    char *res = NULL;
    if (x->live) {
        char *p = mm_xasprintf("%s/self/mountinfo", x->proc);
        data = mm_file_read_proc(p, 16u << 20, &len);
        free(p);
        if (data) {
            mm_lines it;
            const char *line;
            size_t n;
            mm_lines_init(&it, data, len);
            while (mm_lines_next(&it, &line, &n)) {
                /* id parent maj:min root mountpoint options ... - fstype src superopts */
                char *l = mm_xstrndup(line, n), *save = NULL;
                char *f[6] = {0};
                f[0] = strtok_r(l, " ", &save);
                for (int k = 1; k < 6 && f[k - 1]; k++)
                    f[k] = strtok_r(NULL, " ", &save);
                if (f[4] && f[5] && !strcmp(f[4], mp)) {
                    free(res);
                    res = mm_xstrdup(f[5]); /* the last mount on top wins */
                }
                free(l);
            }
            free(data);
            return res;
        }
    }
    if (mm_host_read(x->root, "/etc/fstab", MAX_CONF, &data, &len) == 0) {
        mm_lines it;
        const char *line;
        size_t n;
        mm_lines_init(&it, data, len);
        while (mm_lines_next(&it, &line, &n)) {
            char *l = mm_xstrndup(line, n), *save = NULL;
            char *dev = strtok_r(l, " \t", &save), *m = dev ? strtok_r(NULL, " \t", &save) : NULL;
            char *type = m ? strtok_r(NULL, " \t", &save) : NULL;
            char *o = type ? strtok_r(NULL, " \t", &save) : NULL;
            if (dev && dev[0] != '#' && m && o && !strcmp(m, mp)) {
                free(res);
                res = mm_xstrdup(o);
            }
            free(l);
        }
    }
    free(data);
    mm_error_clear();
    return res;
}

static bool has_opt(const char *opts, const char *o)
{
    size_t n = strlen(o);
    for (const char *p = opts; p && *p;) {
        if (!strncmp(p, o, n) && (p[n] == ',' || !p[n]))
            return true;
        p = strchr(p, ',');
        if (p)
            p++;
    }
    return false;
}

static void mounts(lctx *x)
{
    static const struct { const char *mp, *id[3]; } mps[] = {
        {"/tmp", {"CIS-DEBIAN-1.1.2.2", "CIS-DEBIAN-1.1.2.3", "CIS-DEBIAN-1.1.2.4"}},
        {"/dev/shm", {"CIS-DEBIAN-1.1.8.2", "CIS-DEBIAN-1.1.8.3", "CIS-DEBIAN-1.1.8.4"}},
    };
    static const char *const opt[3] = {"nodev", "nosuid", "noexec"};
    for (size_t i = 0; i < 2; i++) {
        char *o = mount_opts(x, mps[i].mp);
        mm_host_target t = {mps[i].mp, NULL, NULL, NULL};
        for (int k = 0; k < 3; k++) {
            if (!o)
                mm_checks_add(x->c, mps[i].id[k], MM_CHECK_NA, &t, "%s is not a separate file system",
                              mps[i].mp);
            else
                mm_checks_add(x->c, mps[i].id[k], has_opt(o, opt[k]) ? MM_CHECK_PASS : MM_CHECK_FAIL, &t,
                              "%s mounted with %s", mps[i].mp, o);
        }
        free(o);
    }
}

/* ---- sysctl -------------------------------------------------------------------------- */

typedef struct sysconf {
    mm_map *v;   /* key (dots) -> value */
} sysconf;

static void sysconf_load(lctx *x, sysconf *s)
{
    static const char *const dirs[] = {"/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d",
                                       "/usr/lib/sysctl.d", "/lib/sysctl.d", NULL};
    char **files = NULL;
    size_t nf = 0;
    confd_files(x->root, dirs, &files, &nf);
    mm_strv_push(&files, &nf, "/etc/sysctl.conf");
    s->v = mm_map_new();
    for (size_t i = 0; i < nf; i++) {
        char *d = NULL;
        size_t len;
        if (mm_host_read(x->root, files[i], MAX_CONF, &d, &len) < 0)
            continue;
        mm_lines it;
        const char *line;
        size_t n;
        mm_lines_init(&it, d, len);
        while (mm_lines_next(&it, &line, &n)) {
            char *l = mm_xstrndup(line, n);
            char *t = mm_str_trim(l);
            if (*t == '-')
                t++;
            char *eq = strchr(t, '=');
            if (*t && *t != '#' && *t != ';' && eq) {
                *eq = 0;
                char *k = mm_str_trim(t), *v = mm_str_trim(eq + 1);
                for (char *q = k; *q; q++)
                    if (*q == '/')
                        *q = '.';
                free(mm_map_put(s->v, k, mm_xstrdup(v)));
            }
            free(l);
        }
        free(d);
    }
    mm_strv_free(files, nf);
    mm_error_clear();
}

static char *live_sysctl(lctx *x, const char *key)
{
    if (!x->live)
        return NULL;
    char *p = mm_xasprintf("%s/sys/%s", x->proc, key);
    for (char *q = p + strlen(x->proc) + 5; *q; q++)
        if (*q == '.')
            *q = '/';
    char *v = mm_file_read_proc(p, 4096, NULL);
    free(p);
    if (!v)
        return NULL;
    char *t = mm_xstrdup(mm_str_trim(v));
    free(v);
    return t;
}

/* One check over several keys that must all hold their value. */
static void sysctl_check(lctx *x, sysconf *s, const char *id, const char *const *kv)
{
    mm_buf bad = MM_BUF_INIT, fix = MM_BUF_INIT, ok = MM_BUF_INIT;
    bool any_known = false;
    for (size_t i = 0; kv[i]; i += 2) {
        const char *k = kv[i], *want = kv[i + 1];
        char *live = live_sysctl(x, k);
        const char *conf = mm_map_get(s->v, k);
        if (x->live && !live) {
            /* the kernel has no such knob (yama not built in): the file alone */
        } else {
            any_known = true;
        }
        bool live_ok = !live || !strcmp(live, want);
        bool conf_ok = conf && !strcmp(conf, want);
        if (!live_ok || !conf_ok) {
            mm_buf_printf(&bad, "%s%s = %s (running), %s (configured)", bad.len ? "; " : "", k,
                          live ? live : "-", conf ? conf : "unset");
            mm_buf_printf(&fix, "%ssysctl %s %s", fix.len ? "\n" : "", k, want);
        } else {
            mm_buf_printf(&ok, "%s%s = %s", ok.len ? ", " : "", k, want);
        }
        free(live);
    }
    mm_host_target t = {"sysctl", NULL, NULL, fix.len ? fix.data : NULL};
    if (!any_known && x->live)
        mm_checks_add(x->c, id, MM_CHECK_NA, &t, "this kernel has no %s", kv[0]);
    else if (bad.len)
        mm_checks_add(x->c, id, MM_CHECK_FAIL, &t, "%s", bad.data);
    else
        mm_checks_add(x->c, id, MM_CHECK_PASS, &t, "%s", ok.data);
    mm_buf_free(&bad);
    mm_buf_free(&fix);
    mm_buf_free(&ok);
}

static void sysctls(lctx *x)
{
    sysconf s;
    sysconf_load(x, &s);
#define SC(id, ...) do { const char *kv[] = {__VA_ARGS__, NULL}; sysctl_check(x, &s, id, kv); } while (0)
    SC("CIS-DEBIAN-1.5.1", "kernel.randomize_va_space", "2");
    SC("CIS-DEBIAN-1.5.2", "kernel.yama.ptrace_scope", "1");
    SC("CIS-DEBIAN-1.5.3", "fs.suid_dumpable", "0");
    SC("CIS-DEBIAN-3.2.1", "net.ipv4.conf.all.send_redirects", "0", "net.ipv4.conf.default.send_redirects", "0");
    SC("CIS-DEBIAN-3.3.1", "net.ipv4.conf.all.accept_source_route", "0",
       "net.ipv4.conf.default.accept_source_route", "0");
    SC("CIS-DEBIAN-3.3.2", "net.ipv4.conf.all.accept_redirects", "0", "net.ipv4.conf.default.accept_redirects", "0");
    SC("CIS-DEBIAN-3.3.3", "net.ipv4.conf.all.secure_redirects", "0", "net.ipv4.conf.default.secure_redirects", "0");
    SC("CIS-DEBIAN-3.3.4", "net.ipv4.conf.all.log_martians", "1", "net.ipv4.conf.default.log_martians", "1");
    SC("CIS-DEBIAN-3.3.5", "net.ipv4.icmp_echo_ignore_broadcasts", "1");
    SC("CIS-DEBIAN-3.3.6", "net.ipv4.icmp_ignore_bogus_error_responses", "1");
    SC("CIS-DEBIAN-3.3.7", "net.ipv4.conf.all.rp_filter", "1", "net.ipv4.conf.default.rp_filter", "1");
    SC("CIS-DEBIAN-3.3.8", "net.ipv4.tcp_syncookies", "1");
#undef SC
    /* 3.2.2: a container host forwards packets for its bridges; say so */
    char *fw = live_sysctl(x, "net.ipv4.ip_forward");
    const char *conf = mm_map_get(s.v, "net.ipv4.ip_forward");
    const char *v = fw ? fw : conf;
    mm_host_target t = {"sysctl", NULL, NULL, NULL};
    if (v && !strcmp(v, "1"))
        mm_checks_add(x->c, "CIS-DEBIAN-3.2.2", MM_CHECK_MANUAL, &t,
                      "net.ipv4.ip_forward = 1: container bridge networks need it; disable it only on "
                      "hosts whose containers use host or no networking");
    else
        mm_checks_add(x->c, "CIS-DEBIAN-3.2.2", MM_CHECK_PASS, &t, "net.ipv4.ip_forward = %s", v ? v : "0");
    free(fw);
    mm_map_free(s.v, free);
}

/* ---- auditd ------------------------------------------------------------------------------ */

static bool proc_running(lctx *x, const char *comm)
{
    DIR *d = opendir(x->proc);
    bool found = false;
    if (!d)
        return false;
    struct dirent *e;
    while (!found && (e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        char *p = mm_xasprintf("%s/%s/comm", x->proc, e->d_name);
        char *c = mm_file_read_proc(p, 64, NULL);
        found = c && !strcmp(mm_str_trim(c), comm);
        free(c);
        free(p);
    }
    closedir(d);
    return found;
}

static void auditd(lctx *x)
{
    struct stat st;
    bool installed = mm_host_stat(x->root, "/sbin/auditd", &st) == 0 ||
                     mm_host_stat(x->root, "/usr/sbin/auditd", &st) == 0;
    mm_host_target t = {"auditd", NULL, NULL, NULL};
    mm_checks_add(x->c, "CIS-DEBIAN-4.1.1.1", installed ? MM_CHECK_PASS : MM_CHECK_FAIL, &t,
                  installed ? "auditd is installed" : "auditd is not installed");
    if (!installed) {
        mm_checks_add(x->c, "CIS-DEBIAN-4.1.1.2", MM_CHECK_FAIL, &t, "auditd is not installed");
    } else {
        bool enabled = mm_host_stat(x->root, "/etc/systemd/system/multi-user.target.wants/auditd.service",
                                    &st) == 0;
        bool active = x->live ? proc_running(x, "auditd") : true;
        mm_checks_add(x->c, "CIS-DEBIAN-4.1.1.2", enabled && active ? MM_CHECK_PASS : MM_CHECK_FAIL, &t,
                      "auditd is %s and %s", enabled ? "enabled" : "not enabled",
                      x->live ? (active ? "running" : "not running") : "(not looked at: no live)");
    }
    char *rules = mm_audit_rules_load(x->root, x->live ? NULL : "", x->c);
    static const char *const scope[] = {"/etc/sudoers", "/etc/sudoers.d", NULL};
    static const char *const ident[] = {"/etc/group", "/etc/passwd", "/etc/gshadow", "/etc/shadow",
                                        "/etc/security/opasswd", NULL};
    const struct { const char *id; const char *const *paths; const char *key; } sets[] = {
        {"CIS-DEBIAN-4.1.3.1", scope, "scope"}, {"CIS-DEBIAN-4.1.3.8", ident, "identity"}};
    for (size_t s = 0; s < 2; s++) {
        mm_buf miss = MM_BUF_INIT, fix = MM_BUF_INIT;
        for (size_t i = 0; sets[s].paths[i]; i++)
            if (!mm_audit_watches(rules, sets[s].paths[i])) {
                mm_buf_printf(&miss, "%s%s", miss.len ? ", " : "", sets[s].paths[i]);
                mm_buf_printf(&fix, "%saudit -w %s -p wa -k %s", fix.len ? "\n" : "", sets[s].paths[i],
                              sets[s].key);
            }
        mm_host_target at = {"audit rules", NULL, NULL, fix.len ? fix.data : NULL};
        mm_checks_add(x->c, sets[s].id, miss.len ? MM_CHECK_FAIL : MM_CHECK_PASS, &at,
                      miss.len ? "not watched: %s" : "all watched%s", miss.len ? miss.data : "");
        mm_buf_free(&miss);
        mm_buf_free(&fix);
    }
    free(rules);
}

/* ---- sshd ------------------------------------------------------------------------------- */

/* Reads sshd_config as sshd does: first value of a keyword wins; Include
 * (relative to /etc/ssh) is expanded in place; Match ends the global part. */
static void sshd_read(lctx *x, const char *path, mm_map *kv, int depth, bool *in_match)
{
    char *d = NULL;
    size_t len;
    if (depth > 8 || mm_host_read(x->root, path, MAX_CONF, &d, &len) < 0) {
        mm_error_clear();
        return;
    }
    mm_lines it;
    const char *line;
    size_t n;
    mm_lines_init(&it, d, len);
    while (!*in_match && mm_lines_next(&it, &line, &n)) {
        char *l = mm_xstrndup(line, n);
        char *t = mm_str_trim(l);
        char *sp = t + strcspn(t, " \t=");
        if (*t && *t != '#' && *sp) {
            *sp = 0;
            char *v = sp + 1;
            while (*v == ' ' || *v == '\t' || *v == '=')
                v++;
            for (char *q = t; *q; q++)
                *q = (char)tolower((unsigned char)*q);
            if (!strcmp(t, "match")) {
                *in_match = true;
            } else if (!strcmp(t, "include")) {
                char *pat = v[0] == '/' ? mm_xstrdup(v) : mm_xasprintf("/etc/ssh/%s", v);
                char *full = mm_host_path(x->root, pat);
                glob_t g;
                if (glob(full, 0, NULL, &g) == 0) {
                    for (size_t i = 0; i < g.gl_pathc && !*in_match; i++) {
                        char *rel = mm_host_unroot(x->root, g.gl_pathv[i]);
                        sshd_read(x, rel, kv, depth + 1, in_match);
                        free(rel);
                    }
                    globfree(&g);
                }
                free(full);
                free(pat);
            } else if (!mm_map_get(kv, t)) {
                mm_map_put(kv, t, mm_xstrdup(mm_str_trim(v)));
            }
        }
        free(l);
    }
    free(d);
}

static void sshd(lctx *x)
{
    struct stat st;
    mm_host_target t = {"/etc/ssh/sshd_config", NULL, NULL, NULL};
    static const char *const ids[] = {"CIS-DEBIAN-5.2.1", "CIS-DEBIAN-5.2.4", "CIS-DEBIAN-5.2.5",
                                      "CIS-DEBIAN-5.2.7", "CIS-DEBIAN-5.2.8", "CIS-DEBIAN-5.2.9",
                                      "CIS-DEBIAN-5.2.11", "CIS-DEBIAN-5.2.12", "CIS-DEBIAN-5.2.18"};
    if (mm_host_stat(x->root, "/etc/ssh/sshd_config", &st) != 0) {
        for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
            mm_checks_add(x->c, ids[i], MM_CHECK_NA, &t, "sshd is not installed (no /etc/ssh/sshd_config)");
        return;
    }
    {
        char *u = mm_host_user_name(x->root, st.st_uid), *g = mm_host_group_name(x->root, st.st_gid);
        bool ok = !strcmp(u, "root") && !strcmp(g, "root") && !(st.st_mode & 077);
        mm_host_target ft = {"/etc/ssh/sshd_config", NULL, NULL,
                             st.st_uid || st.st_gid ? "chown root:root\nchmod 0600" : "chmod 0600"};
        mm_checks_add(x->c, "CIS-DEBIAN-5.2.1", ok ? MM_CHECK_PASS : MM_CHECK_FAIL, &ft,
                      "%s:%s mode %04o (want root:root 0600)", u, g, (unsigned)(st.st_mode & 07777));
        free(u);
        free(g);
    }
    mm_map *kv = mm_map_new();
    bool in_match = false;
    sshd_read(x, "/etc/ssh/sshd_config", kv, 0, &in_match);
    const char *allow = mm_map_get(kv, "allowusers") ? "AllowUsers"
                      : mm_map_get(kv, "allowgroups") ? "AllowGroups"
                      : mm_map_get(kv, "denyusers") ? "DenyUsers"
                      : mm_map_get(kv, "denygroups") ? "DenyGroups" : NULL;
    mm_checks_add(x->c, "CIS-DEBIAN-5.2.4", allow ? MM_CHECK_PASS : MM_CHECK_FAIL, &t,
                  allow ? "%s is set" : "no AllowUsers, AllowGroups, DenyUsers or DenyGroups%s",
                  allow ? allow : "");
    const struct { const char *id, *key, *dflt, *want1, *want2; } kw[] = {
        {"CIS-DEBIAN-5.2.5", "loglevel", "INFO", "INFO", "VERBOSE"},
        {"CIS-DEBIAN-5.2.7", "permitrootlogin", "prohibit-password", "no", NULL},
        {"CIS-DEBIAN-5.2.8", "hostbasedauthentication", "no", "no", NULL},
        {"CIS-DEBIAN-5.2.9", "permitemptypasswords", "no", "no", NULL},
        {"CIS-DEBIAN-5.2.11", "ignorerhosts", "yes", "yes", NULL},
        {"CIS-DEBIAN-5.2.12", "x11forwarding", "no", "no", NULL},
    };
    for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++) {
        const char *v = mm_map_get(kv, kw[i].key);
        const char *eff = v ? v : kw[i].dflt;
        bool ok = !strcasecmp(eff, kw[i].want1) || (kw[i].want2 && !strcasecmp(eff, kw[i].want2));
        mm_checks_add(x->c, kw[i].id, ok ? MM_CHECK_PASS : MM_CHECK_FAIL, &t, "%s %s%s", kw[i].key, eff,
                      v ? "" : " (default)");
    }
    const char *mt = mm_map_get(kv, "maxauthtries");
    long tries = mt ? strtol(mt, NULL, 10) : 6;
    mm_checks_add(x->c, "CIS-DEBIAN-5.2.18", tries <= 4 ? MM_CHECK_PASS : MM_CHECK_FAIL, &t,
                  "MaxAuthTries %ld%s", tries, mt ? "" : " (default)");
    mm_map_free(kv, free);
}

/* ---- account files --------------------------------------------------------------------- */

static void account_files(lctx *x)
{
    const struct { const char *id, *path; unsigned mode; const char *group; } f[] = {
        {"CIS-DEBIAN-6.1.1", "/etc/passwd", 0644, "root"},
        {"CIS-DEBIAN-6.1.3", "/etc/group", 0644, "root"},
        {"CIS-DEBIAN-6.1.5", "/etc/shadow", 0640, "shadow"},
        {"CIS-DEBIAN-6.1.7", "/etc/gshadow", 0640, "shadow"},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        struct stat st;
        mm_host_target t = {f[i].path, NULL, NULL, NULL};
        if (mm_host_stat(x->root, f[i].path, &st) != 0) {
            mm_checks_add(x->c, f[i].id, MM_CHECK_NA, &t, "%s is not present", f[i].path);
            continue;
        }
        char *u = mm_host_user_name(x->root, st.st_uid), *g = mm_host_group_name(x->root, st.st_gid);
        unsigned m = st.st_mode & 07777;
        bool own = !strcmp(u, "root") && (!strcmp(g, "root") || !strcmp(g, f[i].group));
        bool mode = (m & ~f[i].mode) == 0;
        char fix[96];
        snprintf(fix, sizeof fix, "%s%s%schmod %04o", own ? "" : "chown root:",
                 own ? "" : (mm_host_group_gid(x->root, f[i].group) >= 0 ? f[i].group : "root"),
                 own ? "" : "\n", f[i].mode);
        t.fix = fix;
        mm_checks_add(x->c, f[i].id, own && mode ? MM_CHECK_PASS : MM_CHECK_FAIL, &t,
                      "%s:%s mode %04o (want root:%s %04o or stricter)", u, g, m, f[i].group, f[i].mode);
        free(u);
        free(g);
    }
}

int mm_linux_checks(mm_checks *out, const mm_linux_check_opts *o)
{
    mm_linux_check_opts def = {0};
    if (!o)
        o = &def;
    lctx x = {out, o->root, o->proc_root ? o->proc_root : "/proc", false};
    /* the running kernel belongs to the root only when the root is "/"
     * (or /proc was named for it) */
    x.live = !o->no_live && (!o->root || !strcmp(o->root, "/") || o->proc_root);
    modules(&x);
    mounts(&x);
    sysctls(&x);
    auditd(&x);
    sshd(&x);
    account_files(&x);
    return 0;
}
