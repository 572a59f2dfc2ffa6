/*
 * cis_container.c - CIS Docker Benchmark v1.6.0 section 5 (container
 * runtime) and item 4.1, per container, from the inspect document of each
 * container of the docker daemon, of podman and of saved inspect files
 * (SP 800-190 §3.4.3 insecure container runtime configurations; §3.5.5 for
 * host paths and the docker socket mounted into a container).
 *
 * docker-bench-security evaluates `docker inspect --format` templates with
 * grep; the same fields are read here from the JSON, so podman's documents
 * (same shape, a few more keys) are checked by the same code.  One result
 * per container and check, so a finding names the container it is about.
 * Two facts are not in an inspect document and come from elsewhere: sshd
 * inside a container (5.7) from /proc with the container attribution of
 * `mamori host ps`, and `docker exec` sessions (5.23, 5.24) from the
 * daemon's /exec/ID/json.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/host.h"
#include "util/util.h"
#include "host_int.h"
#include "cis_int.h"

static bool secopt_has(const json_t *hc, const char *needle)
{
    return mm_hj_array_has(json_object_get(hc, "SecurityOpt"), needle);
}

/* Docker's default capability set (moby's oci/caps/defaults.go). */
static bool default_cap(const char *c)
{
    static const char *const def[] = {
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
        "NET_BIND_SERVICE", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID",
        "SYS_CHROOT", NULL,
    };
    if (!strncasecmp(c, "CAP_", 4))
        c += 4;
    for (size_t i = 0; def[i]; i++)
        if (!strcasecmp(def[i], c))
            return true;
    return false;
}

static const char *const sensitive_dirs[] = {"/", "/boot", "/dev", "/etc", "/lib", "/proc",
                                             "/sys", "/usr", NULL};

/* Is this host path sensitive: one of the directories itself (any mode),
 * or below one of them mounted read-write? */
static bool sensitive(const char *src, bool rw)
{
    for (size_t i = 0; sensitive_dirs[i]; i++) {
        const char *d = sensitive_dirs[i];
        size_t n = strlen(d);
        if (!strcmp(src, d) || (n > 1 && !strncmp(src, d, n) && src[n] == '/' && !src[n + 1]))
            return true;
        if (rw && n > 1 && !strncmp(src, d, n) && src[n] == '/')
            return true;
    }
    return false;
}

/* The published host ports of a container: "80/tcp -> 0.0.0.0:80". */
typedef struct port {
    const char *cport, *hip;
    long hport;
} port;

static size_t ports_of(const json_t *j, port *out, size_t cap)
{
    size_t n = 0;
    json_t *pm = mm_hj_path(j, "NetworkSettings.Ports");
    if (!json_object_size(pm))
        pm = mm_hj_path(j, "HostConfig.PortBindings");
    const char *k;
    json_t *v;
    json_object_foreach(pm, k, v) {
        size_t i;
        json_t *b;
        json_array_foreach(v, i, b) {
            if (n >= cap)
                return n;
            const char *hp = mm_hj_str(b, "HostPort");
            out[n].cport = k;
            out[n].hip = mm_hj_str(b, "HostIp");
            out[n].hport = hp ? strtol(hp, NULL, 10) : 0;
            n++;
        }
    }
    return n;
}

/* Podman reports some namespace modes oddly (4.3 says IpcMode "shareable"
 * for --ipc host); the OCI spec it ran the container with says what is
 * shared: a namespace type missing from linux.namespaces is the host's. */
static void oci_host_ns(const json_t *j, const char **pid, const char **ipc, const char **uts,
                        const char **net, const char **user)
{
    const char *cfg = mm_hj_str(j, "OCIConfigPath");
    char *d = NULL;
    size_t len = 0;
    if (!cfg || mm_file_read(cfg, 16u << 20, &d, &len) < 0) {
        mm_error_clear();
        return;
    }
    json_t *spec = json_loadb(d, len, 0, NULL);
    free(d);
    json_t *ns = mm_hj_path(spec, "linux.namespaces");
    if (json_is_array(ns)) {
        bool have[5] = {false, false, false, false, false};
        static const char *const names[5] = {"pid", "ipc", "uts", "network", "user"};
        size_t i;
        json_t *v;
        json_array_foreach(ns, i, v) {
            const char *t = mm_hj_str(v, "type");
            for (int k = 0; t && k < 5; k++)
                if (!strcmp(t, names[k]) && !mm_hj_str(v, "path"))
                    have[k] = true;
                else if (!strcmp(t ? t : "", names[k]))
                    have[k] = true; /* joined another container's: not the host's */
        }
        if (!have[0]) *pid = "host";
        if (!have[1]) *ipc = "host";
        if (!have[2]) *uts = "host";
        if (!have[3]) *net = "host";
        if (!have[4] && user && *user && !strcmp(*user, "host")) *user = "host";
    }
    json_decref(spec);
}

typedef struct ctx {
    mm_checks *c;
    const mm_dcfg *d;
    mm_host_procs *procs;     /* for 5.7, NULL when /proc could not be read */
    bool apparmor, selinux;   /* host LSMs enabled */
} ctx;

static void one(ctx *x, const mm_hctr *ct)
{
    mm_checks *c = x->c;
    const json_t *j = ct->j;
    const json_t *hc = json_object_get(j, "HostConfig");
    const json_t *cfg = json_object_get(j, "Config");
    mm_host_target t = {ct->name, ct->name, ct->engine, NULL};
    bool podman = !strcmp(ct->engine, "podman");
    mm_buf b = MM_BUF_INIT;

    /* 4.1 */
    const char *user = mm_hj_str(cfg, "User");
    if (!user || !*user || !strcmp(user, "root") || !strcmp(user, "0") ||
        !strncmp(user, "0:", 2) || !strncmp(user, "root:", 5))
        mm_checks_add(c, "CIS-DOCKER-4.1", MM_CHECK_FAIL, &t, "runs as %s",
                      user && *user ? user : "root (no user set)");
    else
        mm_checks_add(c, "CIS-DOCKER-4.1", MM_CHECK_PASS, &t, "runs as %s", user);

    /* 5.2 AppArmor */
    const char *aa = mm_hj_str(j, "AppArmorProfile");
    if (!x->apparmor)
        mm_checks_add(c, "CIS-DOCKER-5.2", MM_CHECK_NA, &t, "AppArmor is not enabled on this host");
    else if (!aa || !*aa || !strcmp(aa, "unconfined") || secopt_has(hc, "apparmor=unconfined") ||
             secopt_has(hc, "apparmor:unconfined"))
        mm_checks_add(c, "CIS-DOCKER-5.2", MM_CHECK_FAIL, &t, "no AppArmor profile (%s)",
                      aa && *aa ? aa : "none");
    else
        mm_checks_add(c, "CIS-DOCKER-5.2", MM_CHECK_PASS, &t, "AppArmor profile %s", aa);

    /* 5.3 SELinux */
    if (!x->selinux)
        mm_checks_add(c, "CIS-DOCKER-5.3", MM_CHECK_NA, &t, "SELinux is not enabled on this host");
    else
        mm_checks_add(c, "CIS-DOCKER-5.3", secopt_has(hc, "label") ? MM_CHECK_PASS : MM_CHECK_FAIL,
                      &t, secopt_has(hc, "label") ? "SELinux label options set" : "no SELinux label options");

    /* 5.4 capabilities */
    {
        json_t *add = json_object_get(hc, "CapAdd");
        size_t i;
        json_t *v;
        json_array_foreach(add, i, v) {
            const char *cap = json_string_value(v);
            if (cap && (!default_cap(cap) || !strcasecmp(cap, "ALL")))
                mm_buf_printf(&b, "%s%s", b.len ? ", " : "", cap);
        }
        if (b.len)
            mm_checks_add(c, "CIS-DOCKER-5.4", MM_CHECK_FAIL, &t, "capabilities added: %s", b.data);
        else
            mm_checks_add(c, "CIS-DOCKER-5.4", MM_CHECK_PASS, &t, "no capability beyond the default set");
        mm_buf_clear(&b);
    }

    /* 5.5 */
    if (mm_hj_bool(hc, "Privileged"))
        mm_checks_add(c, "CIS-DOCKER-5.5", MM_CHECK_FAIL, &t, "privileged: every capability, every device, no confinement");
    else
        mm_checks_add(c, "CIS-DOCKER-5.5", MM_CHECK_PASS, &t, "not privileged");

    /* 5.6, 5.20, 5.32 from the mounts */
    {
        mm_buf shared = MM_BUF_INIT, sock = MM_BUF_INIT;
        json_t *mounts = json_object_get(j, "Mounts");
        size_t i;
        json_t *m;
        json_array_foreach(mounts, i, m) {
            const char *src = mm_hj_str(m, "Source"), *dst = mm_hj_str(m, "Destination");
            const char *type = mm_hj_str(m, "Type"), *prop = mm_hj_str(m, "Propagation");
            bool rw = mm_hj_bool(m, "RW");
            if (!src)
                continue;
            if ((!type || !strcmp(type, "bind")) && sensitive(src, rw))
                mm_buf_printf(&b, "%s%s -> %s (%s)", b.len ? ", " : "", src, dst ? dst : "?",
                              rw ? "rw" : "ro");
            if (prop && (!strcmp(prop, "shared") || !strcmp(prop, "rshared")))
                mm_buf_printf(&shared, "%s%s -> %s (%s)", shared.len ? ", " : "", src,
                              dst ? dst : "?", prop);
            if (mm_str_endswith(src, "/docker.sock") || (dst && mm_str_endswith(dst, "/docker.sock")) ||
                mm_str_endswith(src, "/podman.sock") || mm_str_endswith(src, "/containerd.sock"))
                mm_buf_printf(&sock, "%s%s -> %s", sock.len ? ", " : "", src, dst ? dst : "?");
        }
        mm_checks_add(c, "CIS-DOCKER-5.6", b.len ? MM_CHECK_FAIL : MM_CHECK_PASS, &t,
                      b.len ? "sensitive host paths mounted: %s" : "no sensitive host path mounted%s",
                      b.len ? b.data : "");
        mm_checks_add(c, "CIS-DOCKER-5.20", shared.len ? MM_CHECK_FAIL : MM_CHECK_PASS, &t,
                      shared.len ? "shared mount propagation: %s" : "no shared propagation%s",
                      shared.len ? shared.data : "");
        mm_checks_add(c, "CIS-DOCKER-5.32", sock.len ? MM_CHECK_FAIL : MM_CHECK_PASS, &t,
                      sock.len ? "engine socket mounted: %s (the container controls the host)"
                               : "no engine socket mounted%s",
                      sock.len ? sock.data : "");
        mm_buf_clear(&b);
        mm_buf_free(&shared);
        mm_buf_free(&sock);
    }

    /* 5.7 sshd, from the host's process table */
    if (!x->procs) {
        mm_checks_add(c, "CIS-DOCKER-5.7", MM_CHECK_NA, &t, "the process table could not be read");
    } else if (!ct->running) {
        mm_checks_add(c, "CIS-DOCKER-5.7", MM_CHECK_NA, &t, "not running");
    } else {
        bool ssh = false;
        for (size_t i = 0; i < mm_host_procs_count(x->procs) && !ssh; i++) {
            const mm_host_proc *p = mm_host_procs_get(x->procs, i);
            ssh = p->container_full_id && !strcmp(p->container_full_id, ct->id) &&
                  p->comm && !strcmp(p->comm, "sshd");
        }
        mm_checks_add(c, "CIS-DOCKER-5.7", ssh ? MM_CHECK_FAIL : MM_CHECK_PASS, &t,
                      ssh ? "an sshd process runs in the container" : "no sshd process");
    }

    /* ports: 5.8, 5.9, 5.14 */
    {
        port ps[256];
        size_t np = ports_of(j, ps, 256);
        mm_buf low = MM_BUF_INIT, any = MM_BUF_INIT;
        for (size_t i = 0; i < np; i++) {
            const char *hip = ps[i].hip && *ps[i].hip ? ps[i].hip : "0.0.0.0";
            mm_buf_printf(&b, "%s%s -> %s:%ld", b.len ? ", " : "", ps[i].cport, hip, ps[i].hport);
            if (ps[i].hport > 0 && ps[i].hport < 1024)
                mm_buf_printf(&low, "%s%s:%ld", low.len ? ", " : "", hip, ps[i].hport);
            if (!strcmp(hip, "0.0.0.0") || !strcmp(hip, "::") || !strcmp(hip, "[::]"))
                mm_buf_printf(&any, "%s%s:%ld", any.len ? ", " : "", hip, ps[i].hport);
        }
        mm_checks_add(c, "CIS-DOCKER-5.8", low.len ? MM_CHECK_FAIL : MM_CHECK_PASS, &t,
                      low.len ? "privileged host ports: %s" : "no privileged host port%s",
                      low.len ? low.data : "");
        mm_checks_add(c, "CIS-DOCKER-5.9", np ? MM_CHECK_MANUAL : MM_CHECK_PASS, &t,
                      np ? "published: %s" : "no published port%s", np ? b.data : "");
        mm_checks_add(c, "CIS-DOCKER-5.14", any.len ? MM_CHECK_FAIL : MM_CHECK_PASS, &t,
                      any.len ? "published on every interface: %s" : "no port on every interface%s",
                      any.len ? any.data : "");
        mm_buf_clear(&b);
        mm_buf_free(&low);
        mm_buf_free(&any);
    }

    const char *nm = mm_hj_str(hc, "NetworkMode");
    const char *pm = mm_hj_str(hc, "PidMode"), *im = mm_hj_str(hc, "IpcMode"),
               *um = mm_hj_str(hc, "UTSMode"), *un = mm_hj_str(hc, "UsernsMode");
    if (podman && !ct->from_file) /* a saved document's paths name another machine */
        oci_host_ns(j, &pm, &im, &um, &nm, &un);
    mm_checks_add(c, "CIS-DOCKER-5.10", nm && !strcmp(nm, "host") ? MM_CHECK_FAIL : MM_CHECK_PASS,
                  &t, "network mode %s", nm ? nm : "default");

    json_int_t mem = mm_hj_int(hc, "Memory");
    if (mem > 0)
        mm_checks_add(c, "CIS-DOCKER-5.11", MM_CHECK_PASS, &t, "memory limit %lld bytes", (long long)mem);
    else
        mm_checks_add(c, "CIS-DOCKER-5.11", MM_CHECK_FAIL, &t, "no memory limit");

    json_int_t shares = mm_hj_int(hc, "CpuShares"), nano = mm_hj_int(hc, "NanoCpus"),
               quota = mm_hj_int(hc, "CpuQuota");
    if ((shares > 0 && shares != 1024) || nano > 0 || quota > 0)
        mm_checks_add(c, "CIS-DOCKER-5.12", MM_CHECK_PASS, &t, "cpu shares %lld, nano cpus %lld, quota %lld",
                      (long long)shares, (long long)nano, (long long)quota);
    else
        mm_checks_add(c, "CIS-DOCKER-5.12", MM_CHECK_FAIL, &t, "no CPU shares, quota or limit");

    mm_checks_add(c, "CIS-DOCKER-5.13", mm_hj_bool(hc, "ReadonlyRootfs") ? MM_CHECK_PASS : MM_CHECK_FAIL,
                  &t, mm_hj_bool(hc, "ReadonlyRootfs") ? "read-only root file system"
                                                       : "writable root file system");

    {
        const json_t *rp = json_object_get(hc, "RestartPolicy");
        const char *name = mm_hj_str(rp, "Name");
        json_int_t max = mm_hj_int(rp, "MaximumRetryCount");
        bool bad = name && (!strcmp(name, "always") || !strcmp(name, "unless-stopped") ||
                            (!strcmp(name, "on-failure") && (max <= 0 || max > 5)));
        mm_checks_add(c, "CIS-DOCKER-5.15", bad ? MM_CHECK_FAIL : MM_CHECK_PASS, &t,
                      "restart policy %s%s%lld", name && *name ? name : "no",
                      name && !strcmp(name, "on-failure") ? ":" : " ",
                      name && !strcmp(name, "on-failure") ? (long long)max : 0LL);
    }

    mm_checks_add(c, "CIS-DOCKER-5.16", pm && !strcmp(pm, "host") ? MM_CHECK_FAIL : MM_CHECK_PASS,
                  &t, "pid mode %s", pm && *pm ? pm : "private");
    mm_checks_add(c, "CIS-DOCKER-5.17", im && !strcmp(im, "host") ? MM_CHECK_FAIL : MM_CHECK_PASS,
                  &t, "ipc mode %s", im && *im ? im : "private");

    {
        json_t *devs = json_object_get(hc, "Devices");
        size_t i;
        json_t *v;
        json_array_foreach(devs, i, v) {
            const char *h = mm_hj_str(v, "PathOnHost");
            mm_buf_printf(&b, "%s%s (%s)", b.len ? ", " : "", h ? h : "?",
                          mm_hj_str(v, "CgroupPermissions") ? mm_hj_str(v, "CgroupPermissions") : "rwm");
        }
        mm_checks_add(c, "CIS-DOCKER-5.18", b.len ? MM_CHECK_FAIL : MM_CHECK_PASS, &t,
                      b.len ? "host devices: %s" : "no host device%s", b.len ? b.data : "");
        mm_buf_clear(&b);
    }

    json_t *ul = json_object_get(hc, "Ulimits");
    mm_checks_add(c, "CIS-DOCKER-5.19", json_array_size(ul) ? MM_CHECK_PASS : MM_CHECK_MANUAL, &t,
                  json_array_size(ul) ? "%zu ulimits set" : "no ulimit set at run time (%zu)",
                  json_array_size(ul));

    mm_checks_add(c, "CIS-DOCKER-5.21", um && !strcmp(um, "host") ? MM_CHECK_FAIL : MM_CHECK_PASS,
                  &t, "uts mode %s", um && *um ? um : "private");

    bool unconf = secopt_has(hc, "seccomp=unconfined") || secopt_has(hc, "seccomp:unconfined") ||
                  mm_hj_bool(hc, "Privileged");
    mm_checks_add(c, "CIS-DOCKER-5.22", unconf ? MM_CHECK_FAIL : MM_CHECK_PASS, &t,
                  unconf ? "seccomp disabled" : "seccomp profile in effect");

    /* 5.23, 5.24: exec sessions (docker keeps them while the container lives) */
    if (podman || !x->d || !x->d->info || !x->d->sock) {
        mm_checks_add(c, "CIS-DOCKER-5.23", MM_CHECK_NA, &t, "exec sessions are known to the docker daemon only");
        mm_checks_add(c, "CIS-DOCKER-5.24", MM_CHECK_NA, &t, "exec sessions are known to the docker daemon only");
    } else {
        mm_buf priv = MM_BUF_INIT, root = MM_BUF_INIT;
        json_t *ids = json_object_get(j, "ExecIDs");
        size_t i;
        json_t *v;
        json_array_foreach(ids, i, v) {
            const char *id = json_string_value(v);
            if (!id || strspn(id, "0123456789abcdef") != strlen(id) || strlen(id) > 128 || i > 1000)
                continue;
            char *p = mm_xasprintf("/exec/%s/json", id);
            json_t *e = NULL;
            if (mm_docker_api_get(x->d->sock, p, &e) == 0) {
                const json_t *pc = json_object_get(e, "ProcessConfig");
                const char *u = mm_hj_str(pc, "user");
                const char *ep = mm_hj_str(pc, "entrypoint");
                if (mm_hj_bool(pc, "privileged"))
                    mm_buf_printf(&priv, "%s%s", priv.len ? ", " : "", ep ? ep : id);
                if (u && (!strcmp(u, "root") || !strcmp(u, "0") || !strncmp(u, "0:", 2)))
                    mm_buf_printf(&root, "%s%s", root.len ? ", " : "", ep ? ep : id);
            }
            mm_error_clear();
            json_decref(e);
            free(p);
        }
        mm_checks_add(c, "CIS-DOCKER-5.23", priv.len ? MM_CHECK_FAIL : MM_CHECK_PASS, &t,
                      priv.len ? "privileged exec sessions: %s" : "no privileged exec session%s",
                      priv.len ? priv.data : "");
        mm_checks_add(c, "CIS-DOCKER-5.24", root.len ? MM_CHECK_FAIL : MM_CHECK_PASS, &t,
                      root.len ? "exec sessions as root: %s" : "no exec session with --user root%s",
                      root.len ? root.data : "");
        mm_buf_free(&priv);
        mm_buf_free(&root);
    }

    const char *cgp = mm_hj_str(hc, "CgroupParent");
    if (cgp && *cgp && !podman)
        mm_checks_add(c, "CIS-DOCKER-5.25", MM_CHECK_MANUAL, &t, "cgroup parent %s: confirm it", cgp);
    else
        mm_checks_add(c, "CIS-DOCKER-5.25", MM_CHECK_PASS, &t, "cgroup parent %s",
                      cgp && *cgp ? cgp : "default");

    /* no-new-privileges: per container, or daemon-wide in docker */
    bool nnp = secopt_has(hc, "no-new-privileges") && !secopt_has(hc, "no-new-privileges=false") &&
               !secopt_has(hc, "no-new-privileges:false");
    if (!nnp && !podman && x->d) {
        const char *v = mm_dcfg_flag(x->d, "--no-new-privileges", NULL, 0);
        nnp = (v && !strcmp(v, "true")) || json_is_true(json_object_get(x->d->file, "no-new-privileges"));
    }
    mm_checks_add(c, "CIS-DOCKER-5.26", nnp ? MM_CHECK_PASS : MM_CHECK_FAIL, &t,
                  nnp ? "no-new-privileges set" : "processes may gain privileges (setuid binaries)");

    {
        const json_t *hcheck = json_object_get(cfg, "Healthcheck");
        const json_t *test = json_object_get(hcheck, "Test");
        const char *t0 = json_string_value(json_array_get(test, 0));
        bool has = (json_array_size(test) > 0 && !(t0 && !strcmp(t0, "NONE"))) ||
                   mm_hj_path(j, "State.Health") || mm_hj_path(j, "State.Healthcheck");
        mm_checks_add(c, "CIS-DOCKER-5.27", has ? MM_CHECK_PASS : MM_CHECK_FAIL, &t,
                      has ? "health check configured" : "no health check");
    }

    mm_checks_add(c, "CIS-DOCKER-5.28", MM_CHECK_MANUAL, &t, "image %s%s",
                  ct->image ? ct->image : "?",
                  ct->image && strchr(ct->image, '@') ? " (pinned by digest)" : " (by tag: confirm it is current)");

    json_int_t pids = mm_hj_int(hc, "PidsLimit");
    if (pids > 0)
        mm_checks_add(c, "CIS-DOCKER-5.29", MM_CHECK_PASS, &t, "pids limit %lld", (long long)pids);
    else
        mm_checks_add(c, "CIS-DOCKER-5.29", MM_CHECK_FAIL, &t, "no pids limit");

    if (podman) {
        mm_checks_add(c, "CIS-DOCKER-5.30", MM_CHECK_NA, &t, "podman has no docker0 bridge");
    } else {
        bool bridge = json_object_get(mm_hj_path(j, "NetworkSettings.Networks"), "bridge") != NULL ||
                      (nm && (!strcmp(nm, "bridge") || !strcmp(nm, "default")));
        mm_checks_add(c, "CIS-DOCKER-5.30", bridge ? MM_CHECK_FAIL : MM_CHECK_PASS, &t,
                      bridge ? "on the default bridge network" : "not on the default bridge (%s)",
                      nm ? nm : "?");
    }

    mm_checks_add(c, "CIS-DOCKER-5.31", un && !strcmp(un, "host") ? MM_CHECK_FAIL : MM_CHECK_PASS, &t,
                  "user namespace mode %s", un && *un ? un : "default");
    mm_buf_free(&b);
}

static bool lsm_enabled(const char *name)
{
    char *lsm = mm_file_read_proc("/sys/kernel/security/lsm", 4096, NULL);
    bool on = lsm && strstr(lsm, name);
    free(lsm);
    if (!on && !strcmp(name, "apparmor")) {
        char *e = mm_file_read_proc("/sys/module/apparmor/parameters/enabled", 16, NULL);
        on = e && e[0] == 'Y';
        free(e);
    }
    return on;
}

int mm_container_checks(mm_checks *out, const mm_dcfg *d, const mm_docker_check_opts *o)
{
    ctx x = {out, d, NULL, false, false};
    if (d && d->info) {
        /* what the daemon says is in effect on its host */
        json_t *a = json_object_get(d->info, "SecurityOptions");
        x.apparmor = mm_hj_array_has(a, "name=apparmor");
        x.selinux = mm_hj_array_has(a, "name=selinux");
        const char *sw = mm_hj_str(json_object_get(d->info, "Swarm"), "LocalNodeState");
        mm_host_target dt = {"daemon", NULL, NULL, NULL};
        mm_checks_add(out, "CIS-DOCKER-5.1", sw && !strcmp(sw, "active") ? MM_CHECK_MANUAL : MM_CHECK_PASS,
                      &dt, "swarm %s", sw && *sw ? sw : "inactive");
    } else {
        x.apparmor = lsm_enabled("apparmor");
        x.selinux = lsm_enabled("selinux");
    }
    mm_host_ps_opts po = {0};
    po.proc_root = o->proc_root;
    if (mm_host_ps(&x.procs, &po) < 0) {
        mm_error_clear();
        x.procs = NULL;
    }

    mm_hctrs all = {0};
    int rc = 0;
    if (d && d->info && d->sock) {
        if ((rc = mm_docker_containers(&all, d->sock, o->all_containers)) < 0)
            goto out;
    }
    if (!o->no_podman) {
        char *pm = o->podman ? mm_xstrdup(o->podman) : mm_host_which("podman");
        if (pm) {
            if (mm_podman_containers(&all, pm, o->podman_root, o->podman_runroot,
                                     o->all_containers) < 0) {
                mm_checks_notef(out, "podman: %s", mm_error_last());
                mm_error_clear();
            }
            free(pm);
        }
    }
    for (size_t i = 0; i < o->ninspect; i++)
        if ((rc = mm_inspect_file_containers(&all, o->inspect_files[i])) < 0)
            goto out;
    size_t checked = 0;
    for (size_t i = 0; i < all.n; i++) {
        if (!all.v[i].running && !o->all_containers && all.v[i].j &&
            json_object_get(all.v[i].j, "State"))
            continue;
        one(&x, &all.v[i]);
        checked++;
    }
    if (!checked)
        mm_checks_notef(out, "no %scontainers: section 5 has nothing to check",
                        o->all_containers ? "" : "running ");
out:
    mm_hctrs_free(&all);
    mm_host_procs_free(x.procs);
    return rc;
}
