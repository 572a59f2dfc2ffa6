/*
 * config/dflint_pkg.c - what the package-manager rules know of the tools
 * themselves: when a package argument is pinned (apt, apk, pip, npm, rpm
 * style for yum/dnf, zypper, pecl) and which options of each tool take a
 * value, so that the value is never read as a package name.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "config/dflint_int.h"

/* --- version pins -------------------------------------------------------------- */
bool dfl_pin_apt(const char *a)
{
    return strchr(a, '=') || strchr(a, '/') || mm_str_endswith(a, ".deb");
}

bool dfl_pin_apk(const char *a)
{
    return strpbrk(a, "=~<>") || mm_str_endswith(a, ".apk");
}

/* a VCS URL is pinned by "@ref" after its last path segment begins */
static bool vcs_pinned(const char *a)
{
    const char *end = strchr(a, '#');
    size_t n = end ? (size_t)(end - a) : strlen(a);
    const char *slash = NULL;
    for (size_t i = 0; i < n; i++)
        if (a[i] == '/')
            slash = a + i;
    return slash && memchr(slash, '@', n - (size_t)(slash - a)) != NULL;
}

bool dfl_pin_pip(const char *a)
{
    if (!strncmp(a, "git+", 4) || !strncmp(a, "hg+", 3) || !strncmp(a, "svn+", 4) ||
        !strncmp(a, "bzr+", 4))
        return vcs_pinned(a);
    if (strstr(a, " @ "))
        return true; /* "name @ url" */
    static const char *const ops[] = {"==", ">=", "<=", "!=", "~=", "===", ">", "<"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strstr(a, ops[i]))
            return true;
    return mm_str_endswith(a, ".whl") || mm_str_endswith(a, ".tar.gz") ||
           mm_str_endswith(a, ".zip") || strchr(a, '/') || !strcmp(a, ".");
}

bool dfl_pin_npm(const char *a)
{
    static const char *const git[] = {"git://", "git+ssh://", "git+http://", "git+https://",
                                      "github:", "gitlab:", "bitbucket:"};
    for (size_t i = 0; i < sizeof git / sizeof git[0]; i++)
        if (mm_str_startswith(a, git[i]))
            return strchr(a, '#') != NULL;
    if (mm_str_endswith(a, ".tar") || mm_str_endswith(a, ".tar.gz") || mm_str_endswith(a, ".tgz"))
        return true;
    if (a[0] == '/' || mm_str_startswith(a, "./") || mm_str_startswith(a, "../") ||
        mm_str_startswith(a, "~/") || !strcmp(a, "."))
        return true;
    if (mm_str_startswith(a, "http://") || mm_str_startswith(a, "https://") ||
        mm_str_startswith(a, "file:"))
        return true;
    const char *at = strchr(a[0] == '@' ? a + 1 : a, '@');
    return at && at[1] && strcmp(at + 1, "latest") && strcmp(at + 1, "next");
}

/* rpm-style "name-version": the parts after the first '-' are version
 * characters and one of them starts with a digit (hadolint's rule) */
bool dfl_pin_rpm(const char *a)
{
    if (mm_str_endswith(a, ".rpm"))
        return true;
    const char *dash = strchr(a, '-');
    if (!dash)
        return false;
    bool digit = false;
    const char *p = dash + 1;
    while (*p || p[-1] == '-') {
        const char *e = strchr(p, '-');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n && isdigit((unsigned char)p[0]))
            digit = true;
        for (size_t i = 0; i < n; i++)
            if (!isalnum((unsigned char)p[i]) && !strchr(".~^_:+", p[i]))
                return false;
        if (!e)
            break;
        p = e + 1;
    }
    return digit;
}

bool dfl_pin_zypper(const char *a)
{
    return strpbrk(a, "=<>") || mm_str_endswith(a, ".rpm");
}

/* pecl: [channel/]name-version, a local .tgz/.tar/package.xml, or a URL */
bool dfl_pin_pecl(const char *a)
{
    if (mm_str_endswith(a, ".tgz") || mm_str_endswith(a, ".tar") ||
        mm_str_endswith(a, ".xml") || mm_str_startswith(a, "http://") ||
        mm_str_startswith(a, "https://"))
        return true;
    const char *name = strrchr(a, '/');
    name = name ? name + 1 : a;
    const char *dash = strrchr(name, '-');
    return dash && isdigit((unsigned char)dash[1]);
}

/* --- option tables ------------------------------------------------------------- */
const char *const dfl_apt_vo[] = {"-o", "-c", "-t", "--option", "--config-file",
                                     "--target-release", "--default-release", NULL};
const char *const dfl_apk_vo[] = {"-t", "--virtual", "-X", "--repository", "-p", "--root",
                                     "--arch", "--keys-dir", "--cache-dir",
                                     "--repositories-file", "--cache-max-age", NULL};
const char *const dfl_pip_vo[] = {
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
    "--extra-index-url", "-f", "--find-links", "-t", "--target", "--prefix", "--root",
    "--src", "--upgrade-strategy", "--platform", "--python-version", "--implementation",
    "--abi", "--trusted-host", "--cache-dir", "--progress-bar", "--global-option",
    "--install-option", "--config-settings", "-C", "--report", "--log", "--log-file",
    "--proxy", "--retries", "--timeout", "--exists-action", "--cert", "--client-cert",
    "--root-user-action", "-b", "--build", "--no-binary", "--only-binary", "--python",
    "--keyring-provider", "--use-feature", "--use-deprecated", "--group", NULL};
const char *const dfl_npm_vo[] = {"--prefix", "--registry", "--cache", "--tag", "-w",
                                     "--workspace", "--loglevel", "--omit", "--include",
                                     "--install-strategy", "--userconfig", "--globalconfig",
                                     "--only", "--save-prefix", "--fetch-retries", NULL};
const char *const dfl_gem_vo[] = {"-v", "--version", "-i", "--install-dir", "-n", "--bindir",
                                     "-s", "--source", "--platform", "-P", "--trust-policy",
                                     "--build-root", "-g", "--file", "--target-rbconfig", NULL};
const char *const dfl_rpm_vo[] = {"-c", "--config", "--installroot", "--releasever",
                                     "--disablerepo", "--enablerepo", "--repo", "--repoid",
                                     "-x", "--exclude", "--setopt", "--nogpgcheck-x", NULL};
const char *const dfl_zypper_vo[] = {"-R", "--root", "-c", "--config", "-r", "--repo",
                                        "-t", "--type", "--from", "-D", "--reposd-dir", NULL};
const char *const dfl_go_vo[] = {"-o", "-ldflags", "-gcflags", "-tags", "-mod", "-modfile",
                                    "-p", "-C", "-pkgdir", "-asmflags", "-buildmode",
                                    "-compiler", "-gccgoflags", "-installsuffix", "-overlay",
                                    "-pgo", "-toolexec", "-exec", NULL};

