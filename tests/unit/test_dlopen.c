/*
 * test_dlopen.c - optional libraries loaded at first use (util/dlopen.h):
 * binding a real library (zlib, by its SONAME) into a typed table and
 * calling through it; a missing function and a missing library refused
 * with errors naming them and the table left cleared; and the libraries
 * mamori opens on demand (libmodsecurity, libopenscap, libnftables,
 * libnetfilter_log) not mapped when a program linked with the whole
 * library starts, then kept mapped (RTLD_NODELETE) once opened and closed.
 */
#include <dlfcn.h>
#include <zlib.h>

#include "host/host_config.h"
#include "mamori/common.h"
#include "netpol/netpol_config.h"
#include "util/dlopen.h"
#include "waf/waf_config.h"
#include "mmtest.h"

typedef struct z_api {
    MM_DLSYM_FIELD(zlibVersion);
    MM_DLSYM_FIELD(crc32);
} z_api;

MM_TEST(binds_a_real_library)
{
    z_api a;
    void *h = NULL;
    const mm_dlsym syms[] = {MM_DLSYM(&a, zlibVersion), MM_DLSYM(&a, crc32)};
    CHECK_OK(mm_dlopen_syms(&h, "libz.so.1", syms, 2));
    REQUIRE(h != NULL);
    REQUIRE(a.zlibVersion && a.crc32);
    /* the same library the program's own zlib calls reach */
    CHECK_STR(a.zlibVersion(), zlibVersion());
    CHECK_INT(a.crc32(0, (const Bytef *)"abc", 3), 0x352441c2);
    mm_dlclose(h);
    mm_dlclose(NULL);
}

MM_TEST(missing_function_names_it)
{
    struct {
        MM_DLSYM_FIELD(crc32);
        void (*nosuch)(void);
    } t;
    void *h = (void *)&t;   /* must come back NULL */
    const mm_dlsym syms[] = {MM_DLSYM(&t, crc32),
                             {(void (**)(void))&t.nosuch, "mm_no_such_function"}};
    CHECK_INT(mm_dlopen_syms(&h, "libz.so.1", syms, 2), MM_EUNSUPPORTED);
    CHECK(h == NULL);
    CHECK(t.crc32 == NULL);   /* bound before the failure, cleared */
    CHECK(strstr(mm_error_last(), "libz.so.1") != NULL);
    CHECK(strstr(mm_error_last(), "mm_no_such_function") != NULL);
}

MM_TEST(missing_library_names_it)
{
    z_api a = {.crc32 = crc32};
    void *h = NULL;
    const mm_dlsym syms[] = {MM_DLSYM(&a, crc32)};
    CHECK_INT(mm_dlopen_syms(&h, "libmamori-absent.so.9", syms, 1), MM_EUNSUPPORTED);
    CHECK(h == NULL);
    CHECK(a.crc32 == NULL);
    CHECK(!strncmp(mm_error_last(), "libmamori-absent.so.9: ", 23));
    /* a file that is there but is no library: the soname still leads */
    char path[4096];
    snprintf(path, sizeof path, "%s/libmamori-empty.so.1", mmt_tmpdir());
    FILE *f = fopen(path, "w");
    REQUIRE(f != NULL);
    fclose(f);
    CHECK_INT(mm_dlopen_syms(&h, path, syms, 1), MM_EUNSUPPORTED);
    CHECK(h == NULL);
    CHECK(!strncmp(mm_error_last(), path, strlen(path)));
}

MM_TEST(bad_arguments)
{
    z_api a;
    void *h = NULL;
    const mm_dlsym syms[] = {MM_DLSYM(&a, crc32)};
    const mm_dlsym empty[] = {{NULL, "crc32"}};
    CHECK_INT(mm_dlopen_syms(NULL, "libz.so.1", syms, 1), MM_EINVAL);
    CHECK_INT(mm_dlopen_syms(&h, NULL, syms, 1), MM_EINVAL);
    CHECK_INT(mm_dlopen_syms(&h, "", syms, 1), MM_EINVAL);
    CHECK_INT(mm_dlopen_syms(&h, "libz.so.1", NULL, 1), MM_EINVAL);
    CHECK_INT(mm_dlopen_syms(&h, "libz.so.1", empty, 1), MM_EINVAL);
    CHECK(h == NULL);
    /* no symbols: the library is opened, nothing bound */
    CHECK_OK(mm_dlopen_syms(&h, "libz.so.1", NULL, 0));
    CHECK(h != NULL);
    mm_dlclose(h);
}

/* The program links all of libmamori: the on-demand libraries must not be
 * mapped until something opens them; once opened and closed they stay. */
static void on_demand(const char *soname, const char *sym)
{
    void *pre = dlopen(soname, RTLD_LAZY | RTLD_NOLOAD);
    CHECK(pre == NULL);
    if (pre) {
        fprintf(stderr, "%s is mapped at start: linked, not loaded on demand\n", soname);
        dlclose(pre);
        return;
    }
    void (*fn)(void) = NULL;
    void *h = NULL;
    const mm_dlsym syms[] = {{&fn, sym}};
    CHECK_OK(mm_dlopen_syms(&h, soname, syms, 1));
    CHECK(fn != NULL);
    mm_dlclose(h);
    void *post = dlopen(soname, RTLD_LAZY | RTLD_NOLOAD);
    CHECK(post != NULL);   /* RTLD_NODELETE */
    if (post)
        dlclose(post);
}

MM_TEST(modsecurity_on_demand)
{
    on_demand(MM_MODSECURITY_SONAME, "msc_init");
}

MM_TEST(openscap_on_demand)
{
#ifdef MM_OPENSCAP_SONAME
    on_demand(MM_OPENSCAP_SONAME, "oscap_init");
#else
    MMT_SKIP("this build has no libopenscap");
#endif
}

MM_TEST(nftables_on_demand)
{
    on_demand(MM_NFTABLES_SONAME, "nft_ctx_new");
}

MM_TEST(nflog_on_demand)
{
    on_demand(MM_NFLOG_SONAME, "nflog_open");
}

MM_TEST_MAIN
