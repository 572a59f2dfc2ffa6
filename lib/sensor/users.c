/*
 * users.c - user and group names for user.name, group.name and
 * user.loginname, from the passwd and group files of the process's own
 * root filesystem (/proc/PID/root), so that the users of a container
 * resolve against the container's files and not the host's.  Files are
 * cached per mount namespace (every process of a container shares one) and
 * read again when they change, at most once a second per namespace.
 *
 * The files belong to whoever controls the container, so they are
 * untrusted: opened with openat2(RESOLVE_IN_ROOT) below the process's root
 * (a symlink cannot lead to the host's files), capped in size and entries.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "sensor_int.h"

#define USERS_FILE_MAX (4u << 20)
#define USERS_MAX_ENTRIES 65536
#define USERS_MAX_NS 4096

typedef struct ent {
    uint32_t id;
    char *name, *home, *shell;
} ent;

typedef struct nsusers {
    ent *pw, *gr;
    size_t npw, ngr;
    int64_t pw_mtime, gr_mtime;
    double checked;           /* mm_now() of the last look at the files */
    bool loaded;
} nsusers;

static void ents_free(ent *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].name);
        free(e[i].home);
        free(e[i].shell);
    }
    free(e);
}

static void ns_free(void *v)
{
    nsusers *u = v;
    if (!u)
        return;
    ents_free(u->pw, u->npw);
    ents_free(u->gr, u->ngr);
    free(u);
}

void mm_sn_users_free(mm_sensor_base *b)
{
    mm_map_free(b->users, ns_free);
    b->users = NULL;
}

/* Opens rel below root without leaving it; -1 when absent. */
static int open_in_root(int rootfd, const char *rel)
{
    struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
                            .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
    return (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof how);
}

/* Reads one file of the root (capped); NULL when absent.  *mtime set. */
static char *read_root_file(int rootfd, const char *rel, size_t *len, int64_t *mtime)
{
    int fd = open_in_root(rootfd, rel);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > USERS_FILE_MAX) {
        close(fd);
        return NULL;
    }
    *mtime = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    char *d = mm_xmalloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, d + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    d[got] = 0;
    *len = got;
    return d;
}

/* name:x:ID:... lines (passwd: name:pw:uid:gid:gecos:home:shell,
 * group: name:pw:gid:members) */
static void parse_db(const char *d, size_t len, bool passwd, ent **out, size_t *nout)
{
    mm_lines it;
    const char *line;
    size_t ll;
    mm_lines_init(&it, d, len);
    while (mm_lines_next(&it, &line, &ll) && *nout < USERS_MAX_ENTRIES) {
        if (!ll || line[0] == '#' || line[0] == '+' || line[0] == '-')
            continue;
        const char *f[7];
        size_t fl[7];
        size_t nf = 0;
        const char *p = line, *end = line + ll;
        while (nf < 7) {
            const char *c = memchr(p, ':', (size_t)(end - p));
            f[nf] = p;
            fl[nf] = c ? (size_t)(c - p) : (size_t)(end - p);
            nf++;
            if (!c)
                break;
            p = c + 1;
        }
        if (nf < 3 || !fl[0] || fl[2] == 0 || fl[2] > 10)
            continue;
        char num[12];
        memcpy(num, f[2], fl[2]);
        num[fl[2]] = 0;
        char *e;
        unsigned long id = strtoul(num, &e, 10);
        if (*e || id > UINT32_MAX)
            continue;
        *out = mm_xrealloc(*out, (*nout + 1) * sizeof **out);
        ent *x = &(*out)[(*nout)++];
        x->id = (uint32_t)id;
        x->name = mm_xstrndup(f[0], fl[0]);
        x->home = passwd && nf > 5 ? mm_xstrndup(f[5], fl[5]) : NULL;
        x->shell = passwd && nf > 6 ? mm_xstrndup(f[6], fl[6]) : NULL;
    }
}

static const ent *find(const ent *e, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++)   /* first entry wins, as getpwuid */
        if (e[i].id == id)
            return &e[i];
    return NULL;
}

/* (Re)loads the files of pid's root into u when they changed. */
static void load(mm_sensor_base *b, nsusers *u, int64_t pid, int given)
{
    char rp[96];
    snprintf(rp, sizeof rp, "%s/%lld/root", b->proc_root, (long long)pid);
    int rootfd = given > 0 ? given : open(rp, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return;
    size_t len;
    int64_t mt = 0;
    char *d = read_root_file(rootfd, "etc/passwd", &len, &mt);
    if (d && (!u->loaded || mt != u->pw_mtime)) {
        ents_free(u->pw, u->npw);
        u->pw = NULL;
        u->npw = 0;
        parse_db(d, len, true, &u->pw, &u->npw);
        u->pw_mtime = mt;
    }
    free(d);
    d = read_root_file(rootfd, "etc/group", &len, &mt);
    if (d && (!u->loaded || mt != u->gr_mtime)) {
        ents_free(u->gr, u->ngr);
        u->gr = NULL;
        u->ngr = 0;
        parse_db(d, len, false, &u->gr, &u->ngr);
        u->gr_mtime = mt;
    }
    free(d);
    if (rootfd != given)
        close(rootfd);
    u->loaded = true;
}

/* The mount namespace of pid (inode of /proc/PID/ns/mnt), 0 if gone. */
static uint32_t mntns_of(mm_sensor_base *b, int64_t pid)
{
    char path[96];
    snprintf(path, sizeof path, "%s/%lld/ns/mnt", b->proc_root, (long long)pid);
    struct stat st;
    return stat(path, &st) == 0 ? (uint32_t)st.st_ino : 0;
}

static void set_or_clear(char **slot, const char *v)
{
    if (v || *slot)
        mm_proc_set(slot, v);
}

void mm_sn_resolve_users(mm_sensor_base *b, mm_proc *p)
{
    mm_sn_resolve_users_in(b, p, -1);
}

void mm_sn_resolve_users_in(mm_sensor_base *b, mm_proc *p, int rootfd)
{
    if (!p->mntns)
        p->mntns = mntns_of(b, p->pid);
    if (!p->mntns)
        return;
    if (!b->users)
        b->users = mm_map_new();
    char key[16];
    snprintf(key, sizeof key, "%u", p->mntns);
    nsusers *u = mm_map_get(b->users, key);
    if (!u && mm_map_count(b->users) < USERS_MAX_NS) {
        u = mm_xcalloc(1, sizeof *u);
        mm_map_put(b->users, key, u);
    }
    if (!u)
        return;
    double now = mm_now();
    if (!u->loaded || now - u->checked >= 1.0) {
        u->checked = now;
        load(b, u, p->pid, rootfd);
    }
    if (!u->loaded)
        return;
    uint32_t uid = p->euid ? p->euid : p->uid, gid = p->egid ? p->egid : p->gid;
    const ent *pw = find(u->pw, u->npw, uid);
    set_or_clear(&p->user_name, pw ? pw->name : NULL);
    set_or_clear(&p->user_homedir, pw ? pw->home : NULL);
    set_or_clear(&p->user_shell, pw ? pw->shell : NULL);
    const ent *gr = find(u->gr, u->ngr, gid);
    set_or_clear(&p->group_name, gr ? gr->name : NULL);
    const ent *lg = p->loginuid != UINT32_MAX ? find(u->pw, u->npw, p->loginuid) : NULL;
    set_or_clear(&p->login_name, lg ? lg->name : NULL);
}
