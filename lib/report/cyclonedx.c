/*
 * report/cyclonedx.c - CycloneDX 1.5 JSON SBOMs.
 *
 * metadata.component is the scanned thing: a "container" for an image, an
 * "operating-system" for a root filesystem (it is an installed OS tree).
 * components holds the OS (family and version) and every package as a
 * "library" with its purl, licences and where it was found (properties
 * mamori:path, mamori:layer:index, mamori:layer:digest).  bom-refs must be
 * unique within a BOM, and the same package can sit in two places (two
 * copies of one wheel), so a repeated purl gets a "|N" suffix.  The
 * dependency graph is shallow: the root depends on the OS and on the
 * language packages; the OS on its own packages.
 */
#include <string.h>

#include "report/report_int.h"
#include "util/util.h"

/* Hands out a unique bom-ref based on want (the map keeps the count). */
static char *unique_ref(mm_map *used, const char *want)
{
    if (!mm_map_get(used, want)) {
        mm_map_put(used, want, (void *)1);
        return mm_xstrdup(want);
    }
    for (size_t k = 2;; k++) {
        char *ref = mm_xasprintf("%s|%zu", want, k);
        if (!mm_map_get(used, ref)) {
            mm_map_put(used, ref, (void *)1);
            return ref;
        }
        free(ref);
    }
}

static void add_prop(json_t *props, const char *name, const char *value)
{
    if (!value)
        return;
    json_t *p = json_object();
    json_object_set_new(p, "name", json_string(name));
    json_object_set_new(p, "value", mm_json_str(value));
    json_array_append_new(props, p);
}

static json_t *licenses_json(const char *license)
{
    bool single = false;
    char *norm = mm_spdx_license_normalize(license, &single);
    json_t *a = json_array();
    json_t *c = json_object();
    if (norm && !single) {
        json_object_set_new(c, "expression", json_string(norm));
    } else {
        json_t *l = json_object();
        if (norm)
            json_object_set_new(l, "id", json_string(norm));
        else
            json_object_set_new(l, "name", mm_json_str(license));
        json_object_set_new(c, "license", l);
    }
    free(norm);
    json_array_append_new(a, c);
    return a;
}

static bool is_os_type(mm_pkg_type t)
{
    return t == MM_PKG_DPKG || t == MM_PKG_APK || t == MM_PKG_RPM;
}

static json_t *package_component(const mm_package *pk, const char *ref)
{
    json_t *c = json_object();
    json_object_set_new(c, "bom-ref", mm_json_str(ref));
    json_object_set_new(c, "type", json_string("library"));
    const char *name = pk->name ? pk->name : "unknown";
    const char *colon = pk->type == MM_PKG_MAVEN ? strchr(name, ':') : NULL;
    if (colon && colon != name && colon[1]) {
        char *group = mm_xstrndup(name, (size_t)(colon - name));
        json_object_set_new(c, "group", mm_json_str(group));
        free(group);
        json_object_set_new(c, "name", mm_json_str(colon + 1));
    } else {
        json_object_set_new(c, "name", mm_json_str(name));
    }
    if (pk->version)
        json_object_set_new(c, "version", mm_json_str(pk->version));
    if (pk->license && *pk->license)
        json_object_set_new(c, "licenses", licenses_json(pk->license));
    if (pk->purl)
        json_object_set_new(c, "purl", mm_json_str(pk->purl));
    json_t *props = json_array();
    add_prop(props, "mamori:package:type", mm_pkg_type_name(pk->type));
    add_prop(props, "mamori:path", pk->path);
    if (pk->layer >= 0) {
        char idx[16];
        snprintf(idx, sizeof idx, "%d", pk->layer);
        add_prop(props, "mamori:layer:index", idx);
    }
    add_prop(props, "mamori:layer:digest", pk->layer_digest);
    add_prop(props, "mamori:package:src-name", pk->src_name);
    add_prop(props, "mamori:package:src-version", pk->src_version);
    if (pk->indirect)
        add_prop(props, "mamori:package:indirect", "true");
    json_object_set_new(c, "properties", props);
    return c;
}

static json_t *cdx_doc(mm_result *r, const mm_report_opts *o)
{
    char ts[32], uuid[37];
    mm_report_time(r, o, ts);
    mm_report_uuid(uuid);
    const char *target = mm_result_target(r);
    if (!target)
        target = "unknown";
    bool image = mm_result_kind(r) == MM_TARGET_IMAGE;
    mm_map *used = mm_map_new();

    json_t *doc = json_object();
    json_object_set_new(doc, "$schema",
                        json_string("http://cyclonedx.org/schema/bom-1.5.schema.json"));
    json_object_set_new(doc, "bomFormat", json_string("CycloneDX"));
    json_object_set_new(doc, "specVersion", json_string("1.5"));
    char *serial = mm_xasprintf("urn:uuid:%s", uuid);
    json_object_set_new(doc, "serialNumber", json_string(serial));
    free(serial);
    json_object_set_new(doc, "version", json_integer(1));

    json_t *meta = json_object();
    json_object_set_new(meta, "timestamp", json_string(ts));
    json_t *tool = json_object();
    json_object_set_new(tool, "type", json_string("application"));
    json_object_set_new(tool, "name", json_string("mamori"));
    json_object_set_new(tool, "version", mm_json_str(mm_report_tool_version(o)));
    json_t *tcomps = json_array();
    json_array_append_new(tcomps, tool);
    json_t *tools = json_object();
    json_object_set_new(tools, "components", tcomps);
    json_object_set_new(meta, "tools", tools);

    char *root_want = mm_xasprintf("%s:%s", image ? "image" : "rootfs", target);
    char *root_ref = unique_ref(used, root_want);
    free(root_want);
    json_t *root = json_object();
    json_object_set_new(root, "bom-ref", mm_json_str(root_ref));
    json_object_set_new(root, "type",
                        json_string(image ? "container" : "operating-system"));
    json_object_set_new(root, "name", mm_json_str(target));
    const mm_image_info *im = mm_result_image(r);
    if (image && im) {
        json_t *props = json_array();
        add_prop(props, "mamori:image:source-format", im->source_format);
        add_prop(props, "mamori:image:config-digest", im->config_digest);
        add_prop(props, "mamori:image:manifest-digest", im->manifest_digest);
        add_prop(props, "mamori:image:os", im->os);
        add_prop(props, "mamori:image:architecture", im->architecture);
        add_prop(props, "mamori:image:variant", im->variant);
        add_prop(props, "mamori:image:created", im->created);
        for (size_t i = 0; i < im->nrepo_tags; i++)
            add_prop(props, "mamori:image:repo-tag", im->repo_tags[i]);
        if (json_array_size(props))
            json_object_set_new(root, "properties", props);
        else
            json_decref(props);
    }
    json_object_set_new(meta, "component", root);
    json_object_set_new(doc, "metadata", meta);

    json_t *comps = json_array();
    json_t *root_deps = json_array();
    json_t *os_deps = NULL;
    char *os_ref = NULL;
    const mm_os_info *os = mm_result_os(r);
    if (os && os->family) {
        char *want = mm_xasprintf("os:%s%s%s", os->family,
                                  os->version ? "@" : "",
                                  os->version ? os->version : "");
        os_ref = unique_ref(used, want);
        free(want);
        json_t *c = json_object();
        json_object_set_new(c, "bom-ref", mm_json_str(os_ref));
        json_object_set_new(c, "type", json_string("operating-system"));
        json_object_set_new(c, "name", mm_json_str(os->family));
        if (os->version)
            json_object_set_new(c, "version", mm_json_str(os->version));
        if (os->name)
            json_object_set_new(c, "description", mm_json_str(os->name));
        json_array_append_new(comps, c);
        json_array_append_new(root_deps, mm_json_str(os_ref));
        os_deps = json_array();
    }

    mm_inventory *inv = mm_result_inventory(r);
    size_t n = mm_inventory_count(inv);
    for (size_t i = 0; i < n; i++) {
        const mm_package *pk = mm_inventory_get(inv, i);
        if (!pk)
            continue;
        char *want = pk->purl ? mm_xstrdup(pk->purl)
                              : mm_xasprintf("%s:%s@%s",
                                             mm_pkg_type_name(pk->type),
                                             pk->name ? pk->name : "unknown",
                                             pk->version ? pk->version : "");
        char *ref = unique_ref(used, want);
        free(want);
        json_array_append_new(comps, package_component(pk, ref));
        if (os_deps && is_os_type(pk->type))
            json_array_append_new(os_deps, mm_json_str(ref));
        else
            json_array_append_new(root_deps, mm_json_str(ref));
        free(ref);
    }
    json_object_set_new(doc, "components", comps);

    json_t *deps = json_array();
    json_t *d = json_object();
    json_object_set_new(d, "ref", mm_json_str(root_ref));
    json_object_set_new(d, "dependsOn", root_deps);
    json_array_append_new(deps, d);
    if (os_ref) {
        d = json_object();
        json_object_set_new(d, "ref", mm_json_str(os_ref));
        json_object_set_new(d, "dependsOn", os_deps);
        json_array_append_new(deps, d);
    }
    json_object_set_new(doc, "dependencies", deps);

    free(root_ref);
    free(os_ref);
    mm_map_free(used, NULL);
    return doc;
}

int mm_report_write_cyclonedx(FILE *out, mm_result *r,
                              const mm_report_opts *o)
{
    return mm_report_dump(out, cdx_doc(r, o), "cyclonedx");
}
