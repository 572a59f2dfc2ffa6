/*
 * mamori/common.h - error codes, the per-thread error message and version.
 *
 * Every library call returns 0 (MM_OK) or a negative MM_E* code and, on
 * failure, leaves a human-readable message retrievable with mm_error_last().
 * The message names the file and the field or offset where the input was bad.
 * The library never prints and never exits: the front-end reports once.
 */
#ifndef MAMORI_COMMON_H
#define MAMORI_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MM_VERSION "0.1.0"

enum mm_error_code {
    MM_OK = 0,
    MM_EINVAL = -1,       /* bad argument from the caller (usage error) */
    MM_ENOMEM = -2,       /* out of memory */
    MM_EIO = -3,          /* the operating system refused a read or write */
    MM_EFORMAT = -4,      /* input is malformed: names file and field/offset */
    MM_ELIMIT = -5,       /* a configured cap (entries, sizes) was exceeded */
    MM_EDIGEST = -6,      /* a blob does not match its sha256 digest */
    MM_ENOTFOUND = -7,    /* a named thing (file, manifest, platform) is absent */
    MM_EUNSUPPORTED = -8, /* a valid input we do not handle (yet) */
    MM_EDB = -9,          /* the local store failed */
    MM_EUNSAFE = -10,     /* hostile input refused (path escapes, link loops) */
    MM_ENET = -11,        /* a server could not be reached or kept failing */
    MM_EAUTH = -12,       /* credentials missing or refused (401/403) */
    MM_ESIGNATURE = -13,  /* a signature is missing, malformed or invalid */
};

/* Makes SIGINT, SIGTERM and SIGHUP remove the library's temporary folders
 * and files (a scan's, a database build's) before the process ends as the
 * signal says.  For programs: call once at start; a later handler of the
 * program's own replaces it for that signal. */
void mm_cleanup_on_signals(void);

/* The message of the last failure on this thread; never NULL. */
const char *mm_error_last(void);

/* Name of an error code, e.g. "format". */
const char *mm_error_name(int code);

/* Sets the message and returns code, so that `return mm_error_set(...)` works. */
int mm_error_set(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefixes the current message with more context ("layer 2: " + message). */
int mm_error_wrap(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void mm_error_clear(void);

#ifdef __cplusplus
}
#endif
#endif
