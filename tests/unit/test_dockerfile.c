/*
 * test_dockerfile.c - the Dockerfile parser on tricky inputs (escape
 * directive, continuations with comments, heredocs, JSON form, ARG/ENV
 * substitution and scoping, multi-stage builds), malformed Dockerfiles
 * (errors naming the line), every linter rule with a failing and a passing
 * snippet, the ignore pragmas and the config file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mamori/dockerfile.h"
#include "config/config_int.h"
#include "mmtest.h"

static mm_dockerfile *parse(const char *src)
{
    mm_dockerfile *df = NULL;
    int rc = mm_dockerfile_parse(&df, "Dockerfile", src, strlen(src));
    if (rc != 0)
        fprintf(stderr, "parse failed: %s\n", mm_error_last());
    return df;
}

static mm_findings *lint(const char *src, const mm_dflint_opts *o)
{
    mm_dockerfile *df = parse(src);
    if (!df)
        return NULL;
    mm_findings *f;
    mm_findings_new(&f);
    if (mm_dockerfile_lint(df, o, f) != 0) {
        mm_findings_free(f);
        f = NULL;
    }
    mm_dockerfile_free(df);
    return f;
}

static int count_id(const mm_findings *f, const char *id)
{
    int n = 0;
    for (size_t i = 0; f && i < mm_findings_count(f); i++)
        if (!strcmp(mm_findings_get(f, i)->id, id))
            n++;
    return n;
}

static const mm_finding *find_id(const mm_findings *f, const char *id)
{
    for (size_t i = 0; f && i < mm_findings_count(f); i++)
        if (!strcmp(mm_findings_get(f, i)->id, id))
            return mm_findings_get(f, i);
    return NULL;
}

static const mm_df_kv *kv(const mm_df_instr *in, const char *k)
{
    for (size_t i = 0; i < in->nkv; i++)
        if (!strcmp(in->kv[i].key, k))
            return &in->kv[i];
    return NULL;
}

/* --- the parser ------------------------------------------------------------- */
MM_TEST(escape_directive_backtick)
{
    mm_dockerfile *df = parse("# escape=`\n"
                              "FROM mcr.microsoft.com/windows/servercore:ltsc2022\n"
                              "COPY testfile.txt c:\\\n"
                              "RUN dir c:\\\n"
                              "RUN echo a `\n"
                              "    b\n");
    REQUIRE(df);
    CHECK_INT(df->escape, '`');
    REQUIRE(df->ninstrs == 4);
    CHECK_STR(df->instrs[1].keyword, "COPY");
    REQUIRE(df->instrs[1].nargv == 2);
    CHECK_STR(df->instrs[1].argv[1], "c:\\");
    CHECK_STR(df->instrs[2].argv[0], "dir c:\\");
    CHECK_INT(df->instrs[2].line, 4);
    CHECK_STR(df->instrs[3].argv[0], "echo a     b");
    CHECK_INT(df->instrs[3].line, 5);
    CHECK_INT(df->instrs[3].end_line, 6);
    mm_dockerfile_free(df);

    /* a directive after a comment is a comment */
    df = parse("# hello\n# escape=`\nFROM a:1\nRUN x \\\n y\n");
    REQUIRE(df);
    CHECK_INT(df->escape, '\\');
    REQUIRE(df->ninstrs == 2);
    CHECK_STR(df->instrs[1].argv[0], "x  y");
    mm_dockerfile_free(df);
}

MM_TEST(continuations_comments_lines)
{
    mm_dockerfile *df = parse("FROM debian:12\n"
                              "\n"
                              "RUN apt-get update \\\n"
                              "# a comment between continued lines\n"
                              "\n"
                              "    && apt-get install -y curl \\  \n"
                              "    && true\n"
                              "# trailing comment\n"
                              "CMD [\"x\"]\n");
    REQUIRE(df);
    REQUIRE(df->ninstrs == 3);
    CHECK_INT(df->instrs[1].line, 3);
    CHECK_INT(df->instrs[1].end_line, 7);
    CHECK_STR(df->instrs[1].argv[0],
              "apt-get update     && apt-get install -y curl     && true");
    CHECK_INT(df->instrs[2].line, 9);
    CHECK(df->instrs[2].exec_form);
    mm_dockerfile_free(df);
}

MM_TEST(heredocs)
{
    mm_dockerfile *df = parse("FROM alpine:3.19\n"
                              "RUN <<EOF\n"
                              "apk add --no-cache curl\n"
                              "echo done\n"
                              "EOF\n"
                              "RUN <<FILE1 cat > /f1 && <<-'FILE2' cat > /f2\n"
                              "one $HOME\n"
                              "FILE1\n"
                              "\t\ttwo\n"
                              "\tFILE2\n"
                              "COPY <<\"EOF\" /etc/app.conf\n"
                              "key=value\n"
                              "EOF\n"
                              "RUN echo $((1<<2)) && cat <<< here\n"
                              "USER app\n");
    REQUIRE(df);
    REQUIRE(df->ninstrs == 6);
    const mm_df_instr *r1 = &df->instrs[1];
    REQUIRE(r1->nheredocs == 1);
    CHECK_STR(r1->heredocs[0].name, "EOF");
    CHECK_STR(r1->heredocs[0].body, "apk add --no-cache curl\necho done\n");
    CHECK(r1->heredocs[0].expand);
    CHECK_INT(r1->end_line, 5);
    const mm_df_instr *r2 = &df->instrs[2];
    REQUIRE(r2->nheredocs == 2);
    CHECK_STR(r2->heredocs[0].body, "one $HOME\n");
    CHECK_STR(r2->heredocs[1].name, "FILE2");
    CHECK_STR(r2->heredocs[1].body, "two\n");
    CHECK(r2->heredocs[1].strip_tabs);
    CHECK(!r2->heredocs[1].expand);
    const mm_df_instr *c = &df->instrs[3];
    CHECK_STR(c->keyword, "COPY");
    REQUIRE(c->nheredocs == 1);
    CHECK(!c->heredocs[0].expand);
    CHECK_STR(c->heredocs[0].body, "key=value\n");
    CHECK_INT(c->line, 11);
    CHECK_INT(df->instrs[4].nheredocs, 0); /* $((1<<2)) and <<< are not heredocs */
    CHECK_INT(df->instrs[4].line, 14);
    CHECK_INT(df->instrs[5].line, 15);
    mm_dockerfile_free(df);
}

MM_TEST(json_form_escapes)
{
    mm_dockerfile *df = parse("FROM a:1\n"
                              "CMD [\"echo\", \"say \\\"hi\\\"\", \"c:\\\\dir\", \"\\u00e9\"]\n"
                              "ENTRYPOINT [ ]\n"
                              "RUN [ -f /etc/x ] && echo y\n"
                              "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n");
    REQUIRE(df);
    const mm_df_instr *c = &df->instrs[1];
    CHECK(c->exec_form);
    REQUIRE(c->nargv == 4);
    CHECK_STR(c->argv[1], "say \"hi\"");
    CHECK_STR(c->argv[2], "c:\\dir");
    CHECK_STR(c->argv[3], "\xc3\xa9");
    CHECK(df->instrs[2].exec_form);
    CHECK_INT(df->instrs[2].nargv, 0);
    /* a shell test command is not a JSON array */
    CHECK(!df->instrs[3].exec_form);
    CHECK_STR(df->instrs[3].argv[0], "[ -f /etc/x ] && echo y");
    CHECK_INT(df->instrs[4].nargv, 4);
    mm_dockerfile_free(df);
}

MM_TEST(substitution_and_scopes)
{
    mm_dockerfile *df = parse(
        "ARG BASE=alpine\n"
        "ARG TAG=3.19\n"
        "ARG UNSET\n"
        "FROM ${BASE}:${TAG} AS Builder\n"
        "ENV A=1 B=${A:-x} C=${Z:-def} D=${A:+set} E=${Z:+set} F='$A' G=\"$A\" H=\\$A\n"
        "ENV LEGACY value with spaces ${A:+set:}$A\n"
        "ARG TAG\n"
        "ENV T=$TAG U=$BASE2\n"
        "ENV P=/opt/${A}/bin Q=${TAG#3.} R=${TAG%.19}\n"
        "FROM builder\n"
        "ENV INHERITED=$A\n"
        "COPY --from=builder --chown=${A}:0 /a /b\n"
        "FROM alpine:${UNSET}\n"
        "WORKDIR /w/$TAG\n");
    REQUIRE(df);
    REQUIRE(df->nstages == 3);
    CHECK_STR(df->stages[0].image, "alpine:3.19");
    CHECK_STR(df->stages[0].name, "builder");
    CHECK(!df->stages[0].image_unresolved);
    /* substitution in one ENV sees the values from before it (the Docker
     * documentation's "ENV abc=bye def=$abc" gives def the old abc) */
    const mm_df_instr *e = &df->instrs[4];
    CHECK_STR(kv(e, "A")->value, "1");
    CHECK_STR(kv(e, "B")->value, "x");
    CHECK_STR(kv(e, "C")->value, "def");
    CHECK_STR(kv(e, "D")->value, "");
    CHECK_STR(kv(e, "E")->value, "");
    CHECK_STR(kv(e, "F")->value, "$A");
    CHECK_STR(kv(e, "G")->value, "");
    CHECK_STR(kv(e, "H")->value, "$A");
    const mm_df_instr *l = &df->instrs[5];
    CHECK_STR(kv(l, "LEGACY")->value, "value with spaces set:1");
    /* ARG TAG inside the stage re-imports the global default */
    const mm_df_instr *t = &df->instrs[7];
    CHECK_STR(kv(t, "T")->value, "3.19");
    CHECK_STR(kv(t, "U")->value, "");
    CHECK(t->unresolved);
    const mm_df_instr *pq = &df->instrs[8];
    CHECK_STR(kv(pq, "P")->value, "/opt/1/bin");
    CHECK_STR(kv(pq, "Q")->value, "19");
    CHECK_STR(kv(pq, "R")->value, "3");
    /* FROM builder: a stage reference; ENV inherited, ARG not */
    CHECK_INT(df->stages[1].parent, 0);
    CHECK_STR(kv(&df->instrs[10], "INHERITED")->value, "1");
    const mm_df_instr *cp = &df->instrs[11];
    REQUIRE(cp->nflags == 2);
    CHECK_STR(cp->flags[0], "--from=builder");
    CHECK_STR(cp->flags[1], "--chown=1:0");
    CHECK_INT(cp->stage, 1);
    /* a global ARG without a value leaves the reference unknown */
    CHECK(df->stages[2].image_unresolved);
    /* a global ARG is not visible in a stage without ARG TAG */
    CHECK_STR(df->instrs[13].argv[0], "/w/");
    CHECK(df->instrs[13].unresolved);
    mm_dockerfile_free(df);
}

static void expect_error(const char *src, const char *want_in_msg)
{
    mm_dockerfile *df = NULL;
    int rc = mm_dockerfile_parse(&df, "Dockerfile", src, strlen(src));
    CHECK_INT(rc, MM_EFORMAT);
    CHECK(df == NULL);
    if (!strstr(mm_error_last(), want_in_msg)) {
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", mm_error_last(), want_in_msg);
        mmt_failed_now = 1;
    }
}

MM_TEST(malformed)
{
    expect_error("FROM a:1\nRUN <<EOF\necho\n", "Dockerfile:2: RUN: unterminated heredoc <<EOF");
    expect_error("FROM a:1\n\nCMD [\"a\", 'b']\n", "Dockerfile:3: CMD: malformed JSON array");
    expect_error("FROM a:1\nENTRYPOINT [\"a\",]\n", "Dockerfile:2:");
    expect_error("FROM a:1\nENV A=\"unterminated\n", "Dockerfile:2: unexpected end of statement");
    expect_error("FROM a:1\nENV A=1 C\n", "Dockerfile:2: ENV: can't find =");
    expect_error("FROM a:1\nSHELL /bin/bash -c\n", "Dockerfile:2: SHELL requires");
    expect_error("# escape=x\nFROM a:1\n", "Dockerfile:1: invalid escape token");
    expect_error("FROM a:1\nENV X=${A\n", "Dockerfile:2: bad substitution");
    {
        static const char nul[] = "FROM a:1\nRUN a\0b\n";
        mm_dockerfile *d = NULL;
        CHECK_INT(mm_dockerfile_parse(&d, "Dockerfile", nul, sizeof nul - 1), MM_EFORMAT);
        CHECK(strstr(mm_error_last(), "Dockerfile:2: a NUL byte") != NULL);
    }
    /* hostile sizes are caps, not crashes */
    static char big[200000];
    memset(big, 'A', sizeof big - 1);
    memcpy(big, "FROM a:1\nARG X=", 15);
    mm_dockerfile *df = NULL;
    CHECK_INT(mm_dockerfile_parse(&df, "big", big, strlen(big)), MM_ELIMIT);
    CHECK(strstr(mm_error_last(), "big:2: a word expands to more than") != NULL);
    /* a long literal in a RUN is kept as written */
    memcpy(big, "FROM a:1\nRUN ", 13);
    CHECK_OK(mm_dockerfile_parse(&df, "big", big, strlen(big)));
    mm_dockerfile_free(df);
}

MM_TEST(shell_splitter)
{
    mm_sh_script s;
    mm_sh_parse(&s, "set -eux; echo \"a && b\" 'c|d' && FOO=1 apt-get install -y x=1 2>&1 "
                    "| tee log || true\nif [ -f y ]; then cd /tmp; fi; "
                    "sh -c 'curl -s u | bash'; cat <<EOF > /f\napt-get update\nEOF\n"
                    "for i in 1 2; do echo $i; done");
    /* set, echo, apt-get, tee, true, [, cd, sh, curl, bash, cat, echo */
    REQUIRE(s.n == 12);
    CHECK_STR(s.cmds[1].argv[1], "a && b");
    CHECK_STR(s.cmds[1].argv[2], "c|d");
    CHECK_STR(mm_sh_name(&s.cmds[2]), "apt-get");
    CHECK_INT(s.cmds[2].nassigns, 1);
    CHECK_INT(s.cmds[2].argc, 4); /* the 2>&1 redirection is no argument */
    CHECK(s.cmds[2].pipe_out);
    CHECK(s.cmds[3].pipe_in);
    CHECK(!s.cmds[3].pipe_out);
    CHECK_STR(mm_sh_name(&s.cmds[5]), "[");
    CHECK_STR(mm_sh_name(&s.cmds[6]), "cd");
    CHECK_STR(mm_sh_name(&s.cmds[8]), "curl");
    CHECK(s.cmds[8].pipe_out);
    CHECK_STR(mm_sh_name(&s.cmds[9]), "bash");
    CHECK_STR(mm_sh_name(&s.cmds[10]), "cat");
    CHECK_INT(s.cmds[10].argc, 1); /* the heredoc body is not a command */
    CHECK_STR(mm_sh_name(&s.cmds[11]), "echo");
    CHECK(s.has_pipe);
    mm_sh_free(&s);
}

MM_TEST(sensitive_names)
{
    CHECK(mm_sensitive_name("DB_PASSWORD"));
    CHECK(mm_sensitive_name("GITHUB_TOKEN"));
    CHECK(mm_sensitive_name("AWS_SECRET_ACCESS_KEY"));
    CHECK(mm_sensitive_name("STRIPE_API_KEY"));
    CHECK(mm_sensitive_name("apiKey"));
    CHECK(mm_sensitive_name("clientSecret"));
    CHECK(mm_sensitive_name("MYSQL_ROOT_PASSWORD"));
    CHECK(!mm_sensitive_name("GPG_KEY"));
    CHECK(!mm_sensitive_name("PASSWORD_FILE"));
    CHECK(!mm_sensitive_name("MYSQL_ROOT_PASSWORD_FILE"));
    CHECK(!mm_sensitive_name("TOKEN_URL"));
    CHECK(!mm_sensitive_name("PWD"));
    CHECK(!mm_sensitive_name("PATH"));
    CHECK(!mm_sensitive_name("PUBLIC_KEY"));
    CHECK(!mm_sensitive_name("PASS_MAX_DAYS"));
    CHECK(!mm_sensitive_name("PYTHON_SHA256"));
}

/* --- every rule: a failing and a passing snippet ------------------------------ */
struct rule_case {
    const char *id;
    int line;          /* where the failing snippet's finding is */
    const char *bad, *good;
};

#define TAIL "USER app\nHEALTHCHECK CMD true\n"

static const struct rule_case cases[] = {
    {"MM-DF-001", 2, "FROM debian:12\nRUN apt-get install -y --no-install-recommends curl && "
                     "rm -rf /var/lib/apt/lists/*\n" TAIL,
                     "FROM debian:12\nRUN apt-get install -y --no-install-recommends curl=7.88.1-10 "
                     "./x.deb && rm -rf /var/lib/apt/lists/*\n" TAIL},
    {"MM-DF-002", 2, "FROM alpine:3.19\nRUN apk add --no-cache curl\n" TAIL,
                     "FROM alpine:3.19\nRUN apk add --no-cache --virtual .deps curl=8.5.0-r0\n" TAIL},
    {"MM-DF-003", 2, "FROM python:3.12\nRUN pip install --no-cache-dir flask\n" TAIL,
                     "FROM python:3.12\nRUN pip install --no-cache-dir flask==3.0.0 -r req.txt .\n" TAIL},
    {"MM-DF-004", 2, "FROM node:20\nRUN npm install -g express\n" TAIL,
                     "FROM node:20\nRUN npm install -g express@4.18.2 @types/node@20.1.0 && npm ci\n" TAIL},
    {"MM-DF-005", 2, "FROM ruby:3.3\nRUN gem install rails\n" TAIL,
                     "FROM ruby:3.3\nRUN gem install rails:7.1.0 && gem install bundler -v 2.5.0\n" TAIL},
    {"MM-DF-006", 2, "FROM debian:12\nRUN apt-get install -y curl=1 && rm -rf /var/lib/apt/lists/*\n" TAIL,
                     "FROM debian:12\nRUN apt-get -o APT::Install-Recommends=false install -y curl=1 "
                     "&& rm -rf /var/lib/apt/lists/*\n" TAIL},
    {"MM-DF-007", 2, "FROM debian:12\nRUN apt-get update && apt-get install -y --no-install-recommends "
                     "curl=1\n" TAIL,
                     /* a build stage leaves no trace; a cache mount keeps nothing */
                     "FROM debian:12 AS build\nRUN apt-get update && apt-get install -y "
                     "--no-install-recommends curl=1\nFROM debian:12\n"
                     "RUN --mount=type=cache,target=/var/lib/apt --mount=type=cache,target=/var/cache/apt "
                     "apt-get update && apt-get install -y --no-install-recommends curl=1\n" TAIL},
    {"MM-DF-008", 2, "FROM alpine:3.19\nRUN apk add curl=1\n" TAIL,
                     "FROM alpine:3.19\nRUN apk add curl=1 && rm -rf /var/cache/apk/*\n" TAIL},
    {"MM-DF-009", 2, "FROM python:3.12\nRUN pip3 install flask==3.0.0\n" TAIL,
                     "FROM python:3.12\nENV PIP_NO_CACHE_DIR=1\nRUN python3 -m pip install flask==3.0.0\n" TAIL},
    {"MM-DF-010", 2, "FROM debian:12\nRUN sudo make install\n" TAIL,
                     "FROM debian:12\nRUN make install\n" TAIL},
    {"MM-DF-011", 3, "FROM debian:12\nUSER app\nUSER root:root\nHEALTHCHECK CMD true\n",
                     "FROM debian:12\nUSER root\nRUN x\nUSER 1000:1000\nHEALTHCHECK CMD true\n"},
    {"MM-DF-012", 2, "FROM debian:12\nADD app.py /app/\n" TAIL,
                     "FROM debian:12\nADD rootfs.tar.gz /\nCOPY app.py /app/\n" TAIL},
    {"MM-DF-013", 2, "FROM debian:12\nRUN set -o pipefail && curl -fsSL https://get.example | sudo bash\n" TAIL,
                     "FROM debian:12\nRUN curl -fsSLo /tmp/i.sh https://get.example && sha256sum -c s "
                     "&& sh /tmp/i.sh\n" TAIL},
    {"MM-DF-014", 2, "FROM debian:12\nWORKDIR app\n" TAIL,
                     "FROM debian:12\nARG D\nWORKDIR /app\nWORKDIR $D\n" TAIL},
    {"MM-DF-015", 3, "FROM debian:12\nCMD [\"a\"]\nCMD [\"b\"]\n" TAIL,
                     "FROM debian:12 AS a\nCMD [\"a\"]\nFROM debian:12\nCMD [\"b\"]\n" TAIL},
    {"MM-DF-016", 3, "FROM debian:12\nENTRYPOINT [\"a\"]\nENTRYPOINT b\n" TAIL,
                     "FROM debian:12\nENTRYPOINT [\"a\"]\nCMD [\"b\"]\n" TAIL},
    {"MM-DF-017", 1, "FROM debian\n" TAIL,
                     "FROM debian@sha256:0000000000000000000000000000000000000000000000000000000000000000 "
                     "AS b\nFROM b\n" TAIL},
    {"MM-DF-018", 1, "FROM localhost:5000/team/app:latest\n" TAIL,
                     "FROM localhost:5000/team/app:1.2\n" TAIL},
    {"MM-DF-020", 2, "FROM debian:12\nRUN wget -O - https://x | tar xz\n" TAIL,
                     "FROM debian:12\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n"
                     "RUN wget -O - https://x | tar xz || true\n" TAIL},
    {"MM-DF-021", 2, "FROM debian:12\nENV DB_PASSWORD=hunter2\n" TAIL,
                     "FROM debian:12\nENV DB_PASSWORD_FILE=/run/secrets/db DB_PASSWORD=\n" TAIL},
    {"MM-DF-022", 2, "FROM debian:12\nRUN apt-get dist-upgrade -y\n" TAIL,
                     "FROM debian:12\nRUN echo apt-get upgrade\n" TAIL},
    {"MM-DF-023", 2, "FROM debian:12\nRUN cd /src && make\n" TAIL,
                     "FROM debian:12\nWORKDIR /src\nRUN make\n" TAIL},
    {"MM-DF-024", 2, "FROM debian:12\nMAINTAINER me <me@example.org>\n" TAIL,
                     "FROM debian:12\nLABEL org.opencontainers.image.authors=\"me\"\n" TAIL},
    {"MM-DF-025", 2, "FROM debian:12\nEXPOSE 80 20-25/tcp\n" TAIL,
                     "FROM debian:12\nEXPOSE 80 2222/tcp\n" TAIL},
    {"MM-DF-026", 2, "FROM alpine:3.19\nRUN apk update\n" TAIL,
                     "FROM alpine:3.19\nRUN apk update && apk add --no-cache x=1\n" TAIL},
    {"MM-DF-027", 1, "FROM debian:12\nUSER app\n",
                     "FROM debian:12\nUSER app\nHEALTHCHECK --interval=30s CMD curl -f http://localhost/\n"},
    {"MM-DF-028", 1, "FROM debian:12\nHEALTHCHECK CMD true\n",
                     "FROM debian:12 AS base\nUSER app\nFROM base\nHEALTHCHECK CMD true\n"},
    {"MM-DF-029", 2, "FROM debian:12\nADD https://example.com/app.tar.gz /opt/\n" TAIL,
                     "FROM debian:12\nADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d "
                     "https://example.com/app.tar.gz /opt/\n" TAIL},
};

MM_TEST(rules_fail_and_pass)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct rule_case *c = &cases[i];
        mm_findings *bad = lint(c->bad, NULL);
        mm_findings *good = lint(c->good, NULL);
        REQUIRE(bad && good);
        const mm_finding *f = find_id(bad, c->id);
        if (!f) {
            fprintf(stderr, "%s: not found in its failing snippet:\n%s\n", c->id, c->bad);
            mmt_failed_now = 1;
        } else {
            if (f->loc.line != c->line) {
                fprintf(stderr, "%s: line %d, want %d\n", c->id, f->loc.line, c->line);
                mmt_failed_now = 1;
            }
            CHECK_STR(f->loc.path, "Dockerfile");
            CHECK_STR(f->section, "3.1.2");
            CHECK(f->kind == MM_FIND_MISCONFIG);
            CHECK(f->remediation && *f->remediation);
        }
        if (count_id(good, c->id)) {
            fprintf(stderr, "%s: reported for its passing snippet:\n%s\n", c->id, c->good);
            mmt_failed_now = 1;
        }
        mm_findings_free(bad);
        mm_findings_free(good);
    }
    /* the original rules are covered here (MM-DF-019 below: it needs an
     * option); the hadolint rules by test_dflint_cases */
    CHECK(mm_dflint_rule_count() >= 88);
}

MM_TEST(secret_evidence_masked)
{
    mm_findings *f = lint("FROM debian:12\nARG NPM_TOKEN\nENV API_KEY=sk_live_abcdef123\n" TAIL,
                          NULL);
    REQUIRE(f);
    CHECK_INT(count_id(f, "MM-DF-021"), 2);
    for (size_t i = 0; i < mm_findings_count(f); i++) {
        const mm_finding *x = mm_findings_get(f, i);
        CHECK(!x->evidence || !strstr(x->evidence, "abcdef"));
    }
    mm_findings_free(f);
}

MM_TEST(allowed_registries)
{
    mm_dflint_opts o;
    mm_dflint_opts_init(&o);
    const char *src = "FROM docker.io/library/debian:12 AS a\n"
                      "FROM registry.example.com/base:1 AS b\n"
                      "FROM ghcr.io/evil/x:1\n"
                      "FROM a\n" TAIL;
    mm_findings *f = lint(src, &o);
    CHECK_INT(count_id(f, "MM-DF-019"), 0); /* off without the option */
    mm_findings_free(f);
    char *regs[] = {"docker.io", "*.example.com"};
    o.allowed_registries = regs;
    o.nallowed_registries = 2;
    f = lint(src, &o);
    CHECK_INT(count_id(f, "MM-DF-019"), 1);
    CHECK_INT(find_id(f, "MM-DF-019")->loc.line, 3);
    mm_findings_free(f);
}

MM_TEST(ignore_pragmas)
{
    const char *src = "# hadolint global ignore=DL3006\n"
                      "FROM debian\n"
                      "# hadolint ignore=DL3008,DL3015\n"
                      "RUN apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n"
                      "# mamori ignore=MM-DF-023\n"
                      "RUN cd /x\n"
                      "# mamori ignore=MM-DF-010\n"
                      "\n"
                      "RUN sudo x\n"
                      "RUN cd /y\n" TAIL;
    mm_findings *f = lint(src, NULL);
    REQUIRE(f);
    CHECK_INT(count_id(f, "MM-DF-017"), 0);
    CHECK_INT(count_id(f, "MM-DF-001"), 0);
    CHECK_INT(count_id(f, "MM-DF-006"), 0);
    CHECK_INT(count_id(f, "MM-DF-023"), 1); /* only line 10 */
    CHECK_INT(find_id(f, "MM-DF-023")->loc.line, 10);
    CHECK_INT(count_id(f, "MM-DF-010"), 1); /* a blank line ends the pragma */
    mm_findings_free(f);
}

static const char *write_tmp(const char *name, const char *text)
{
    static char p[4096];
    snprintf(p, sizeof p, "%s/%s", mmt_tmpdir(), name);
    FILE *fp = fopen(p, "w");
    if (!fp)
        return NULL;
    fputs(text, fp);
    fclose(fp);
    return p;
}

MM_TEST(config_file)
{
    mm_dflint_opts o;
    mm_dflint_opts_init(&o);
    const char *p = write_tmp("lint.yaml",
                              "# a .hadolint.yaml\n"
                              "failure-threshold: warning\n"
                              "ignored:\n  - DL3008\n  - MM-DF-027\n"
                              "trustedRegistries: [docker.io, quay.io]\n"
                              "severity-overrides:\n  MM-DF-023: HIGH\n"
                              "override:\n  error: [DL3004]\n");
    REQUIRE(p);
    CHECK_OK(mm_dflint_config_load(&o, p));
    CHECK_INT(o.nignored, 2);
    CHECK_INT(o.nallowed_registries, 2);
    CHECK_INT(o.noverrides, 2);
    mm_findings *f = lint("FROM ghcr.io/x/y:1\nRUN apt-get install --no-install-recommends -y a "
                          "&& rm -rf /var/lib/apt/lists/* && cd / && sudo x\nUSER app\n", &o);
    REQUIRE(f);
    CHECK_INT(count_id(f, "MM-DF-001"), 0);
    CHECK_INT(count_id(f, "MM-DF-027"), 0);
    CHECK_INT(count_id(f, "MM-DF-019"), 1);
    CHECK(find_id(f, "MM-DF-023") && find_id(f, "MM-DF-023")->severity == MM_SEV_HIGH);
    CHECK(find_id(f, "MM-DF-010") && find_id(f, "MM-DF-010")->severity == MM_SEV_HIGH);
    mm_findings_free(f);
    mm_dflint_opts_free(&o);

    /* malformed: the line is named */
    mm_dflint_opts_init(&o);
    p = write_tmp("bad.yaml", "ignored:\n  - DL3008\n  bad: [\n");
    CHECK_INT(mm_dflint_config_load(&o, p), MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "bad.yaml:3") != NULL);
    p = write_tmp("bad2.yaml", "ignored: 5\n");
    CHECK_INT(mm_dflint_config_load(&o, p), MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "bad2.yaml:1:1: ignored: expected a list") != NULL);
    p = write_tmp("bad3.yaml", "severity-overrides:\n  MM-DF-001: SEVERE\n");
    CHECK_INT(mm_dflint_config_load(&o, p), MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "bad3.yaml:2:") != NULL);
    mm_dflint_opts_free(&o);
}

MM_TEST(real_world_multistage)
{
    /* the shape of a typical Go service Dockerfile: clean */
    const char *src =
        "# syntax=docker/dockerfile:1.7\n"
        "ARG GO_VERSION=1.22\n"
        "FROM golang:${GO_VERSION}-bookworm AS build\n"
        "WORKDIR /src\n"
        "COPY go.mod go.sum ./\n"
        "RUN --mount=type=cache,target=/go/pkg/mod go mod download\n"
        "COPY . .\n"
        "RUN --mount=type=cache,target=/root/.cache/go-build CGO_ENABLED=0 \\\n"
        "    go build -o /out/app ./cmd/app\n"
        "\n"
        "FROM gcr.io/distroless/static-debian12:nonroot\n"
        "COPY --from=build /out/app /app\n"
        "USER 65532:65532\n"
        "HEALTHCHECK CMD [\"/app\", \"-health\"]\n"
        "ENTRYPOINT [\"/app\"]\n";
    mm_findings *f = lint(src, NULL);
    REQUIRE(f);
    for (size_t i = 0; i < mm_findings_count(f); i++)
        fprintf(stderr, "unexpected: %s line %d\n", mm_findings_get(f, i)->id,
                mm_findings_get(f, i)->loc.line);
    CHECK_INT(mm_findings_count(f), 0);
    mm_findings_free(f);
}

/* --- what hadolint accepts is linted, not refused ----------------------------- */
MM_TEST(lenient_parse)
{
    /* no FROM, an instruction before FROM, a duplicate stage, an unknown
     * instruction, ONBUILD FROM: all parse; the linter reports them */
    mm_findings *f = lint("LABEL team=x\nFROM a:1 AS x\nFRM b\nFROM b:1 AS X\n"
                          "ONBUILD FROM c:1\n" TAIL, NULL);
    REQUIRE(f);
    CHECK_INT(count_id(f, "MM-DF-072"), 1); /* DL3061 */
    CHECK_INT(count_id(f, "MM-DF-031"), 1); /* unknown instruction */
    CHECK_INT(find_id(f, "MM-DF-031")->loc.line, 3);
    CHECK_INT(count_id(f, "MM-DF-041"), 1); /* DL3024 */
    CHECK_INT(count_id(f, "MM-DF-055"), 1); /* DL3043 */
    mm_findings_free(f);
    mm_dockerfile *df = parse("");
    REQUIRE(df);
    CHECK_INT(df->ninstrs, 0);
    mm_dockerfile_free(df);
}

MM_TEST(from_with_arg)
{
    /* ARG defaults are substituted; an ARG without one keeps the reference */
    mm_dockerfile *df = parse("ARG BASE=debian:12\nARG OTHER\nFROM $BASE AS a\nFROM ${OTHER}\n");
    REQUIRE(df);
    REQUIRE(df->nstages == 2);
    CHECK_STR(df->stages[0].image, "debian:12");
    CHECK(!df->stages[0].image_unresolved);
    CHECK_STR(df->stages[1].image, "${OTHER}");
    CHECK(df->stages[1].image_unresolved);
    mm_dockerfile_free(df);
    mm_findings *f = lint("ARG BASE=debian\nFROM $BASE\n" TAIL, NULL);
    CHECK_INT(count_id(f, "MM-DF-017"), 1); /* the default has no tag */
    mm_findings_free(f);
}

MM_TEST(onbuild_linted)
{
    mm_findings *f = lint("FROM debian:12\nONBUILD RUN apt-get install -y curl && sudo true\n" TAIL, NULL);
    REQUIRE(f);
    CHECK_INT(count_id(f, "MM-DF-010"), 1);
    CHECK_INT(find_id(f, "MM-DF-010")->loc.line, 2);
    CHECK_INT(count_id(f, "MM-DF-001"), 1);
    mm_findings_free(f);
    /* an ignore pragma above the ONBUILD covers its trigger */
    f = lint("FROM debian:12\n# hadolint ignore=DL3004\nONBUILD RUN sudo true\n" TAIL, NULL);
    CHECK_INT(count_id(f, "MM-DF-010"), 0);
    mm_findings_free(f);
}

MM_TEST(registry_bypass)
{
    mm_dflint_opts o;
    mm_dflint_opts_init(&o);
    char *regs[] = {"docker.io"};
    o.allowed_registries = regs;
    o.nallowed_registries = 1;
    mm_findings *f = lint("FROM debian:12 AS b\n"
                          "COPY --from=evil.example.net/tools:1 /bin/x /x\n"
                          "COPY --from=b /a /a\n"
                          "RUN --mount=type=bind,from=ghcr.io/x/y:2,target=/m true\n"
                          "RUN --mount=type=bind,from=b,target=/m true\n" TAIL, &o);
    REQUIRE(f);
    CHECK_INT(count_id(f, "MM-DF-030"), 2);
    CHECK_INT(count_id(f, "MM-DF-019"), 0);
    mm_findings_free(f);
    /* "*" allows every registry */
    char *all[] = {"*"};
    o.allowed_registries = all;
    f = lint("FROM ghcr.io/x/y:1\nCOPY --from=quay.io/a/b:1 /x /x\n" TAIL, &o);
    CHECK_INT(count_id(f, "MM-DF-019") + count_id(f, "MM-DF-030"), 0);
    mm_findings_free(f);
}

MM_TEST(option_values_are_not_packages)
{
    static const char *const clean[] = {
        "RUN pip install --no-cache-dir --root-user-action ignore flask==3.0.0\n",
        "RUN npm install --loglevel verbose express@4.18.2\n",
        "RUN gem install rails:7.1.0 -- --use-system-libraries\n",
        "RUN gem i rails:7.1.0\n",
        "RUN pip install --no-cache-dir flask --constraint c.txt\n",
        "RUN PIP_NO_CACHE_DIR=1 pip install flask==3.0.0\n",
        "RUN --mount=type=tmpfs,target=/root/.cache/pip pip install flask==3.0.0\n",
    };
    for (size_t i = 0; i < sizeof clean / sizeof clean[0]; i++) {
        char src[512];
        snprintf(src, sizeof src, "FROM debian:12\n%s" TAIL, clean[i]);
        mm_findings *f = lint(src, NULL);
        REQUIRE(f);
        int n = count_id(f, "MM-DF-003") + count_id(f, "MM-DF-004") + count_id(f, "MM-DF-005") +
                count_id(f, "MM-DF-009");
        if (n)
            fprintf(stderr, "unexpected pin/cache finding for: %s", clean[i]);
        CHECK_INT(n, 0);
        mm_findings_free(f);
    }
    mm_findings *f = lint("FROM debian:12\nRUN pip install --no-cache-dir "
                          "git+https://example.org/x.git\n" TAIL, NULL);
    CHECK_INT(count_id(f, "MM-DF-003"), 1);
    mm_findings_free(f);
    f = lint("FROM debian:12\nRUN gem i rails\n" TAIL, NULL);
    CHECK_INT(count_id(f, "MM-DF-005"), 1);
    mm_findings_free(f);
}

MM_TEST(bad_pragma_names)
{
    mm_dockerfile *df = parse("FROM debian:12\n# hadolint ignore=crazy,DL3002\nUSER root\n"
                              "# mamori ignore=MM-DF-017,typo\nFROM debian\n");
    REQUIRE(df);
    CHECK_INT(df->nbad_pragmas, 2);
    CHECK_STR(df->bad_pragmas[0], "crazy");
    CHECK_INT(df->bad_pragma_lines[0], 2);
    CHECK_INT(df->instrs[1].nignore, 0);   /* hadolint: the pragma is void */
    CHECK_INT(df->instrs[2].nignore, 1);   /* mamori: the good names stay */
    mm_dockerfile_free(df);
    mm_findings *f = lint("FROM debian:12\n# hadolint ignore=crazy,DL3002\nUSER root\n"
                          "HEALTHCHECK NONE\n", NULL);
    CHECK_INT(count_id(f, "MM-DF-032"), 1);
    CHECK_INT(count_id(f, "MM-DF-011"), 1);
    mm_findings_free(f);
}

MM_TEST(run_script_keeps_lines)
{
    mm_dockerfile *df = parse("FROM debian:12\n"
                              "RUN --mount=type=cache,target=/x apt-get update \\\n"
                              "# a comment\n"
                              "    && echo $X\n");
    REQUIRE(df);
    const mm_df_instr *r = &df->instrs[1];
    REQUIRE(r->script);
    CHECK_INT(r->script_line, 2);
    /* three lines, the flags blanked, the comment a lone backslash */
    CHECK(strstr(r->script, "apt-get update \\\n\\\n    && echo $X\n") != NULL);
    CHECK(strncmp(r->script, "   ", 3) == 0);
    CHECK(!strstr(r->script, "--mount"));
    mm_dockerfile_free(df);
}

MM_TEST(shellcheck_lines)
{
    if (access("/usr/bin/shellcheck", X_OK) != 0)
        MMT_SKIP("shellcheck is not installed (Debian package shellcheck)");
    mm_findings *f = lint("FROM debian:12\n"
                          "RUN set -e \\\n"
                          "    && echo ok \\\n"
                          "    && echo $UNQUOTED\n" TAIL, NULL);
    REQUIRE(f);
    const mm_finding *sc = find_id(f, "SC2086");
    REQUIRE(sc);
    CHECK_INT(sc->loc.line, 4);
    mm_findings_free(f);
    /* an SC id is honoured by the ignore pragma */
    f = lint("FROM debian:12\n# hadolint ignore=SC2086\nRUN echo $UNQUOTED\n" TAIL, NULL);
    CHECK_INT(count_id(f, "SC2086"), 0);
    mm_findings_free(f);
    /* a missing program is a note, not a guess */
    mm_dflint_opts o;
    mm_dflint_opts_init(&o);
    o.shellcheck = strdup("/nonexistent/shellcheck");
    mm_dockerfile *df = parse("FROM debian:12\nRUN echo $X\n");
    REQUIRE(df);
    mm_findings_new(&f);
    mm_dflint_status st;
    CHECK_OK(mm_dockerfile_lint_ex(df, &o, f, &st));
    CHECK(st.shellcheck_missing);
    CHECK(strstr(st.note, "not installed") != NULL);
    CHECK_INT(count_id(f, "SC2086"), 0);
    mm_findings_free(f);
    mm_dockerfile_free(df);
    mm_dflint_opts_free(&o);
}

MM_TEST(hadolint_config_keys)
{
    mm_dflint_opts o;
    mm_dflint_opts_init(&o);
    static const char y[] = "failure-threshold: warning\nno-fail: true\nstrict-labels: true\n"
                            "label-schema:\n  owner: email\n  version: semver\n"
                            "trustedRegistries: registry.example.com\n"
                            "override:\n  ignore: [DL3006]\n  error: [DL3003]\n"
                            "disable-ignore-pragma: true\nformat: json\n";
    CHECK_OK(mm_dflint_config_parse(&o, "h.yaml", y, sizeof y - 1));
    CHECK(o.has_threshold && o.threshold == MM_SEV_MEDIUM);
    CHECK(o.no_fail && o.strict_labels && o.disable_ignore_pragma);
    CHECK_INT(o.nlabels, 2);
    CHECK_INT(o.nallowed_registries, 1);
    mm_findings *f = lint("FROM debian\n# hadolint ignore=DL3003\nRUN cd /x\n"
                          "LABEL owner=\"nobody\" extra=1\n" TAIL, &o);
    REQUIRE(f);
    CHECK_INT(count_id(f, "MM-DF-017"), 0);              /* level ignore: off */
    CHECK(find_id(f, "MM-DF-023") && find_id(f, "MM-DF-023")->severity == MM_SEV_HIGH);
    CHECK_INT(count_id(f, "MM-DF-069"), 1);              /* not an email */
    CHECK_INT(count_id(f, "MM-DF-062"), 1);              /* extra label */
    CHECK_INT(count_id(f, "MM-DF-061"), 1);              /* version missing */
    CHECK_INT(count_id(f, "MM-DF-019"), 1);              /* docker.io not trusted */
    mm_findings_free(f);
    mm_dflint_opts_free(&o);
    mm_dflint_opts_init(&o);
    static const char bad[] = "label-schema:\n  a: colour\n";
    CHECK_INT(mm_dflint_config_parse(&o, "b.yaml", bad, sizeof bad - 1), MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "b.yaml:2:") != NULL);
    CHECK_OK(mm_dflint_opts_add_label(&o, "org.opencontainers.image.source:url"));
    CHECK_INT(mm_dflint_opts_add_label(&o, "x:bogus"), MM_EINVAL);
    mm_dflint_opts_free(&o);
    CHECK(mm_dflint_id_known("DL3008") && mm_dflint_id_known("SC2086") &&
          mm_dflint_id_known("MM-DF-030") && mm_dflint_id_known("DL3005") &&
          !mm_dflint_id_known("DL9999"));
}

MM_TEST_MAIN
