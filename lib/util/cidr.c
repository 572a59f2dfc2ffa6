/*
 * cidr.c - one reader of addresses and CIDR blocks ("10.0.0.0/8",
 * "fd00::/8", "192.0.2.1"), for the rule conditions of the runtime engine
 * (fd.sip in (...)) and the ipBlocks of Kubernetes NetworkPolicies.
 */
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "util/util.h"

bool mm_cidr_parse(const char *s, mm_cidr *out)
{
    memset(out, 0, sizeof *out);
    if (!s)
        return false;
    char buf[64];
    const char *slash = strchr(s, '/');
    size_t l = slash ? (size_t)(slash - s) : strlen(s);
    if (l >= sizeof buf)
        return false;
    memcpy(buf, s, l);
    buf[l] = 0;
    if (inet_pton(AF_INET, buf, out->a) == 1)
        out->family = AF_INET, out->bits = 32;
    else if (inet_pton(AF_INET6, buf, out->a) == 1)
        out->family = AF_INET6, out->bits = 128;
    else
        return false;
    if (slash) {
        char *end;
        long b = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end || b < 0 || b > out->bits)
            return false;
        out->bits = (int)b;
    }
    return true;
}
