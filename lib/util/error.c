/*
 * error.c - the per-thread error message behind mm_error_set() and
 * mm_error_last().  A thread-local buffer keeps concurrent scans (the
 * server, the agent) from overwriting each other's messages.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mamori/common.h"

#define MM_ERRMSG_MAX 1024

static __thread char errmsg[MM_ERRMSG_MAX];

const char *mm_error_last(void)
{
    return errmsg[0] ? errmsg : "no error message";
}

const char *mm_error_name(int code)
{
    switch (code) {
    case MM_OK: return "ok";
    case MM_EINVAL: return "invalid argument";
    case MM_ENOMEM: return "out of memory";
    case MM_EIO: return "i/o error";
    case MM_EFORMAT: return "malformed input";
    case MM_ELIMIT: return "limit exceeded";
    case MM_EDIGEST: return "digest mismatch";
    case MM_ENOTFOUND: return "not found";
    case MM_EUNSUPPORTED: return "unsupported";
    case MM_EDB: return "store error";
    case MM_EUNSAFE: return "unsafe input";
    case MM_ENET: return "network error";
    case MM_EAUTH: return "authentication failed";
    case MM_ESIGNATURE: return "signature error";
    default: return "unknown error";
    }
}

int mm_error_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errmsg, sizeof errmsg, fmt, ap);
    va_end(ap);
    return code;
}

int mm_error_wrap(int code, const char *fmt, ...)
{
    char prefix[MM_ERRMSG_MAX], old[MM_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, errmsg, sizeof old);
    /* a message cut at the buffer size is still the useful part */
    size_t pl = strnlen(prefix, sizeof errmsg - 1);
    memcpy(errmsg, prefix, pl);
    snprintf(errmsg + pl, sizeof errmsg - pl, "%.*s", (int)(sizeof errmsg - pl - 1), old);
    return code;
}

void mm_error_clear(void)
{
    errmsg[0] = 0;
}
