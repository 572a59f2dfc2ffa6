/*
 * fuzz_net_json.c - libFuzzer target for lib/net's JSON reader (jsonrd.c,
 * the learned baseline), differential: jansson's json_loadb with
 * JSON_REJECT_DUPLICATES is the oracle.  Whatever one accepts the other
 * must accept, with the same top-level kind and size; every token's
 * subtree end must lie within the array and strings must be as long as
 * they say (NUL-terminated, no NUL inside).  The in-place parse of a
 * padded buffer (nt_json_parse_buf) must give the same tokens and the same
 * error, and nt_json_fields the same values as nt_json_get.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "net/net_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    nt_json j, b;
    int rc = nt_json_parse(&j, "fuzz", (const char *)data, size);
    char *err = rc ? strdup(mm_error_last()) : NULL;
    char *buf = malloc(size + NT_JSON_PAD);
    if (size)
        memcpy(buf, data, size);
    memset(buf + size, 0, NT_JSON_PAD);
    int rcb = nt_json_parse_buf(&b, "fuzz", buf, size);
    if (rcb != rc || (rc && strcmp(err, mm_error_last())))
        abort(); /* the two entry points disagree */
    free(err);
    if (!rc) {
        if (b.ntok != j.ntok)
            abort();
        for (size_t i = 0; i < j.ntok; i++)
            if (b.tok[i].type != j.tok[i].type || b.tok[i].next != j.tok[i].next ||
                (j.tok[i].type == NT_J_STR && strcmp(b.text + b.tok[i].off, j.text + j.tok[i].off)))
                abort();
        nt_json_free(&b);
    }
    json_error_t je;
    json_t *ref = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
    if ((rc == 0) != (ref != NULL))
        abort(); /* the two readers disagree on validity */
    if (rc == 0) {
        if (j.ntok == 0 || j.tok[0].next != j.ntok)
            abort();
        if (json_is_object(ref) ? (j.tok[0].type != NT_J_OBJ || j.tok[0].n != json_object_size(ref))
                                : (j.tok[0].type != NT_J_ARR || j.tok[0].n != json_array_size(ref)))
            abort();
        for (size_t i = 0; i < j.ntok; i++) {
            const nt_jtok *t = &j.tok[i];
            if (t->next <= i || t->next > j.ntok)
                abort();
            if (t->type == NT_J_STR && strlen(j.text + t->off) != t->len)
                abort();
        }
        /* the first keys of the top object (and two unknown ones) found in
           one walk as by nt_json_get */
        if (j.tok[0].type == NT_J_OBJ) {
            nt_jkey keys[8];
            long vals[8];
            size_t nk = 0;
            uint32_t k = 1;
            for (uint32_t i = 0; i < j.tok[0].n && nk < 6; i++, k = j.tok[k + 1].next)
                if (j.tok[k].len < sizeof keys[0].s) {   /* keys of up to 15 bytes */
                    memset(&keys[nk], 0, sizeof keys[nk]);
                    memcpy(keys[nk].s, j.text + j.tok[k].off, j.tok[k].len);
                    keys[nk++].len = j.tok[k].len;
                }
            size_t real = nk;
            keys[nk++] = (nt_jkey)NT_JKEY("no such key");
            keys[nk++] = (nt_jkey)NT_JKEY("");
            nt_json_fields(&j, 0, keys, nk, vals);
            for (size_t i = 0; i < nk; i++) {
                long want = nt_json_get(&j, 0, keys[i].s);
                /* an extra that repeats a real key: the real one gets it */
                if (vals[i] != want && !(i >= real && vals[i] == -1))
                    abort();
            }
        }
        /* a lookup of every key of the top object finds a value */
        if (json_is_object(ref)) {
            const char *k;
            json_t *v;
            json_object_foreach(ref, k, v) {
                long x = nt_json_get(&j, 0, k);
                if (x < 0 || (json_is_integer(v) && (j.tok[x].type != NT_J_INT ||
                                                     j.tok[x].i != json_integer_value(v))) ||
                    (json_is_string(v) && (j.tok[x].type != NT_J_STR ||
                                           strcmp(j.text + j.tok[x].off, json_string_value(v)))))
                    abort();
            }
        }
        nt_json_free(&j);
    }
    json_decref(ref);
    return 0;
}
