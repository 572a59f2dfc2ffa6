/*
 * dlopen.c - opening an optional library at first use and binding the
 * functions its caller needs (util/dlopen.h says why and how).  Every
 * failure leaves the caller's table cleared and nothing open, with an error
 * naming the library and, for a missing function, the symbol.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "util/dlopen.h"

static void clear(const mm_dlsym *syms, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (syms[i].fn)
            *syms[i].fn = NULL;
}

int mm_dlopen_syms(void **handle_out, const char *soname, const mm_dlsym *syms, size_t n)
{
    if (!handle_out)
        return mm_error_set(MM_EINVAL, "dlopen: no handle to fill");
    *handle_out = NULL;
    if (!soname || !*soname || (n && !syms))
        return mm_error_set(MM_EINVAL, "dlopen: no library or no symbol table");
    for (size_t i = 0; i < n; i++)
        if (!syms[i].fn || !syms[i].name)
            return mm_error_set(MM_EINVAL, "%s: symbol entry %zu is empty", soname, i);
    (void)dlerror();
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!h) {
        const char *e = dlerror();
        clear(syms, n);
        /* dlerror() names the soname ("libx.so.1: cannot open shared
         * object file") or the file it found ("/lib/.../libx.so.1: file
         * too short"): the soname comes first either way */
        if (e && !strncmp(e, soname, strlen(soname)))
            return mm_error_set(MM_EUNSUPPORTED, "%s", e);
        return mm_error_set(MM_EUNSUPPORTED, "%s: %s", soname, e ? e : "cannot be loaded");
    }
    for (size_t i = 0; i < n; i++) {
        (void)dlerror();
        void *p = dlsym(h, syms[i].name);
        if (!p) {
            clear(syms, n);
            dlclose(h);
            return mm_error_set(MM_EUNSUPPORTED,
                                "%s: no function %s (another version of the library?)",
                                soname, syms[i].name);
        }
        /* POSIX: a dlsym() result converts to a function pointer */
        *syms[i].fn = (void (*)(void))p;
    }
    *handle_out = h;
    return 0;
}

void mm_dlclose(void *handle)
{
    if (handle)
        dlclose(handle);
}
