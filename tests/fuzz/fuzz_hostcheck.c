/*
 * fuzz_hostcheck.c - libFuzzer target for the untrusted documents of the
 * host compliance checks: the first byte picks the mode; even = the rest is
 * a docker/podman inspect document checked by every CIS container check;
 * odd = the rest is a daemon.json whose failures are planned by --fix (the
 * plan and its diff, never applied).  Files live in a private temp root;
 * /proc is not read.  Errors are fine; crashes, leaks and overreads not.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mamori/compliance.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[64];
static FILE *devnull;

static void put(const char *rel, const uint8_t *d, size_t n)
{
    char p[256];
    snprintf(p, sizeof p, "%s%s", root, rel);
    FILE *f = fopen(p, "w");
    if (!f)
        return;
    fwrite(d, 1, n, f);
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!root[0]) {
        snprintf(root, sizeof root, "/tmp/mm-fuzz-host-%d", (int)getpid());
        mkdir(root, 0700);
        char p[128];
        snprintf(p, sizeof p, "%s/etc", root);
        mkdir(p, 0700);
        snprintf(p, sizeof p, "%s/etc/docker", root);
        mkdir(p, 0700);
        devnull = fopen("/dev/null", "w");
    }
    if (size < 1)
        return 0;
    mm_checks *c;
    mm_checks_new(&c);
    mm_docker_check_opts o = {0};
    o.root = root;
    o.proc_root = "/nonexistent";
    o.no_docker = o.no_podman = true;
    o.auditctl = "";
    char ip[128];
    snprintf(ip, sizeof ip, "%s/inspect.json", root);
    const char *files[] = {ip};
    if (!(data[0] & 1)) {
        put("/inspect.json", data + 1, size - 1);
        put("/etc/docker/daemon.json", (const uint8_t *)"{}", 2);
        o.inspect_files = files;
        o.ninspect = 1;
        o.all_containers = true;
        if (mm_docker_checks(c, &o) == 0)
            mm_checks_write(devnull, c, true);
    } else {
        put("/etc/docker/daemon.json", data + 1, size - 1);
        if (mm_docker_checks(c, &o) == 0) {
            mm_fix_opts fo = {0};
            fo.root = root;
            mm_fix_plan *p;
            if (mm_fix_plan_new(&p, c, &fo) == 0) {
                mm_fix_plan_diff(devnull, p);
                mm_fix_plan_free(p);
            }
        }
    }
    mm_checks_free(c);
    return 0;
}
