/*
 * registry/source.h - a registry reference as an image source for the scan
 * pipeline's intake (lib/scan): the same mm_source interface as a
 * docker-archive or an OCI layout (image/intake.h), with the layers
 * streaming from the registry or the blob cache.
 */
#ifndef MM_REGISTRY_SOURCE_H
#define MM_REGISTRY_SOURCE_H

#include "mamori/registry.h"
#include "image/intake.h"

/* Opens REGISTRY/REPO[:TAG][@DIGEST].  client, when not NULL, is borrowed
 * (many pulls share its connections and tokens; the transport findings of
 * the source are those of the hosts this pull used); else a client is made
 * from ropts (NULL = defaults) and freed with the source.  Layers verify
 * their digests as they stream. */
int mm_registry_source_open(mm_source **out, const char *input,
                            const mm_intake_opts *opts,
                            const mm_registry_opts *ropts, mm_registry *client,
                            const char *tmpdir);

#endif
