/*
 * fuzz_shebang.c - libFuzzer target for the "#!" line reader of the
 * fallback sensor (lib/sensor/execperm.c): the head of any file a process
 * executes, host or container, is read and split as binfmt_script does.
 * Every input must give NULL or "interpreter\0[argument\0]" inside the
 * bytes read.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"
#include "sensor/sensor_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t len = 0;
    char *s = mm_sn_shebang_split((const char *)data, size, &len);
    if (s) {
        /* one or two NUL-terminated strings, no longer than the line */
        if (len == 0 || len > 256 || s[len - 1] != 0)
            abort();
        size_t first = strlen(s) + 1;
        if (first < len && strlen(s + first) + 1 + first != len)
            abort();
        free(s);
    } else if (size >= 2 && data[0] == '#' && data[1] == '!') {
        abort();
    }
    return 0;
}
