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

static json_t *member_info(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return NULL;
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
    json_t *o = json_object();
    json_object_set_new(o, "file", json_string(path));
    /* without event times (a replayed test capture): the file's own time */
    json_object_set_new(o, "start", json_integer(first ? first / 1000000000 : (json_int_t)st.st_mtime));
    json_object_set_new(o, "end", json_integer(last ? last / 1000000000 : (json_int_t)st.st_mtime));
    json_object_set_new(o, "size", json_integer((json_int_t)st.st_size));
    json_object_set_new(o, "events", json_integer((json_int_t)events));
    return o;
}

int mm_capture_list_json(char **out, const char *path)
{
    *out = NULL;
    char **files = NULL;
    size_t n = 0;
    const char *paths[] = {path};
    int rc = mm_capture_files(&files, &n, paths, 1);
    if (rc)
        return rc;
    json_t *a = json_array();
    for (size_t i = n; i-- > 0 && json_array_size(a) < MAX_MEMBERS;) {   /* newest first */
        json_t *o = member_info(files[i]);
        if (o)
            json_array_append_new(a, o);
    }
    mm_capture_files_free(files, n);
    *out = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    json_decref(a);
    return *out ? 0 : mm_error_set(MM_EFORMAT, "%s: the capture list cannot be written", path);
}
