/*
 * checks.c - the compliance checks mamori knows (CIS Docker Benchmark
 * v1.6.0 and the native CIS Debian Linux items), the list of results a run
 * produces, and its two outputs: findings in the common shape (only what
 * failed) and the full PASS/FAIL/MANUAL/N/A listing kube-bench users know.
 *
 * The table is data, not code: docs/compliance.md is generated from the
 * same rows by hand and the unit test checks that every id is unique and
 * every check names its SP 800-190 section.  docker-bench-security numbers
 * sections 1-3 as the benchmark does and section 5 one lower (its 5.x
 * starts at AppArmor; swarm mode is its 7.1), hence the separate column.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mamori/compliance.h"
#include "util/util.h"
#include "host_int.h"

#define BD "CIS Docker Benchmark v1.6.0"
#define BL "CIS Debian Linux 12 Benchmark v1.0.0"
#define L MM_SEV_LOW
#define M MM_SEV_MEDIUM
#define H MM_SEV_HIGH
#define C MM_SEV_CRITICAL

#define AUD(n, dbs, what) \
    {"CIS-DOCKER-1.1." #n, BD, "1.1." #n, dbs, "Ensure auditing is configured for " what, \
     "3.5.5", L, "add a watch rule for it to /etc/audit/rules.d (auditctl -w PATH -k docker)", true}
#define OWN(n, dbs, what, own) \
    {"CIS-DOCKER-3." #n, BD, "3." #n, dbs, "Ensure that " what " ownership is set to " own, \
     "3.4.3", M, "chown " own " the file", true}
#define PERM(n, dbs, what, mode) \
    {"CIS-DOCKER-3." #n, BD, "3." #n, dbs, "Ensure that " what " permissions are set to " mode " or more restrictive", \
     "3.4.3", M, "chmod " mode " the file", true}

static const mm_check_def defs[] = {
    /* ---- 1 host configuration ---- */
    {"CIS-DOCKER-1.1.1", BD, "1.1.1", "check_1_1_1", "Ensure a separate partition for containers has been created",
     "3.5.1", L, "put the docker data root (/var/lib/docker) on its own file system", true},
    {"CIS-DOCKER-1.1.2", BD, "1.1.2", "check_1_1_2", "Ensure only trusted users are allowed to control Docker daemon",
     "3.5.4", M, "remove users who should not control the daemon from the docker group (gpasswd -d USER docker)", true},
    AUD(3, "check_1_1_3", "the Docker daemon"),
    AUD(4, "check_1_1_4", "run/containerd"),
    AUD(5, "check_1_1_5", "/var/lib/docker"),
    AUD(6, "check_1_1_6", "/etc/docker"),
    AUD(7, "check_1_1_7", "the docker.service file"),
    AUD(8, "check_1_1_8", "containerd.sock"),
    AUD(9, "check_1_1_9", "the docker.socket file"),
    AUD(10, "check_1_1_10", "/etc/default/docker"),
    AUD(11, "check_1_1_11", "/etc/docker/daemon.json"),
    AUD(12, "check_1_1_12", "/etc/containerd/config.toml"),
    AUD(13, "check_1_1_13", "/etc/sysconfig/docker"),
    AUD(14, "check_1_1_14", "/usr/bin/containerd"),
    AUD(15, "check_1_1_15", "/usr/bin/containerd-shim"),
    AUD(16, "check_1_1_16", "/usr/bin/containerd-shim-runc-v1"),
    AUD(17, "check_1_1_17", "/usr/bin/containerd-shim-runc-v2"),
    AUD(18, "check_1_1_18", "/usr/bin/runc"),
    /* ---- 2 daemon configuration ---- */
    {"CIS-DOCKER-2.1", BD, "2.1", "check_2_1", "Run the Docker daemon as a non-root user, if possible",
     "3.4.3", L, "run dockerd rootless (dockerd-rootless-setuptool.sh install)", false},
    {"CIS-DOCKER-2.2", BD, "2.2", "check_2_2", "Ensure network traffic is restricted between containers on the default bridge",
     "3.4.3", M, "set \"icc\": false in daemon.json", true},
    {"CIS-DOCKER-2.3", BD, "2.3", "check_2_3", "Ensure the logging level is set to 'info'",
     "3.4.3", L, "set \"log-level\": \"info\" in daemon.json", true},
    {"CIS-DOCKER-2.4", BD, "2.4", "check_2_4", "Ensure Docker is allowed to make changes to iptables",
     "3.4.3", M, "remove --iptables=false / \"iptables\": false", true},
    {"CIS-DOCKER-2.5", BD, "2.5", "check_2_5", "Ensure insecure registries are not used",
     "3.4.3", H, "remove insecure-registries and give the registries TLS certificates", true},
    {"CIS-DOCKER-2.6", BD, "2.6", "check_2_6", "Ensure aufs storage driver is not used",
     "3.4.3", M, "use overlay2 (\"storage-driver\": \"overlay2\")", false},
    {"CIS-DOCKER-2.7", BD, "2.7", "check_2_7", "Ensure TLS authentication for Docker daemon is configured",
     "3.4.3", C, "listen on TCP only with tlsverify, tlscacert, tlscert and tlskey set", false},
    {"CIS-DOCKER-2.8", BD, "2.8", "check_2_8", "Ensure the default ulimit is configured appropriately",
     "3.4.3", L, "set default-ulimits in daemon.json (nofile, nproc)", true},
    {"CIS-DOCKER-2.9", BD, "2.9", "check_2_9", "Enable user namespace support",
     "3.4.3", M, "set \"userns-remap\": \"default\" in daemon.json (needs /etc/subuid and /etc/subgid)", true},
    {"CIS-DOCKER-2.10", BD, "2.10", "check_2_10", "Ensure the default cgroup usage has been confirmed",
     "3.4.3", L, "leave cgroup-parent unset unless a policy requires it", false},
    {"CIS-DOCKER-2.11", BD, "2.11", "check_2_11", "Ensure base device size is not changed until needed",
     "3.4.3", L, "remove dm.basesize from storage-opts", false},
    {"CIS-DOCKER-2.12", BD, "2.12", "check_2_12", "Ensure that authorization for Docker client commands is enabled",
     "3.4.3", M, "start dockerd with --authorization-plugin=PLUGIN", false},
    {"CIS-DOCKER-2.13", BD, "2.13", "check_2_13", "Ensure centralized and remote logging is configured",
     "3.4.3", L, "set log-driver to syslog, journald, fluentd, gelf or another remote driver", false},
    {"CIS-DOCKER-2.14", BD, "2.14", "check_2_14", "Ensure containers are restricted from acquiring new privileges",
     "3.4.3", M, "set \"no-new-privileges\": true in daemon.json", true},
    {"CIS-DOCKER-2.15", BD, "2.15", "check_2_15", "Ensure live restore is enabled",
     "3.4.3", L, "set \"live-restore\": true in daemon.json", true},
    {"CIS-DOCKER-2.16", BD, "2.16", "check_2_16", "Ensure Userland Proxy is Disabled",
     "3.4.3", L, "set \"userland-proxy\": false in daemon.json", true},
    {"CIS-DOCKER-2.17", BD, "2.17", "check_2_17", "Ensure that a daemon-wide custom seccomp profile is applied if appropriate",
     "3.4.3", L, "keep the default seccomp profile or set seccomp-profile to a stricter one", false},
    {"CIS-DOCKER-2.18", BD, "2.18", "check_2_18", "Ensure that experimental features are not implemented in production",
     "3.4.3", M, "remove --experimental / \"experimental\": true", true},
    /* ---- 3 daemon configuration files ---- */
    OWN(1, "check_3_1", "the docker.service file", "root:root"),
    PERM(2, "check_3_2", "docker.service file", "644"),
    OWN(3, "check_3_3", "the docker.socket file", "root:root"),
    PERM(4, "check_3_4", "docker.socket file", "644"),
    OWN(5, "check_3_5", "the /etc/docker directory", "root:root"),
    PERM(6, "check_3_6", "/etc/docker directory", "755"),
    OWN(7, "check_3_7", "registry certificate file", "root:root"),
    PERM(8, "check_3_8", "registry certificate file", "444"),
    OWN(9, "check_3_9", "the TLS CA certificate file", "root:root"),
    PERM(10, "check_3_10", "TLS CA certificate file", "444"),
    OWN(11, "check_3_11", "the Docker server certificate file", "root:root"),
    PERM(12, "check_3_12", "Docker server certificate file", "444"),
    OWN(13, "check_3_13", "the Docker server certificate key file", "root:root"),
    PERM(14, "check_3_14", "Docker server certificate key file", "400"),
    OWN(15, "check_3_15", "the Docker socket file", "root:docker"),
    PERM(16, "check_3_16", "Docker socket file", "660"),
    OWN(17, "check_3_17", "the daemon.json file", "root:root"),
    PERM(18, "check_3_18", "daemon.json file", "644"),
    OWN(19, "check_3_19", "the /etc/default/docker file", "root:root"),
    PERM(20, "check_3_20", "/etc/default/docker file", "644"),
    PERM(21, "check_3_21", "/etc/sysconfig/docker file", "644"),
    OWN(22, "check_3_22", "the /etc/sysconfig/docker file", "root:root"),
    OWN(23, "check_3_23", "the Containerd socket file", "root:root"),
    PERM(24, "check_3_24", "Containerd socket file", "660"),
    /* ---- 4 images (what the image checks cannot see) ---- */
    {"CIS-DOCKER-4.1", BD, "4.1", "check_4_1", "Ensure that a user for the container has been created",
     "3.4.3", M, "run the container as a non-root user (USER in the image or --user)", true},
    /* ---- 5 container runtime ---- */
    {"CIS-DOCKER-5.1", BD, "5.1", NULL, "Ensure swarm mode is not Enabled, if not needed",
     "3.4.3", L, "docker swarm leave when the node needs no swarm", false},
    {"CIS-DOCKER-5.2", BD, "5.2", "check_5_1", "Ensure that, if applicable, an AppArmor Profile is enabled",
     "3.4.3", M, "run with --security-opt apparmor=PROFILE (docker-default) instead of unconfined", true},
    {"CIS-DOCKER-5.3", BD, "5.3", "check_5_2", "Ensure that, if applicable, SELinux security options are set",
     "3.4.3", L, "run with --security-opt label=... on SELinux hosts", false},
    {"CIS-DOCKER-5.4", BD, "5.4", "check_5_3", "Ensure that Linux kernel capabilities are restricted within containers",
     "3.4.3", H, "--cap-drop ALL and add back only what the workload needs", true},
    {"CIS-DOCKER-5.5", BD, "5.5", "check_5_4", "Ensure that privileged containers are not used",
     "3.4.3", C, "do not run containers with --privileged", true},
    {"CIS-DOCKER-5.6", BD, "5.6", "check_5_5", "Ensure sensitive host system directories are not mounted on containers",
     "3.5.5", H, "do not mount /, /boot, /dev, /etc, /lib, /proc, /sys or /usr of the host, and never read-write", true},
    {"CIS-DOCKER-5.7", BD, "5.7", "check_5_6", "Ensure sshd is not run within containers",
     "3.4.3", M, "remove the SSH daemon from the image; use docker exec", true},
    {"CIS-DOCKER-5.8", BD, "5.8", "check_5_7", "Ensure privileged ports are not mapped within containers",
     "3.4.3", M, "map container ports to host ports above 1023", true},
    {"CIS-DOCKER-5.9", BD, "5.9", "check_5_8", "Ensure that only needed ports are open on the container",
     "3.4.3", L, "publish only the ports the service needs", false},
    {"CIS-DOCKER-5.10", BD, "5.10", "check_5_9", "Ensure that the host's network namespace is not shared",
     "3.4.3", H, "do not run with --network host", true},
    {"CIS-DOCKER-5.11", BD, "5.11", "check_5_10", "Ensure that the memory usage for containers is limited",
     "3.4.3", M, "run with --memory LIMIT", true},
    {"CIS-DOCKER-5.12", BD, "5.12", "check_5_11", "Ensure that CPU priority is set appropriately on containers",
     "3.4.3", L, "run with --cpu-shares (or --cpus / --cpu-quota)", true},
    {"CIS-DOCKER-5.13", BD, "5.13", "check_5_12", "Ensure that the container's root filesystem is mounted as read only",
     "3.4.3", M, "run with --read-only and volumes or tmpfs for what must be written", true},
    {"CIS-DOCKER-5.14", BD, "5.14", "check_5_13", "Ensure that incoming container traffic is bound to a specific host interface",
     "3.4.3", M, "publish ports on one address (-p 127.0.0.1:8080:80)", true},
    {"CIS-DOCKER-5.15", BD, "5.15", "check_5_14", "Ensure that the 'on-failure' container restart policy is set to '5'",
     "3.4.3", L, "run with --restart on-failure:5", true},
    {"CIS-DOCKER-5.16", BD, "5.16", "check_5_15", "Ensure that the host's process namespace is not shared",
     "3.4.3", H, "do not run with --pid host", true},
    {"CIS-DOCKER-5.17", BD, "5.17", "check_5_16", "Ensure that the host's IPC namespace is not shared",
     "3.4.3", H, "do not run with --ipc host", true},
    {"CIS-DOCKER-5.18", BD, "5.18", "check_5_17", "Ensure that host devices are not directly exposed to containers",
     "3.4.3", M, "do not pass host devices (--device) unless needed, and never rwm", true},
    {"CIS-DOCKER-5.19", BD, "5.19", "check_5_18", "Ensure that the default ulimit is overwritten at runtime if needed",
     "3.4.3", L, "set --ulimit where the daemon default does not fit", false},
    {"CIS-DOCKER-5.20", BD, "5.20", "check_5_19", "Ensure mount propagation mode is not set to shared",
     "3.4.3", M, "mount volumes with private or slave propagation", true},
    {"CIS-DOCKER-5.21", BD, "5.21", "check_5_20", "Ensure that the host's UTS namespace is not shared",
     "3.4.3", M, "do not run with --uts host", true},
    {"CIS-DOCKER-5.22", BD, "5.22", "check_5_21", "Ensure the default seccomp profile is not Disabled",
     "3.4.3", H, "do not run with --security-opt seccomp=unconfined", true},
    {"CIS-DOCKER-5.23", BD, "5.23", "check_5_22", "Ensure that docker exec commands are not used with the privileged option",
     "3.4.3", H, "do not run docker exec --privileged", true},
    {"CIS-DOCKER-5.24", BD, "5.24", "check_5_23", "Ensure that docker exec commands are not used with the user=root option",
     "3.4.3", M, "do not run docker exec --user root", true},
    {"CIS-DOCKER-5.25", BD, "5.25", "check_5_24", "Ensure that cgroup usage is confirmed",
     "3.4.3", L, "leave --cgroup-parent unset unless required", true},
    {"CIS-DOCKER-5.26", BD, "5.26", "check_5_25", "Ensure that the container is restricted from acquiring additional privileges",
     "3.4.3", M, "run with --security-opt no-new-privileges", true},
    {"CIS-DOCKER-5.27", BD, "5.27", "check_5_26", "Ensure that container health is checked at runtime",
     "3.4.3", L, "give the image a HEALTHCHECK or run with --health-cmd", true},
    {"CIS-DOCKER-5.28", BD, "5.28", "check_5_27", "Ensure that Docker commands always make use of the latest version of their image",
     "3.4.3", L, "pull by digest or with --pull always", false},
    {"CIS-DOCKER-5.29", BD, "5.29", "check_5_28", "Ensure that the PIDs cgroup limit is used",
     "3.4.3", M, "run with --pids-limit N", true},
    {"CIS-DOCKER-5.30", BD, "5.30", "check_5_29", "Ensure that Docker's default bridge \"docker0\" is not used",
     "3.4.3", L, "attach containers to user-defined networks", true},
    {"CIS-DOCKER-5.31", BD, "5.31", "check_5_30", "Ensure that the host's user namespaces are not shared",
     "3.4.3", H, "do not run with --userns host", true},
    {"CIS-DOCKER-5.32", BD, "5.32", "check_5_31", "Ensure that the Docker socket is not mounted inside any containers",
     "3.5.5", C, "never mount docker.sock into a container", true},

    /* ---- native CIS Debian Linux items for a container host ---- */
    {"CIS-DEBIAN-1.1.1.1", BL, "1.1.1.1", NULL, "Ensure mounting of cramfs filesystems is disabled",
     "3.5.1", L, "add 'install cramfs /bin/false' and 'blacklist cramfs' to /etc/modprobe.d", true},
    {"CIS-DEBIAN-1.1.1.2", BL, "1.1.1.2", NULL, "Ensure mounting of freevxfs filesystems is disabled",
     "3.5.1", L, "add 'install freevxfs /bin/false' and 'blacklist freevxfs' to /etc/modprobe.d", true},
    {"CIS-DEBIAN-1.1.1.3", BL, "1.1.1.3", NULL, "Ensure mounting of hfs filesystems is disabled",
     "3.5.1", L, "add 'install hfs /bin/false' and 'blacklist hfs' to /etc/modprobe.d", true},
    {"CIS-DEBIAN-1.1.1.4", BL, "1.1.1.4", NULL, "Ensure mounting of hfsplus filesystems is disabled",
     "3.5.1", L, "add 'install hfsplus /bin/false' and 'blacklist hfsplus' to /etc/modprobe.d", true},
    {"CIS-DEBIAN-1.1.1.5", BL, "1.1.1.5", NULL, "Ensure mounting of jffs2 filesystems is disabled",
     "3.5.1", L, "add 'install jffs2 /bin/false' and 'blacklist jffs2' to /etc/modprobe.d", true},
    {"CIS-DEBIAN-1.1.1.9", BL, "1.1.1.9", NULL, "Ensure usb-storage is disabled",
     "3.5.1", L, "add 'install usb-storage /bin/false' and 'blacklist usb-storage' to /etc/modprobe.d", true},
    {"CIS-DEBIAN-1.1.2.2", BL, "1.1.2.2", NULL, "Ensure nodev option set on /tmp partition",
     "3.5.5", L, "mount /tmp with nodev (fstab or tmp.mount)", false},
    {"CIS-DEBIAN-1.1.2.3", BL, "1.1.2.3", NULL, "Ensure nosuid option set on /tmp partition",
     "3.5.5", L, "mount /tmp with nosuid", false},
    {"CIS-DEBIAN-1.1.2.4", BL, "1.1.2.4", NULL, "Ensure noexec option set on /tmp partition",
     "3.5.5", L, "mount /tmp with noexec", false},
    {"CIS-DEBIAN-1.1.8.2", BL, "1.1.8.2", NULL, "Ensure nodev option set on /dev/shm partition",
     "3.5.5", L, "mount /dev/shm with nodev", false},
    {"CIS-DEBIAN-1.1.8.3", BL, "1.1.8.3", NULL, "Ensure nosuid option set on /dev/shm partition",
     "3.5.5", L, "mount /dev/shm with nosuid", false},
    {"CIS-DEBIAN-1.1.8.4", BL, "1.1.8.4", NULL, "Ensure noexec option set on /dev/shm partition",
     "3.5.5", L, "mount /dev/shm with noexec", false},
    {"CIS-DEBIAN-1.5.1", BL, "1.5.1", NULL, "Ensure address space layout randomization (ASLR) is enabled",
     "3.5.1", M, "kernel.randomize_va_space = 2 in /etc/sysctl.d", true},
    {"CIS-DEBIAN-1.5.2", BL, "1.5.2", NULL, "Ensure ptrace_scope is restricted",
     "3.5.2", M, "kernel.yama.ptrace_scope = 1 in /etc/sysctl.d", true},
    {"CIS-DEBIAN-1.5.3", BL, "1.5.3", NULL, "Ensure core dumps are restricted",
     "3.5.1", L, "fs.suid_dumpable = 0 in /etc/sysctl.d", true},
    {"CIS-DEBIAN-3.2.2", BL, "3.2.2", NULL, "Ensure IP forwarding is disabled",
     "3.5.1", L, "a container host forwards for its bridges: documented exception (see notes)", false},
    {"CIS-DEBIAN-3.3.1", BL, "3.3.1", NULL, "Ensure source routed packets are not accepted",
     "3.5.1", M, "net.ipv4.conf.all.accept_source_route = 0 and .default. in /etc/sysctl.d", true},
    {"CIS-DEBIAN-3.3.2", BL, "3.3.2", NULL, "Ensure ICMP redirects are not accepted",
     "3.5.1", M, "net.ipv4.conf.all.accept_redirects = 0 and .default. in /etc/sysctl.d", true},
    {"CIS-DEBIAN-3.3.3", BL, "3.3.3", NULL, "Ensure secure ICMP redirects are not accepted",
     "3.5.1", L, "net.ipv4.conf.all.secure_redirects = 0 and .default. in /etc/sysctl.d", true},
    {"CIS-DEBIAN-3.3.4", BL, "3.3.4", NULL, "Ensure suspicious packets are logged",
     "3.5.1", L, "net.ipv4.conf.all.log_martians = 1 and .default. in /etc/sysctl.d", true},
    {"CIS-DEBIAN-3.3.5", BL, "3.3.5", NULL, "Ensure broadcast ICMP requests are ignored",
     "3.5.1", L, "net.ipv4.icmp_echo_ignore_broadcasts = 1 in /etc/sysctl.d", true},
    {"CIS-DEBIAN-3.3.6", BL, "3.3.6", NULL, "Ensure bogus ICMP responses are ignored",
     "3.5.1", L, "net.ipv4.icmp_ignore_bogus_error_responses = 1 in /etc/sysctl.d", true},
    {"CIS-DEBIAN-3.3.7", BL, "3.3.7", NULL, "Ensure Reverse Path Filtering is enabled",
     "3.5.1", L, "net.ipv4.conf.all.rp_filter = 1 and .default. in /etc/sysctl.d", true},
    {"CIS-DEBIAN-3.3.8", BL, "3.3.8", NULL, "Ensure TCP SYN Cookies is enabled",
     "3.5.1", L, "net.ipv4.tcp_syncookies = 1 in /etc/sysctl.d", true},
    {"CIS-DEBIAN-3.2.1", BL, "3.2.1", NULL, "Ensure packet redirect sending is disabled",
     "3.5.1", M, "net.ipv4.conf.all.send_redirects = 0 and .default. in /etc/sysctl.d", true},
    {"CIS-DEBIAN-4.1.1.1", BL, "4.1.1.1", NULL, "Ensure auditd is installed",
     "3.5.5", M, "apt-get install auditd audispd-plugins", false},
    {"CIS-DEBIAN-4.1.1.2", BL, "4.1.1.2", NULL, "Ensure auditd service is enabled and active",
     "3.5.5", M, "systemctl --now enable auditd", false},
    {"CIS-DEBIAN-4.1.3.1", BL, "4.1.3.1", NULL, "Ensure changes to system administration scope (sudoers) is collected",
     "3.5.5", L, "-w /etc/sudoers -p wa -k scope and -w /etc/sudoers.d -p wa -k scope", true},
    {"CIS-DEBIAN-4.1.3.8", BL, "4.1.3.8", NULL, "Ensure events that modify user/group information are collected",
     "3.5.4", L, "-w /etc/group, /etc/passwd, /etc/gshadow, /etc/shadow, /etc/security/opasswd -p wa -k identity", true},
    {"CIS-DEBIAN-5.2.1", BL, "5.2.1", NULL, "Ensure permissions on /etc/ssh/sshd_config are configured",
     "3.5.4", M, "chown root:root and chmod 600 /etc/ssh/sshd_config", true},
    {"CIS-DEBIAN-5.2.4", BL, "5.2.4", NULL, "Ensure SSH access is limited",
     "3.5.4", L, "set AllowUsers, AllowGroups, DenyUsers or DenyGroups in sshd_config", false},
    {"CIS-DEBIAN-5.2.5", BL, "5.2.5", NULL, "Ensure SSH LogLevel is appropriate",
     "3.5.4", L, "LogLevel VERBOSE or INFO in sshd_config", false},
    {"CIS-DEBIAN-5.2.7", BL, "5.2.7", NULL, "Ensure SSH root login is disabled",
     "3.5.4", H, "PermitRootLogin no in sshd_config", false},
    {"CIS-DEBIAN-5.2.8", BL, "5.2.8", NULL, "Ensure SSH HostbasedAuthentication is disabled",
     "3.5.4", M, "HostbasedAuthentication no in sshd_config", false},
    {"CIS-DEBIAN-5.2.9", BL, "5.2.9", NULL, "Ensure SSH PermitEmptyPasswords is disabled",
     "3.5.4", H, "PermitEmptyPasswords no in sshd_config", false},
    {"CIS-DEBIAN-5.2.11", BL, "5.2.11", NULL, "Ensure SSH IgnoreRhosts is enabled",
     "3.5.4", M, "IgnoreRhosts yes in sshd_config", false},
    {"CIS-DEBIAN-5.2.12", BL, "5.2.12", NULL, "Ensure SSH X11 forwarding is disabled",
     "3.5.4", L, "X11Forwarding no in sshd_config", false},
    {"CIS-DEBIAN-5.2.18", BL, "5.2.18", NULL, "Ensure SSH MaxAuthTries is set to 4 or less",
     "3.5.4", L, "MaxAuthTries 4 in sshd_config", false},
    {"CIS-DEBIAN-6.1.1", BL, "6.1.1", NULL, "Ensure permissions on /etc/passwd are configured",
     "3.5.4", M, "chown root:root and chmod 644 /etc/passwd", true},
    {"CIS-DEBIAN-6.1.3", BL, "6.1.3", NULL, "Ensure permissions on /etc/group are configured",
     "3.5.4", M, "chown root:root and chmod 644 /etc/group", true},
    {"CIS-DEBIAN-6.1.5", BL, "6.1.5", NULL, "Ensure permissions on /etc/shadow are configured",
     "3.5.4", H, "chown root:shadow (or root:root) and chmod 640 /etc/shadow", true},
    {"CIS-DEBIAN-6.1.7", BL, "6.1.7", NULL, "Ensure permissions on /etc/gshadow are configured",
     "3.5.4", H, "chown root:shadow (or root:root) and chmod 640 /etc/gshadow", true},
};

size_t mm_check_def_count(void)
{
    return sizeof defs / sizeof defs[0];
}

const mm_check_def *mm_check_def_get(size_t i)
{
    return i < mm_check_def_count() ? &defs[i] : NULL;
}

const mm_check_def *mm_check_def_find(const char *id)
{
    for (size_t i = 0; id && i < mm_check_def_count(); i++)
        if (!strcmp(defs[i].id, id))
            return &defs[i];
    return NULL;
}

const char *mm_check_status_name(mm_check_status s)
{
    static const char *const n[] = {"PASS", "FAIL", "MANUAL", "N/A", "ERROR"};
    return (unsigned)s <= MM_CHECK_ERROR ? n[s] : "?";
}

/* ---- the result list ---------------------------------------------------------- */

#define MAX_RESULTS 1000000u
#define MAX_NOTES 10000u

struct mm_checks {
    mm_check_result *v;
    size_t n, cap;
    char **notes;
    size_t nnotes;
};

int mm_checks_new(mm_checks **out)
{
    *out = mm_xcalloc(1, sizeof(mm_checks));
    return 0;
}

static void result_clear(mm_check_result *r)
{
    free(r->id); free(r->title); free(r->section); free(r->benchmark);
    free(r->number); free(r->target); free(r->container); free(r->engine);
    free(r->evidence); free(r->remediation); free(r->fix);
}

void mm_checks_free(mm_checks *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        result_clear(&c->v[i]);
    free(c->v);
    mm_strv_free(c->notes, c->nnotes);
    free(c);
}

size_t mm_checks_count(const mm_checks *c) { return c ? c->n : 0; }
const mm_check_result *mm_checks_get(const mm_checks *c, size_t i)
{
    return c && i < c->n ? &c->v[i] : NULL;
}
size_t mm_checks_note_count(const mm_checks *c) { return c ? c->nnotes : 0; }
const char *mm_checks_note(const mm_checks *c, size_t i)
{
    return c && i < c->nnotes ? c->notes[i] : NULL;
}

void mm_checks_tally(const mm_checks *c, size_t counts[MM_CHECK_ERROR + 1])
{
    memset(counts, 0, sizeof(size_t) * (MM_CHECK_ERROR + 1));
    for (size_t i = 0; c && i < c->n; i++)
        counts[c->v[i].status]++;
}

void mm_checks_notef(mm_checks *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mm_strv_vpushf(&c->notes, &c->nnotes, MAX_NOTES, fmt, ap);
    va_end(ap);
}

mm_check_result *mm_checks_push(mm_checks *c, const mm_check_result *r)
{
    if (c->n >= MAX_RESULTS)
        return NULL;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->v = mm_xrealloc(c->v, c->cap * sizeof *c->v);
    }
    mm_check_result *d = &c->v[c->n++];
    memset(d, 0, sizeof *d);
    d->def = r->def;
    d->id = mm_xstrdup(r->id);
    d->title = mm_xstrdup(r->title);
    d->section = mm_xstrdup(r->section);
    d->benchmark = mm_xstrdup(r->benchmark);
    d->number = mm_xstrdup(r->number);
    d->severity = r->severity;
    d->status = r->status;
    d->target = mm_xstrdup(r->target);
    d->container = mm_xstrdup(r->container);
    d->engine = mm_xstrdup(r->engine);
    d->evidence = mm_xstrdup(r->evidence);
    d->remediation = mm_xstrdup(r->remediation);
    d->fixable = r->fixable;
    d->fix = r->fixable ? mm_xstrdup(r->fix) : NULL;
    return d;
}

void mm_checks_addv(mm_checks *c, const char *id, mm_check_status st,
                    const mm_host_target *t, const char *fmt, va_list ap)
{
    const mm_check_def *d = mm_check_def_find(id);
    if (!d)
        return; /* a programming error: every id is in the table (unit test) */
    mm_check_result r = {0};
    r.def = d;
    r.id = (char *)d->id;
    r.title = (char *)d->title;
    r.section = (char *)d->section;
    r.benchmark = (char *)d->benchmark;
    r.number = (char *)d->number;
    r.severity = d->severity;
    r.status = st;
    r.remediation = (char *)d->remediation;
    r.fixable = st == MM_CHECK_FAIL && t && t->fix;
    r.fix = t ? (char *)t->fix : NULL;
    if (t) {
        r.target = (char *)t->target;
        r.container = (char *)t->container;
        r.engine = (char *)t->engine;
    }
    char *ev = fmt ? mm_xvasprintf(fmt, ap) : NULL;
    r.evidence = ev;
    mm_checks_push(c, &r);
    free(ev);
}

void mm_checks_add(mm_checks *c, const char *id, mm_check_status st,
                   const mm_host_target *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mm_checks_addv(c, id, st, t, fmt, ap);
    va_end(ap);
}

/* ---- outputs ------------------------------------------------------------------ */

int mm_checks_to_findings(const mm_checks *c, mm_findings *out, const char *host,
                          bool manual)
{
    for (size_t i = 0; c && i < c->n; i++) {
        const mm_check_result *r = &c->v[i];
        if (r->status != MM_CHECK_FAIL && !(manual && r->status == MM_CHECK_MANUAL))
            continue;
        mm_finding f;
        memset(&f, 0, sizeof f);
        f.id = r->id;
        f.kind = MM_FIND_COMPLIANCE;
        f.severity = r->severity;
        f.section = r->section ? r->section : (char *)"3.5";
        char *title = r->container
                          ? mm_xasprintf("%s (%s %s)", r->title ? r->title : r->id,
                                         r->engine ? r->engine : "container", r->container)
                          : NULL;
        f.title = title ? title : r->title ? r->title : r->id;
        f.loc.layer = -1;
        f.loc.host = (char *)host;
        f.loc.container = r->container;
        /* a file target is a path; "daemon", "host" and the like are not */
        f.loc.path = r->target && r->target[0] == '/' ? r->target : NULL;
        f.evidence = r->evidence;
        f.remediation = r->remediation;
        char *refs[2];
        size_t nrefs = 0;
        char *ref0 = r->benchmark ? mm_xasprintf("%s %s", r->benchmark,
                                                 r->number ? r->number : r->id) : NULL;
        char *ref1 = r->def && r->def->dbs_id
                         ? mm_xasprintf("docker-bench-security %s", r->def->dbs_id) : NULL;
        if (ref0) refs[nrefs++] = ref0;
        if (ref1) refs[nrefs++] = ref1;
        f.references = refs;
        f.nreferences = nrefs;
        int rc = mm_findings_add(out, &f);
        free(ref0);
        free(ref1);
        free(title);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static json_t *jstr(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;
    return v ? v : json_null();
}

int mm_checks_write(FILE *f, const mm_checks *c, bool json)
{
    size_t counts[MM_CHECK_ERROR + 1];
    mm_checks_tally(c, counts);
    if (json) {
        json_t *root = json_object(), *arr = json_array(), *notes = json_array();
        for (size_t i = 0; i < c->n; i++) {
            const mm_check_result *r = &c->v[i];
            json_t *o = json_object();
            json_object_set_new(o, "id", jstr(r->id));
            json_object_set_new(o, "status", json_string(mm_check_status_name(r->status)));
            json_object_set_new(o, "benchmark", jstr(r->benchmark));
            json_object_set_new(o, "number", jstr(r->number));
            json_object_set_new(o, "docker_bench", jstr(r->def ? r->def->dbs_id : NULL));
            json_object_set_new(o, "title", jstr(r->title));
            json_object_set_new(o, "section", jstr(r->section));
            json_object_set_new(o, "severity", json_string(mm_severity_name(r->severity)));
            json_object_set_new(o, "target", jstr(r->target));
            json_object_set_new(o, "container", jstr(r->container));
            json_object_set_new(o, "engine", jstr(r->engine));
            json_object_set_new(o, "evidence", jstr(r->evidence));
            json_object_set_new(o, "remediation", jstr(r->remediation));
            json_object_set_new(o, "fixable", json_boolean(r->fixable));
            json_object_set_new(o, "fix", jstr(r->fix));
            json_array_append_new(arr, o);
        }
        for (size_t i = 0; i < c->nnotes; i++)
            json_array_append_new(notes, json_string(c->notes[i]));
        json_object_set_new(root, "checks", arr);
        json_t *sum = json_object();
        for (int s = 0; s <= MM_CHECK_ERROR; s++)
            json_object_set_new(sum, mm_check_status_name((mm_check_status)s),
                                json_integer((json_int_t)counts[s]));
        json_object_set_new(root, "summary", sum);
        json_object_set_new(root, "notes", notes);
        int rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_ENSURE_ASCII);
        json_decref(root);
        fputc('\n', f);
        return rc ? mm_error_set(MM_EIO, "writing the checks failed") : 0;
    }
    for (size_t i = 0; i < c->n; i++) {
        const mm_check_result *r = &c->v[i];
        char *title = mm_str_printable(r->title ? r->title : "");
        char *ev = r->evidence ? mm_str_printable(r->evidence) : NULL;
        char *ctr = r->container ? mm_str_printable(r->container) : NULL;
        fprintf(f, "[%-6s] %-9s %s%s%s%s\n", mm_check_status_name(r->status),
                r->number ? r->number : r->id, title, ctr ? " [" : "",
                ctr ? ctr : "", ctr ? "]" : "");
        if (ev && r->status != MM_CHECK_PASS)
            fprintf(f, "         * %s\n", ev);
        free(title);
        free(ev);
        free(ctr);
    }
    for (size_t i = 0; i < c->nnotes; i++) {
        char *n = mm_str_printable(c->notes[i]);
        fprintf(f, "note: %s\n", n);
        free(n);
    }
    fprintf(f, "\n%zu checks: %zu pass, %zu fail, %zu manual, %zu not applicable, %zu error\n",
            c->n, counts[MM_CHECK_PASS], counts[MM_CHECK_FAIL], counts[MM_CHECK_MANUAL],
            counts[MM_CHECK_NA], counts[MM_CHECK_ERROR]);
    return ferror(f) ? mm_error_set(MM_EIO, "writing the checks failed") : 0;
}
