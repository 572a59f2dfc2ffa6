/*
 * time.c - the clock and the one parser of written times: RFC 3339 (image
 * configs, feeds, tokens), its ISO 8601 relatives that feeds and users
 * write (a date alone, no seconds, no zone: `mm_time_parse` flags), and the
 * HTTP date of Retry-After headers.
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "util/util.h"

double mm_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void mm_time_rfc3339(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static int mdays(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : d[m - 1];
}

int mm_time_parse(const char *s, unsigned flags, int64_t *out, int32_t *nsec)
{
    int Y, M, D, h = 0, m = 0, sec = 0, oh = 0, om = 0;
    int32_t ns = 0;
    const char *p = s;
    if (!s || !digits(s, 4, &Y) || s[4] != '-' || !digits(s + 5, 2, &M) || s[7] != '-' ||
        !digits(s + 8, 2, &D))
        return mm_error_set(MM_EFORMAT, "time \"%.40s\": not RFC 3339", s ? s : "");
    p = s + 10;
    int sign = 0;
    if (*p == 0 && (flags & MM_TIME_DATE)) {
        /* a date alone: midnight UTC */
    } else {
        if ((*p != 'T' && *p != 't' && *p != ' ') || !digits(p + 1, 2, &h) || p[3] != ':' ||
            !digits(p + 4, 2, &m))
            return mm_error_set(MM_EFORMAT, "time \"%.40s\": not RFC 3339", s);
        p += 6;
        if (*p == ':') {
            if (!digits(p + 1, 2, &sec))
                return mm_error_set(MM_EFORMAT, "time \"%.40s\": bad seconds", s);
            p += 3;
            if (*p == '.') {
                p++;
                size_t n = strspn(p, "0123456789");
                if (n == 0)
                    return mm_error_set(MM_EFORMAT, "time \"%.40s\": empty fraction", s);
                for (size_t i = 0; i < 9; i++)
                    ns = ns * 10 + (i < n ? p[i] - '0' : 0);
                p += n;
            }
        } else if (!(flags & MM_TIME_NOSEC)) {
            return mm_error_set(MM_EFORMAT, "time \"%.40s\": not RFC 3339", s);
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            sign = *p == '+' ? 1 : -1;
            if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om))
                return mm_error_set(MM_EFORMAT, "time \"%.40s\": bad offset", s);
            p += 6;
        } else if (!(flags & MM_TIME_NOZONE)) {
            return mm_error_set(MM_EFORMAT, "time \"%.40s\": no time zone", s);
        }
    }
    if (*p || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60 ||
        oh > 23 || om > 59 || ((flags & MM_TIME_STRICT_DAY) && D > mdays(Y, M)))
        return mm_error_set(MM_EFORMAT, "time \"%.40s\": out of range", s);
    struct tm tm = {0};
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    *out = (int64_t)timegm(&tm) - sign * (int64_t)(oh * 3600 + om * 60);
    if (nsec)
        *nsec = ns;
    return 0;
}

int mm_time_parse_rfc3339(const char *s, int64_t *out)
{
    return mm_time_parse(s, 0, out, NULL);
}
