/*
 * report/spdx.c - SPDX 2.3 JSON SBOMs, and the SPDX licence-expression
 * normaliser both SBOM writers use.
 *
 * The document describes one root package (the image or the root
 * filesystem), which CONTAINS the operating system and every package.
 * SPDX identifiers may hold only letters, digits, '.' and '-', and must be
 * unique, so each package's id is its sanitised name plus its position.
 *
 * Licence strings come from package metadata and are often not SPDX
 * ("GPLv2+", "MIT BSD").  A string that parses as an SPDX licence
 * expression over known identifiers is written in canonical form; one that
 * does not becomes a LicenseRef- declared in hasExtractedLicensingInfos
 * with the original text, so nothing is lost and the document stays valid.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "report/report_int.h"
#include "util/util.h"

/* SPDX licence identifiers mamori recognises: the licences that package
 * metadata in container images actually names (Debian, Alpine, Red Hat,
 * PyPI, npm, Maven, crates, gems), including the deprecated short forms
 * such as "GPL-2.0" and "GPL-2.0+" that metadata still uses.  Every entry
 * is in the SPDX licence list (checked against CycloneDX's spdx.schema).
 * Anything else becomes a LicenseRef-. */
static const char *const spdx_ids[] = {
    "0BSD", "AFL-2.1", "AFL-3.0", "AGPL-1.0", "AGPL-1.0-only",
    "AGPL-1.0-or-later", "AGPL-3.0", "AGPL-3.0-only", "AGPL-3.0-or-later",
    "Apache-1.0", "Apache-1.1", "Apache-2.0", "APSL-2.0", "Artistic-1.0",
    "Artistic-1.0-Perl", "Artistic-2.0", "Beerware", "blessing",
    "BSD-1-Clause", "BSD-2-Clause", "BSD-2-Clause-Patent", "BSD-3-Clause",
    "BSD-3-Clause-Clear", "BSD-3-Clause-LBNL", "BSD-4-Clause",
    "BSD-4-Clause-UC", "BSD-Source-Code", "BSL-1.0", "bzip2-1.0.6",
    "CC-BY-3.0", "CC-BY-4.0", "CC-BY-SA-3.0", "CC-BY-SA-4.0", "CC-PDDC",
    "CC0-1.0", "CDDL-1.0", "CDDL-1.1", "CPL-1.0", "curl", "ECL-2.0",
    "EPL-1.0", "EPL-2.0", "EUPL-1.1", "EUPL-1.2", "FSFAP", "FSFUL",
    "FSFULLR", "FTL", "GFDL-1.1-only", "GFDL-1.1-or-later", "GFDL-1.2-only",
    "GFDL-1.2-or-later", "GFDL-1.3-only", "GFDL-1.3-or-later", "GPL-1.0",
    "GPL-1.0-only", "GPL-1.0-or-later", "GPL-1.0+", "GPL-2.0",
    "GPL-2.0-only", "GPL-2.0-or-later", "GPL-2.0+",
    "GPL-2.0-with-classpath-exception", "GPL-3.0", "GPL-3.0-only",
    "GPL-3.0-or-later", "GPL-3.0+", "GPL-3.0-with-GCC-exception", "HPND",
    "ICU", "IJG", "Info-ZIP", "Intel", "ISC", "LGPL-2.0", "LGPL-2.0-only",
    "LGPL-2.0-or-later", "LGPL-2.0+", "LGPL-2.1", "LGPL-2.1-only",
    "LGPL-2.1-or-later", "LGPL-2.1+", "LGPL-3.0", "LGPL-3.0-only",
    "LGPL-3.0-or-later", "LGPL-3.0+", "Libpng", "libpng-2.0", "libtiff",
    "LPL-1.02", "LPPL-1.3c", "MirOS", "MIT", "MIT-0", "MIT-CMU",
    "MIT-Modern-Variant", "MPL-1.0", "MPL-1.1", "MPL-2.0",
    "MPL-2.0-no-copyleft-exception", "MS-PL", "MS-RL", "NCSA", "Net-SNMP",
    "NTP", "OFL-1.1", "OLDAP-2.8", "OpenSSL", "OpenSSL-standalone",
    "PHP-3.0", "PHP-3.01", "PostgreSQL", "PSF-2.0", "Python-2.0",
    "Python-2.0.1", "Ruby", "Sleepycat", "Spencer-86", "Spencer-94",
    "SSPL-1.0", "TCL", "Unicode-3.0", "Unicode-DFS-2015",
    "Unicode-DFS-2016", "Unlicense", "UPL-1.0", "Vim", "W3C", "WTFPL",
    "X11", "XFree86-1.1", "Zlib", "zlib-acknowledgement", "ZPL-2.0",
    "ZPL-2.1",
};

/* Exceptions that may follow WITH. */
static const char *const spdx_exceptions[] = {
    "389-exception", "Autoconf-exception-2.0", "Autoconf-exception-3.0",
    "Bison-exception-2.2", "Classpath-exception-2.0", "FLTK-exception",
    "Font-exception-2.0", "GCC-exception-2.0", "GCC-exception-3.1",
    "GPL-3.0-linking-exception", "Libtool-exception", "Linux-syscall-note",
    "LLVM-exception", "LZMA-exception", "OCaml-LGPL-linking-exception",
    "OpenJDK-assembly-exception-1.0", "openvpn-openssl-exception",
    "Qt-LGPL-exception-1.1", "u-boot-exception-2.0",
    "WxWindows-exception-3.1",
};

/* Common spellings in package metadata that name one SPDX licence
 * unambiguously (Fedora's legacy short names, PyPI classifier-style
 * names).  Matched case-insensitively against the whole string or one
 * token. */
static const struct { const char *alias, *id; } spdx_aliases[] = {
    {"GPLv2", "GPL-2.0-only"},         {"GPLv2+", "GPL-2.0-or-later"},
    {"GPLv3", "GPL-3.0-only"},         {"GPLv3+", "GPL-3.0-or-later"},
    {"LGPLv2", "LGPL-2.0-only"},       {"LGPLv2+", "LGPL-2.0-or-later"},
    {"LGPLv2.1", "LGPL-2.1-only"},     {"LGPLv2.1+", "LGPL-2.1-or-later"},
    {"LGPLv3", "LGPL-3.0-only"},       {"LGPLv3+", "LGPL-3.0-or-later"},
    {"AGPLv3", "AGPL-3.0-only"},       {"AGPLv3+", "AGPL-3.0-or-later"},
    {"ASL 2.0", "Apache-2.0"},         {"Apache 2.0", "Apache-2.0"},
    {"Apache License 2.0", "Apache-2.0"},
    {"Apache License, Version 2.0", "Apache-2.0"},
    {"Apache Software License", "Apache-2.0"},
    {"Apache-2", "Apache-2.0"},        {"MIT License", "MIT"},
    {"The MIT License", "MIT"},        {"Expat", "MIT"},
    {"ISC License", "ISC"},            {"MPLv1.1", "MPL-1.1"},
    {"MPLv2.0", "MPL-2.0"},            {"Mozilla Public License 2.0", "MPL-2.0"},
    {"BSD-2", "BSD-2-Clause"},         {"BSD-3", "BSD-3-Clause"},
    {"Boost", "BSL-1.0"},              {"PSFL", "PSF-2.0"},
    {"Public Domain", NULL},
};

static const char *lookup(const char *const *tab, size_t n, const char *s,
                          size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(tab[i]) == len && strncasecmp(tab[i], s, len) == 0)
            return tab[i];
    return NULL;
}

static const char *lookup_id(const char *s, size_t len)
{
    return lookup(spdx_ids, sizeof spdx_ids / sizeof spdx_ids[0], s, len);
}

/* An alias match: sets *id (NULL for "known not to be SPDX"). */
static bool lookup_alias(const char *s, size_t len, const char **id)
{
    for (size_t i = 0; i < sizeof spdx_aliases / sizeof spdx_aliases[0]; i++)
        if (strlen(spdx_aliases[i].alias) == len &&
            strncasecmp(spdx_aliases[i].alias, s, len) == 0) {
            *id = spdx_aliases[i].id;
            return true;
        }
    return false;
}

/* --- licence-expression parser (SPDX 2.3 Annex D) ----------------------- */

typedef struct lexer {
    const char *p;
    mm_buf out;
    int depth;
    int nterms;      /* licence terms seen */
    bool compound;   /* an operator, '+' or WITH was seen */
} lexer;

enum { T_END, T_LP, T_RP, T_WORD, T_BAD };

static int next_tok(lexer *lx, const char **w, size_t *wl)
{
    while (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\n' ||
           *lx->p == '\r')
        lx->p++;
    if (!*lx->p)
        return T_END;
    if (*lx->p == '(') { lx->p++; return T_LP; }
    if (*lx->p == ')') { lx->p++; return T_RP; }
    const char *s = lx->p;
    while (*lx->p && *lx->p != ' ' && *lx->p != '\t' && *lx->p != '\n' &&
           *lx->p != '\r' && *lx->p != '(' && *lx->p != ')')
        lx->p++;
    *w = s;
    *wl = (size_t)(lx->p - s);
    return T_WORD;
}

static bool is_op(const char *w, size_t wl, const char *op)
{
    return wl == strlen(op) && strncasecmp(w, op, wl) == 0;
}

static bool valid_ref_chars(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '-')
            return false;
    return true;
}

/* Appends one licence term (identifier[+] or LicenseRef-...). */
static bool term(lexer *lx, const char *w, size_t wl)
{
    if (wl > 11 && strncmp(w, "LicenseRef-", 11) == 0) {
        if (!valid_ref_chars(w + 11, wl - 11))
            return false;
        mm_buf_add(&lx->out, w, wl);
        lx->nterms++;
        return true;
    }
    const char *id = lookup_id(w, wl);
    bool plus = false;
    if (!id && wl > 1 && w[wl - 1] == '+') {
        id = lookup_id(w, wl - 1);
        plus = id != NULL;
    }
    if (!id) {
        const char *alias;
        if (lookup_alias(w, wl, &alias) && alias)
            id = alias;
    }
    if (!id)
        return false;
    /* Deprecated "X+" ids are in the list themselves; treat a trailing
     * '+' as making the term compound either way. */
    if (plus || id[strlen(id) - 1] == '+')
        lx->compound = true;
    mm_buf_adds(&lx->out, id);
    if (plus)
        mm_buf_addc(&lx->out, '+');
    lx->nterms++;
    return true;
}

static bool parse_or(lexer *lx);

/* simple [WITH exception] | ( expr ) */
static bool parse_with(lexer *lx)
{
    const char *w = NULL;
    size_t wl = 0;
    int t = next_tok(lx, &w, &wl);
    if (t == T_LP) {
        if (++lx->depth > 32)
            return false;
        mm_buf_addc(&lx->out, '(');
        if (!parse_or(lx))
            return false;
        if (next_tok(lx, &w, &wl) != T_RP)
            return false;
        mm_buf_addc(&lx->out, ')');
        lx->depth--;
        return true;
    }
    if (t != T_WORD || is_op(w, wl, "AND") || is_op(w, wl, "OR") ||
        is_op(w, wl, "WITH"))
        return false;
    if (!term(lx, w, wl))
        return false;
    const char *save = lx->p;
    t = next_tok(lx, &w, &wl);
    if (t == T_WORD && is_op(w, wl, "WITH")) {
        if (next_tok(lx, &w, &wl) != T_WORD)
            return false;
        const char *ex = lookup(spdx_exceptions,
                                sizeof spdx_exceptions / sizeof spdx_exceptions[0],
                                w, wl);
        if (!ex)
            return false;
        mm_buf_adds(&lx->out, " WITH ");
        mm_buf_adds(&lx->out, ex);
        lx->compound = true;
        return true;
    }
    lx->p = save;
    return true;
}

static bool parse_and(lexer *lx)
{
    if (!parse_with(lx))
        return false;
    for (;;) {
        const char *save = lx->p, *w = NULL;
        size_t wl = 0;
        int t = next_tok(lx, &w, &wl);
        if (t == T_WORD && is_op(w, wl, "AND")) {
            mm_buf_adds(&lx->out, " AND ");
            lx->compound = true;
            if (!parse_with(lx))
                return false;
            continue;
        }
        lx->p = save;
        return true;
    }
}

static bool parse_or(lexer *lx)
{
    if (!parse_and(lx))
        return false;
    for (;;) {
        const char *save = lx->p, *w = NULL;
        size_t wl = 0;
        int t = next_tok(lx, &w, &wl);
        if (t == T_WORD && is_op(w, wl, "OR")) {
            mm_buf_adds(&lx->out, " OR ");
            lx->compound = true;
            if (!parse_and(lx))
                return false;
            continue;
        }
        lx->p = save;
        return true;
    }
}

char *mm_spdx_license_normalize(const char *s, bool *single)
{
    bool dummy;
    if (!single)
        single = &dummy;
    *single = false;
    if (!s)
        return NULL;
    size_t n = strlen(s);
    if (n == 0 || n > 4096)
        return NULL;
    /* Whole-string aliases first ("Apache License, Version 2.0"). */
    char *trim = mm_xstrdup(s);
    mm_str_trim(trim);
    const char *alias;
    if (lookup_alias(trim, strlen(trim), &alias)) {
        free(trim);
        if (!alias)
            return NULL;
        *single = true;
        return mm_xstrdup(alias);
    }
    lexer lx = {.p = trim};
    const char *w;
    size_t wl;
    bool ok = parse_or(&lx) && next_tok(&lx, &w, &wl) == T_END &&
              lx.nterms > 0;
    free(trim);
    if (!ok) {
        mm_buf_free(&lx.out);
        return NULL;
    }
    *single = !lx.compound && lx.nterms == 1 &&
              !strchr(lx.out.data, '(') &&
              !mm_str_startswith(lx.out.data, "LicenseRef-");
    return mm_buf_detach(&lx.out);
}

/* --- the SPDX document -------------------------------------------------- */

/* Appends s with every character outside [A-Za-z0-9.-] replaced by '-'. */
static void add_sanitised(mm_buf *b, const char *s, size_t max)
{
    size_t n = 0;
    for (; s && *s && n < max; s++, n++) {
        unsigned char c = (unsigned char)*s;
        mm_buf_addc(b, isalnum(c) || c == '.' || c == '-' ? (char)c : '-');
    }
    if (n == 0)
        mm_buf_adds(b, "unknown");
}

typedef struct lic_refs {
    mm_map *by_text; /* licence text -> LicenseRef id (char *) */
    mm_map *used;    /* LicenseRef ids already handed out */
    json_t *infos;   /* hasExtractedLicensingInfos */
} lic_refs;

/* The licenseDeclared value for a metadata licence string. */
static json_t *declared(lic_refs *lr, const char *license)
{
    if (!license || !*license)
        return json_string("NOASSERTION");
    char *norm = mm_spdx_license_normalize(license, NULL);
    if (norm) {
        json_t *j = json_string(norm);
        free(norm);
        return j;
    }
    const char *ref = mm_map_get(lr->by_text, license);
    if (!ref) {
        mm_buf b = MM_BUF_INIT;
        mm_buf_adds(&b, "LicenseRef-");
        add_sanitised(&b, license, 64);
        size_t base = b.len;
        for (int k = 2; mm_map_get(lr->used, b.data); k++) {
            b.len = base;
            b.data[base] = 0;
            mm_buf_printf(&b, "-%d", k);
        }
        char *id = mm_buf_detach(&b);
        mm_map_put(lr->used, id, (void *)1);
        mm_map_put(lr->by_text, license, id);
        ref = id;
        json_t *info = json_object();
        json_object_set_new(info, "licenseId", json_string(id));
        json_object_set_new(info, "extractedText", mm_json_str(license));
        json_object_set_new(info, "name", mm_json_str(license));
        json_object_set_new(info, "comment",
                            json_string("licence as stated by the package "
                                        "metadata; not an SPDX expression"));
        json_array_append_new(lr->infos, info);
    }
    return json_string(ref);
}

static json_t *relationship(const char *a, const char *type, const char *b)
{
    json_t *o = json_object();
    json_object_set_new(o, "spdxElementId", json_string(a));
    json_object_set_new(o, "relatedSpdxElement", json_string(b));
    json_object_set_new(o, "relationshipType", json_string(type));
    return o;
}

static json_t *spdx_doc(mm_result *r, const mm_report_opts *o)
{
    char ts[32], uuid[37];
    mm_report_time(r, o, ts);
    mm_report_uuid(uuid);
    const char *target = mm_result_target(r);
    bool image = mm_result_kind(r) == MM_TARGET_IMAGE;
    const char *root_id = image ? "SPDXRef-Image" : "SPDXRef-Filesystem";

    json_t *doc = json_object();
    json_object_set_new(doc, "spdxVersion", json_string("SPDX-2.3"));
    json_object_set_new(doc, "dataLicense", json_string("CC0-1.0"));
    json_object_set_new(doc, "SPDXID", json_string("SPDXRef-DOCUMENT"));
    json_object_set_new(doc, "name", mm_json_str(target ? target : "unknown"));
    mm_buf ns = MM_BUF_INIT;
    mm_buf_printf(&ns, "https://spdx.org/spdxdocs/mamori/%s/",
                  image ? "image" : "rootfs");
    add_sanitised(&ns, mm_path_base(target ? target : ""), 128);
    mm_buf_printf(&ns, "-%s", uuid);
    json_object_set_new(doc, "documentNamespace", json_string(ns.data));
    mm_buf_free(&ns);

    json_t *ci = json_object();
    json_object_set_new(ci, "created", json_string(ts));
    json_t *creators = json_array();
    char *tool = mm_xasprintf("Tool: mamori-%s", mm_report_tool_version(o));
    json_array_append_new(creators, mm_json_str(tool));
    free(tool);
    json_object_set_new(ci, "creators", creators);
    json_object_set_new(doc, "creationInfo", ci);

    json_t *pkgs = json_array();
    json_t *rels = json_array();
    lic_refs lr = {mm_map_new(), mm_map_new(), json_array()};

    /* The root: the image or the root filesystem. */
    json_t *root = json_object();
    json_object_set_new(root, "name", mm_json_str(target ? target : "unknown"));
    json_object_set_new(root, "SPDXID", json_string(root_id));
    const mm_image_info *im = mm_result_image(r);
    if (image && im && im->config_digest)
        json_object_set_new(root, "versionInfo", mm_json_str(im->config_digest));
    json_object_set_new(root, "downloadLocation", json_string("NOASSERTION"));
    json_object_set_new(root, "filesAnalyzed", json_false());
    json_object_set_new(root, "licenseConcluded", json_string("NOASSERTION"));
    json_object_set_new(root, "licenseDeclared", json_string("NOASSERTION"));
    json_object_set_new(root, "copyrightText", json_string("NOASSERTION"));
    json_object_set_new(root, "supplier", json_string("NOASSERTION"));
    json_object_set_new(root, "primaryPackagePurpose",
                        json_string(image ? "CONTAINER" : "FILE"));
    json_array_append_new(pkgs, root);
    json_array_append_new(rels, relationship("SPDXRef-DOCUMENT", "DESCRIBES",
                                             root_id));

    const mm_os_info *os = mm_result_os(r);
    if (os && os->family) {
        json_t *p = json_object();
        json_object_set_new(p, "name", mm_json_str(os->family));
        json_object_set_new(p, "SPDXID", json_string("SPDXRef-OperatingSystem"));
        if (os->version)
            json_object_set_new(p, "versionInfo", mm_json_str(os->version));
        json_object_set_new(p, "downloadLocation", json_string("NOASSERTION"));
        json_object_set_new(p, "filesAnalyzed", json_false());
        json_object_set_new(p, "licenseConcluded", json_string("NOASSERTION"));
        json_object_set_new(p, "licenseDeclared", json_string("NOASSERTION"));
        json_object_set_new(p, "copyrightText", json_string("NOASSERTION"));
        json_object_set_new(p, "supplier", json_string("NOASSERTION"));
        if (os->name)
            json_object_set_new(p, "description", mm_json_str(os->name));
        json_object_set_new(p, "primaryPackagePurpose",
                            json_string("OPERATING_SYSTEM"));
        json_array_append_new(pkgs, p);
        json_array_append_new(rels, relationship(root_id, "CONTAINS",
                                                 "SPDXRef-OperatingSystem"));
    }

    mm_inventory *inv = mm_result_inventory(r);
    size_t n = mm_inventory_count(inv);
    for (size_t i = 0; i < n; i++) {
        const mm_package *pk = mm_inventory_get(inv, i);
        if (!pk)
            continue;
        mm_buf id = MM_BUF_INIT;
        mm_buf_adds(&id, "SPDXRef-Package-");
        add_sanitised(&id, pk->name, 96);
        mm_buf_printf(&id, "-%zu", i + 1);

        json_t *p = json_object();
        json_object_set_new(p, "name", mm_json_str(pk->name ? pk->name : "unknown"));
        json_object_set_new(p, "SPDXID", json_string(id.data));
        if (pk->version)
            json_object_set_new(p, "versionInfo", mm_json_str(pk->version));
        json_object_set_new(p, "downloadLocation", json_string("NOASSERTION"));
        json_object_set_new(p, "filesAnalyzed", json_false());
        json_object_set_new(p, "licenseConcluded", json_string("NOASSERTION"));
        json_object_set_new(p, "licenseDeclared", declared(&lr, pk->license));
        json_object_set_new(p, "copyrightText", json_string("NOASSERTION"));
        json_object_set_new(p, "supplier", json_string("NOASSERTION"));
        if (pk->src_name) {
            char *si = mm_xasprintf("built from source package %s%s%s",
                                    pk->src_name,
                                    pk->src_version ? " " : "",
                                    pk->src_version ? pk->src_version : "");
            json_object_set_new(p, "sourceInfo", mm_json_str(si));
            free(si);
        }
        if (pk->purl) {
            json_t *refs = json_array();
            json_t *ref = json_object();
            json_object_set_new(ref, "referenceCategory",
                                json_string("PACKAGE-MANAGER"));
            json_object_set_new(ref, "referenceType", json_string("purl"));
            json_object_set_new(ref, "referenceLocator", mm_json_str(pk->purl));
            json_array_append_new(refs, ref);
            json_object_set_new(p, "externalRefs", refs);
        }
        /* Where it was found: the layer and the file, for traceability. */
        mm_buf c = MM_BUF_INIT;
        mm_buf_printf(&c, "type %s", mm_pkg_type_name(pk->type));
        if (pk->path)
            mm_buf_printf(&c, "; found in %s", pk->path);
        if (pk->layer >= 0)
            mm_buf_printf(&c, "; layer %d", pk->layer);
        if (pk->layer_digest)
            mm_buf_printf(&c, " (%s)", pk->layer_digest);
        json_object_set_new(p, "comment", mm_json_str(c.data));
        mm_buf_free(&c);
        json_array_append_new(pkgs, p);
        json_array_append_new(rels, relationship(root_id, "CONTAINS", id.data));
        mm_buf_free(&id);
    }

    if (json_array_size(lr.infos))
        json_object_set(doc, "hasExtractedLicensingInfos", lr.infos);
    json_decref(lr.infos);
    json_object_set_new(doc, "packages", pkgs);
    json_object_set_new(doc, "relationships", rels);
    mm_map_free(lr.by_text, free);
    mm_map_free(lr.used, NULL);
    return doc;
}

int mm_report_write_spdx(FILE *out, mm_result *r, const mm_report_opts *o)
{
    return mm_report_dump(out, spdx_doc(r, o), "spdx-json");
}
