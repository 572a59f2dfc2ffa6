/*
 * logins.c - `mamori host logins`: who logged in to the host, from where,
 * for how long, and who failed to (SP 800-190 §3.5.4: a container host is
 * administered, not used; every interactive login is worth knowing about).
 *
 * wtmp/btmp hold glibc `struct utmp` records and lastlog `struct lastlog`
 * records.  They are decoded field by field at fixed offsets (the x86-64
 * glibc layout, little-endian) rather than by casting to this machine's
 * struct, so a file from another host reads the same and a hostile file
 * cannot make us read past a record.  Sessions are paired the way util-linux
 * `last` pairs them (walking the file backwards: a login ends at the next
 * record on its line, else at the next shutdown or boot); that is a fact
 * about the format's use, written here from scratch.
 *
 * Length: the utmp/lastlog decoding, the session pairing and the findings
 * work on the same records, in the order a reader follows; each is a
 * section.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <jansson.h>

#include "mamori/host.h"
#include "util/util.h"
#include "host_int.h"

#define DEF_MAX_RECORDS (4u << 20)
#define DEF_MAX_FILE (256ull << 20)
#define LASTLOG_MAX_DATA (256ull << 20)   /* bytes of lastlog data read */
#define LASTLOG_MAX_ENTRIES 1000000u

/* offsets in struct utmp (glibc, x86-64; utmp(5)) */
enum {
    UT_TYPE = 0, UT_PID = 4, UT_LINE = 8, UT_ID = 40, UT_USER = 44, UT_HOST = 76,
    UT_EXIT = 332, UT_SESSION = 336, UT_TV_SEC = 340, UT_TV_USEC = 344, UT_ADDR = 348,
};
/* struct lastlog: int32 ll_time; char ll_line[32]; char ll_host[256] */
enum { LL_TIME = 0, LL_LINE = 4, LL_HOST = 36 };

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* A fixed-size char field: cut at the first NUL; anything that is not
 * printable ASCII becomes '?' so that no escape sequence reaches a
 * terminal and the JSON stays valid. */
static void field(char *dst, const uint8_t *src, size_t n)
{
    size_t i = 0;
    for (; i < n && src[i]; i++)
        dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? (char)src[i] : '?';
    dst[i] = 0;
}

static void addr_text(char out[46], const uint8_t *a)
{
    out[0] = 0;
    uint32_t w[4];
    for (int i = 0; i < 4; i++)
        w[i] = le32(a + 4 * i);
    if (!w[0] && !w[1] && !w[2] && !w[3])
        return;
    /* v4 in the first word, or v4-mapped v6 (::ffff:a.b.c.d) */
    if (!w[1] && !w[2] && !w[3])
        inet_ntop(AF_INET, a, out, 46);
    else if (!w[0] && !w[1] && a[8] == 0 && a[9] == 0 && a[10] == 0xff && a[11] == 0xff)
        inet_ntop(AF_INET, a + 12, out, 46);
    else
        inet_ntop(AF_INET6, a, out, 46);
}

int mm_utmp_parse(mm_utmp_rec **out, size_t *n, const char *name, const void *data, size_t len,
                  size_t max_records)
{
    *out = NULL;
    *n = 0;
    if (!max_records)
        max_records = DEF_MAX_RECORDS;
    size_t whole = len / MM_UTMP_SIZE;
    if (len % MM_UTMP_SIZE)
        return mm_error_set(MM_EFORMAT, "%s: truncated record at offset %zu: %zu of %d bytes",
                            name, whole * MM_UTMP_SIZE, len % MM_UTMP_SIZE, MM_UTMP_SIZE);
    if (whole > max_records)
        return mm_error_set(MM_ELIMIT, "%s: more than %zu records", name, max_records);
    mm_utmp_rec *v = mm_xcalloc(whole ? whole : 1, sizeof *v);
    const uint8_t *d = data;
    for (size_t i = 0; i < whole; i++) {
        const uint8_t *b = d + i * MM_UTMP_SIZE;
        mm_utmp_rec *r = &v[i];
        r->type = (int16_t)le16(b + UT_TYPE);
        r->pid = (int32_t)le32(b + UT_PID);
        field(r->line, b + UT_LINE, 32);
        field(r->id, b + UT_ID, 4);
        field(r->user, b + UT_USER, 32);
        field(r->host, b + UT_HOST, 256);
        r->term = (int16_t)le16(b + UT_EXIT);
        r->exit_status = (int16_t)le16(b + UT_EXIT + 2);
        r->session = (int32_t)le32(b + UT_SESSION);
        /* 32-bit on disk; read unsigned so that 2038 is not the end */
        r->sec = (int64_t)le32(b + UT_TV_SEC);
        r->usec = (int32_t)le32(b + UT_TV_USEC);
        addr_text(r->addr, b + UT_ADDR);
        r->offset = (uint64_t)i * MM_UTMP_SIZE;
    }
    *out = v;
    *n = whole;
    return 0;
}

const char *mm_session_end_name(mm_session_end e)
{
    switch (e) {
    case MM_SESS_LOGOUT: return "logout";
    case MM_SESS_STILL: return "still logged in";
    case MM_SESS_GONE: return "gone - no logout";
    case MM_SESS_CRASH: return "crash";
    case MM_SESS_DOWN: return "down";
    case MM_SESS_RUNNING: return "still running";
    }
    return "?";
}

/* ---- the result ---------------------------------------------------------------- */

struct mm_logins {
    mm_utmp_rec *w, *b;    /* the records the strings are borrowed from */
    size_t nw, nb;
    mm_login_session *s;
    size_t ns, caps;
    mm_failed_login *f;
    size_t nf;
    mm_lastlog_entry *ll;
    char **llstr;          /* owned strings of lastlog entries */
    size_t nll, capll, nllstr;
    char **notes;
    size_t nnotes;
    mm_findings *fnd;
    char *wtmp_path, *btmp_path, *lastlog_path;
};

size_t mm_logins_session_count(const mm_logins *l) { return l->ns; }
const mm_login_session *mm_logins_session(const mm_logins *l, size_t i)
{
    return i < l->ns ? &l->s[i] : NULL;
}
size_t mm_logins_failed_count(const mm_logins *l) { return l->nf; }
const mm_failed_login *mm_logins_failed(const mm_logins *l, size_t i)
{
    return i < l->nf ? &l->f[i] : NULL;
}
size_t mm_logins_lastlog_count(const mm_logins *l) { return l->nll; }
const mm_lastlog_entry *mm_logins_lastlog(const mm_logins *l, size_t i)
{
    return i < l->nll ? &l->ll[i] : NULL;
}
size_t mm_logins_note_count(const mm_logins *l) { return l->nnotes; }
const char *mm_logins_note(const mm_logins *l, size_t i)
{
    return i < l->nnotes ? l->notes[i] : NULL;
}
const mm_findings *mm_logins_findings(const mm_logins *l) { return l->fnd; }

void mm_logins_free(mm_logins *l)
{
    if (!l)
        return;
    free(l->w);
    free(l->b);
    free(l->s);
    free(l->f);
    free(l->ll);
    mm_strv_free(l->llstr, l->nllstr);
    mm_strv_free(l->notes, l->nnotes);
    mm_findings_free(l->fnd);
    free(l->wtmp_path);
    free(l->btmp_path);
    free(l->lastlog_path);
    free(l);
}

static void note(mm_logins *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(mm_logins *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mm_strv_vpushf(&l->notes, &l->nnotes, 0, fmt, ap);
    va_end(ap);
}

/* Reads a whole file; 1 = missing default (noted), 0 = read, <0 = error. */
static int load(mm_logins *l, const char *path, bool is_default, uint64_t max, char **data,
                size_t *len)
{
    *data = NULL;
    *len = 0;
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT && is_default) {
            note(l, "%s: not present, skipped", path);
            return 1;
        }
        return mm_error_set(errno == ENOENT ? MM_ENOTFOUND : MM_EIO, "%s: %s", path,
                            strerror(errno));
    }
    if (!S_ISREG(st.st_mode))
        return mm_error_set(MM_EIO, "%s: not a regular file", path);
    if ((uint64_t)st.st_size > max)
        return mm_error_set(MM_ELIMIT, "%s: %lld bytes, over the %llu-byte cap", path,
                            (long long)st.st_size, (unsigned long long)max);
    return mm_file_read(path, max, data, len);
}

/* ---- pairing ------------------------------------------------------------------ */

enum { T_SHUTDOWN = 100 };

static void add_session(mm_logins *l, const mm_utmp_rec *r, int64_t end, mm_session_end how,
                        bool boot)
{
    if (l->ns == l->caps) {
        l->caps = l->caps ? l->caps * 2 : 64;
        l->s = mm_xrealloc(l->s, l->caps * sizeof *l->s);
    }
    mm_login_session *s = &l->s[l->ns++];
    memset(s, 0, sizeof *s);
    s->user = boot ? "reboot" : r->user;
    s->line = boot ? "system boot" : r->line;
    s->host = r->host;
    s->addr = r->addr;
    s->pid = r->pid;
    s->boot = boot;
    s->login = r->sec;
    s->logout = end;
    s->end = how;
}

/* Is the login process of an open session alive and still the user's? */
static bool live(const mm_utmp_rec *r, int64_t boot)
{
    if (r->sec < boot || r->pid <= 0)
        return false;
    if (kill(r->pid, 0) != 0 && errno != EPERM)
        return false;
    struct passwd pw, *res = NULL;
    char buf[4096];
    if (getpwnam_r(r->user, &pw, buf, sizeof buf, &res) != 0 || !res)
        return false;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/loginuid", (int)r->pid);
    char *d = mm_file_read_proc(path, 64, NULL);
    if (!d)
        return true;
    bool same = (uint32_t)strtoul(d, NULL, 10) == res->pw_uid;
    free(d);
    return same;
}

/* The effective type, with the corrections `last` applies to records
 * written by old or careless programs. */
static int eff_type(const mm_utmp_rec *r)
{
    if (r->line[0] == '~') {
        if (!strncmp(r->user, "shutdown", 8))
            return T_SHUTDOWN;
        if (!strncmp(r->user, "reboot", 6))
            return MM_UT_BOOT_TIME;
        if (!strncmp(r->user, "runlevel", 8))
            return MM_UT_RUN_LVL;
        return r->type;
    }
    int t = r->type;
    if (t != MM_UT_DEAD_PROCESS && r->user[0] && r->line[0] && strncmp(r->user, "LOGIN", 5))
        t = MM_UT_USER_PROCESS;
    if (!r->user[0])
        t = MM_UT_DEAD_PROCESS;
    if (!strncmp(r->user, "date", 4) && (r->line[0] == '|' || r->line[0] == '{'))
        t = r->line[0] == '|' ? MM_UT_OLD_TIME : MM_UT_NEW_TIME;
    return t;
}

static void pair(mm_logins *l, int64_t boot_time, bool check_live)
{
    /* line -> (index+1) of the nearest later record on that line */
    mm_map *later = mm_map_new();
    int64_t lastboot = 0;          /* time of the nearest later boot/shutdown */
    mm_session_end whydown = MM_SESS_CRASH;
    int64_t lastdown = 0;          /* nearest later shutdown (0 = none seen) */
    int64_t nextboot = 0;          /* nearest later boot */
    for (size_t k = l->nw; k-- > 0;) {
        const mm_utmp_rec *r = &l->w[k];
        int t = eff_type(r);
        bool down = false;
        switch (t) {
        case T_SHUTDOWN:
            lastdown = r->sec;
            down = true;
            break;
        case MM_UT_BOOT_TIME:
            if (lastdown && (!nextboot || lastdown <= nextboot))
                add_session(l, r, lastdown, MM_SESS_LOGOUT, true);
            else if (nextboot)
                add_session(l, r, nextboot, MM_SESS_CRASH, true);
            else
                add_session(l, r, 0, MM_SESS_RUNNING, true);
            nextboot = r->sec;
            lastdown = 0;
            down = true;
            break;
        case MM_UT_RUN_LVL: {
            int x = r->pid & 255;
            if (x == '0' || x == '6') {
                lastdown = r->sec;
                t = T_SHUTDOWN;
                down = true;
            }
            break;
        }
        case MM_UT_USER_PROCESS: {
            uintptr_t j = (uintptr_t)mm_map_get(later, r->line);
            if (j) {
                add_session(l, r, l->w[j - 1].sec, MM_SESS_LOGOUT, false);
                mm_map_del(later, r->line);
            } else if (lastboot) {
                add_session(l, r, lastboot, whydown, false);
            } else {
                bool alive = check_live && live(r, boot_time);
                add_session(l, r, 0, alive ? MM_SESS_STILL : MM_SESS_GONE, false);
            }
            /* the login ends an older session on its line */
            __attribute__((fallthrough));
        }
        case MM_UT_DEAD_PROCESS:
            if (r->line[0])
                mm_map_put(later, r->line, (void *)(uintptr_t)(k + 1));
            break;
        default:
            break;
        }
        if (down) {
            lastboot = r->sec;
            whydown = t == T_SHUTDOWN ? MM_SESS_DOWN : MM_SESS_CRASH;
            mm_map_free(later, NULL);
            later = mm_map_new();
        }
    }
    mm_map_free(later, NULL);
}

/* ---- lastlog ------------------------------------------------------------------ */

static const char *keep_str(mm_logins *l, const char *s)
{
    mm_strv_push(&l->llstr, &l->nllstr, s);
    return l->llstr[l->nllstr - 1];
}

static void lastlog_entry(mm_logins *l, uint32_t uid, const uint8_t *b, int64_t since)
{
    int64_t t = (int64_t)le32(b + LL_TIME);
    if (!t || t < since)
        return;
    if (l->nll == l->capll) {
        l->capll = l->capll ? l->capll * 2 : 64;
        l->ll = mm_xrealloc(l->ll, l->capll * sizeof *l->ll);
    }
    char line[33], host[257], name[64];
    field(line, b + LL_LINE, 32);
    field(host, b + LL_HOST, 256);
    struct passwd pw, *res = NULL;
    char buf[4096];
    if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res)
        snprintf(name, sizeof name, "%s", res->pw_name);
    else
        snprintf(name, sizeof name, "%u", uid);
    mm_lastlog_entry *e = &l->ll[l->nll++];
    e->uid = uid;
    e->when = t;
    e->user = keep_str(l, name);
    e->line = keep_str(l, line);
    e->host = keep_str(l, host);
}

/* lastlog is indexed by uid and sparse (a uid of 10^9 makes a file of
 * 292 GB that holds a few blocks): only the data regions are read. */
static int read_lastlog(mm_logins *l, const char *path, bool is_default, int64_t since)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT && is_default) {
            note(l, "%s: not present, skipped", path);
            return 0;
        }
        return mm_error_set(errno == ENOENT ? MM_ENOTFOUND : MM_EIO, "%s: %s", path,
                            strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return mm_error_set(MM_EIO, "%s: not a regular file", path);
    }
    uint64_t size = (uint64_t)st.st_size, done = 0, off = 0;
    uint8_t *buf = mm_xmalloc(MM_LASTLOG_SIZE * 256);
    int rc = 0;
    while (off < size) {
        off_t d = lseek(fd, (off_t)off, SEEK_DATA);
        if (d < 0) {
            if (errno == ENXIO)
                break;           /* only a hole is left */
            d = (off_t)off;      /* no SEEK_DATA here: read on */
        }
        /* align to a record */
        off = (uint64_t)d / MM_LASTLOG_SIZE * MM_LASTLOG_SIZE;
        ssize_t n = pread(fd, buf, MM_LASTLOG_SIZE * 256, (off_t)off);
        if (n < 0) {
            rc = mm_error_set(MM_EIO, "%s: read at offset %llu: %s", path,
                              (unsigned long long)off, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        size_t whole = (size_t)n / MM_LASTLOG_SIZE;
        if (!whole) {
            rc = mm_error_set(MM_EFORMAT, "%s: truncated record at offset %llu: %zd of %d bytes",
                              path, (unsigned long long)off, n, MM_LASTLOG_SIZE);
            break;
        }
        for (size_t i = 0; i < whole; i++) {
            uint64_t uid = off / MM_LASTLOG_SIZE + i;
            if (uid > UINT32_MAX)
                break;
            lastlog_entry(l, (uint32_t)uid, buf + i * MM_LASTLOG_SIZE, since);
        }
        off += whole * MM_LASTLOG_SIZE;
        done += whole * MM_LASTLOG_SIZE;
        if (done > LASTLOG_MAX_DATA || l->nll > LASTLOG_MAX_ENTRIES) {
            rc = mm_error_set(MM_ELIMIT, "%s: more than %llu bytes of records", path,
                              (unsigned long long)LASTLOG_MAX_DATA);
            break;
        }
    }
    if (!rc && size % MM_LASTLOG_SIZE && off >= size - size % MM_LASTLOG_SIZE && off < size)
        rc = mm_error_set(MM_EFORMAT, "%s: truncated record at offset %llu: %llu of %d bytes",
                          path, (unsigned long long)(size - size % MM_LASTLOG_SIZE),
                          (unsigned long long)(size % MM_LASTLOG_SIZE), MM_LASTLOG_SIZE);
    free(buf);
    close(fd);
    return rc;
}

/* ---- findings (§3.5.4) -------------------------------------------------------- */

/* A login from somewhere else: an address, or a host that is not a local
 * display, multiplexer or console marker. */
static bool remote(const char *host, const char *addr)
{
    if (addr && *addr && strcmp(addr, "127.0.0.1") && strcmp(addr, "::1"))
        return true;
    if (!host || !*host || host[0] == ':' || strchr(host, '('))
        return false;
    return strcmp(host, "localhost") && strcmp(host, "127.0.0.1") && strcmp(host, "::1");
}

static void add_finding(mm_logins *l, const char *id, mm_severity sev, const char *title,
                        const char *evidence, const char *remediation, const char *where)
{
    mm_finding f = {0};
    f.id = (char *)id;
    f.kind = MM_FIND_COMPLIANCE;
    f.severity = sev;
    f.title = (char *)title;
    f.evidence = (char *)evidence;
    f.remediation = (char *)remediation;
    f.section = (char *)"3.5.4";
    f.loc.layer = -1;
    f.loc.path = (char *)where;
    char host[256];
    if (gethostname(host, sizeof host) == 0) {
        host[sizeof host - 1] = 0;
        f.loc.host = host;
    }
    mm_findings_add(l->fnd, &f);
}

typedef struct counter {
    size_t n;
    int64_t first, last;
    char *users;           /* a few names, for the evidence */
    size_t nusers;
} counter;

static void counter_free(void *p)
{
    counter *c = p;
    free(c->users);
    free(c);
}

static void count(mm_map *m, const char *key, int64_t t, const char *other)
{
    counter *c = mm_map_get(m, key);
    if (!c) {
        if (mm_map_count(m) >= 100000)
            return;
        c = mm_xcalloc(1, sizeof *c);
        c->first = t;
        mm_map_put(m, key, c);
    }
    c->n++;
    if (t < c->first)
        c->first = t;
    if (t > c->last)
        c->last = t;
    if (other && *other && c->nusers < 5 && (!c->users || !strstr(c->users, other))) {
        char *u = c->users ? mm_xasprintf("%s, %s", c->users, other) : mm_xstrdup(other);
        free(c->users);
        c->users = u;
        c->nusers++;
    }
}

/* Findings come out sorted by key, so the report is stable. */
static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void emit_counts(mm_logins *l, mm_map *m, unsigned threshold, bool by_host)
{
    size_t it = 0, nk = 0;
    const char *k;
    void *v;
    const char **keys = mm_xcalloc(mm_map_count(m) + 1, sizeof *keys);
    while (mm_map_next(m, &it, &k, &v))
        if (((counter *)v)->n >= threshold)
            keys[nk++] = k;
    qsort(keys, nk, sizeof *keys, key_cmp);
    for (size_t i = 0; i < nk; i++) {
        counter *c = mm_map_get(m, keys[i]);
        char a[32], b[32];
        mm_time_rfc3339(c->first, a);
        mm_time_rfc3339(c->last, b);
        char *title = by_host
            ? mm_xasprintf("%zu failed logins from %s", c->n, keys[i])
            : mm_xasprintf("%zu failed logins for account %s", c->n, keys[i]);
        char *ev = mm_xasprintf("%zu failed attempts between %s and %s; %s: %s", c->n, a, b,
                                by_host ? "accounts tried" : "from", c->users ? c->users : "-");
        add_finding(l, by_host ? "MM-HOST-LOGIN-002" : "MM-HOST-LOGIN-003", MM_SEV_HIGH, title, ev,
                    by_host ? "Block the source (firewall, fail2ban), allow SSH only from "
                              "administration networks and use keys instead of passwords."
                            : "Check whether the account is being guessed; lock or remove it if "
                              "unused, require keys and multi-factor authentication.",
                    l->btmp_path);
        free(title);
        free(ev);
    }
    free(keys);
}

static void findings(mm_logins *l, unsigned threshold)
{
    /* root over the network, one finding per source */
    mm_map *root = mm_map_new();
    for (size_t i = 0; i < l->ns; i++) {
        const mm_login_session *s = &l->s[i];
        if (!s->boot && !strcmp(s->user, "root") && remote(s->host, s->addr))
            count(root, *s->host ? s->host : s->addr, s->login, s->line);
    }
    size_t it = 0, nk = 0;
    const char *k;
    void *v;
    const char **keys = mm_xcalloc(mm_map_count(root) + 1, sizeof *keys);
    while (mm_map_next(root, &it, &k, &v))
        keys[nk++] = k;
    qsort(keys, nk, sizeof *keys, key_cmp);
    for (size_t i = 0; i < nk; i++) {
        counter *c = mm_map_get(root, keys[i]);
        char a[32], b[32];
        mm_time_rfc3339(c->first, a);
        mm_time_rfc3339(c->last, b);
        char *title = mm_xasprintf("root logged in over the network from %s", keys[i]);
        char *ev = mm_xasprintf("%zu root session%s from %s between %s and %s (lines: %s)", c->n,
                                c->n == 1 ? "" : "s", keys[i], a, b, c->users ? c->users : "-");
        add_finding(l, "MM-HOST-LOGIN-001", MM_SEV_HIGH, title, ev,
                    "Disable direct root logins (sshd PermitRootLogin no); administrators log in "
                    "as themselves and elevate with an audited sudo.",
                    l->wtmp_path);
        free(title);
        free(ev);
    }
    free(keys);
    mm_map_free(root, counter_free);

    mm_map *byhost = mm_map_new(), *byuser = mm_map_new();
    for (size_t i = 0; i < l->nf; i++) {
        const mm_failed_login *f = &l->f[i];
        const char *src = *f->host ? f->host : *f->addr ? f->addr : NULL;
        if (src)
            count(byhost, src, f->when, f->user);
        if (*f->user)
            count(byuser, f->user, f->when, src);
    }
    emit_counts(l, byhost, threshold, true);
    emit_counts(l, byuser, threshold, false);
    mm_map_free(byhost, counter_free);
    mm_map_free(byuser, counter_free);
}

/* ---- entry point --------------------------------------------------------------- */

static int sess_cmp(const void *a, const void *b)
{
    const mm_login_session *x = a, *y = b;
    return x->login > y->login ? -1 : x->login < y->login;
}

int mm_host_logins(mm_logins **out, const mm_logins_opts *opts)
{
    *out = NULL;
    mm_logins_opts o = {0};
    if (opts)
        o = *opts;
    uint64_t maxf = o.max_file_size ? o.max_file_size : DEF_MAX_FILE;
    unsigned threshold = o.failed_threshold ? o.failed_threshold : 5;
    mm_logins *l = mm_xcalloc(1, sizeof *l);
    mm_findings_new(&l->fnd);
    int rc = 0;
    char *data = NULL;
    size_t len = 0;

    const char *wp = o.wtmp ? o.wtmp : "/var/log/wtmp";
    if (*wp) {
        l->wtmp_path = mm_xstrdup(wp);
        rc = load(l, wp, !o.wtmp, maxf, &data, &len);
        if (rc == 0)
            rc = mm_utmp_parse(&l->w, &l->nw, wp, data, len, 0);
        free(data);
        data = NULL;
        if (rc < 0)
            goto fail;
        int64_t boot = o.boot_time ? o.boot_time : mm_host_boot_time(NULL);
        pair(l, boot, !o.no_live_check);
        /* sessions newest first, as `last`; --since keeps those that began after */
        size_t k = 0;
        for (size_t i = 0; i < l->ns; i++)
            if (l->s[i].login >= o.since)
                l->s[k++] = l->s[i];
        l->ns = k;
        if (l->ns)
            qsort(l->s, l->ns, sizeof *l->s, sess_cmp);
    }
    const char *bp = o.btmp ? o.btmp : "/var/log/btmp";
    if (*bp) {
        l->btmp_path = mm_xstrdup(bp);
        rc = load(l, bp, !o.btmp, maxf, &data, &len);
        if (rc == 0)
            rc = mm_utmp_parse(&l->b, &l->nb, bp, data, len, 0);
        free(data);
        data = NULL;
        if (rc < 0)
            goto fail;
        l->f = mm_xcalloc(l->nb ? l->nb : 1, sizeof *l->f);
        for (size_t i = l->nb; i-- > 0;) {
            const mm_utmp_rec *r = &l->b[i];
            if (r->type == MM_UT_EMPTY || r->sec < o.since || (!r->user[0] && !r->host[0]))
                continue;
            mm_failed_login *f = &l->f[l->nf++];
            f->user = r->user;
            f->line = r->line;
            f->host = r->host;
            f->addr = r->addr;
            f->when = r->sec;
        }
    }
    const char *lp = o.lastlog ? o.lastlog : "/var/log/lastlog";
    if (*lp) {
        l->lastlog_path = mm_xstrdup(lp);
        if ((rc = read_lastlog(l, lp, !o.lastlog, o.since)) < 0)
            goto fail;
    }
    findings(l, threshold);
    *out = l;
    return 0;
fail:
    mm_logins_free(l);
    return rc;
}

/* ---- dates --------------------------------------------------------------------- */

int mm_host_parse_date(int64_t *out, const char *s)
{
    if (!s || !*s)
        return mm_error_set(MM_EINVAL, "empty date");
    if (s[0] == '@') {
        char *e;
        errno = 0;
        long long v = strtoll(s + 1, &e, 10);
        if (*e || e == s + 1 || errno)
            return mm_error_set(MM_EINVAL, "date \"%s\": want @EPOCH-SECONDS", s);
        *out = v;
        return 0;
    }
    if (mm_time_parse(s, MM_TIME_DATE | MM_TIME_NOSEC | MM_TIME_NOZONE, out, NULL) < 0)
        return mm_error_set(MM_EINVAL, "date \"%s\": want YYYY-MM-DD[THH:MM[:SS]][Z|+HH:MM]", s);
    return 0;
}

/* ---- output -------------------------------------------------------------------- */

static json_t *jstr(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;
    return v ? v : json_null();
}

static json_t *jtime(int64_t t)
{
    if (t <= 0)
        return json_null();
    char b[32];
    mm_time_rfc3339(t, b);
    return json_string(b);
}

static void dur(char *out, size_t n, int64_t secs)
{
    if (secs < 0)
        secs = 0;
    int64_t d = secs / 86400, h = secs / 3600 % 24, m = secs / 60 % 60;
    if (d)
        snprintf(out, n, "(%lld+%02lld:%02lld)", (long long)d, (long long)h, (long long)m);
    else
        snprintf(out, n, "(%02lld:%02lld)", (long long)h, (long long)m);
}

int mm_logins_write(FILE *f, const mm_logins *l, bool json)
{
    if (json) {
        json_t *top = json_object(), *a = json_array();
        json_object_set_new(top, "section", json_string("3.5.4"));
        for (size_t i = 0; i < l->ns; i++) {
            const mm_login_session *s = &l->s[i];
            json_t *o = json_object();
            json_object_set_new(o, "user", jstr(s->user));
            json_object_set_new(o, "line", jstr(s->line));
            json_object_set_new(o, "host", jstr(s->host));
            json_object_set_new(o, "addr", *s->addr ? jstr(s->addr) : json_null());
            json_object_set_new(o, "pid", json_integer(s->pid));
            json_object_set_new(o, "boot", json_boolean(s->boot));
            json_object_set_new(o, "login", jtime(s->login));
            json_object_set_new(o, "logout", jtime(s->logout));
            json_object_set_new(o, "duration",
                                s->logout ? json_integer(s->logout - s->login) : json_null());
            json_object_set_new(o, "end", json_string(mm_session_end_name(s->end)));
            json_array_append_new(a, o);
        }
        json_object_set_new(top, "sessions", a);
        a = json_array();
        for (size_t i = 0; i < l->nf; i++) {
            const mm_failed_login *x = &l->f[i];
            json_t *o = json_object();
            json_object_set_new(o, "user", jstr(x->user));
            json_object_set_new(o, "line", jstr(x->line));
            json_object_set_new(o, "host", jstr(x->host));
            json_object_set_new(o, "addr", *x->addr ? jstr(x->addr) : json_null());
            json_object_set_new(o, "time", jtime(x->when));
            json_array_append_new(a, o);
        }
        json_object_set_new(top, "failed", a);
        a = json_array();
        for (size_t i = 0; i < l->nll; i++) {
            const mm_lastlog_entry *x = &l->ll[i];
            json_t *o = json_object();
            json_object_set_new(o, "uid", json_integer(x->uid));
            json_object_set_new(o, "user", jstr(x->user));
            json_object_set_new(o, "line", jstr(x->line));
            json_object_set_new(o, "host", jstr(x->host));
            json_object_set_new(o, "time", jtime(x->when));
            json_array_append_new(a, o);
        }
        json_object_set_new(top, "lastlog", a);
        a = json_array();
        for (size_t i = 0; i < mm_findings_count(l->fnd); i++) {
            const mm_finding *x = mm_findings_get(l->fnd, i);
            json_t *o = json_object();
            json_object_set_new(o, "id", jstr(x->id));
            json_object_set_new(o, "kind", json_string(mm_finding_kind_name(x->kind)));
            json_object_set_new(o, "severity", json_string(mm_severity_name(x->severity)));
            json_object_set_new(o, "section", jstr(x->section));
            json_object_set_new(o, "title", jstr(x->title));
            json_object_set_new(o, "evidence", jstr(x->evidence));
            json_object_set_new(o, "remediation", jstr(x->remediation));
            json_object_set_new(o, "file", jstr(x->loc.path));
            json_object_set_new(o, "host", jstr(x->loc.host));
            json_array_append_new(a, o);
        }
        json_object_set_new(top, "findings", a);
        a = json_array();
        for (size_t i = 0; i < l->nnotes; i++)
            json_array_append_new(a, jstr(l->notes[i]));
        json_object_set_new(top, "notes", a);
        char *s = json_dumps(top, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(top);
        int bad = !s || fprintf(f, "%s\n", s) < 0;
        free(s);
        return bad ? mm_error_set(MM_EIO, "cannot write the login report") : 0;
    }
    char a[32], b[32], d[32];
    fprintf(f, "Sessions (%s)\n", l->wtmp_path ? l->wtmp_path : "-");
    fprintf(f, "%-10s %-12s %-20s %-20s %-20s %-12s %s\n", "USER", "LINE", "HOST", "LOGIN",
            "LOGOUT", "DURATION", "END");
    for (size_t i = 0; i < l->ns; i++) {
        const mm_login_session *s = &l->s[i];
        mm_time_rfc3339(s->login, a);
        if (s->logout) {
            mm_time_rfc3339(s->logout, b);
            dur(d, sizeof d, s->logout - s->login);
        } else {
            strcpy(b, "-");
            strcpy(d, "-");
        }
        char *u = mm_str_printable(s->user), *ln = mm_str_printable(s->line);
        char *h = mm_str_printable(*s->host ? s->host : "-");
        fprintf(f, "%-10s %-12s %-20s %-20s %-20s %-12s %s\n", u, ln, h, a, b, d,
                mm_session_end_name(s->end));
        free(u);
        free(ln);
        free(h);
    }
    if (l->btmp_path) {
        fprintf(f, "\nFailed logins (%s)\n%-10s %-12s %-20s %s\n", l->btmp_path, "USER", "LINE",
                "HOST", "TIME");
        for (size_t i = 0; i < l->nf; i++) {
            mm_time_rfc3339(l->f[i].when, a);
            char *u = mm_str_printable(*l->f[i].user ? l->f[i].user : "-");
            char *ln = mm_str_printable(*l->f[i].line ? l->f[i].line : "-");
            char *h = mm_str_printable(*l->f[i].host ? l->f[i].host
                                       : *l->f[i].addr ? l->f[i].addr : "-");
            fprintf(f, "%-10s %-12s %-20s %s\n", u, ln, h, a);
            free(u);
            free(ln);
            free(h);
        }
    }
    if (l->lastlog_path) {
        fprintf(f, "\nLast login per account (%s)\n%-10s %-8s %-12s %-20s %s\n", l->lastlog_path,
                "USER", "UID", "LINE", "HOST", "TIME");
        for (size_t i = 0; i < l->nll; i++) {
            mm_time_rfc3339(l->ll[i].when, a);
            char *u = mm_str_printable(l->ll[i].user);
            char *ln = mm_str_printable(*l->ll[i].line ? l->ll[i].line : "-");
            char *h = mm_str_printable(*l->ll[i].host ? l->ll[i].host : "-");
            fprintf(f, "%-10s %-8u %-12s %-20s %s\n", u, l->ll[i].uid, ln, h, a);
            free(u);
            free(ln);
            free(h);
        }
    }
    size_t nf = mm_findings_count(l->fnd);
    fprintf(f, "\nFindings (SP 800-190 §3.5.4): %zu\n", nf);
    for (size_t i = 0; i < nf; i++) {
        const mm_finding *x = mm_findings_get(l->fnd, i);
        char *t = mm_str_printable(x->title), *e = mm_str_printable(x->evidence);
        fprintf(f, "  %s %-8s %s\n      %s\n", x->id, mm_severity_name(x->severity), t,
                e ? e : "");
        free(t);
        free(e);
    }
    for (size_t i = 0; i < l->nnotes; i++)
        fprintf(f, "note: %s\n", l->notes[i]);
    return ferror(f) ? mm_error_set(MM_EIO, "cannot write the login report") : 0;
}
