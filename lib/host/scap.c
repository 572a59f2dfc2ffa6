/*
 * scap.c - SCAP source datastreams evaluated with libopenscap (the engine
 * of `oscap xccdf eval`), their rule results turned into checks and so
 * into findings (SP 800-190 §3.5).
 *
 * Any datastream and profile work (SCAP Security Guide content, a
 * vendor's, a tailoring file of the site).  The datastream is not
 * interpreted here: libopenscap loads it, evaluates the profile's OVAL
 * checks on this host (or below OSCAP_PROBE_ROOT, which the front-end sets
 * for --root, as oscap's offline mode does) and mamori reads the XCCDF
 * result: pass, fail, error/unknown, notapplicable (with the reason the
 * platform gives), notchecked and informational (manual), notselected
 * (left out).  A benchmark written for another release (ssg-debian ships
 * Debian 10/11 content) makes every rule not applicable: that is said in a
 * note, never reported as a pass.
 *
 * The SP 800-190 section of a rule follows what it is about, from the rule
 * id (SSG's ids are descriptive): accounts, logins and sshd -> §3.5.4;
 * audit, file permissions, partitions and mounts -> §3.5.5; the rest
 * (packages, services, kernel) -> §3.5.1.
 *
 * libopenscap is not linked: each evaluation opens it by the SONAME the
 * build recorded (host_config.h) and binds the functions below into a
 * table on its stack (util/dlopen.h), so that no other command maps it and
 * its dependencies (librpm, libapt-pkg, xmlsec, libxslt, ...) at start.
 * After the first evaluation the library stays loaded (RTLD_NODELETE) and
 * opening it again only takes a reference.
 */
#include <stdlib.h>
#include <string.h>

#include "host/host_config.h"
#include "util/dlopen.h"
#include "util/util.h"
#include "host_int.h"

#ifdef MM_HAVE_OPENSCAP
#include <openscap/oscap.h>
#include <openscap/oscap_error.h>
#include <openscap/oscap_text.h>
#include <openscap/xccdf_benchmark.h>
#include <openscap/xccdf_policy.h>
#include <openscap/xccdf_session.h>
#endif

#ifdef MM_HAVE_OPENSCAP
/* The libopenscap C API this file calls, typed by its headers. */
typedef struct scap_api {
    MM_DLSYM_FIELD(oscap_err_get_full_error);
    MM_DLSYM_FIELD(oscap_init);
    MM_DLSYM_FIELD(oscap_string_iterator_free);
    MM_DLSYM_FIELD(oscap_string_iterator_has_more);
    MM_DLSYM_FIELD(oscap_string_iterator_next);
    MM_DLSYM_FIELD(oscap_text_iterator_free);
    MM_DLSYM_FIELD(oscap_textlist_get_preferred_plaintext);
    MM_DLSYM_FIELD(xccdf_benchmark_get_item);
    MM_DLSYM_FIELD(xccdf_benchmark_get_platforms);
    MM_DLSYM_FIELD(xccdf_item_get_title);
    MM_DLSYM_FIELD(xccdf_message_get_content);
    MM_DLSYM_FIELD(xccdf_message_iterator_free);
    MM_DLSYM_FIELD(xccdf_message_iterator_has_more);
    MM_DLSYM_FIELD(xccdf_message_iterator_next);
    MM_DLSYM_FIELD(xccdf_policy_get_results);
    MM_DLSYM_FIELD(xccdf_policy_is_item_selected);
    MM_DLSYM_FIELD(xccdf_policy_model_get_benchmark);
    MM_DLSYM_FIELD(xccdf_result_get_rule_results);
    MM_DLSYM_FIELD(xccdf_result_iterator_free);
    MM_DLSYM_FIELD(xccdf_result_iterator_has_more);
    MM_DLSYM_FIELD(xccdf_result_iterator_next);
    MM_DLSYM_FIELD(xccdf_rule_result_get_idref);
    MM_DLSYM_FIELD(xccdf_rule_result_get_messages);
    MM_DLSYM_FIELD(xccdf_rule_result_get_result);
    MM_DLSYM_FIELD(xccdf_rule_result_get_severity);
    MM_DLSYM_FIELD(xccdf_rule_result_iterator_free);
    MM_DLSYM_FIELD(xccdf_rule_result_iterator_has_more);
    MM_DLSYM_FIELD(xccdf_rule_result_iterator_next);
    MM_DLSYM_FIELD(xccdf_session_evaluate);
    MM_DLSYM_FIELD(xccdf_session_export_arf);
    MM_DLSYM_FIELD(xccdf_session_export_check_engine_plugins);
    MM_DLSYM_FIELD(xccdf_session_export_oval);
    MM_DLSYM_FIELD(xccdf_session_export_xccdf);
    MM_DLSYM_FIELD(xccdf_session_free);
    MM_DLSYM_FIELD(xccdf_session_get_policy_model);
    MM_DLSYM_FIELD(xccdf_session_get_xccdf_policy);
    MM_DLSYM_FIELD(xccdf_session_load);
    MM_DLSYM_FIELD(xccdf_session_new);
    MM_DLSYM_FIELD(xccdf_session_set_arf_export);
    MM_DLSYM_FIELD(xccdf_session_set_profile_id);
    MM_DLSYM_FIELD(xccdf_session_set_profile_id_by_suffix);
    MM_DLSYM_FIELD(xccdf_session_set_user_tailoring_file);
    MM_DLSYM_FIELD(xccdf_test_result_type_get_text);
} scap_api;

static int scap_bind(void **lib, scap_api *a)
{
    const mm_dlsym syms[] = {
        MM_DLSYM(a, oscap_err_get_full_error),
        MM_DLSYM(a, oscap_init),
        MM_DLSYM(a, oscap_string_iterator_free),
        MM_DLSYM(a, oscap_string_iterator_has_more),
        MM_DLSYM(a, oscap_string_iterator_next),
        MM_DLSYM(a, oscap_text_iterator_free),
        MM_DLSYM(a, oscap_textlist_get_preferred_plaintext),
        MM_DLSYM(a, xccdf_benchmark_get_item),
        MM_DLSYM(a, xccdf_benchmark_get_platforms),
        MM_DLSYM(a, xccdf_item_get_title),
        MM_DLSYM(a, xccdf_message_get_content),
        MM_DLSYM(a, xccdf_message_iterator_free),
        MM_DLSYM(a, xccdf_message_iterator_has_more),
        MM_DLSYM(a, xccdf_message_iterator_next),
        MM_DLSYM(a, xccdf_policy_get_results),
        MM_DLSYM(a, xccdf_policy_is_item_selected),
        MM_DLSYM(a, xccdf_policy_model_get_benchmark),
        MM_DLSYM(a, xccdf_result_get_rule_results),
        MM_DLSYM(a, xccdf_result_iterator_free),
        MM_DLSYM(a, xccdf_result_iterator_has_more),
        MM_DLSYM(a, xccdf_result_iterator_next),
        MM_DLSYM(a, xccdf_rule_result_get_idref),
        MM_DLSYM(a, xccdf_rule_result_get_messages),
        MM_DLSYM(a, xccdf_rule_result_get_result),
        MM_DLSYM(a, xccdf_rule_result_get_severity),
        MM_DLSYM(a, xccdf_rule_result_iterator_free),
        MM_DLSYM(a, xccdf_rule_result_iterator_has_more),
        MM_DLSYM(a, xccdf_rule_result_iterator_next),
        MM_DLSYM(a, xccdf_session_evaluate),
        MM_DLSYM(a, xccdf_session_export_arf),
        MM_DLSYM(a, xccdf_session_export_check_engine_plugins),
        MM_DLSYM(a, xccdf_session_export_oval),
        MM_DLSYM(a, xccdf_session_export_xccdf),
        MM_DLSYM(a, xccdf_session_free),
        MM_DLSYM(a, xccdf_session_get_policy_model),
        MM_DLSYM(a, xccdf_session_get_xccdf_policy),
        MM_DLSYM(a, xccdf_session_load),
        MM_DLSYM(a, xccdf_session_new),
        MM_DLSYM(a, xccdf_session_set_arf_export),
        MM_DLSYM(a, xccdf_session_set_profile_id),
        MM_DLSYM(a, xccdf_session_set_profile_id_by_suffix),
        MM_DLSYM(a, xccdf_session_set_user_tailoring_file),
        MM_DLSYM(a, xccdf_test_result_type_get_text),
    };
    int rc = mm_dlopen_syms(lib, MM_OPENSCAP_SONAME, syms, sizeof syms / sizeof *syms);
    if (rc)
        return mm_error_wrap(rc, "SCAP needs libopenscap at run time: ");
    return 0;
}
#endif

bool mm_scap_available(void)
{
#ifdef MM_HAVE_OPENSCAP
    void *lib = NULL;
    scap_api a;
    bool ok = scap_bind(&lib, &a) == 0;
    mm_dlclose(lib);
    return ok;
#else
    return false;
#endif
}

#ifdef MM_HAVE_OPENSCAP
static const char *section_of(const char *id)
{
    static const char *const access[] = {"sshd", "account", "login", "password", "passwd",
                                         "pam_", "sudo", "accounts_", "no_empty", "root", NULL};
    static const char *const fs[] = {"audit", "file_permissions", "file_owner", "file_groupowner",
                                     "partition", "mount_option", "aide", "rsyslog", "journald",
                                     "dir_perms", NULL};
    for (size_t i = 0; access[i]; i++)
        if (strstr(id, access[i]))
            return "3.5.4";
    for (size_t i = 0; fs[i]; i++)
        if (strstr(id, fs[i]))
            return "3.5.5";
    return "3.5.1";
}

static mm_severity sev_of(xccdf_level_t l)
{
    switch (l) {
    case XCCDF_HIGH: return MM_SEV_HIGH;
    case XCCDF_MEDIUM: return MM_SEV_MEDIUM;
    case XCCDF_LOW: case XCCDF_INFO: return MM_SEV_LOW;
    default: return MM_SEV_UNKNOWN;
    }
}

static int oscap_fail(const scap_api *a, const char *what, const char *ds)
{
    char *e = a->oscap_err_get_full_error();
    int rc = mm_error_set(MM_EFORMAT, "%s: %s%s%s", ds, what, e ? ": " : "", e ? e : "");
    free(e);
    return rc;
}
#endif

#ifdef MM_HAVE_OPENSCAP
static int eval(const scap_api *a, mm_checks *out, const mm_scap_opts *o)
{
    a->oscap_init();
    struct xccdf_session *s = a->xccdf_session_new(o->datastream);
    if (!s)
        return oscap_fail(a, "not a SCAP datastream or XCCDF document", o->datastream);
    int rc = 0;
    if (o->tailoring)
        a->xccdf_session_set_user_tailoring_file(s, o->tailoring);
    if (o->results_arf)
        a->xccdf_session_set_arf_export(s, o->results_arf);
    if (a->xccdf_session_load(s) != 0) {
        rc = oscap_fail(a, "loading failed", o->datastream);
        goto out;
    }
    /* a full id, else a unique suffix ("standard") as oscap accepts */
    if (!a->xccdf_session_set_profile_id(s, o->profile)) {
        int r = a->xccdf_session_set_profile_id_by_suffix(s, o->profile);
        if (r != 0) {
            rc = mm_error_set(MM_ENOTFOUND, "%s: %s profile \"%s\"", o->datastream,
                              r == 2 ? "more than one" : "no", o->profile);
            goto out;
        }
    }
    if (a->xccdf_session_evaluate(s) != 0) {
        rc = oscap_fail(a, "evaluation failed", o->datastream);
        goto out;
    }
    /* ARF is built from the exported XCCDF and OVAL results, in oscap's order */
    if (o->results_arf &&
        (a->xccdf_session_export_oval(s) != 0 || a->xccdf_session_export_check_engine_plugins(s) != 0 ||
         a->xccdf_session_export_xccdf(s) != 0 || a->xccdf_session_export_arf(s) != 0)) {
        rc = oscap_fail(a, "writing the ARF results failed", o->results_arf);
        goto out;
    }
    struct xccdf_policy *pol = a->xccdf_session_get_xccdf_policy(s);
    struct xccdf_benchmark *bench =
        a->xccdf_policy_model_get_benchmark(a->xccdf_session_get_policy_model(s));
    struct xccdf_result_iterator *ri = pol ? a->xccdf_policy_get_results(pol) : NULL;
    struct xccdf_result *res = NULL;
    while (ri && a->xccdf_result_iterator_has_more(ri))
        res = a->xccdf_result_iterator_next(ri);
    a->xccdf_result_iterator_free(ri);
    if (!res) {
        rc = mm_error_set(MM_EFORMAT, "%s: the evaluation gave no result", o->datastream);
        goto out;
    }
    size_t total = 0, na = 0;
    struct xccdf_rule_result_iterator *it = a->xccdf_result_get_rule_results(res);
    while (a->xccdf_rule_result_iterator_has_more(it)) {
        struct xccdf_rule_result *rr = a->xccdf_rule_result_iterator_next(it);
        xccdf_test_result_type_t t = a->xccdf_rule_result_get_result(rr);
        const char *id = a->xccdf_rule_result_get_idref(rr);
        /* a benchmark that does not apply marks every rule, selected or
         * not: only the profile's rules are reported */
        if (t == XCCDF_RESULT_NOT_SELECTED || !id || !a->xccdf_policy_is_item_selected(pol, id))
            continue;
        mm_check_result r = {0};
        r.id = (char *)id;
        char *title = NULL;
        struct xccdf_item *item = bench && id ? a->xccdf_benchmark_get_item(bench, id) : NULL;
        if (item) {
            /* the iterator is ours to free (the call does not) */
            struct oscap_text_iterator *ti = a->xccdf_item_get_title(item);
            title = a->oscap_textlist_get_preferred_plaintext(ti, NULL);
            a->oscap_text_iterator_free(ti);
        }
        r.title = title ? title : (char *)id;
        r.section = (char *)section_of(id ? id : "");
        r.benchmark = (char *)o->datastream;
        r.number = (char *)id;
        r.severity = sev_of(a->xccdf_rule_result_get_severity(rr));
        r.target = (char *)"host";
        const char *tt = a->xccdf_test_result_type_get_text(t);
        mm_buf ev = MM_BUF_INIT;
        mm_buf_printf(&ev, "XCCDF result %s", tt ? tt : "?");
        struct xccdf_message_iterator *mi = a->xccdf_rule_result_get_messages(rr);
        while (mi && a->xccdf_message_iterator_has_more(mi)) {
            const char *m = a->xccdf_message_get_content(a->xccdf_message_iterator_next(mi));
            if (m && ev.len < 4096)
                mm_buf_printf(&ev, "; %s", m);
        }
        a->xccdf_message_iterator_free(mi);
        switch (t) {
        case XCCDF_RESULT_PASS: case XCCDF_RESULT_FIXED: r.status = MM_CHECK_PASS; break;
        case XCCDF_RESULT_FAIL: r.status = MM_CHECK_FAIL; break;
        case XCCDF_RESULT_NOT_APPLICABLE:
            r.status = MM_CHECK_NA;
            mm_buf_adds(&ev, " (the rule's platform does not match this host)");
            na++;
            break;
        case XCCDF_RESULT_NOT_CHECKED: case XCCDF_RESULT_INFORMATIONAL:
            r.status = MM_CHECK_MANUAL;
            break;
        default: r.status = MM_CHECK_ERROR; break;
        }
        r.evidence = ev.data;
        mm_checks_push(out, &r);
        total++;
        mm_buf_free(&ev);
        free(title);
    }
    a->xccdf_rule_result_iterator_free(it);
    if (total && na == total) {
        mm_buf plats = MM_BUF_INIT;
        struct oscap_string_iterator *pi = bench ? a->xccdf_benchmark_get_platforms(bench) : NULL;
        while (pi && a->oscap_string_iterator_has_more(pi))
            mm_buf_printf(&plats, "%s%s", plats.len ? ", " : "", a->oscap_string_iterator_next(pi));
        a->oscap_string_iterator_free(pi);
        mm_checks_notef(out, "%s: all %zu rules are not applicable: the benchmark is for %s, not this host",
                        o->datastream, total, plats.len ? plats.data : "another platform");
        mm_buf_free(&plats);
    } else if (na) {
        mm_checks_notef(out, "%s: %zu of %zu rules are not applicable here", o->datastream, na, total);
    }
out:
    a->xccdf_session_free(s);
    return rc;
}
#endif

int mm_scap_eval(mm_checks *out, const mm_scap_opts *o)
{
    if (!o || !o->datastream || !o->profile)
        return mm_error_set(MM_EINVAL, "SCAP: a datastream and a profile are needed");
#ifndef MM_HAVE_OPENSCAP
    return mm_error_set(MM_EUNSUPPORTED, "SCAP: this build has no libopenscap (install libopenscap-dev and rebuild)");
#else
    struct stat st;
    if (stat(o->datastream, &st) != 0)
        return mm_error_set(MM_ENOTFOUND, "%s: not present", o->datastream);
    void *lib = NULL;
    scap_api a;
    int rc = scap_bind(&lib, &a);
    if (!rc)
        rc = eval(&a, out, o);
    mm_dlclose(lib);
    return rc;
#endif
}
