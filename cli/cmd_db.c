/*
 * cmd_db.c - `mamori db SUBCOMMAND`: the vulnerability database.  `import`
 * loads local feed files, folders and zips (air-gapped sites), `info`
 * shows what the database holds; `update` (downloads) joins the dispatch
 * table below.  Every subcommand takes --db-path FILE (default
 * ~/.cache/mamori/vuln.db, or $MAMORI_CACHE_DIR/vuln.db).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>                /* db update: isatty */

#include <jansson.h>

#include "mamori/mamori.h"
#include "mamori/vuln.h"
#include "mamori/vulnupdate.h"   /* db update */
#include "cli.h"

static void db_usage(FILE *f)
{
    fprintf(f,
"Usage:\n"
"  mamori db import [--db-path FILE] [-q] PATH...   import OSV JSON/YAML files, osv.dev\n"
"                                                  all.zip archives, Debian tracker JSON,\n"
"                                                  Alpine secdb (YAML/JSON) or folders\n"
"  mamori db info [--db-path FILE] [--json]        sources, counts, dates, ecosystems\n"
"  mamori db update [options]                      download the feeds of the sources file\n");
}

static char *db_path_or_default(const char *p)
{
    if (p)
        return strdup(p);
    char *d = mm_vulndb_default_path();
    if (!d)
        cli_fail("--db-path: ");
    return d;
}

static void import_warn(void *ud, const char *msg)
{
    if (!*(bool *)ud)
        fprintf(stderr, "%s: warning: %s\n", prog, msg);
}

static int cmd_db_import(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db-path", required_argument, NULL, 'd'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL;
    bool quiet = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'q': quiet = true; break;
        case 'h': db_usage(stdout); return 0;
        default: db_usage(stderr); return EXIT_ERROR;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "%s: db import needs at least one file or folder\n", prog);
        return EXIT_ERROR;
    }
    char *path = db_path_or_default(db);
    if (!path)
        return EXIT_ERROR;
    mm_import_stats st;
    int rc = mm_vulndb_import(path, (const char *const *)(argv + optind),
                              (size_t)(argc - optind), &st, import_warn, &quiet);
    if (rc < 0) {
        free(path);
        return cli_fail("db import: ");
    }
    if (!quiet)
        fprintf(stderr, "%s: imported %" PRIu64 " advisories (%" PRIu64
                " affected packages) from %" PRIu64 " files in %.2f s "
                "(%.0f advisories/s, %" PRIu64 " skipped) into %s\n", prog,
                st.advisories, st.affected, st.files, st.seconds,
                st.seconds > 0 ? (double)st.advisories / st.seconds : 0.0,
                st.skipped, path);
    free(path);
    return 0;
}

static void day(int64_t t, char out[32])
{
    if (t <= 0) {
        snprintf(out, 32, "-");
        return;
    }
    struct tm tm;
    time_t tt = (time_t)t;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%d %H:%M:%SZ", &tm);
}

static int cmd_db_info(int argc, char **argv)
{
    static const struct option opts[] = {
        {"db-path", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL;
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'j': json = true; break;
        case 'h': db_usage(stdout); return 0;
        default: db_usage(stderr); return EXIT_ERROR;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument \"%s\"\n", prog, argv[optind]);
        return EXIT_ERROR;
    }
    char *path = db_path_or_default(db);
    if (!path)
        return EXIT_ERROR;
    mm_vulndb *vdb = NULL;
    if (mm_vulndb_open(&vdb, path) < 0) {
        free(path);
        return cli_fail("db info: ");
    }
    free(path);
    mm_vulndb_info *in = NULL;
    if (mm_vulndb_info_get(vdb, &in) < 0) {
        mm_vulndb_close(vdb);
        return cli_fail("db info: ");
    }
    char t[32];
    if (json) {
        json_t *o = json_object(), *srcs = json_array(), *ecos = json_array();
        json_object_set_new(o, "path", json_string(in->path ? in->path : ""));
        json_object_set_new(o, "db_version", json_string(in->db_version ? in->db_version : ""));
        json_object_set_new(o, "schema_version", json_integer(in->schema_version));
        json_object_set_new(o, "built_at", json_integer(in->built_at));
        json_object_set_new(o, "advisories", json_integer((json_int_t)in->advisories));
        json_object_set_new(o, "affected", json_integer((json_int_t)in->affected));
        for (size_t i = 0; i < in->nsources; i++) {
            const mm_vulndb_source_info *s = &in->sources[i];
            json_t *j = json_object();
            json_object_set_new(j, "name", json_string(s->name ? s->name : ""));
            json_object_set_new(j, "kind", json_string(s->kind ? s->kind : ""));
            json_object_set_new(j, "location", json_string(s->location ? s->location : ""));
            json_object_set_new(j, "updated_at", json_integer(s->updated_at));
            json_object_set_new(j, "records", json_integer((json_int_t)s->records));
            json_array_append_new(srcs, j);
        }
        for (size_t i = 0; i < in->necosystems; i++)
            json_array_append_new(ecos, json_string(in->ecosystems[i]));
        json_object_set_new(o, "sources", srcs);
        json_object_set_new(o, "ecosystems", ecos);
        json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(o);
    } else {
        day(in->built_at, t);
        printf("Database:    %s\n", in->path ? in->path : "-");
        printf("Version:     %s (schema %d)\n", in->db_version ? in->db_version : "-",
               in->schema_version);
        printf("Built:       %s\n", t);
        printf("Advisories:  %" PRIu64 "\n", in->advisories);
        printf("Affected:    %" PRIu64 " (ecosystem, package) rows\n", in->affected);
        printf("\nSources: %zu\n", in->nsources);
        for (size_t i = 0; i < in->nsources; i++) {
            const mm_vulndb_source_info *s = &in->sources[i];
            day(s->updated_at, t);
            printf("  %s  [%s]  %" PRIu64 " records, updated %s\n    %s\n",
                   s->name ? s->name : "-", s->kind ? s->kind : "-", s->records,
                   t, s->location ? s->location : "-");
        }
        printf("\nEcosystems: %zu\n", in->necosystems);
        for (size_t i = 0; i < in->necosystems; i++)
            printf("  %s\n", in->ecosystems[i]);
    }
    mm_vulndb_info_free(in);
    mm_vulndb_close(vdb);
    return 0;
}

/* --- db update (lib/vuln/update.c) ---------------------------------------- */

typedef struct upd_ui {
    bool bar;                /* stderr is a terminal and not --quiet */
    bool quiet;
    bool drawn;              /* a bar is on the current line */
    double last;
} upd_ui;

static void upd_clear(upd_ui *ui)
{
    if (ui->drawn) {
        fprintf(stderr, "\r\033[K");
        ui->drawn = false;
    }
}

static void upd_progress(void *ud, const char *source, uint64_t done,
                         uint64_t total)
{
    upd_ui *ui = ud;
    if (!ui->bar)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    if (now - ui->last < 0.1 && !(total && done == total))
        return;
    ui->last = now;
    char bar[31];
    int fill = total ? (int)((double)done * 30 / (double)total) : 0;
    if (fill > 30)
        fill = 30;
    for (int i = 0; i < 30; i++)
        bar[i] = total ? (i < fill ? '#' : '.') : (i == (int)(now * 10) % 30 ? '#' : '.');
    bar[30] = 0;
    if (total)
        fprintf(stderr, "\r\033[K%-24.24s [%s] %3d%% %7.1f/%.1f MiB", source, bar,
                (int)((double)done * 100 / (double)total), (double)done / 1048576.0,
                (double)total / 1048576.0);
    else
        fprintf(stderr, "\r\033[K%-24.24s [%s] %7.1f MiB", source, bar,
                (double)done / 1048576.0);
    fflush(stderr);
    ui->drawn = true;
}

static void upd_note(void *ud, const char *msg)
{
    upd_ui *ui = ud;
    if (ui->quiet)
        return;
    upd_clear(ui);
    fprintf(stderr, "%s: %s\n", prog, msg);
}

static void upd_warn(void *ud, const char *msg)
{
    upd_ui *ui = ud;
    if (ui->quiet)
        return;
    upd_clear(ui);
    fprintf(stderr, "%s: warning: %s\n", prog, msg);
}

static int cmd_db_update(int argc, char **argv)
{
    enum { O_SOURCES = 256, O_ONLY, O_DB, O_INSECURE, O_KEEP, O_FORCE,
           O_RETRIES, O_TIMEOUT, O_QUIET };
    static const struct option uopts[] = {
        {"sources", required_argument, NULL, O_SOURCES},
        {"only", required_argument, NULL, O_ONLY},
        {"db-path", required_argument, NULL, O_DB},
        {"allow-insecure", no_argument, NULL, O_INSECURE},
        {"keep-going", no_argument, NULL, O_KEEP},
        {"force", no_argument, NULL, O_FORCE},
        {"retries", required_argument, NULL, O_RETRIES},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    mm_update_opts o;
    mm_update_opts_init(&o);
    upd_ui ui = {0};
    const char *db_path = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", uopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case O_SOURCES: o.sources_path = optarg; break;
        case O_ONLY: o.only = optarg; break;
        case O_DB: db_path = optarg; break;
        case O_INSECURE: o.allow_insecure = true; break;
        case O_KEEP: o.keep_going = true; break;
        case O_FORCE: o.force = true; break;
        case O_RETRIES:
            o.retries = (unsigned)strtoul(optarg, &end, 10);
            if (*end || !*optarg || o.retries > 20) {
                fprintf(stderr, "%s: --retries: want 0 to 20\n", prog);
                return EXIT_ERROR;
            }
            break;
        case O_TIMEOUT:
            o.stall_timeout = strtol(optarg, &end, 10);
            if (*end || o.stall_timeout <= 0) {
                fprintf(stderr, "%s: --timeout: want seconds\n", prog);
                return EXIT_ERROR;
            }
            o.connect_timeout = o.stall_timeout < 30 ? o.stall_timeout : 30;
            break;
        case 'q': ui.quiet = true; break;
        case 'h':
            printf(
"Usage: mamori db update [options]\n"
"Downloads the feeds of the sources file and rebuilds the database atomically.\n"
"  --sources FILE      sources file (default: ~/.config/mamori/vuln-sources.yaml,\n"
"                      else the installed one; see docs/vuln-sources.md)\n"
"  --only NAME,...     update only these sources (the others keep their rows)\n"
"  --db-path PATH      the database (default ~/.cache/mamori/vuln.db)\n"
"  --force             ignore the stored ETag/Last-Modified: fetch everything\n"
"  --keep-going        import the sources that worked, exit 1 naming the others\n"
"                      (default: any failure fails the update, database unchanged)\n"
"  --retries N         extra attempts on 5xx/429/network errors (default 3)\n"
"  --timeout SEC       abort a download stalled this long (default 60)\n"
"  --allow-insecure    permit plain http:// to hosts other than this machine\n"
"  -q, --quiet         no progress bar or notes on standard error\n"
"Exit status: 0 updated or unchanged, 1 some sources failed (--keep-going),\n"
"2 error (database unchanged).\n");
            return 0;
        default:
            return EXIT_ERROR;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: db update: unexpected argument \"%s\"\n", prog,
                argv[optind]);
        return EXIT_ERROR;
    }
    ui.bar = !ui.quiet && isatty(STDERR_FILENO);
    o.progress = upd_progress;
    o.note = upd_note;
    o.warn = upd_warn;
    o.ud = &ui;
    char *def = db_path ? NULL : db_path_or_default(NULL);
    if (!db_path && !def)
        return EXIT_ERROR;
    mm_update_report *rep = NULL;
    int rc = mm_vulndb_update(db_path ? db_path : def, &o, &rep);
    upd_clear(&ui);
    for (size_t i = 0; rep && i < rep->n; i++) {
        const mm_update_source_result *r = &rep->v[i];
        switch (r->status) {
        case MM_UPD_UPDATED:
            printf("%-24s updated    %8llu advisories  %8.1f MiB\n", r->name,
                   (unsigned long long)r->records, (double)r->bytes / 1048576.0);
            break;
        case MM_UPD_UNCHANGED:
            printf("%-24s unchanged\n", r->name);
            break;
        case MM_UPD_FAILED:
            printf("%-24s FAILED     %s\n", r->name, r->url);
            break;
        case MM_UPD_PENDING:
            if (rc)
                printf("%-24s not imported\n", r->name);
            break;
        }
    }
    if (rep && (!rc || o.keep_going))
        printf("%zu updated, %zu unchanged, %zu failed; database %s (%s)\n",
               rep->nupdated, rep->nunchanged, rep->nfailed,
               rep->db_written ? "rebuilt" : "not changed",
               db_path ? db_path : def);
    bool partial = rep && rep->partial;
    mm_update_report_free(rep);
    int ret = 0;
    if (rc && partial) {
        fprintf(stderr, "%s: %s\n", prog, mm_error_last());
        ret = 1;
    } else if (rc) {
        ret = cli_fail("db update: ");
    }
    free(def);
    return ret;
}

/* Subcommands; `update` lands here too. */
static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
} db_cmds[] = {
    {"import", cmd_db_import},
    {"info", cmd_db_info},
    {"update", cmd_db_update},
};

int cmd_db(int argc, char **argv)
{
    if (argc < 2) {
        db_usage(stderr);
        return EXIT_ERROR;
    }
    if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
        !strcmp(argv[1], "-h")) {
        db_usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof db_cmds / sizeof db_cmds[0]; i++)
        if (!strcmp(argv[1], db_cmds[i].name))
            return db_cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "%s: unknown db subcommand \"%s\"\n", prog, argv[1]);
    db_usage(stderr);
    return EXIT_ERROR;
}
