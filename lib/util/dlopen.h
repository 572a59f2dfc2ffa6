/*
 * util/dlopen.h - optional libraries loaded at first use.  A library that
 * only one or two commands need (libopenscap for `mamori host compliance
 * --scap`, libmodsecurity for `mamori waf`) is not linked into the binary:
 * linked, the dynamic loader maps it and its own dependencies (librpm,
 * xmlsec, lua, GeoIP, ...) at every start, 10-20 ms before `main`.  Instead
 * the engine that needs it opens it by its SONAME (recorded by the build:
 * lib/util/meson.build) and binds the functions it calls into a table of
 * its own, the pattern systemd uses for its optional libraries:
 *
 *     typedef struct scap_api {
 *         MM_DLSYM_FIELD(oscap_init);   // typeof(oscap_init) *oscap_init;
 *         ...
 *     } scap_api;
 *     scap_api a;
 *     const mm_dlsym syms[] = { MM_DLSYM(&a, oscap_init), ... };
 *     rc = mm_dlopen_syms(&handle, MM_OPENSCAP_SONAME, syms, sizeof syms / sizeof *syms);
 *     a.oscap_init();
 *
 * Each pointer has the type of the library's own prototype (the header is
 * still included, from the pkg-config dependency's compile flags), so calls
 * stay type-checked; a call that bypasses the table fails to link, since
 * the library is no longer on the link line.
 *
 * No process-global state: the table and the handle live in the caller's
 * object (the WAF engine) or on its stack (one SCAP evaluation).  Opening
 * a library that is already loaded only takes a reference, and binding a
 * few dozen symbols costs microseconds, so there is nothing to cache
 * process-wide.  Libraries are opened RTLD_NODELETE: mm_dlclose() drops
 * the reference, the code stays mapped until the process ends (C++
 * libraries with static objects, atexit handlers and thread-local data,
 * as libmodsecurity and libxml2 have, are not safe to unmap).
 */
#ifndef MM_UTIL_DLOPEN_H
#define MM_UTIL_DLOPEN_H

#include <stddef.h>

#include "mamori/common.h"

/* One symbol to bind: where its address goes, and its name. */
typedef struct mm_dlsym {
    void (**fn)(void);
    const char *name;
} mm_dlsym;

/* A table field with the type of the library's prototype of sym. */
#define MM_DLSYM_FIELD(sym) __typeof__(sym) *sym
/* The entry binding field sym of the table *t to the symbol "sym"; the
 * build fails when the field's type is not a pointer to the prototype of
 * sym (the library's header declares it). */
#define MM_DLSYM(t, sym)                                                     \
    { (void (**)(void))(&(t)->sym + 0 * sizeof(struct {                      \
          _Static_assert(__builtin_types_compatible_p(__typeof__((t)->sym),  \
                                                      __typeof__(sym) *),    \
                         #sym ": field and prototype differ");               \
          int mm_; })),                                                      \
      #sym }

/* Opens the library soname (RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) and
 * stores the address of each of the n symbols where its entry says; on
 * success *handle_out holds the handle for mm_dlclose().  On failure every
 * pointer of the table is NULL, nothing stays open, and the error names the
 * library: MM_EUNSUPPORTED when it cannot be loaded (not installed) or
 * lacks one of the symbols (another version; the symbol is named),
 * MM_EINVAL for bad arguments. */
int mm_dlopen_syms(void **handle_out, const char *soname, const mm_dlsym *syms, size_t n);

/* Drops a reference taken by mm_dlopen_syms(); NULL is fine. */
void mm_dlclose(void *handle);

#endif
