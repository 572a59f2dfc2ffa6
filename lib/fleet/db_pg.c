/*
 * db_pg.c - the PostgreSQL backend of the server's store (fleet/db.h).
 */
#include "fleet/db.h"
#include "util/util.h"

int fdb_pg_open(fdb **out, const char *conninfo)
{
    *out = NULL;
    return mm_error_set(MM_EUNSUPPORTED, "PostgreSQL store: not built in yet");
}
