/*
 * test_tree.c - the merged file tree: whiteouts, opaque directories, files
 * replacing directories, re-added paths, symlink resolution that stays in
 * the root, loops, and the record of deleted versions.
 */
#include <sys/stat.h>

#include "mmtest.h"
#include "image/tree.h"
#include "util/util.h"

static void add(mm_tree *t, int layer, const char *p, uint32_t type,
                const char *link)
{
    mm_tree_add(t, layer, p, type | 0644, 0, 0, 1, 0, link, false);
}

static int count_deleted(void *ud, const mm_node *n, bool deleted)
{
    (void)n;
    if (deleted)
        (*(int *)ud)++;
    return 0;
}

MM_TEST(whiteouts)
{
    mm_tree *t = mm_tree_new();
    add(t, 0, "etc", S_IFDIR, NULL);
    add(t, 0, "etc/passwd", S_IFREG, NULL);
    add(t, 0, "etc/secret", S_IFREG, NULL);
    add(t, 0, "usr/share/doc/a/copyright", S_IFREG, NULL);
    add(t, 0, "opt/x/one", S_IFREG, NULL);
    add(t, 0, "opt/x/two", S_IFREG, NULL);
    mm_tree_end_layer(t, 0);
    add(t, 1, "etc/.wh.secret", S_IFREG, NULL);
    add(t, 1, "usr/share/doc/.wh.a", S_IFREG, NULL);
    add(t, 1, "opt/x/.wh..wh..opq", S_IFREG, NULL);
    add(t, 1, "opt/x/three", S_IFREG, NULL);
    add(t, 1, "etc/passwd", S_IFREG, NULL);
    mm_tree_end_layer(t, 1);
    CHECK(mm_tree_get(t, "etc/passwd") != NULL);
    CHECK_INT(mm_tree_get(t, "etc/passwd")->layer, 1);
    CHECK(mm_tree_get(t, "etc/secret") == NULL);
    CHECK(mm_tree_get(t, "/usr/share/doc/a/copyright") == NULL);
    CHECK(mm_tree_get(t, "opt/x/one") == NULL);
    CHECK(mm_tree_get(t, "opt/x/three") != NULL);
    CHECK(mm_tree_get(t, "etc/.wh.secret") == NULL);
    int deleted = 0;
    mm_tree_foreach(t, count_deleted, &deleted);
    /* secret, copyright, one, two, and the old passwd */
    CHECK_INT(deleted, 5);
    CHECK_INT(mm_tree_deleted_count(t), 5);
    /* re-added after a whiteout */
    add(t, 2, "etc/secret", S_IFREG, NULL);
    mm_tree_end_layer(t, 2);
    CHECK(mm_tree_get(t, "etc/secret") != NULL);
    mm_tree_free(t);
}

MM_TEST(file_over_directory)
{
    mm_tree *t = mm_tree_new();
    add(t, 0, "data", S_IFDIR, NULL);
    add(t, 0, "data/old", S_IFREG, NULL);
    add(t, 1, "data", S_IFREG, NULL);
    CHECK(mm_tree_get(t, "data/old") == NULL);
    CHECK(mm_tree_get(t, "data") != NULL);
    mm_tree_free(t);
}

MM_TEST(symlinks_stay_in_root)
{
    mm_tree *t = mm_tree_new();
    add(t, 0, "usr/lib/os-release", S_IFREG, NULL);
    add(t, 0, "etc/os-release", S_IFLNK, "../usr/lib/os-release");
    add(t, 0, "etc/abs", S_IFLNK, "/usr/lib/os-release");
    add(t, 0, "etc/escape", S_IFLNK, "../../../../../usr/lib/os-release");
    add(t, 0, "lib", S_IFLNK, "usr/lib");
    add(t, 0, "loop1", S_IFLNK, "loop2");
    add(t, 0, "loop2", S_IFLNK, "loop1");
    const mm_node *n = mm_tree_resolve(t, "etc/os-release");
    CHECK(n && !strcmp(n->path, "usr/lib/os-release"));
    n = mm_tree_resolve(t, "etc/abs");
    CHECK(n && !strcmp(n->path, "usr/lib/os-release"));
    /* climbing out is clamped at the image root, never the host's */
    n = mm_tree_resolve(t, "etc/escape");
    CHECK(n && !strcmp(n->path, "usr/lib/os-release"));
    n = mm_tree_resolve(t, "lib/os-release");
    CHECK(n && !strcmp(n->path, "usr/lib/os-release"));
    CHECK(mm_tree_resolve(t, "loop1") == NULL);
    CHECK(mm_tree_resolve(t, "missing") == NULL);
    mm_tree_free(t);
}

MM_TEST(many_entries)
{
    mm_tree *t = mm_tree_new();
    char p[64];
    for (int i = 0; i < 200000; i++) {
        snprintf(p, sizeof p, "d%d/f%d", i % 100, i);
        add(t, 0, p, S_IFREG, NULL);
    }
    add(t, 1, ".wh.d7", S_IFREG, NULL);
    CHECK_INT(mm_tree_count(t), 200000 - 2000);
    CHECK(mm_tree_get(t, "d8/f8") != NULL);
    CHECK(mm_tree_get(t, "d7/f7") == NULL);
    mm_tree_free(t);
}

MM_TEST_MAIN
