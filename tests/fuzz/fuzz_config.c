/*
 * fuzz_config.c - the image config parser (rootfs.diff_ids, history),
 * against a source that claims three layers.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "image/intake.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mm_source *s = mm_xcalloc(1, sizeof *s);
    s->name = mm_xstrdup("fuzz");
    s->config_json = mm_xstrndup((const char *)data, size);
    s->config_len = size;
    s->nlayers = 3;
    s->layers = mm_xcalloc(3, sizeof *s->layers);
    mm_intake_opts o = {0};
    (void)mm_config_parse(s, &o);
    mm_source_free(s);
    return 0;
}
