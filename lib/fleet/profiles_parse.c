/*
 * profiles_parse.c - the upload bodies of runtime profiles and capture
 * lists (issue 20a), checked before anything is stored: an agent's
 * learned profile ({host_id, id, profile: the profile document of
 * docs/profiles.md as JSON}) split into one document per image, and the
 * list of the captures an agent keeps.  Both are untrusted input: every
 * member is checked for type and size, unknown members are refused (a
 * profile is a policy: nothing in it may be silently dropped), counts are
 * capped, and an error names the field ("profile.images[2].listen[0].port:
 * ...").  Shared with the fuzz target (tests/fuzz/fuzz_fleet_profile.c).
 */
#include <stdlib.h>
#include <string.h>

#include "fleet/profiles.h"

#define MAX_STR 4096
#define MAX_PARENTS 64
static const char *const CATS[] = {"processes", "files", "listen", "connect"};

static int str_ok(json_t *v, size_t max, const char *where, const char *key)
{
    if (!json_is_string(v))
        return mm_error_set(MM_EFORMAT, "%s.%s: want a string", where, key);
    if (json_string_length(v) > max)
        return mm_error_set(MM_ELIMIT, "%s.%s: longer than %zu bytes", where, key, max);
    if (memchr(json_string_value(v), 0, json_string_length(v)))
        return mm_error_set(MM_EFORMAT, "%s.%s: holds a NUL character", where, key);
    return 0;
}

static int int_ok(json_t *v, json_int_t max, const char *where, const char *key)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
        return mm_error_set(MM_EFORMAT, "%s.%s: want a whole number from 0 to %lld", where,
                            key, (long long)max);
    return 0;
}

/* One entry of a category: the keys docs/profiles.md names, typed. */
static int entry_ok(json_t *e, const char *where)
{
    if (!json_is_object(e))
        return mm_error_set(MM_EFORMAT, "%s: want an object", where);
    const char *k;
    json_t *v;
    json_object_foreach(e, k, v) {
        int rc = 0;
        if (!strcmp(k, "exe") || !strcmp(k, "name") || !strcmp(k, "path") ||
            !strcmp(k, "dest") || !strcmp(k, "proto") || !strcmp(k, "first_seen"))
            rc = str_ok(v, MAX_STR, where, k);
        else if (!strcmp(k, "port"))
            rc = json_is_integer(v) ? int_ok(v, 65535, where, k) : str_ok(v, 64, where, k);
        else if (!strcmp(k, "count"))
            rc = int_ok(v, (json_int_t)1 << 53, where, k);
        else if (!strcmp(k, "parents")) {
            if (json_is_string(v))
                rc = str_ok(v, MAX_STR, where, k);
            else if (!json_is_array(v))
                rc = mm_error_set(MM_EFORMAT, "%s.parents: want a name or a list", where);
            else if (json_array_size(v) > MAX_PARENTS)
                rc = mm_error_set(MM_ELIMIT, "%s.parents: more than %d", where, MAX_PARENTS);
            for (size_t i = 0; rc == 0 && json_is_array(v) && i < json_array_size(v); i++)
                rc = str_ok(json_array_get(v, i), MAX_STR, where, "parents[]");
        } else
            rc = mm_error_set(MM_EFORMAT, "%s: unknown key '%.64s'", where, k);
        if (rc)
            return rc;
    }
    return 0;
}

static int action_ok(json_t *v, const char *where)
{
    if (json_is_string(v))
        return str_ok(v, 16, where, "action");
    if (!json_is_object(v))
        return mm_error_set(MM_EFORMAT, "%s.action: want none, kill or {category: ...}", where);
    if (json_object_size(v) > 8)
        return mm_error_set(MM_ELIMIT, "%s.action: more than 8 keys", where);
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) {
        int rc = str_ok(x, 16, where, "action");
        if (rc)
            return rc;
    }
    return 0;
}

/* One image of the profile; *entries grows by its entries. */
static int image_ok(json_t *im, const char *where, size_t *entries, json_t *counts)
{
    if (!json_is_object(im))
        return mm_error_set(MM_EFORMAT, "%s: want an object", where);
    json_t *name = json_object_get(im, "image");
    if (!name)
        return mm_error_set(MM_EFORMAT, "%s.image: required", where);
    int rc = str_ok(name, MAX_STR, where, "image");
    if (rc == 0 && !json_string_length(name))
        rc = mm_error_set(MM_EFORMAT, "%s.image: empty", where);
    const char *k;
    json_t *v;
    json_object_foreach(im, k, v) {
        if (rc)
            break;
        int cat = -1;
        for (int c = 0; c < 4; c++)
            if (!strcmp(k, CATS[c]))
                cat = c;
        if (!strcmp(k, "image"))
            continue;
        if (!strcmp(k, "priority"))
            rc = str_ok(v, 32, where, k);
        else if (!strcmp(k, "action"))
            rc = action_ok(v, where);
        else if (cat < 0)
            rc = mm_error_set(MM_EFORMAT, "%s: unknown key '%.64s'", where, k);
        else if (json_is_null(v))
            continue;   /* not checked */
        else if (!json_is_array(v))
            rc = mm_error_set(MM_EFORMAT, "%s.%s: want a list", where, k);
        else {
            if (*entries + json_array_size(v) > FLEET_PROFILE_MAX_ENTRIES)
                return mm_error_set(MM_ELIMIT, "%s.%s: more than %d entries in the profile",
                                    where, k, FLEET_PROFILE_MAX_ENTRIES);
            *entries += json_array_size(v);
            json_object_set_new(counts, k, json_integer((json_int_t)json_array_size(v)));
            for (size_t i = 0; rc == 0 && i < json_array_size(v); i++) {
                char w[96];
                snprintf(w, sizeof w, "%.48s.%s[%zu]", where, k, i);
                rc = entry_ok(json_array_get(v, i), w);
            }
        }
    }
    return rc;
}

static int64_t learned_time(json_t *learned, const char *key, int *rc)
{
    json_t *v = json_object_get(learned, key);
    int64_t t = 0;
    if (!v || json_is_null(v) || *rc)
        return 0;
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) < 100000000000LL)
        return (int64_t)json_integer_value(v);
    if (!json_is_string(v) || fleet_time_parse(json_string_value(v), &t) != 0)
        *rc = mm_error_set(MM_EFORMAT, "profile.learned.%s: want an RFC 3339 time", key);
    return t;
}

void fleet_profile_upload_free(fleet_profile_upload *u)
{
    free(u->host_id);
    free(u->upload_id);
    for (size_t i = 0; i < u->n; i++) {
        free(u->img[i].image);
        free(u->img[i].doc);
        free(u->img[i].counts);
    }
    free(u->img);
    memset(u, 0, sizeof *u);
}

int fleet_profile_parse(const char *body, size_t len, fleet_profile_upload *out)
{
    memset(out, 0, sizeof *out);
    if (len > FLEET_PROFILE_MAX_BODY)
        return mm_error_set(MM_ELIMIT, "body: larger than %u bytes", FLEET_PROFILE_MAX_BODY);
    json_t *doc;
    const char *host = NULL, *id = NULL;
    int rc = fleet_host_body(body, len, &doc, &host, &id);
    if (!doc)
        return rc;
    json_t *p = json_object_get(doc, "profile");
    json_t *images = json_object_get(p, "images"), *learned = json_object_get(p, "learned");
    if (rc)
        ;
    else if (!json_is_object(p))
        rc = mm_error_set(MM_EFORMAT, "profile: required, the profile document as an object");
    else if (!json_is_integer(json_object_get(p, "version")) ||
             json_integer_value(json_object_get(p, "version")) != 1)
        rc = mm_error_set(MM_EFORMAT, "profile.version: want 1");
    else if (!json_is_array(images))
        rc = mm_error_set(MM_EFORMAT, "profile.images: want a list");
    else if (json_array_size(images) > FLEET_PROFILE_MAX_IMAGES)
        rc = mm_error_set(MM_ELIMIT, "profile.images: more than %d", FLEET_PROFILE_MAX_IMAGES);
    else if (learned && !json_is_null(learned) && !json_is_object(learned))
        rc = mm_error_set(MM_EFORMAT, "profile.learned: want an object");
    /* the top level: known keys only */
    const char *k;
    json_t *v;
    if (rc == 0)
        json_object_foreach(p, k, v) {
            if (rc)
                break;
            if (!strcmp(k, "priority"))
                rc = str_ok(v, 32, "profile", k);
            else if (!strcmp(k, "action"))
                rc = action_ok(v, "profile");
            else if (!strcmp(k, "generalisation") && !json_is_object(v))
                rc = mm_error_set(MM_EFORMAT, "profile.generalisation: want an object");
            else if (strcmp(k, "version") && strcmp(k, "images") && strcmp(k, "learned") &&
                     strcmp(k, "generalisation"))
                rc = mm_error_set(MM_EFORMAT, "profile: unknown key '%.64s'", k);
        }
    int64_t start = learned_time(learned, "start", &rc), end = learned_time(learned, "end", &rc);
    size_t entries = 0;
    if (rc == 0 && json_array_size(images))
        out->img = mm_xcalloc(json_array_size(images), sizeof *out->img);
    for (size_t i = 0; rc == 0 && i < json_array_size(images); i++) {
        char where[48];
        snprintf(where, sizeof where, "profile.images[%zu]", i);
        json_t *im = json_array_get(images, i), *counts = json_object();
        rc = image_ok(im, where, &entries, counts);
        for (size_t j = 0; rc == 0 && j < i; j++)
            if (!strcmp(out->img[j].image, json_string_value(json_object_get(im, "image"))))
                rc = mm_error_set(MM_EFORMAT, "%s.image: '%.200s' twice", where,
                                  out->img[j].image);
        if (rc) {
            json_decref(counts);
            break;
        }
        /* the file's defaults move into the image: each stored document
         * stands alone, and enforced ones are merged per host */
        json_t *one = json_deep_copy(im);
        for (int d = 0; d < 2; d++) {
            const char *dk = d ? "action" : "priority";
            if (!json_object_get(one, dk) && json_object_get(p, dk))
                json_object_set(one, dk, json_object_get(p, dk));
        }
        json_t *sd = json_object();
        json_object_set_new(sd, "version", json_integer(1));
        if (json_is_object(learned))
            json_object_set(sd, "learned", learned);
        json_t *arr = json_array();
        json_array_append_new(arr, one);
        json_object_set_new(sd, "images", arr);
        fleet_profile_image *pi = &out->img[out->n++];
        pi->image = mm_xstrdup(json_string_value(json_object_get(im, "image")));
        pi->doc = json_dumps(sd, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
        pi->counts = json_dumps(counts, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(sd);
        json_decref(counts);
        if (!pi->doc || !pi->counts)
            rc = mm_error_set(MM_EFORMAT, "%s: cannot be serialised", where);
    }
    if (rc == 0) {
        out->host_id = mm_xstrdup(host);
        out->upload_id = id ? mm_xstrdup(id) : NULL;
        out->start = start;
        out->end = end;
        out->entries = entries;
    }
    json_decref(doc);
    if (rc)
        fleet_profile_upload_free(out);
    return rc;
}

void fleet_capture_list_free(fleet_capture_list *c)
{
    free(c->host_id);
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i].file);
    free(c->v);
    memset(c, 0, sizeof *c);
}

int fleet_capture_list_parse(const char *body, size_t len, fleet_capture_list *out)
{
    memset(out, 0, sizeof *out);
    json_t *doc;
    const char *host = NULL;
    int rc = fleet_host_body(body, len, &doc, &host, NULL);
    if (!doc)
        return rc;
    json_t *a = json_object_get(doc, "captures");
    if (rc)
        ;
    else if (!json_is_array(a))
        rc = mm_error_set(MM_EFORMAT, "captures: want a list");
    else if (json_array_size(a) > FLEET_CAPTURE_MAX)
        rc = mm_error_set(MM_ELIMIT, "captures: %zu entries exceed the cap of %d",
                          json_array_size(a), FLEET_CAPTURE_MAX);
    if (rc == 0 && json_array_size(a))
        out->v = mm_xcalloc(json_array_size(a), sizeof *out->v);
    for (size_t i = 0; rc == 0 && i < json_array_size(a); i++) {
        char where[32];
        snprintf(where, sizeof where, "captures[%zu]", i);
        json_t *c = json_array_get(a, i);
        if (!json_is_object(c)) {
            rc = mm_error_set(MM_EFORMAT, "%s: want an object", where);
            break;
        }
        const char *k;
        json_t *v;
        json_object_foreach(c, k, v) {
            if (rc)
                break;
            if (!strcmp(k, "file"))
                rc = str_ok(v, MAX_STR, where, k);
            else if (!strcmp(k, "start") || !strcmp(k, "end"))
                rc = int_ok(v, 100000000000LL, where, k);
            else if (!strcmp(k, "size") || !strcmp(k, "events"))
                rc = int_ok(v, (json_int_t)1 << 53, where, k);
            else
                rc = mm_error_set(MM_EFORMAT, "%s: unknown key '%.64s'", where, k);
        }
        json_t *file = json_object_get(c, "file");
        if (rc == 0 && (!file || !json_string_length(file)))
            rc = mm_error_set(MM_EFORMAT, "%s.file: required", where);
        for (size_t j = 0; rc == 0 && j < out->n; j++)
            if (!strcmp(out->v[j].file, json_string_value(file)))
                rc = mm_error_set(MM_EFORMAT, "%s.file: listed twice", where);
        if (rc)
            break;
        fleet_capture_meta *m = &out->v[out->n++];
        m->file = mm_xstrdup(json_string_value(file));
        m->start = json_integer_value(json_object_get(c, "start"));
        m->end = json_integer_value(json_object_get(c, "end"));
        m->size = json_integer_value(json_object_get(c, "size"));
        m->events = json_integer_value(json_object_get(c, "events"));
    }
    if (rc == 0)
        out->host_id = mm_xstrdup(host);
    json_decref(doc);
    if (rc)
        fleet_capture_list_free(out);
    return rc;
}

void fleet_capture_file_free(fleet_capture_file *c)
{
    free(c->host_id);
    free(c->m.file);
    free(c->data);
    free(c->b64);
    memset(c, 0, sizeof *c);
}

int fleet_capture_file_parse(const char *body, size_t len, fleet_capture_file *out)
{
    memset(out, 0, sizeof *out);
    if (len > FLEET_CAPTURE_FILE_MAX / 3 * 4 + 65536)
        return mm_error_set(MM_ELIMIT, "body: larger than a %u-byte capture file",
                            FLEET_CAPTURE_FILE_MAX);
    json_t *doc;
    const char *host = NULL;
    int rc = fleet_host_body(body, len, &doc, &host, NULL);
    if (!doc)
        return rc;
    json_t *d = json_object_get(doc, "data");
    if (rc)
        ;
    else if (!json_is_string(d))
        rc = mm_error_set(MM_EFORMAT, "data: required, the file in base64");
    const char *k;
    json_t *v;
    if (rc == 0)
        json_object_foreach(doc, k, v) {
            if (rc)
                break;
            if (!strcmp(k, "file"))
                rc = str_ok(v, MAX_STR, "capture", k);
            else if (!strcmp(k, "start") || !strcmp(k, "end"))
                rc = int_ok(v, 100000000000LL, "capture", k);
            else if (!strcmp(k, "size"))
                rc = int_ok(v, FLEET_CAPTURE_FILE_MAX, "capture", k);
            else if (!strcmp(k, "events"))
                rc = int_ok(v, (json_int_t)1 << 53, "capture", k);
            else if (strcmp(k, "host_id") && strcmp(k, "data"))
                rc = mm_error_set(MM_EFORMAT, "capture: unknown key '%.64s'", k);
        }
    json_t *file = json_object_get(doc, "file"), *size = json_object_get(doc, "size");
    if (rc == 0 && (!json_is_string(file) || !json_string_length(file)))
        rc = mm_error_set(MM_EFORMAT, "capture.file: required");
    if (rc == 0 && !json_is_integer(size))
        rc = mm_error_set(MM_EFORMAT, "capture.size: required");
    size_t n = 0;
    if (rc == 0 && (rc = mm_base64_decode(&out->data, &n, json_string_value(d),
                                          json_string_length(d), 0)) != 0)
        rc = mm_error_wrap(MM_EFORMAT, "data: ");
    if (rc == 0 && n != (size_t)json_integer_value(size))
        rc = mm_error_set(MM_EFORMAT, "data: %zu bytes, but size says %lld", n,
                          (long long)json_integer_value(size));
    if (rc == 0) {
        out->host_id = mm_xstrdup(host);
        out->m.file = mm_xstrdup(json_string_value(file));
        out->m.start = json_integer_value(json_object_get(doc, "start"));
        out->m.end = json_integer_value(json_object_get(doc, "end"));
        out->m.size = (int64_t)n;
        out->m.events = json_integer_value(json_object_get(doc, "events"));
        out->b64 = mm_xstrdup(json_string_value(d));
    }
    json_decref(doc);
    if (rc)
        fleet_capture_file_free(out);
    return rc;
}
