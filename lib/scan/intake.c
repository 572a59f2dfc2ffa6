/*
 * scan/intake.c - the first stage of the pipeline: what the user named
 * becomes an image source.  A docker-archive or OCI layout is opened by
 * lib/image; a registry reference by lib/registry through the same
 * mm_source interface, so that everything after intake treats a pulled
 * image like any other.
 */
#include "scan/scan_int.h"
#include "registry/source.h"

int mm_intake_open(mm_source **out, mm_target_kind kind, const char *input,
                   const mm_scan_opts *o, const mm_intake_opts *io,
                   const char *tmpdir)
{
    if (kind == MM_TARGET_REGISTRY)
        return mm_registry_source_open(out, input, io, o->registry,
                                       o->registry_client, tmpdir);
    return mm_source_open_image(out, input, io, tmpdir);
}
