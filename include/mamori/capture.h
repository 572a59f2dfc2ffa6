/*
 * mamori/capture.h - forensic captures of runtime events (SP 800-190
 * §3.4.x: keep what happened so that it can be examined later with any
 * rules).
 *
 * A capture is the agent's event stream as JSON lines in the replay format
 * (docs/rules.md), compressed with zstd: each flush ends a zstd frame (with
 * a content checksum), at least every flush_events events and every
 * flush_ms, so that a crash loses at most that much and a reader can follow
 * a live file.  When the current file reaches max_size it is rotated like a
 * log: FILE -> FILE.1 -> FILE.2 ..., keeping `keep` files in all (FILE
 * included), so the set never exceeds keep * (max_size + one line).
 * docs/capture.md describes the layout.
 *
 * The reader takes one file or a rotated set, plain or zstd (detected by the
 * magic number, not the name), with caps on line length and on the total
 * decompressed size; malformed input fails with the file and the line or
 * byte offset.  A file whose last zstd frame is cut short (the writer was
 * killed, or is still writing) is read up to the last complete block with a
 * warning, not an error.
 */
#ifndef MAMORI_CAPTURE_H
#define MAMORI_CAPTURE_H

#include "mamori/common.h"
#include "mamori/event.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest line a capture holds (the writer skips longer events, the reader
 * refuses them). */
#define MM_CAPTURE_MAX_LINE (1u << 20)

/* ---- writer ------------------------------------------------------------------ */

typedef struct mm_capture_opts {
    uint64_t max_size;     /* rotate at this many bytes (0 = 64 MiB; min 4 KiB) */
    unsigned keep;         /* files kept, FILE included (0 = 5; 1 = no history) */
    unsigned flush_events; /* end a frame after this many events (0 = 4096) */
    unsigned flush_ms;     /* ... or this long after the oldest unflushed event (0 = 1000) */
    int level;             /* zstd level (0 = 3) */
    bool plain;            /* uncompressed JSON lines (rotation still applies) */
    bool full_lines;       /* every line carries the whole process and its
                              ancestors (no per-file dedup; larger) */
} mm_capture_opts;

typedef struct mm_capture_stats {
    uint64_t events;       /* lines written */
    uint64_t oversize;     /* events skipped: longer than MM_CAPTURE_MAX_LINE */
    uint64_t bytes_in;     /* uncompressed bytes */
    uint64_t bytes_out;    /* bytes written to files (all of them) */
    uint64_t frames;       /* zstd frames ended (flushes) */
    uint64_t rotations;
    uint64_t removed;      /* old files deleted beyond `keep` */
    uint64_t proc_omitted; /* lines without the process's description (written
                              earlier in the same file for that pid) */
    uint64_t anc_omitted;  /* lines without "proc.ancestors" (likewise) */
} mm_capture_stats;

typedef struct mm_capture mm_capture;

/* Creates (mode 0600: events carry command lines) or rotates away an
 * existing non-empty FILE, so an earlier capture is kept, not overwritten;
 * stale FILE.N beyond `keep` are removed.  opts may be NULL. */
int mm_capture_open(mm_capture **out, const char *path, const mm_capture_opts *opts);
/* Appends the event's replay line (mm_event_to_json).  A process's
 * description and ancestor chain are written on its first line in each
 * file and again only when they change (unless opts.full_lines): later
 * lines of that pid carry its ids and the event, and the replay reader
 * takes the rest from its process table.  Each file (rotation resets the
 * memory) replays on its own. */
int mm_capture_write(mm_capture *c, const mm_event *ev);
/* Appends one line (no '\n' inside; one is added). */
int mm_capture_write_line(mm_capture *c, const char *line, size_t len);
/* Ends the frame if flush_ms has passed since the oldest unflushed event;
 * call it at least every second while idle. */
int mm_capture_tick(mm_capture *c);
/* Ends the current frame now and writes it out. */
int mm_capture_flush(mm_capture *c);
void mm_capture_stats_get(const mm_capture *c, mm_capture_stats *out);
/* Flushes, closes and frees; returns the first error seen (0 if none).
 * Accepts NULL.  After an error every write fails with that error. */
int mm_capture_close(mm_capture *c);

/* ---- reader ------------------------------------------------------------------ */

typedef struct mm_capture_read_opts {
    size_t max_line;       /* 0 = MM_CAPTURE_MAX_LINE */
    uint64_t max_total;    /* decompressed bytes over all files (0 = 64 GiB) */
} mm_capture_read_opts;

typedef struct mm_capture_reader mm_capture_reader;

/* The members of rotated captures in the order they were written: each
 * path P given becomes P.N ... P.2 P.1 P for the P.N that exist (unless
 * P itself ends in ".N"), and paths that already name members of one set
 * (a shell's `FILE*`) are put in that order; duplicates are dropped.
 * "-" stays as it is.  *out (caller frees with mm_capture_files_free). */
int mm_capture_files(char ***out, size_t *n, const char *const *paths, size_t npaths);
void mm_capture_files_free(char **v, size_t n);

/* Reads paths in the order given ("-" = standard input).  opts may be NULL. */
int mm_capture_reader_open(mm_capture_reader **out, const char *const *paths,
                           size_t npaths, const mm_capture_read_opts *opts);
/* The next line without its newline: 1 = a line (valid until the next
 * call), 0 = end, < 0 = error naming the file and line or byte offset.
 * Errors are final: later calls return the same code. */
int mm_capture_reader_next(mm_capture_reader *r, const char **line, size_t *len);
/* The file and 1-based line of the last line returned. */
const char *mm_capture_reader_path(const mm_capture_reader *r);
size_t mm_capture_reader_lineno(const mm_capture_reader *r);
bool mm_capture_reader_failed(const mm_capture_reader *r);
/* Things tolerated (a truncated last frame): "FILE: ..." messages. */
size_t mm_capture_reader_warning_count(const mm_capture_reader *r);
const char *mm_capture_reader_warning(const mm_capture_reader *r, size_t i);
void mm_capture_reader_free(mm_capture_reader *r);

/* Issue 20a: the members of the capture set at path (mm_capture_files),
 * newest first: start and end are the epoch seconds of the first and last
 * event (the file's mtime when the events carry no time), size the bytes
 * on disk, live the file still written (path itself).  Each member is read
 * whole, unless prev (an earlier answer, may be NULL) has the same file
 * (inode, size and mtime: a rotation only renames it); at most 1000. */
typedef struct mm_capture_member {
    char *path;
    int64_t start, end;
    uint64_t size, events;
    bool live;
    uint64_t ino;          /* what says the file did not change */
    int64_t mtime_ns;
} mm_capture_member;
int mm_capture_members(mm_capture_member **out, size_t *n, const char *path,
                       const mm_capture_member *prev, size_t nprev);
void mm_capture_members_free(mm_capture_member *v, size_t n);
/* The same as a JSON array of {file, start, end, size, events}: of the
 * set at path, or of members already read.  Caller frees. */
int mm_capture_list_json(char **out, const char *path);
char *mm_capture_members_json(const mm_capture_member *v, size_t n);

/* ---- replay over a capture (lib/runtime/replay.c) ----------------------------- */

struct mm_replay;
/* A replay source (mamori/rules.h) reading its lines from cr, which it
 * takes over (freed by mm_replay_free, also on failure).  Parse errors name
 * the member file and its line. */
int mm_replay_open_reader(struct mm_replay **out, mm_capture_reader *cr);
/* The capture reader behind a replay, NULL for in-memory ones (borrowed). */
mm_capture_reader *mm_replay_reader(const struct mm_replay *r);

#ifdef __cplusplus
}
#endif
#endif
