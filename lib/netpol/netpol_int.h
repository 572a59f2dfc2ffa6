/*
 * netpol_int.h - the parsed shape of a segmentation policy file, shared by
 * the parser (policy.c), the nftables compiler (compile.c) and the
 * egress-name follower.  Private to lib/netpol.
 */
#ifndef MM_NETPOL_INT_H
#define MM_NETPOL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mamori/netpol.h"

typedef struct np_cidr {
    mm_ipaddr a;                 /* network address (host bits cleared) */
    uint8_t plen;                /* 32 / 128 = one address */
} np_cidr;

typedef struct np_port {
    uint8_t proto;               /* 6 tcp, 17 udp, 1 icmp (both families) */
    uint16_t lo, hi;
} np_port;

typedef struct np_rule {
    np_cidr *cidrs;
    size_t ncidrs;
    char **peers;                /* container names */
    size_t npeers;
    char **names;                /* egress names ("*.x" = x and below) */
    size_t nnames;
    np_port *ports;
    size_t nports;
} np_rule;

typedef struct np_policy {
    char *name;
    char *m_container, *m_image;
    char **m_labels;             /* "k=v" */
    size_t nm_labels;
    bool allow;                  /* default: allow (deny = false) */
    bool log;                    /* log what is dropped [true] */
    np_rule *in, *out;
    size_t nin, nout;
} np_policy;

struct mm_netpol {
    np_policy *p;
    size_t n;
};

/* What the parser accepts: a peer container name, a DNS name pattern, an
 * address or CIDR (host bits cleared). */
bool np_peer_name_ok(const char *s);
bool np_dns_pattern_ok(const char *s);
bool np_parse_cidr(const char *s, np_cidr *out);
/* Does a DNS name fit an egress name pattern? */
bool np_name_match(const char *pattern, const char *name);

#endif
