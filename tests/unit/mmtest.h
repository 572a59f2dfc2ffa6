/*
 * mmtest.h - the unit-test harness: a test is a function registered with
 * MM_TEST(name); main() (from MM_TEST_MAIN) runs them all and prints one
 * line per test, "PASS name", "FAIL name" or "SKIP name: why", which
 * tests/run-tests.sh adds up into the final "N passed, N failed" line.
 *
 * Real data from upstream projects is found with mmt_shared("pkgdb/...");
 * a test whose data is absent calls MMT_SKIP with a clear message.
 */
#ifndef MMTEST_H
#define MMTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <unistd.h>

typedef void (*mmt_fn)(void);
struct mmt_case { const char *name; mmt_fn fn; };
extern struct mmt_case mmt_cases[512];
extern int mmt_ncases;
extern int mmt_failed_now;
extern const char *mmt_skip_why;

#define MM_TEST(tname)                                                   \
    static void mmt_##tname(void);                                       \
    __attribute__((constructor)) static void mmt_reg_##tname(void) {     \
        mmt_cases[mmt_ncases].name = #tname;                             \
        mmt_cases[mmt_ncases++].fn = mmt_##tname;                        \
    }                                                                    \
    static void mmt_##tname(void)

#define CHECK(cond) do { if (!(cond)) {                                  \
        fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
        mmt_failed_now = 1; } } while (0)
#define REQUIRE(cond) do { if (!(cond)) {                                \
        fprintf(stderr, "%s:%d: REQUIRE(%s) failed\n", __FILE__, __LINE__, #cond); \
        mmt_failed_now = 1; return; } } while (0)
#define CHECK_INT(a, b) do { long long _a = (long long)(a), _b = (long long)(b); \
        if (_a != _b) { fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", \
            __FILE__, __LINE__, #a, _a, #b, _b); mmt_failed_now = 1; } } while (0)
#define CHECK_STR(a, b) do { const char *_a = (a), *_b = (b);            \
        if (!_a || !_b || strcmp(_a, _b) != 0) {                         \
            fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n",    \
                __FILE__, __LINE__, #a, _a ? _a : "(null)", _b ? _b : "(null)"); \
            mmt_failed_now = 1; } } while (0)
/* A call returning 0 / MM_E*: prints the library's message on failure. */
#define CHECK_OK(call) do { int _rc = (call); if (_rc != 0) {            \
        fprintf(stderr, "%s:%d: %s = %d: %s\n", __FILE__, __LINE__, #call, _rc, \
            mm_error_last()); mmt_failed_now = 1; } } while (0)
#define MMT_SKIP(why) do { mmt_skip_why = (why); return; } while (0)

/* Path of a file below the shared test data, or NULL when it is absent
 * (the caller then skips).  Static buffer. */
const char *mmt_shared(const char *rel);
/* Path of a fixture below tests/fixtures.  Static buffer. */
const char *mmt_fixture(const char *rel);
/* A fresh private temp folder for this test. Static buffer. */
const char *mmt_tmpdir(void);
/* Reads a whole file (NUL-terminated); NULL on failure. Caller frees. */
char *mmt_read(const char *path, size_t *len);

#define MM_TEST_MAIN                                                     \
    struct mmt_case mmt_cases[512]; int mmt_ncases;                      \
    int mmt_failed_now; const char *mmt_skip_why;                        \
    int main(int argc, char **argv) { return mmt_main(argc, argv); }
int mmt_main(int argc, char **argv);

#endif
