/*
 * fuzz_layer_record.c - the layer records the scan workers share through
 * the server's store (issue 19): the record reader (image/layerrec.c:
 * checked whole, then read entry by entry with every piece), and the
 * base64 the store keeps them in (fleet/layers.c).
 */
#include <stdlib.h>
#include <string.h>

#include "image/image_int.h"
#include "fleet/fleet_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mm_lrec c;
    if (mm_lrec_open(&c, data, size) == 0) {
        while (mm_lrec_next(&c) == 1) {
            const void *b;
            size_t n;
            while (mm_lrec_read(&c, &b, &n) == 1)
                ;
        }
        mm_lrec_close(&c);
    }
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;
    char *out = NULL;
    size_t len = 0;
    if (fleet_b64_decode(s, &out, &len) == 0 && mm_lrec_open(&c, (const uint8_t *)out, len) == 0)
        mm_lrec_close(&c);
    free(out);
    free(s);
    return 0;
}
