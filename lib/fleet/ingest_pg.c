/*
 * ingest_pg.c - a batch of events into PostgreSQL in one statement
 * (issue 18): the columns go as ten array parameters that unnest() turns
 * back into rows, in the batch's order (WITH ORDINALITY), so a batch of 500
 * costs one round trip and one prepared statement instead of five
 * 1,200-parameter statements.  The arrays are written before the store's
 * lock is taken, so the lock is held only while PostgreSQL works.
 * Array literals follow PostgreSQL's text input: every element quoted,
 * '"' and '\' escaped, NULL bare.
 */
#include <stdlib.h>
#include <string.h>

#include "fleet/routes.h"

const char fleet_pg_insert_sql[] =
    "INSERT INTO events (host_id, event_id, ts, received, kind, severity, section, rule,"
    " image, container, title, body)"
    " SELECT $1::text, u.e, u.t, $2::bigint, u.k, u.s, u.sec, u.r, u.i, u.c, u.ti, u.b"
    " FROM unnest($3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[],"
    " $9::text[], $10::text[], $11::text[], $12::text[]) WITH ORDINALITY"
    " AS u(e, t, k, s, sec, r, i, c, ti, b, n) ORDER BY u.n"
    " ON CONFLICT (host_id, event_id) DO NOTHING";

static void elem(mm_buf *b, const char *s)
{
    if (b->len > 1)
        mm_buf_addc(b, ',');
    if (!s) {
        mm_buf_adds(b, "NULL");
        return;
    }
    mm_buf_addc(b, '"');
    while (*s) {
        size_t run = strcspn(s, "\"\\");
        mm_buf_add(b, s, run);
        s += run;
        if (!*s)
            break;
        mm_buf_addc(b, '\\');
        mm_buf_addc(b, *s++);
    }
    mm_buf_addc(b, '"');
}

void fleet_pg_rows_build(fleet_pg_rows *r, const fleet_event *ev, size_t n)
{
    mm_buf a[10];
    for (int c = 0; c < 10; c++) {
        mm_buf_init(&a[c], 0);
        mm_buf_addc(&a[c], '{');
    }
    for (size_t i = 0; i < n; i++) {
        const fleet_event *e = &ev[i];
        elem(&a[0], e->event_id);
        if (a[1].len > 1)
            mm_buf_addc(&a[1], ',');
        mm_buf_printf(&a[1], "%lld", (long long)e->ts);
        elem(&a[2], e->kind);
        elem(&a[3], e->severity);
        elem(&a[4], e->section);
        elem(&a[5], e->rule);
        elem(&a[6], e->image);
        elem(&a[7], e->container);
        elem(&a[8], e->title);
        elem(&a[9], e->body);
    }
    for (int c = 0; c < 10; c++) {
        mm_buf_addc(&a[c], '}');
        r->arr[c] = mm_buf_detach(&a[c]);
    }
}

void fleet_pg_rows_free(fleet_pg_rows *r)
{
    for (int c = 0; c < 10; c++) {
        free(r->arr[c]);
        r->arr[c] = NULL;
    }
}
