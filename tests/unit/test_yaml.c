/*
 * test_yaml.c - the options of the one YAML loader (lib/util/yaml.c) that
 * the data-file loaders use: scalars kept as strings, the first document
 * only, aliases refused, a per-scalar size cap, last key wins; and the
 * "FILE:LINE:COL: message" form of its errors.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mamori.h"
#include "util/util.h"
#include "mmtest.h"

static int load(json_t **out, const char *y, const mm_yaml_limits *lim)
{
    return mm_yaml_load_one(out, y, strlen(y), "f.yaml", lim, NULL);
}

MM_TEST(yaml_scalars_typed_by_default)
{
    json_t *v = NULL;
    CHECK_OK(load(&v, "a: 1.10\nb: yes\nc: 0x10\nd: ~\ne: '1.10'\n", NULL));
    CHECK(json_is_real(json_object_get(v, "a")));
    CHECK(json_is_true(json_object_get(v, "b")));
    CHECK_INT(json_integer_value(json_object_get(v, "c")), 16);
    CHECK(json_is_null(json_object_get(v, "d")));
    CHECK_STR(json_string_value(json_object_get(v, "e")), "1.10");
    json_decref(v);
}

MM_TEST(yaml_scalars_as_strings)
{
    mm_yaml_limits lim;
    mm_yaml_limits_init(&lim);
    lim.scalars = MM_YAML_STRINGS;
    json_t *v = NULL;
    CHECK_OK(load(&v, "a: 1.10\nb: yes\nc: 0x10\nd: ~\ne:\nf: true\ng: FALSE\n"
                      "h: 'true'\ni: !!int 5\nj: null\nk: [1, off]\n", &lim));
    CHECK_STR(json_string_value(json_object_get(v, "a")), "1.10");
    CHECK_STR(json_string_value(json_object_get(v, "b")), "yes");
    CHECK_STR(json_string_value(json_object_get(v, "c")), "0x10");
    CHECK(json_is_null(json_object_get(v, "d")));
    CHECK(json_is_null(json_object_get(v, "e")));
    CHECK(json_is_true(json_object_get(v, "f")));
    CHECK(json_is_false(json_object_get(v, "g")));
    CHECK_STR(json_string_value(json_object_get(v, "h")), "true");  /* quoted */
    CHECK_STR(json_string_value(json_object_get(v, "i")), "5");     /* tagged */
    CHECK(json_is_null(json_object_get(v, "j")));
    json_t *k = json_object_get(v, "k");
    CHECK_STR(json_string_value(json_array_get(k, 0)), "1");
    CHECK_STR(json_string_value(json_array_get(k, 1)), "off");
    json_decref(v);
}

MM_TEST(yaml_first_document_only)
{
    const char *y = "a: 1\n---\nb: [unclosed\n";
    json_t *v = NULL;
    /* by default the whole stream is read: the second document is broken */
    CHECK_INT(load(&v, y, NULL), MM_EFORMAT);
    CHECK(strncmp(mm_error_last(), "f.yaml:4:1: ", 12) == 0);   /* at the end of the stream */
    CHECK(v == NULL);
    mm_yaml_limits lim;
    mm_yaml_limits_init(&lim);
    lim.first_doc_only = true;
    CHECK_OK(load(&v, y, &lim));
    CHECK_INT(json_integer_value(json_object_get(v, "a")), 1);
    CHECK(json_object_get(v, "b") == NULL);
    json_decref(v);
    /* two good documents: one is taken, no "holds 2 documents" error */
    CHECK_OK(load(&v, "x: 1\n---\ny: 2\n", &lim));
    CHECK(json_object_get(v, "x") != NULL);
    json_decref(v);
    /* without the option, two documents are refused by load_one */
    CHECK_INT(load(&v, "x: 1\n---\ny: 2\n", NULL), MM_EFORMAT);
}

MM_TEST(yaml_aliases_refused_or_allowed)
{
    const char *y = "base: &b\n  k: v\nuse: *b\n";
    json_t *v = NULL;
    CHECK_OK(load(&v, y, NULL));
    CHECK_STR(json_string_value(json_object_get(json_object_get(v, "use"), "k")), "v");
    json_decref(v);
    mm_yaml_limits lim;
    mm_yaml_limits_init(&lim);
    lim.no_aliases = true;
    v = NULL;
    CHECK_INT(load(&v, y, &lim), MM_EFORMAT);
    CHECK(v == NULL);
    CHECK(strstr(mm_error_last(), "f.yaml:3:6: aliases (*b) are not accepted") != NULL);
    /* an anchor alone is fine */
    CHECK_OK(load(&v, "base: &b\n  k: v\n", &lim));
    json_decref(v);
}

MM_TEST(yaml_scalar_size_cap)
{
    mm_yaml_limits lim;
    mm_yaml_limits_init(&lim);
    lim.max_scalar = 8;
    json_t *v = NULL;
    CHECK_OK(load(&v, "a: 12345678\n", &lim));   /* exactly the cap */
    json_decref(v);
    v = NULL;
    CHECK_INT(load(&v, "a: ok\nb: 123456789\n", &lim), MM_ELIMIT);
    CHECK(strstr(mm_error_last(), "f.yaml:2:4: a scalar is longer than the 8-byte cap")
          != NULL);
    /* keys count too */
    CHECK_INT(load(&v, "a: ok\nlong_key_here: 1\n", &lim), MM_ELIMIT);
    CHECK(strstr(mm_error_last(), "f.yaml:2:1:") != NULL);
    CHECK(v == NULL);
}

MM_TEST(yaml_duplicate_keys)
{
    const char *y = "a: 1\nb: 2\na: 3\n";
    json_t *v = NULL;
    CHECK_INT(load(&v, y, NULL), MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "f.yaml:3:1: duplicate key \"a\"") != NULL);
    mm_yaml_limits lim;
    mm_yaml_limits_init(&lim);
    lim.dup_last_wins = true;
    CHECK_OK(load(&v, y, &lim));
    CHECK_INT(json_integer_value(json_object_get(v, "a")), 3);
    json_decref(v);
}

MM_TEST(yaml_error_positions)
{
    json_t *v = NULL;
    /* a syntax error: line and column of libyaml's problem mark */
    CHECK_INT(load(&v, "a: b\nc: [d, e\n", NULL), MM_EFORMAT);
    CHECK(strncmp(mm_error_last(), "f.yaml:3:1: ", 12) == 0);
    /* a bad tag value points at the scalar */
    CHECK_INT(load(&v, "x:\n  y: !!bool maybe\n", NULL), MM_EFORMAT);
    CHECK(strncmp(mm_error_last(), "f.yaml:2:6: ", 12) == 0);
    /* depth cap at the opening bracket */
    mm_yaml_limits lim;
    mm_yaml_limits_init(&lim);
    lim.max_depth = 2;
    CHECK_INT(load(&v, "a:\n  b:\n    c: 1\n", &lim), MM_ELIMIT);
    CHECK(strncmp(mm_error_last(), "f.yaml:3:5: nesting deeper than 2", 33) == 0);
    /* positions of keys and items in the posmap */
    mm_yaml_posmap *pm = mm_yaml_posmap_new();
    CHECK_OK(mm_yaml_load_one(&v, "top:\n  - one\n  -   two\n", 23, "f.yaml", NULL, pm));
    json_t *top = json_object_get(v, "top");
    int line = 0, col = 0;
    CHECK(mm_yaml_pos_get(pm, v, "top", 0, &line, &col));
    CHECK_INT(line, 1);
    CHECK_INT(col, 1);
    CHECK(mm_yaml_pos_get(pm, top, NULL, 1, &line, &col));
    CHECK_INT(line, 3);
    CHECK_INT(col, 7);
    json_decref(v);
    mm_yaml_posmap_free(pm);
}

MM_TEST(yaml_scalars_as_text)
{
    mm_yaml_limits lim;
    mm_yaml_limits_init(&lim);
    lim.scalars = MM_YAML_TEXT;
    json_t *v = NULL;
    CHECK_OK(load(&v, "a: 1.10\nb: true\nc: ~\nd:\n", &lim));
    CHECK_STR(json_string_value(json_object_get(v, "a")), "1.10");
    CHECK_STR(json_string_value(json_object_get(v, "b")), "true");
    CHECK_STR(json_string_value(json_object_get(v, "c")), "~");
    CHECK_STR(json_string_value(json_object_get(v, "d")), "");
    json_decref(v);
}

MM_TEST(yaml_errf_names_the_position)
{
    mm_yaml_posmap *pm = mm_yaml_posmap_new();
    json_t *v = NULL;
    const char *y = "# c\n\n  top:\n    k: 1\n    l: [a,  b]\n";
    CHECK_OK(mm_yaml_load_one(&v, y, strlen(y), "e.yaml", NULL, pm));
    json_t *top = json_object_get(v, "top");
    CHECK_INT(mm_yaml_errf(pm, "e.yaml", top, "k", 0, MM_EFORMAT, "bad %s", "k"), MM_EFORMAT);
    CHECK_STR(mm_error_last(), "e.yaml:4:5: bad k");
    mm_yaml_errf(pm, "e.yaml", json_object_get(top, "l"), NULL, 1, MM_EFORMAT, "item");
    CHECK_STR(mm_error_last(), "e.yaml:5:13: item");
    mm_yaml_errf(pm, "e.yaml", NULL, NULL, 0, MM_EFORMAT, "root");
    CHECK_STR(mm_error_last(), "e.yaml:3:3: root");
    mm_yaml_errf(pm, "e.yaml", top, "nope", 0, MM_ELIMIT, "none");
    CHECK_STR(mm_error_last(), "e.yaml: none");
    mm_yaml_errf(NULL, "e.yaml", top, "k", 0, MM_ELIMIT, "no map");
    CHECK_STR(mm_error_last(), "e.yaml: no map");
    json_decref(v);
    mm_yaml_posmap_free(pm);
}

MM_TEST(yaml_plain_flag_and_nul_keys)
{
    mm_yaml_limits lim;
    mm_yaml_limits_init(&lim);
    lim.scalars = MM_YAML_TEXT;
    mm_yaml_posmap *pm = mm_yaml_posmap_new();
    json_t *v = NULL;
    const char *y = "a: true\nb: 'true'\nc: !!str 30\nd: [30, \"30\"]\ne: {x: 1}\n";
    CHECK_OK(mm_yaml_load_one(&v, y, strlen(y), "p.yaml", &lim, pm));
    CHECK(mm_yaml_pos_plain(pm, v, "a", 0));
    CHECK(!mm_yaml_pos_plain(pm, v, "b", 0));
    CHECK(!mm_yaml_pos_plain(pm, v, "c", 0));
    CHECK(mm_yaml_pos_plain(pm, json_object_get(v, "d"), NULL, 0));
    CHECK(!mm_yaml_pos_plain(pm, json_object_get(v, "d"), NULL, 1));
    CHECK(!mm_yaml_pos_plain(pm, v, "e", 0));      /* a mapping */
    CHECK(!mm_yaml_pos_plain(pm, v, "zz", 0));     /* not there */
    json_decref(v);
    mm_yaml_posmap_free(pm);
    /* a key with a NUL byte cannot be a C string key: refused */
    const char nul[] = "\"a\\0b\": 1\n";
    v = NULL;
    CHECK_INT(mm_yaml_load_one(&v, nul, sizeof nul - 1, "n.yaml", NULL, NULL), MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "n.yaml:1:1: a NUL byte in a key") != NULL);
    CHECK(v == NULL);
}

/* The options of the document-walking loaders (Falco rules, behaviour
 * profiles): each value's own position, where the value starts (a block
 * scalar at its indicator, a block mapping at its first key, an alias at
 * its anchor); the first of repeated keys kept and the repetition noted; a
 * tag before the loader's own errors. */
MM_TEST(yaml_value_positions)
{
    mm_yaml_limits lim;
    mm_yaml_limits_init(&lim);
    lim.scalars = MM_YAML_TEXT;
    lim.pos_values = true;
    mm_yaml_posmap *pm = mm_yaml_posmap_new();
    const char *y = "- rule: r\n"
                    "  condition: >\n"
                    "    a and\n"
                    "    b\n"
                    "  output:\n"
                    "    text\n"
                    "  list: &L [x, y]\n"
                    "  again: *L\n"
                    "  empty:\n"
                    "  q: 'null'\n"
                    "  map:\n"
                    "    k: v\n";
    json_t *v = NULL;
    CHECK_OK(mm_yaml_load_one(&v, y, strlen(y), "r.yaml", &lim, pm));
    json_t *item = json_array_get(v, 0);
    int line = 0, col = 0;
    CHECK(mm_yaml_pos_of(pm, v, &line, &col) && line == 1 && col == 1);
    CHECK(mm_yaml_pos_of(pm, item, &line, &col) && line == 1 && col == 3);
    CHECK(mm_yaml_pos_of(pm, json_object_get(item, "condition"), &line, &col) && line == 2 &&
          col == 14);
    CHECK_STR(json_string_value(json_object_get(item, "condition")), "a and b\n");
    CHECK(mm_yaml_pos_of(pm, json_object_get(item, "output"), &line, &col) && line == 6 &&
          col == 5);
    /* the key itself stays where it is written */
    CHECK(mm_yaml_pos_get(pm, item, "output", 0, &line, &col) && line == 5 && col == 3);
    CHECK(json_object_get(item, "again") == json_object_get(item, "list"));
    CHECK(mm_yaml_pos_of(pm, json_object_get(item, "again"), &line, NULL) && line == 7);
    CHECK(mm_yaml_plain_of(pm, json_object_get(item, "empty")));
    CHECK(!mm_yaml_plain_of(pm, json_object_get(item, "q")));
    CHECK(mm_yaml_pos_of(pm, json_object_get(item, "map"), &line, &col) && line == 12 &&
          col == 5);
    CHECK(!mm_yaml_pos_of(pm, json_object_get(json_object_get(item, "map"), "nokey"), NULL, NULL));
    json_decref(v);
    mm_yaml_posmap_free(pm);
}

MM_TEST(yaml_first_key_wins_and_errtag)
{
    mm_yaml_limits lim;
    mm_yaml_limits_init(&lim);
    lim.scalars = MM_YAML_TEXT;
    lim.pos_values = true;
    lim.dup_first_wins = true;
    mm_yaml_posmap *pm = mm_yaml_posmap_new();
    const char *y = "a: 1\nb: {c: 2, c: 3}\na: 4\nd: {e: 5}\n";
    json_t *v = NULL;
    CHECK_OK(mm_yaml_load_one(&v, y, strlen(y), "d.yaml", &lim, pm));
    CHECK_STR(json_string_value(json_object_get(v, "a")), "1");
    json_t *b = json_object_get(v, "b");
    CHECK_STR(json_string_value(json_object_get(b, "c")), "2");
    const char *k = NULL;
    int line = 0, col = 0;
    CHECK(mm_yaml_dup_of(pm, v, &k, &line, &col) && !strcmp(k, "a") && line == 3 && col == 1);
    CHECK(mm_yaml_dup_of(pm, b, &k, &line, &col) && !strcmp(k, "c") && line == 2 && col == 11);
    CHECK(!mm_yaml_dup_of(pm, json_object_get(v, "d"), NULL, NULL, NULL));
    json_decref(v);
    mm_yaml_posmap_free(pm);
    /* the loader's own errors carry the tag; without it they do not */
    lim.errtag = "YAML error";
    CHECK_INT(mm_yaml_load_one(&v, "a: [1\n", 6, "t.yaml", &lim, NULL), MM_EFORMAT);
    CHECK(!strncmp(mm_error_last(), "t.yaml:2:1: YAML error: ", 24));
    lim.errtag = NULL;
    CHECK_INT(mm_yaml_load_one(&v, "a: [1\n", 6, "t.yaml", &lim, NULL), MM_EFORMAT);
    CHECK(!strstr(mm_error_last(), "YAML error"));
}

/* The first pass of the profile loader (pos_nulls_only): only the null
 * spellings keep a position (plain or not, as before), other values none;
 * equal short scalars may be one shared json_t, with the same text. */
MM_TEST(yaml_pos_nulls_only)
{
    mm_yaml_limits lim;
    mm_yaml_limits_init(&lim);
    lim.scalars = MM_YAML_TEXT;
    lim.pos_values = true;
    lim.pos_no_keys = true;
    lim.pos_nulls_only = true;
    lim.dup_first_wins = true;
    mm_yaml_posmap *pm = mm_yaml_posmap_new();
    const char *y = "a: \nb: ~\nc: 'null'\nd: x\ne: [tcp, tcp, \"tcp\"]\nf: {g: 1}\na: 2\n";
    json_t *v = NULL;
    CHECK_OK(mm_yaml_load_one(&v, y, strlen(y), "n.yaml", &lim, pm));
    CHECK(mm_yaml_plain_of(pm, json_object_get(v, "a")));
    CHECK(mm_yaml_plain_of(pm, json_object_get(v, "b")));
    CHECK(!mm_yaml_plain_of(pm, json_object_get(v, "c")));
    CHECK(mm_yaml_pos_of(pm, json_object_get(v, "c"), NULL, NULL));
    CHECK(!mm_yaml_pos_of(pm, json_object_get(v, "d"), NULL, NULL));
    CHECK(!mm_yaml_pos_of(pm, json_object_get(v, "f"), NULL, NULL));
    CHECK(!mm_yaml_pos_get(pm, v, "d", 0, NULL, NULL));
    json_t *e = json_object_get(v, "e");
    CHECK_INT((int)json_array_size(e), 3);
    for (size_t i = 0; i < 3; i++)
        CHECK_STR(json_string_value(json_array_get(e, i)), "tcp");
    CHECK_STR(json_string_value(json_object_get(v, "a")), "");
    const char *k = NULL;
    int line = 0;
    CHECK(mm_yaml_dup_of(pm, v, &k, &line, NULL) && !strcmp(k, "a") && line == 7);
    json_decref(v);
    mm_yaml_posmap_free(pm);
}

/* Many keys in one mapping (more than the 64 bits that spare most keys a
 * lookup): every repetition is still found, first or last wins, or error. */
MM_TEST(yaml_many_keys_duplicates)
{
    mm_buf b = MM_BUF_INIT;
    for (int i = 0; i < 200; i++)
        mm_buf_printf(&b, "k%d: %d\n", i, i);
    mm_buf_printf(&b, "k137: again\n");
    mm_yaml_limits lim;
    mm_yaml_limits_init(&lim);
    json_t *v = NULL;
    CHECK_INT(mm_yaml_load_one(&v, b.data, b.len, "k.yaml", &lim, NULL), MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "k.yaml:201:1: duplicate key \"k137\"") != NULL);
    lim.dup_first_wins = true;
    lim.scalars = MM_YAML_TEXT;
    mm_yaml_posmap *pm = mm_yaml_posmap_new();
    CHECK_OK(mm_yaml_load_one(&v, b.data, b.len, "k.yaml", &lim, pm));
    CHECK_INT((int)json_object_size(v), 200);
    CHECK_STR(json_string_value(json_object_get(v, "k137")), "137");
    const char *k = NULL;
    CHECK(mm_yaml_dup_of(pm, v, &k, NULL, NULL) && !strcmp(k, "k137"));
    json_decref(v);
    mm_yaml_posmap_free(pm);
    lim.dup_first_wins = false;
    lim.dup_last_wins = true;
    CHECK_OK(mm_yaml_load_one(&v, b.data, b.len, "k.yaml", &lim, NULL));
    CHECK_STR(json_string_value(json_object_get(v, "k137")), "again");
    json_decref(v);
    mm_buf_free(&b);
}

MM_TEST_MAIN
