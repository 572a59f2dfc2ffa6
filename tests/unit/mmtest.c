/*
 * mmtest.c - the runner behind mmtest.h: runs every registered test (or
 * those named on the command line), prints PASS/FAIL/SKIP lines and exits
 * non-zero when any failed.
 */
#include "mmtest.h"

#include <limits.h>
#include <sys/stat.h>

static char mmt_pathbuf[PATH_MAX];

const char *mmt_shared(const char *rel)
{
    const char *root = getenv("MAMORI_SHARED");
    struct stat st;
    if (!root || !*root)
        return NULL;
    snprintf(mmt_pathbuf, sizeof mmt_pathbuf, "%s/%s", root, rel);
    return stat(mmt_pathbuf, &st) == 0 ? mmt_pathbuf : NULL;
}

const char *mmt_fixture(const char *rel)
{
    const char *root = getenv("MAMORI_FIXTURES");
    snprintf(mmt_pathbuf, sizeof mmt_pathbuf, "%s/%s",
             root ? root : "tests/fixtures", rel);
    return mmt_pathbuf;
}

const char *mmt_tmpdir(void)
{
    static char buf[PATH_MAX];
    const char *t = getenv("TMPDIR");
    snprintf(buf, sizeof buf, "%s/mmtest.XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(buf))
        return NULL;
    return buf;
}

char *mmt_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *d = NULL;
    size_t n = 0, cap = 0;
    if (!f)
        return NULL;
    for (;;) {
        if (n + 65536 + 1 > cap) {
            cap = (n + 65536 + 1) * 2;
            d = realloc(d, cap);
            if (!d)
                abort();
        }
        size_t r = fread(d + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    d[n] = 0;
    if (len)
        *len = n;
    return d;
}

int mmt_main(int argc, char **argv)
{
    int failed = 0;
    for (int i = 0; i < mmt_ncases; i++) {
        if (argc > 1) {
            bool named = false;
            for (int a = 1; a < argc; a++)
                named |= strcmp(argv[a], mmt_cases[i].name) == 0;
            if (!named)
                continue;
        }
        mmt_failed_now = 0;
        mmt_skip_why = NULL;
        mmt_cases[i].fn();
        if (mmt_failed_now) {
            printf("FAIL %s\n", mmt_cases[i].name);
            failed++;
        } else if (mmt_skip_why) {
            printf("SKIP %s: %s\n", mmt_cases[i].name, mmt_skip_why);
        } else {
            printf("PASS %s\n", mmt_cases[i].name);
        }
        fflush(stdout);
    }
    return failed ? 1 : 0;
}
