/*
 * mmt-sys - the syscalls of the event-generator-like suite
 * (test_evtgen_live.py) that a shell or busybox cannot make, as one small
 * static program so that it also runs inside the test's containers (whose
 * image has no libc).  Built by the test with `gcc -static`.  Each
 * subcommand does one action and exits 0, or prints why it could not.
 *
 *   mmt-sys packet-socket           socket(AF_PACKET, SOCK_RAW, 0)
 *   mmt-sys unshare                 unshare(CLONE_NEWUTS) (fails without the cap: still an event)
 *   mmt-sys userfaultfd             userfaultfd(UFFD_USER_MODE_ONLY) after dropping to uid 65534
 *   mmt-sys setns                   setns() into its own mount namespace
 *   mmt-sys redirect PORT           connect to 127.0.0.1:PORT, dup2 the socket onto stdout/stdin
 *   mmt-sys create-exec PATH        open(PATH, O_CREAT|O_WRONLY, 0755)
 *   mmt-sys chmod-x PATH            chmod(PATH, 0755) of a file it creates
 *   mmt-sys udp IP PORT             connect a UDP socket to IP:PORT and send
 *   mmt-sys tcp IP PORT             start a TCP connection to IP:PORT (not waited for)
 *   mmt-sys setuid-root             setuid(65534), then setuid(0) (refused: a non-root
 *                                   process trying to become root)
 *   mmt-sys write PATH              open(PATH, O_CREAT|O_WRONLY|O_TRUNC) and write a line
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int connect_to(int type, const char *ip, const char *port)
{
    int s = socket(AF_INET, type | SOCK_NONBLOCK, 0);
    if (s < 0)
        return -1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
    if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
        close(s);
        return -1;
    }
    if (connect(s, (struct sockaddr *)&a, sizeof a) < 0 && errno != ECONNREFUSED &&
        errno != EINPROGRESS) {
        close(s);
        return -1;
    }
    return s;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: mmt-sys ACTION [ARG]\n");
        return 2;
    }
    const char *a = argv[1], *arg = argc > 2 ? argv[2] : "";
    if (!strcmp(a, "packet-socket")) {
        int s = socket(AF_PACKET, SOCK_RAW, 0);
        if (s < 0)
            perror("socket");
        return 0;
    }
    if (!strcmp(a, "unshare")) {
        if (unshare(CLONE_NEWUTS) < 0)
            perror("unshare");
        return 0;
    }
    if (!strcmp(a, "userfaultfd")) {
        if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
            perror("drop");
        if (syscall(SYS_userfaultfd, 1 /* UFFD_USER_MODE_ONLY */) < 0)
            perror("userfaultfd");
        return 0;
    }
    if (!strcmp(a, "setns")) {
        int fd = open("/proc/self/ns/mnt", O_RDONLY);
        if (fd < 0 || setns(fd, 0) < 0)
            perror("setns");
        return 0;
    }
    if (!strcmp(a, "redirect")) {
        int s = connect_to(SOCK_STREAM, "127.0.0.1", arg);
        if (s < 0) {
            perror("connect");
            return 1;
        }
        fcntl(s, F_SETFL, 0);
        dup2(s, 0);
        dup2(s, 1);
        return 0;
    }
    if (!strcmp(a, "create-exec")) {
        int fd = open(arg, O_CREAT | O_WRONLY, 0755);
        if (fd < 0)
            perror("open");
        return 0;
    }
    if (!strcmp(a, "chmod-x")) {
        int fd = open(arg, O_CREAT | O_WRONLY, 0644);
        if (fd >= 0)
            close(fd);
        if (chmod(arg, 0755) < 0)
            perror("chmod");
        return 0;
    }
    if (!strcmp(a, "udp") || !strcmp(a, "tcp")) {
        /* mmt-sys udp|tcp IP PORT: only the test's own addresses */
        int s = connect_to(!strcmp(a, "udp") ? SOCK_DGRAM : SOCK_STREAM, arg,
                           argc > 3 ? argv[3] : "9");
        if (s < 0)
            perror("connect");
        else if (!strcmp(a, "udp"))
            send(s, "x", 1, 0);
        return 0;
    }
    if (!strcmp(a, "setuid-root")) {
        if (setgid(65534) < 0 || setuid(65534) < 0)
            perror("setuid 65534");
        if (setuid(0) < 0)
            perror("setuid 0");
        return 0;
    }
    if (!strcmp(a, "write")) {
        int fd = open(arg, O_CREAT | O_WRONLY | O_TRUNC, 0644);
        if (fd < 0) {
            perror("open");
            return 0;
        }
        if (write(fd, "mmt\n", 4) < 0)
            perror("write");
        close(fd);
        return 0;
    }
    fprintf(stderr, "mmt-sys: unknown action %s\n", a);
    return 2;
}
