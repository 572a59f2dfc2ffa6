/* pending.c - temporary: keeps the tree linking until client.c/source.c
 * land this session (the registry helper deletes this file). */
#include <string.h>
#include "image/image_int.h"
#include "mamori/registry.h"
void mm_registry_opts_init(mm_registry_opts *o) { memset(o, 0, sizeof *o); }
int mm_source_open_registry(mm_source **out, const char *input,
                            const mm_scan_opts *opts, const char *tmpdir)
{
    (void)out; (void)opts; (void)tmpdir;
    return mm_error_set(MM_EUNSUPPORTED, "%s: registry pulls are not built yet", input);
}
