/*
 * cis_docker.c - CIS Docker Benchmark v1.6.0 sections 1 (host), 2 (daemon)
 * and 3 (daemon files) (SP 800-190 §3.4.3, §3.5).
 *
 * The daemon's configuration is what it runs with, gathered as
 * docker-bench-security does but without a shell: the command line of the
 * running dockerd (/proc/PID/cmdline; the one whose -H names the socket
 * asked, so several daemons on one host are told apart), else ExecStart of
 * its systemd unit and drop-ins; daemon.json (--config-file, else
 * /etc/docker/daemon.json); and the daemon's own /info over its socket,
 * which settles what the files cannot (storage driver, live restore,
 * seccomp and user namespaces in effect).  Without a daemon the checks that
 * need /info are N/A with a note, never a silent pass.
 *
 * Audit rules come from `auditctl -l` (the loaded rules, when auditctl runs
 * and the root is "/") and from /etc/audit/audit.rules and rules.d/NAME.rules.
 *
 * Length: three CIS sections over one gathered daemon configuration
 * (arguments, daemon.json, /info), a section each; splitting would export
 * that gathered state.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/util.h"
#include "host_int.h"
#include "cis_int.h"

#define MAX_CONF (4u << 20)

void mm_dcfg_free(mm_dcfg *d)
{
    mm_strv_free(d->args, d->nargs);
    json_decref(d->file);
    json_decref(d->info);
    free(d->file_path);
    free(d->sock);
    free(d->args_from);
    memset(d, 0, sizeof *d);
}

char *mm_host_unroot(const char *root, const char *path)
{
    if (!root || !*root || !strcmp(root, "/"))
        return mm_xstrdup(path);
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/')
        n--;
    if (!strncmp(path, root, n) && path[n] == '/')
        return mm_xstrdup(path + n);
    return mm_xstrdup(path);
}

/* ---- daemon arguments ------------------------------------------------------------ */

/* Value(s) of a dockerd flag: "--icc=false", "--icc false" (value flags),
 * "-H unix://x", "-Hunix://x"; a bool flag alone ("--live-restore") gives
 * "true".  idx-th occurrence. */
static const char *const bool_flags[] = {
    "--icc", "--iptables", "--tlsverify", "--tls", "--live-restore", "--userland-proxy",
    "--no-new-privileges", "--experimental", "--selinux-enabled", "--ip-forward",
    "--ip-masq", "--debug", "-D", "--rootless", NULL,
};

static bool is_bool_flag(const char *f)
{
    for (size_t i = 0; bool_flags[i]; i++)
        if (!strcmp(bool_flags[i], f))
            return true;
    return false;
}

const char *mm_dcfg_flag(const mm_dcfg *d, const char *lng, const char *shrt, size_t idx)
{
    size_t seen = 0;
    size_t ll = strlen(lng);
    for (size_t i = 1; i < d->nargs; i++) {
        const char *a = d->args[i];
        const char *v = NULL;
        if (!strncmp(a, lng, ll) && a[ll] == '=')
            v = a + ll + 1;
        else if (!strcmp(a, lng) || (shrt && !strcmp(a, shrt)))
            v = is_bool_flag(lng) ? "true" : i + 1 < d->nargs ? d->args[++i] : "";
        else if (shrt && !strncmp(a, shrt, strlen(shrt)) && a[1] != '-' && strlen(a) > strlen(shrt))
            v = a + strlen(shrt) + (a[strlen(shrt)] == '=' ? 1 : 0);
        if (v && seen++ == idx)
            return v;
    }
    return NULL;
}

/* Splits a unit ExecStart= value into words (quotes honoured; a leading
 * '-' or '@' prefix dropped). */
static void split_words(char ***v, size_t *n, const char *s)
{
    while (*s == '-' || *s == '@' || *s == '+' || *s == '!')
        s++;
    mm_buf w = MM_BUF_INIT;
    bool in = false;
    char q = 0;
    for (;; s++) {
        char c = *s;
        if (!c || (!q && (c == ' ' || c == '\t'))) {
            if (in) {
                char *word = mm_buf_detach(&w);
                mm_strv_push(v, n, word);
                free(word);
                in = false;
            }
            if (!c)
                break;
            continue;
        }
        if (!q && (c == '"' || c == '\'')) {
            q = c;
            in = true;
            continue;
        }
        if (q && c == q) {
            q = 0;
            continue;
        }
        if (c == '\\' && s[1] && s[1] != '\n') {
            s++;
            c = *s;
        }
        mm_buf_addc(&w, c);
        in = true;
    }
    mm_buf_free(&w);
}

/* The unit file of a systemd unit under root: /etc first (an override),
 * then /lib and /usr/lib.  Caller frees the absolute (root-less) path. */
char *mm_unit_path(const char *root, const char *unit)
{
    static const char *const dirs[] = {"/etc/systemd/system", "/lib/systemd/system",
                                       "/usr/lib/systemd/system", NULL};
    for (size_t i = 0; dirs[i]; i++) {
        char *p = mm_xasprintf("%s/%s", dirs[i], unit);
        struct stat st;
        if (mm_host_stat(root, p, &st) == 0 && !S_ISLNK(st.st_mode))
            return p;
        if (mm_host_stat(root, p, &st) == 0) {
            /* a link to /dev/null masks the unit */
            char *full = mm_host_path(root, p);
            char tgt[512];
            ssize_t n = readlink(full, tgt, sizeof tgt - 1);
            free(full);
            if (n > 0) {
                tgt[n] = 0;
                if (!strcmp(tgt, "/dev/null")) {
                    free(p);
                    return NULL;
                }
            }
            return p;
        }
        free(p);
    }
    return NULL;
}

/* ExecStart of docker.service and its drop-ins (the last non-empty wins,
 * an empty one resets). */
static void args_from_unit(mm_dcfg *d, const char *root)
{
    char *unit = mm_unit_path(root, "docker.service");
    if (!unit)
        return;
    char **files = NULL;
    size_t nfiles = 0;
    mm_strv_push(&files, &nfiles, unit);
    char *dropdir = mm_host_path(root, "/etc/systemd/system/docker.service.d");
    DIR *dir = opendir(dropdir);
    if (dir) {
        struct dirent *e;
        char **names = NULL;
        size_t nn = 0;
        while ((e = readdir(dir)) && nn < 1000)
            if (mm_str_endswith(e->d_name, ".conf"))
                mm_strv_push(&names, &nn, e->d_name);
        closedir(dir);
        if (nn)
            qsort(names, nn, sizeof *names, mm_host_strpcmp);
        for (size_t i = 0; i < nn; i++) {
            char *p = mm_xasprintf("/etc/systemd/system/docker.service.d/%s", names[i]);
            mm_strv_push(&files, &nfiles, p);
            free(p);
        }
        mm_strv_free(names, nn);
    }
    free(dropdir);
    char *exec = NULL;
    for (size_t i = 0; i < nfiles; i++) {
        char *data = NULL;
        size_t len;
        if (mm_host_read(root, files[i], MAX_CONF, &data, &len) < 0) {
            mm_error_clear();
            continue;
        }
        mm_lines it;
        const char *line;
        size_t n;
        mm_buf joined = MM_BUF_INIT;
        mm_lines_init(&it, data, len);
        while (mm_lines_next(&it, &line, &n)) {
            /* continuation lines end in '\' */
            mm_buf_add(&joined, line, n);
            if (n && line[n - 1] == '\\') {
                joined.len--;
                mm_buf_addc(&joined, ' ');
                continue;
            }
            mm_buf_addc(&joined, 0);
            char *l = mm_str_trim(joined.data);
            if (mm_str_startswith(l, "ExecStart=")) {
                free(exec);
                exec = *(l + 10) ? mm_xstrdup(l + 10) : NULL;
            }
            mm_buf_clear(&joined);
        }
        mm_buf_free(&joined);
        free(data);
    }
    if (exec) {
        split_words(&d->args, &d->nargs, exec);
        d->args_from = mm_xasprintf("ExecStart of %s", files[nfiles - 1]);
    }
    free(exec);
    mm_strv_free(files, nfiles);
    free(unit);
}

/* Does this dockerd command line serve sock? */
static bool serves(const mm_dcfg *d, const char *sock)
{
    bool any = false;
    for (size_t i = 0;; i++) {
        const char *h = mm_dcfg_flag(d, "--host", "-H", i);
        if (!h)
            break;
        any = true;
        char *p = mm_docker_sock_path(h);
        bool same = p && !strcmp(p, sock);
        free(p);
        if (same)
            return true;
        if (!strncmp(h, "fd://", 5) && !strcmp(sock, "/var/run/docker.sock"))
            return true;
    }
    return !any && (!strcmp(sock, "/var/run/docker.sock") || !strcmp(sock, "/run/docker.sock"));
}

static void args_from_proc(mm_dcfg *d, const char *proc_root, const char *sock)
{
    DIR *dir = opendir(proc_root);
    if (!dir)
        return;
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (strspn(e->d_name, "0123456789") != strlen(e->d_name))
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s/comm", proc_root, e->d_name);
        char *comm = mm_file_read_proc(path, 64, NULL);
        bool is = comm && !strcmp(mm_str_trim(comm), "dockerd");
        free(comm);
        if (!is)
            continue;
        snprintf(path, sizeof path, "%s/%s/cmdline", proc_root, e->d_name);
        size_t len = 0;
        char *cl = mm_file_read_proc(path, 1u << 20, &len);
        if (!cl)
            continue;
        mm_dcfg t = {0};
        for (size_t off = 0; off < len;) {
            mm_strv_push(&t.args, &t.nargs, cl + off);
            off += strlen(cl + off) + 1;
        }
        free(cl);
        if (sock && serves(&t, sock)) {
            d->args = t.args;
            d->nargs = t.nargs;
            d->args_from = mm_xasprintf("dockerd pid %s", e->d_name);
            d->pid = strtoll(e->d_name, NULL, 10);
            break;
        }
        mm_strv_free(t.args, t.nargs);
    }
    closedir(dir);
}

int mm_dcfg_load(mm_dcfg *d, const mm_docker_check_opts *o, mm_checks *notes)
{
    memset(d, 0, sizeof *d);
    const char *root = o->root;
    const char *host = o->docker_host ? o->docker_host : getenv("DOCKER_HOST");
    d->sock = mm_docker_sock_path(host);
    if (!d->sock && host)
        mm_checks_notef(notes, "DOCKER_HOST %s is not a unix socket: the daemon is not asked", host);
    if (d->sock && (!root || !strcmp(root, "/") || o->docker_host)) {
        /* a daemon given by name is asked wherever it is; the default
         * socket only when the root is this machine's */
        args_from_proc(d, o->proc_root ? o->proc_root : "/proc", d->sock);
    } else if (d->sock) {
        char *p = mm_host_path(root, d->sock);
        free(d->sock);
        d->sock = p;
    }
    if (!d->args)
        args_from_unit(d, root);
    const char *cf = mm_dcfg_flag(d, "--config-file", NULL, 0);
    d->file_path = cf ? mm_host_unroot(root, cf) : mm_xstrdup("/etc/docker/daemon.json");
    char *data = NULL;
    size_t len = 0;
    int rc = mm_host_read(root, d->file_path, MAX_CONF, &data, &len);
    if (rc == 0) {
        json_error_t e;
        d->file = json_loadb(data, len, JSON_REJECT_DUPLICATES, &e);
        free(data);
        if (!d->file || !json_is_object(d->file)) {
            bool obj = d->file != NULL;
            json_decref(d->file);
            d->file = NULL;
            char *full = mm_host_path(root, d->file_path);
            int erc = mm_error_set(MM_EFORMAT, "%s: line %d: %s", full, obj ? 1 : e.line,
                                   obj ? "not a JSON object" : e.text);
            free(full);
            return erc;
        }
    } else if (rc != MM_ENOTFOUND) {
        return rc;
    }
    mm_error_clear();
    if (!o->no_docker && d->sock) {
        if (mm_docker_api_get(d->sock, "/info", &d->info) < 0) {
            mm_checks_notef(notes, "no docker daemon answers at %s (%s): checks that need it are N/A",
                            d->sock, mm_error_last());
            mm_error_clear();
            d->info = NULL;
        }
    }
    return 0;
}

/* The effective setting: a flag, else the daemon.json key. */
static const char *setting(const mm_dcfg *d, const char *flag, const char *key, const char **src)
{
    const char *v = flag ? mm_dcfg_flag(d, flag, NULL, 0) : NULL;
    if (v) {
        *src = "flag";
        return v;
    }
    json_t *j = key ? json_object_get(d->file, key) : NULL;
    *src = "daemon.json";
    if (json_is_string(j))
        return json_string_value(j);
    if (json_is_true(j))
        return "true";
    if (json_is_false(j))
        return "false";
    if (j && !json_is_null(j))
        return "(set)";
    *src = NULL;
    return NULL;
}

static bool info_secopt(const mm_dcfg *d, const char *needle)
{
    return mm_hj_array_has(json_object_get(d->info, "SecurityOptions"), needle);
}

/* ---- section 2 -------------------------------------------------------------------- */

static void section2(mm_checks *c, const mm_dcfg *d)
{
    const char *src, *v;
    mm_host_target daemon = {"daemon", NULL, NULL, NULL};
#define FIXJ(fx) (&(mm_host_target){d->file_path, NULL, NULL, fx})
    bool info = d->info != NULL;

    if (info && info_secopt(d, "name=rootless"))
        mm_checks_add(c, "CIS-DOCKER-2.1", MM_CHECK_PASS, &daemon, "rootless daemon");
    else
        mm_checks_add(c, "CIS-DOCKER-2.1", MM_CHECK_MANUAL, &daemon,
                      "the daemon runs as root; rootless mode is a site decision");

    v = setting(d, "--icc", "icc", &src);
    if (v && !strcmp(v, "false"))
        mm_checks_add(c, "CIS-DOCKER-2.2", MM_CHECK_PASS, &daemon, "icc false (%s)", src);
    else
        mm_checks_add(c, "CIS-DOCKER-2.2", MM_CHECK_FAIL,
                      src && !strcmp(src, "flag") ? &daemon : FIXJ("json icc false"),
                      "inter-container communication on the default bridge is %s",
                      v ? v : "enabled (default)");

    v = setting(d, "--log-level", "log-level", &src);
    if (!v)
        v = mm_dcfg_flag(d, "-l", NULL, 0);
    if (!v || !strcmp(v, "info"))
        mm_checks_add(c, "CIS-DOCKER-2.3", MM_CHECK_PASS, &daemon, "log-level %s", v ? v : "info (default)");
    else
        mm_checks_add(c, "CIS-DOCKER-2.3", MM_CHECK_FAIL,
                      src && !strcmp(src, "flag") ? &daemon : FIXJ("json log-level \"info\""), "log-level %s (%s)", v, src ? src : "flag");

    v = setting(d, "--iptables", "iptables", &src);
    if (v && !strcmp(v, "false"))
        mm_checks_add(c, "CIS-DOCKER-2.4", MM_CHECK_FAIL,
                      !strcmp(src, "flag") ? &daemon : FIXJ("json iptables true"), "iptables false (%s)", src);
    else
        mm_checks_add(c, "CIS-DOCKER-2.4", MM_CHECK_PASS, &daemon, "iptables %s", v ? v : "true (default)");

    {
        mm_buf b = MM_BUF_INIT;
        for (size_t i = 0; (v = mm_dcfg_flag(d, "--insecure-registry", NULL, i)); i++)
            mm_buf_printf(&b, "%s%s (flag)", b.len ? ", " : "", v);
        json_t *a = json_object_get(d->file, "insecure-registries");
        size_t i;
        json_t *e;
        json_array_foreach(a, i, e)
            if (json_is_string(e))
                mm_buf_printf(&b, "%s%s (daemon.json)", b.len ? ", " : "", json_string_value(e));
        if (b.len)
            mm_checks_add(c, "CIS-DOCKER-2.5", MM_CHECK_FAIL, &daemon, "insecure registries: %s", b.data);
        else
            mm_checks_add(c, "CIS-DOCKER-2.5", MM_CHECK_PASS, &daemon, "none");
        mm_buf_free(&b);
    }

    const char *driver = info ? mm_hj_str(d->info, "Driver") : NULL;
    if (!driver)
        driver = setting(d, "--storage-driver", "storage-driver", &src);
    if (!driver && !info)
        mm_checks_add(c, "CIS-DOCKER-2.6", MM_CHECK_NA, &daemon, "no daemon to ask for its storage driver");
    else if (driver && !strcmp(driver, "aufs"))
        mm_checks_add(c, "CIS-DOCKER-2.6", MM_CHECK_FAIL, &daemon, "storage driver aufs");
    else
        mm_checks_add(c, "CIS-DOCKER-2.6", MM_CHECK_PASS, &daemon, "storage driver %s", driver ? driver : "default");

    {
        bool tcp = false;
        mm_buf hosts = MM_BUF_INIT;
        for (size_t i = 0; (v = mm_dcfg_flag(d, "--host", "-H", i)); i++) {
            mm_buf_printf(&hosts, "%s%s", hosts.len ? ", " : "", v);
            tcp |= !!strncmp(v, "unix://", 7) && !!strncmp(v, "fd://", 5) && v[0] != '/';
        }
        json_t *a = json_object_get(d->file, "hosts");
        size_t i;
        json_t *e;
        json_array_foreach(a, i, e) {
            const char *h = json_string_value(e);
            if (!h)
                continue;
            mm_buf_printf(&hosts, "%s%s", hosts.len ? ", " : "", h);
            tcp |= !!strncmp(h, "unix://", 7) && !!strncmp(h, "fd://", 5) && h[0] != '/';
        }
        const char *vs, *ca, *crt, *key;
        const char *verify = setting(d, "--tlsverify", "tlsverify", &vs);
        ca = setting(d, "--tlscacert", "tlscacert", &vs);
        crt = setting(d, "--tlscert", "tlscert", &vs);
        key = setting(d, "--tlskey", "tlskey", &vs);
        if (!tcp)
            mm_checks_add(c, "CIS-DOCKER-2.7", MM_CHECK_NA, &daemon, "not listening on TCP (%s)",
                          hosts.len ? hosts.data : "default unix socket");
        else if (verify && !strcmp(verify, "true") && ca && crt && key)
            mm_checks_add(c, "CIS-DOCKER-2.7", MM_CHECK_PASS, &daemon, "TCP with tlsverify (%s)", hosts.data);
        else
            mm_checks_add(c, "CIS-DOCKER-2.7", MM_CHECK_FAIL, &daemon,
                          "listening on TCP (%s) %s", hosts.data,
                          !key || !crt ? "without TLS" : "with TLS but without client verification (tlsverify, tlscacert)");
        mm_buf_free(&hosts);
    }

    v = setting(d, "--default-ulimit", "default-ulimits", &src);
    if (v && strcmp(v, "(set)") && strcmp(v, "true"))
        mm_checks_add(c, "CIS-DOCKER-2.8", MM_CHECK_PASS, &daemon, "default ulimit %s", v);
    else if (v && json_object_size(json_object_get(d->file, "default-ulimits")))
        mm_checks_add(c, "CIS-DOCKER-2.8", MM_CHECK_PASS, &daemon, "default-ulimits in daemon.json");
    else
        mm_checks_add(c, "CIS-DOCKER-2.8", MM_CHECK_MANUAL, &daemon,
                      "no default ulimit: containers inherit the daemon's limits");

    v = setting(d, "--userns-remap", "userns-remap", &src);
    if ((v && *v) || (info && info_secopt(d, "name=userns")))
        mm_checks_add(c, "CIS-DOCKER-2.9", MM_CHECK_PASS, &daemon, "userns-remap %s", v ? v : "in effect");
    else
        mm_checks_add(c, "CIS-DOCKER-2.9", MM_CHECK_FAIL, &daemon,
                      "no user namespace remapping: root in a container is root on the host");

    v = setting(d, "--cgroup-parent", "cgroup-parent", &src);
    if (v && *v)
        mm_checks_add(c, "CIS-DOCKER-2.10", MM_CHECK_MANUAL, &daemon, "cgroup-parent %s: confirm it", v);
    else
        mm_checks_add(c, "CIS-DOCKER-2.10", MM_CHECK_PASS, &daemon, "default cgroup parent");

    {
        bool base = false;
        for (size_t i = 0; (v = mm_dcfg_flag(d, "--storage-opt", NULL, i)); i++)
            base |= strstr(v, "dm.basesize") != NULL;
        json_t *a = json_object_get(d->file, "storage-opts");
        size_t i;
        json_t *e;
        json_array_foreach(a, i, e)
            base |= json_is_string(e) && strstr(json_string_value(e), "dm.basesize");
        mm_checks_add(c, "CIS-DOCKER-2.11", base ? MM_CHECK_FAIL : MM_CHECK_PASS, &daemon,
                      base ? "dm.basesize is set" : "base device size unchanged");
    }

    v = setting(d, "--authorization-plugin", "authorization-plugins", &src);
    if (v && (strcmp(v, "(set)") || json_array_size(json_object_get(d->file, "authorization-plugins"))))
        mm_checks_add(c, "CIS-DOCKER-2.12", MM_CHECK_PASS, &daemon, "authorization plugin %s",
                      strcmp(v, "(set)") ? v : "in daemon.json");
    else
        mm_checks_add(c, "CIS-DOCKER-2.12", MM_CHECK_FAIL, &daemon,
                      "no authorization plugin: every client of the socket is root on the host");

    const char *ld = info ? mm_hj_str(d->info, "LoggingDriver") : NULL;
    if (!ld)
        ld = setting(d, "--log-driver", "log-driver", &src);
    if (!ld)
        ld = "json-file";
    if (!strcmp(ld, "json-file") || !strcmp(ld, "local") || !strcmp(ld, "none"))
        mm_checks_add(c, "CIS-DOCKER-2.13", MM_CHECK_FAIL, &daemon, "log driver %s keeps logs on this host only", ld);
    else
        mm_checks_add(c, "CIS-DOCKER-2.13", MM_CHECK_PASS, &daemon, "log driver %s", ld);

    v = setting(d, "--no-new-privileges", "no-new-privileges", &src);
    if (v && !strcmp(v, "true"))
        mm_checks_add(c, "CIS-DOCKER-2.14", MM_CHECK_PASS, &daemon, "no-new-privileges (%s)", src);
    else
        mm_checks_add(c, "CIS-DOCKER-2.14", MM_CHECK_FAIL,
                      src && !strcmp(src, "flag") ? &daemon : FIXJ("json no-new-privileges true"), "no-new-privileges is not the default");

    v = setting(d, "--live-restore", "live-restore", &src);
    bool swarm = info && mm_hj_str(json_object_get(d->info, "Swarm"), "LocalNodeState") &&
                 !strcmp(mm_hj_str(json_object_get(d->info, "Swarm"), "LocalNodeState"), "active");
    if ((info && mm_hj_bool(d->info, "LiveRestoreEnabled")) || (v && !strcmp(v, "true")))
        mm_checks_add(c, "CIS-DOCKER-2.15", MM_CHECK_PASS, &daemon, "live restore enabled");
    else if (swarm)
        mm_checks_add(c, "CIS-DOCKER-2.15", MM_CHECK_PASS, &daemon, "swarm mode (live restore is incompatible)");
    else
        mm_checks_add(c, "CIS-DOCKER-2.15", MM_CHECK_FAIL,
                      src && !strcmp(src, "flag") ? &daemon : FIXJ("json live-restore true"), "live restore disabled");

    v = setting(d, "--userland-proxy", "userland-proxy", &src);
    if (v && !strcmp(v, "false"))
        mm_checks_add(c, "CIS-DOCKER-2.16", MM_CHECK_PASS, &daemon, "userland proxy disabled");
    else
        mm_checks_add(c, "CIS-DOCKER-2.16", MM_CHECK_FAIL,
                      src && !strcmp(src, "flag") ? &daemon : FIXJ("json userland-proxy false"), "userland proxy enabled%s",
                      v ? "" : " (default)");

    v = setting(d, "--seccomp-profile", "seccomp-profile", &src);
    if (v && !strcmp(v, "unconfined"))
        mm_checks_add(c, "CIS-DOCKER-2.17", MM_CHECK_FAIL, &daemon, "seccomp-profile unconfined");
    else if (!info)
        mm_checks_add(c, "CIS-DOCKER-2.17", v ? MM_CHECK_PASS : MM_CHECK_NA, &daemon,
                      v ? "custom seccomp profile %s" : "no daemon to ask whether seccomp is in effect",
                      v ? v : "");
    else if (info_secopt(d, "name=seccomp"))
        mm_checks_add(c, "CIS-DOCKER-2.17", MM_CHECK_PASS, &daemon, "seccomp in effect (%s)",
                      v ? v : "default profile");
    else
        mm_checks_add(c, "CIS-DOCKER-2.17", MM_CHECK_FAIL, &daemon, "the daemon reports no seccomp support");

    v = setting(d, "--experimental", "experimental", &src);
    if ((v && !strcmp(v, "true")) || (info && mm_hj_bool(d->info, "ExperimentalBuild")))
        mm_checks_add(c, "CIS-DOCKER-2.18", MM_CHECK_FAIL,
                      src && !strcmp(src, "daemon.json") ? FIXJ("json experimental false") : &daemon, "experimental features enabled");
    else
        mm_checks_add(c, "CIS-DOCKER-2.18", MM_CHECK_PASS, &daemon, "experimental features off");
}

/* ---- section 1 ---------------------------------------------------------------------- */

char *mm_audit_rules_load(const char *root, const char *auditctl, mm_checks *c)
{
    mm_buf b = MM_BUF_INIT;
    bool live = !root || !strcmp(root, "/");
    if (auditctl && *auditctl) {
        char *d = NULL;
        size_t len;
        if (mm_file_read(auditctl, MAX_CONF, &d, &len) == 0) {
            mm_buf_add(&b, d, len);
            mm_buf_addc(&b, '\n');
        } else {
            mm_checks_notef(c, "%s", mm_error_last());
        }
        free(d);
    } else if (live && !auditctl) {
        char *ctl = mm_host_which("auditctl");
        if (ctl) {
            const char *argv[] = {ctl, "-l", NULL};
            char *out = NULL, *err = NULL;
            size_t len = 0;
            int st = mm_host_run(argv, MAX_CONF, &out, &len, &err);
            if (st == 0) {
                mm_buf_add(&b, out, len);
                mm_buf_addc(&b, '\n');
            } else {
                mm_checks_notef(c, "auditctl -l failed (%s): only the rules files were read",
                                st < 0 ? mm_error_last() : "no audit support in this kernel or namespace");
            }
            free(out);
            free(err);
            free(ctl);
        }
    }
    char *p = mm_host_path(root, "/etc/audit/audit.rules");
    char *d = NULL;
    size_t len;
    if (mm_file_read(p, MAX_CONF, &d, &len) == 0) {
        mm_buf_add(&b, d, len);
        mm_buf_addc(&b, '\n');
    }
    free(d);
    free(p);
    p = mm_host_path(root, "/etc/audit/rules.d");
    DIR *dir = opendir(p);
    if (dir) {
        struct dirent *e;
        while ((e = readdir(dir))) {
            if (!mm_str_endswith(e->d_name, ".rules"))
                continue;
            char *f = mm_xasprintf("%s/%s", p, e->d_name);
            d = NULL;
            if (mm_file_read(f, MAX_CONF, &d, &len) == 0) {
                mm_buf_add(&b, d, len);
                mm_buf_addc(&b, '\n');
            }
            free(d);
            free(f);
        }
        closedir(dir);
    }
    free(p);
    mm_error_clear();
    return mm_buf_detach(&b);
}

/* Is there a watch on path: "-w PATH" or "-F path=PATH" / "-F dir=PATH"? */
bool mm_audit_watches(const char *rules, const char *path)
{
    mm_lines it;
    const char *line;
    size_t n;
    size_t pl = strlen(path);
    mm_lines_init(&it, rules, strlen(rules));
    while (mm_lines_next(&it, &line, &n)) {
        char *l = mm_xstrndup(line, n);
        char *t = mm_str_trim(l);
        bool hit = false;
        if (*t != '#') {
            for (const char *k = t; (k = strstr(k, path)); k += pl) {
                char after = k[pl];
                if (after && after != ' ' && after != '\t' && after != '/')
                    continue;
                if (after == '/' && k[pl + 1] && k[pl + 1] != ' ' && k[pl + 1] != '\t')
                    continue;
                if ((k - t >= 3 && !strncmp(k - 3, "-w ", 3)) ||
                    (k - t >= 5 && !strncmp(k - 5, "path=", 5)) ||
                    (k - t >= 4 && !strncmp(k - 4, "dir=", 4))) {
                    hit = true;
                    break;
                }
            }
        }
        free(l);
        if (hit)
            return true;
    }
    return false;
}

static void audit_check(mm_checks *c, const char *rules, const char *root, const char *id,
                        const char *const *paths)
{
    for (size_t i = 0; paths[i]; i++) {
        struct stat st;
        if (mm_host_stat(root, paths[i], &st) != 0)
            continue;
        char *fix = mm_xasprintf("audit -w %s -k docker", paths[i]);
        mm_host_target t = {paths[i], NULL, NULL, fix};
        if (mm_audit_watches(rules, paths[i]))
            mm_checks_add(c, id, MM_CHECK_PASS, &t, "audit rule watches %s", paths[i]);
        else
            mm_checks_add(c, id, MM_CHECK_FAIL, &t, "no audit rule watches %s", paths[i]);
        free(fix);
        return;
    }
    mm_host_target t = {paths[0], NULL, NULL, NULL};
    mm_checks_add(c, id, MM_CHECK_NA, &t, "%s is not present", paths[0]);
}

static void section1(mm_checks *c, const mm_dcfg *d, const mm_docker_check_opts *o)
{
    const char *root = o->root;
    const char *src;
    const char *dr0 = d->info ? mm_hj_str(d->info, "DockerRootDir") : NULL;
    if (!dr0)
        dr0 = setting(d, "--data-root", "data-root", &src);
    char *drfree = mm_host_unroot(root, dr0 ? dr0 : "/var/lib/docker");
    const char *dr = drfree;
    struct stat sd, sr;
    mm_host_target t = {dr, NULL, NULL, NULL};
    char *rootp = mm_host_path(root, "/");
    /* a data root named by a live daemon is a real path; else under root */
    char *drp = mm_host_path(root, dr);
    if (stat(drp, &sd) != 0)
        mm_checks_add(c, "CIS-DOCKER-1.1.1", MM_CHECK_NA, &t, "%s is not present", dr);
    else if (stat(rootp, &sr) == 0 && sd.st_dev != sr.st_dev)
        mm_checks_add(c, "CIS-DOCKER-1.1.1", MM_CHECK_PASS, &t, "%s is on its own file system", dr);
    else
        mm_checks_add(c, "CIS-DOCKER-1.1.1", MM_CHECK_FAIL, &t,
                      "%s shares the root file system: a container filling it fills the host's", dr);
    free(drp);
    free(rootp);

    /* 1.1.2 */
    char *grp = NULL;
    size_t glen;
    mm_host_target tg = {"/etc/group", NULL, NULL, NULL};
    if (mm_host_read(root, "/etc/group", 16u << 20, &grp, &glen) == 0) {
        const char *members = NULL;
        mm_lines it;
        const char *line;
        size_t n;
        char *found = NULL;
        mm_lines_init(&it, grp, glen);
        while (!found && mm_lines_next(&it, &line, &n))
            if (n > 7 && !strncmp(line, "docker:", 7)) {
                found = mm_xstrndup(line, n);
                char *last = strrchr(found, ':');
                members = last ? last + 1 : "";
            }
        if (!found)
            mm_checks_add(c, "CIS-DOCKER-1.1.2", MM_CHECK_PASS, &tg, "no docker group");
        else if (!*members)
            mm_checks_add(c, "CIS-DOCKER-1.1.2", MM_CHECK_PASS, &tg, "the docker group has no members");
        else
            mm_checks_add(c, "CIS-DOCKER-1.1.2", MM_CHECK_MANUAL, &tg,
                          "docker group members (root-equivalent on this host): %s", members);
        free(found);
    } else {
        mm_error_clear();
        mm_checks_add(c, "CIS-DOCKER-1.1.2", MM_CHECK_NA, &tg, "/etc/group is not present");
    }
    free(grp);

    char *rules = mm_audit_rules_load(root, o->auditctl, c);
    char *svc = mm_unit_path(root, "docker.service");
    char *sock = mm_unit_path(root, "docker.socket");
    const char *p3[] = {"/usr/bin/dockerd", "/usr/sbin/dockerd", NULL};
    const char *p4[] = {"/run/containerd", NULL};
    const char *p5[] = {dr, NULL};
    const char *p6[] = {"/etc/docker", NULL};
    const char *p7[] = {svc ? svc : "/lib/systemd/system/docker.service", NULL};
    const char *p8[] = {"/run/containerd/containerd.sock", NULL};
    const char *p9[] = {sock ? sock : "/lib/systemd/system/docker.socket", NULL};
    const char *p10[] = {"/etc/default/docker", NULL};
    const char *p11[] = {d->file_path, NULL};
    const char *p12[] = {"/etc/containerd/config.toml", NULL};
    const char *p13[] = {"/etc/sysconfig/docker", NULL};
    const char *p14[] = {"/usr/bin/containerd", "/usr/sbin/containerd", NULL};
    const char *p15[] = {"/usr/bin/containerd-shim", NULL};
    const char *p16[] = {"/usr/bin/containerd-shim-runc-v1", NULL};
    const char *p17[] = {"/usr/bin/containerd-shim-runc-v2", NULL};
    const char *p18[] = {"/usr/bin/runc", "/usr/sbin/runc", NULL};
    const char *const *all[] = {p3, p4, p5, p6, p7, p8, p9, p10, p11, p12, p13, p14, p15, p16, p17, p18};
    for (int i = 0; i < 16; i++) {
        char id[32];
        snprintf(id, sizeof id, "CIS-DOCKER-1.1.%d", i + 3);
        audit_check(c, rules, root, id, all[i]);
    }
    free(rules);
    free(svc);
    free(sock);
    free(drfree);
}

/* ---- section 3 ----------------------------------------------------------------------- */

/* Owner check: want "root:root" or "root:docker"; live files (the socket
 * a daemon named) use this machine's names. */
static void owner_check(mm_checks *c, const char *id, const char *root, const char *path,
                        bool live, const char *wuser, const char *wgroup)
{
    struct stat st;
    char *full = live ? mm_xstrdup(path) : mm_host_path(root, path);
    char *fix = mm_xasprintf("chown %s:%s", wuser, wgroup);
    mm_host_target t = {path, NULL, NULL, !live || !root || !strcmp(root, "/") ? fix : NULL};
    if (stat(full, &st) != 0) {
        mm_checks_add(c, id, MM_CHECK_NA, &t, "%s is not present", path);
        free(full);
        free(fix);
        return;
    }
    free(full);
    const char *nroot = live ? "/" : root;
    char *u = mm_host_user_name(nroot, st.st_uid);
    char *g = mm_host_group_name(nroot, st.st_gid);
    bool ok = !strcmp(u, wuser) && (!strcmp(g, wgroup) || !strcmp(g, "root"));
    /* root:docker asked and the group does not exist: root:root is fine */
    if (ok && strcmp(wgroup, "root") && !strcmp(g, "root") &&
        mm_host_group_gid(nroot, wgroup) >= 0)
        ok = false;
    mm_checks_add(c, id, ok ? MM_CHECK_PASS : MM_CHECK_FAIL, &t, "%s is %s:%s (want %s:%s)", path,
                  u, g, wuser, wgroup);
    free(u);
    free(g);
    free(fix);
}

static void mode_check(mm_checks *c, const char *id, const char *root, const char *path,
                       bool live, unsigned maxmode)
{
    struct stat st;
    char *full = live ? mm_xstrdup(path) : mm_host_path(root, path);
    char fix[32];
    snprintf(fix, sizeof fix, "chmod %04o", maxmode);
    mm_host_target t = {path, NULL, NULL, fix};
    if (stat(full, &st) != 0) {
        mm_checks_add(c, id, MM_CHECK_NA, &t, "%s is not present", path);
        free(full);
        return;
    }
    free(full);
    unsigned m = st.st_mode & 07777;
    bool ok = (m & ~maxmode) == 0;
    mm_checks_add(c, id, ok ? MM_CHECK_PASS : MM_CHECK_FAIL, &t, "%s has mode %04o (at most %04o)",
                  path, m, maxmode);
}

static void each_cert(mm_checks *c, const char *root)
{
    char *dir = mm_host_path(root, "/etc/docker/certs.d");
    DIR *d1 = opendir(dir);
    size_t seen = 0;
    if (d1) {
        struct dirent *e1;
        while ((e1 = readdir(d1)) && seen < 1000) {
            if (e1->d_name[0] == '.')
                continue;
            char *sub = mm_xasprintf("%s/%s", dir, e1->d_name);
            DIR *d2 = opendir(sub);
            if (d2) {
                struct dirent *e2;
                while ((e2 = readdir(d2)) && seen < 1000) {
                    if (e2->d_name[0] == '.')
                        continue;
                    char *p = mm_xasprintf("/etc/docker/certs.d/%s/%s", e1->d_name, e2->d_name);
                    owner_check(c, "CIS-DOCKER-3.7", root, p, false, "root", "root");
                    mode_check(c, "CIS-DOCKER-3.8", root, p, false, 0444);
                    free(p);
                    seen++;
                }
                closedir(d2);
            }
            free(sub);
        }
        closedir(d1);
    }
    free(dir);
    if (!seen) {
        mm_host_target t = {"/etc/docker/certs.d", NULL, NULL, NULL};
        mm_checks_add(c, "CIS-DOCKER-3.7", MM_CHECK_NA, &t, "no registry certificates");
        mm_checks_add(c, "CIS-DOCKER-3.8", MM_CHECK_NA, &t, "no registry certificates");
    }
}

static void section3(mm_checks *c, const mm_dcfg *d, const mm_docker_check_opts *o)
{
    const char *root = o->root;
    char *svc = mm_unit_path(root, "docker.service");
    char *sock = mm_unit_path(root, "docker.socket");
    const char *svcp = svc ? svc : "/lib/systemd/system/docker.service";
    const char *sockp = sock ? sock : "/lib/systemd/system/docker.socket";
    owner_check(c, "CIS-DOCKER-3.1", root, svcp, false, "root", "root");
    mode_check(c, "CIS-DOCKER-3.2", root, svcp, false, 0644);
    owner_check(c, "CIS-DOCKER-3.3", root, sockp, false, "root", "root");
    mode_check(c, "CIS-DOCKER-3.4", root, sockp, false, 0644);
    owner_check(c, "CIS-DOCKER-3.5", root, "/etc/docker", false, "root", "root");
    mode_check(c, "CIS-DOCKER-3.6", root, "/etc/docker", false, 0755);
    each_cert(c, root);
    const char *src;
    const char *ca = setting(d, "--tlscacert", "tlscacert", &src);
    const char *crt = setting(d, "--tlscert", "tlscert", &src);
    const char *key = setting(d, "--tlskey", "tlskey", &src);
    mm_host_target none = {"daemon", NULL, NULL, NULL};
    if (ca) {
        owner_check(c, "CIS-DOCKER-3.9", root, ca, false, "root", "root");
        mode_check(c, "CIS-DOCKER-3.10", root, ca, false, 0444);
    } else {
        mm_checks_add(c, "CIS-DOCKER-3.9", MM_CHECK_NA, &none, "no tlscacert configured");
        mm_checks_add(c, "CIS-DOCKER-3.10", MM_CHECK_NA, &none, "no tlscacert configured");
    }
    if (crt) {
        owner_check(c, "CIS-DOCKER-3.11", root, crt, false, "root", "root");
        mode_check(c, "CIS-DOCKER-3.12", root, crt, false, 0444);
    } else {
        mm_checks_add(c, "CIS-DOCKER-3.11", MM_CHECK_NA, &none, "no tlscert configured");
        mm_checks_add(c, "CIS-DOCKER-3.12", MM_CHECK_NA, &none, "no tlscert configured");
    }
    if (key) {
        owner_check(c, "CIS-DOCKER-3.13", root, key, false, "root", "root");
        mode_check(c, "CIS-DOCKER-3.14", root, key, false, 0400);
    } else {
        mm_checks_add(c, "CIS-DOCKER-3.13", MM_CHECK_NA, &none, "no tlskey configured");
        mm_checks_add(c, "CIS-DOCKER-3.14", MM_CHECK_NA, &none, "no tlskey configured");
    }
    /* the socket the daemon serves: a live path when a daemon was asked */
    bool live = d->sock && d->info;
    const char *sp = d->sock ? d->sock : "/var/run/docker.sock";
    owner_check(c, "CIS-DOCKER-3.15", root, sp, live, "root", "docker");
    mode_check(c, "CIS-DOCKER-3.16", root, sp, live, 0660);
    owner_check(c, "CIS-DOCKER-3.17", root, d->file_path, false, "root", "root");
    mode_check(c, "CIS-DOCKER-3.18", root, d->file_path, false, 0644);
    owner_check(c, "CIS-DOCKER-3.19", root, "/etc/default/docker", false, "root", "root");
    mode_check(c, "CIS-DOCKER-3.20", root, "/etc/default/docker", false, 0644);
    mode_check(c, "CIS-DOCKER-3.21", root, "/etc/sysconfig/docker", false, 0644);
    owner_check(c, "CIS-DOCKER-3.22", root, "/etc/sysconfig/docker", false, "root", "root");
    owner_check(c, "CIS-DOCKER-3.23", root, "/run/containerd/containerd.sock", false, "root", "root");
    mode_check(c, "CIS-DOCKER-3.24", root, "/run/containerd/containerd.sock", false, 0660);
    free(svc);
    free(sock);
}

int mm_docker_checks(mm_checks *out, const mm_docker_check_opts *o)
{
    mm_docker_check_opts def = {0};
    if (!o)
        o = &def;
    mm_dcfg d;
    int rc = mm_dcfg_load(&d, o, out);
    if (rc < 0) {
        mm_dcfg_free(&d);
        return rc;
    }
    if (d.args_from)
        mm_checks_notef(out, "dockerd arguments from %s", d.args_from);
    section1(out, &d, o);
    section2(out, &d);
    section3(out, &d, o);
    rc = mm_container_checks(out, &d, o);
    mm_dcfg_free(&d);
    return rc;
}
