/*
 * capture_info.c - what a capture holds, in brief (issue 20a): for each
 * member of a rotated capture set, its size, its number of events and the
 * time of its first and last event, as the JSON list an agent sends to
 * `mamori server` (POST /api/v1/captures) so that operators see which
 * captures exist, where, and which alerts fall in them.  The members are
 * read whole with the capture reader (its caps; a live file's cut-short
 * last frame is read up to its last whole block).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "mamori/capture.h"
#include "util/util.h"
#include "util/json.h"

#define MAX_MEMBERS 1000

/* evt.time (ns) of one line, or 0 */
static int64_t line_time(const char *line, size_t len)
{
    json_t *o = json_loadb(line, len, 0, NULL);
    json_t *t = json_object_get(o, "evt.time");
    int64_t v = json_is_integer(t) ? (int64_t)json_integer_value(t) : 0;
    json_decref(o);
    return v > 0 ? v : 0;
}

static bool member_info(mm_capture_member *m, const char *path, const mm_capture_member *prev,
                        size_t nprev)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return false;
    int64_t mt = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    for (size_t i = 0; i < nprev; i++)
        if (prev[i].ino == (uint64_t)st.st_ino && prev[i].size == (uint64_t)st.st_size &&
            prev[i].mtime_ns == mt) {   /* unchanged (maybe renamed): not read again */
            *m = prev[i];
            m->path = mm_xstrdup(path);
            return true;
        }
    m->ino = (uint64_t)st.st_ino;
    m->mtime_ns = mt;
    mm_capture_reader *r = NULL;
    const char *paths[] = {path};
    uint64_t events = 0;
    int64_t first = 0, last = 0;
    if (mm_capture_reader_open(&r, paths, 1, NULL) == 0) {
        const char *line;
        size_t len;
        char *lastline = NULL;
        size_t lastlen = 0;
        while (mm_capture_reader_next(r, &line, &len) > 0) {
            if (!events)
                first = line_time(line, len);
            events++;
            free(lastline);
            lastline = mm_xstrndup(line, len);
            lastlen = len;
        }
        if (lastline)
            last = line_time(lastline, lastlen);
        free(lastline);
    }
    mm_capture_reader_free(r);
    m->path = mm_xstrdup(path);
    /* without event times (a replayed test capture): the file's own time */
    m->start = first ? first / 1000000000 : (int64_t)st.st_mtime;
    m->end = last ? last / 1000000000 : (int64_t)st.st_mtime;
    m->size = (uint64_t)st.st_size;
    m->events = events;
    return true;
}

void mm_capture_members_free(mm_capture_member *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i].path);
    free(v);
}

int mm_capture_members(mm_capture_member **out, size_t *nout, const char *path,
                       const mm_capture_member *prev, size_t nprev)
{
    *out = NULL;
    *nout = 0;
    char **files = NULL;
    size_t n = 0;
    const char *paths[] = {path};
    int rc = mm_capture_files(&files, &n, paths, 1);
    if (rc)
        return rc;
    mm_capture_member *v = mm_xcalloc(n ? n : 1, sizeof *v);
    size_t k = 0;
    for (size_t i = n; i-- > 0 && k < MAX_MEMBERS;)   /* newest first */
        if (member_info(&v[k], files[i], prev, nprev)) {
            v[k].live = !strcmp(files[i], path);
            k++;
        }
    mm_capture_files_free(files, n);
    *out = v;
    *nout = k;
    return 0;
}

char *mm_capture_members_json(const mm_capture_member *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "file", mm_json_str(v[i].path));   /* bytes kept as U+FFFD */
        json_object_set_new(o, "start", json_integer(v[i].start));
        json_object_set_new(o, "end", json_integer(v[i].end));
        json_object_set_new(o, "size", json_integer((json_int_t)v[i].size));
        json_object_set_new(o, "events", json_integer((json_int_t)v[i].events));
        json_array_append_new(a, o);
    }
    char *out = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    json_decref(a);
    return out;
}

int mm_capture_list_json(char **out, const char *path)
{
    *out = NULL;
    mm_capture_member *v = NULL;
    size_t n = 0;
    int rc = mm_capture_members(&v, &n, path, NULL, 0);
    if (rc)
        return rc;
    *out = mm_capture_members_json(v, n);
    mm_capture_members_free(v, n);
    return *out ? 0 : mm_error_set(MM_EFORMAT, "%s: the capture list cannot be written", path);
}
