/*
 * image/analyzer.c - the context an analyzer talks to during a scan
 * (image/analyzer.h): a thin view of the result being filled (inventory,
 * findings, OS, layers, warnings), the merged tree and the scan's private
 * temp folder.  The pipeline makes one per scan; the walker reports unsafe
 * entry names through it.
 */
#include <stdarg.h>
#include <stdlib.h>

#include "image/analyzer.h"
#include "util/util.h"

struct mm_actx {
    mm_result *r;
    const mm_tree *tree;
    const char *tmpdir;
};

int mm_actx_new(mm_actx **out, mm_result *r, const mm_tree *tree,
                const char *tmpdir)
{
    if (!out || !r)
        return mm_error_set(MM_EINVAL, "analyzer context: no output or result");
    mm_actx *cx = mm_xcalloc(1, sizeof *cx);
    cx->r = r;
    cx->tree = tree;
    cx->tmpdir = tmpdir;
    *out = cx;
    return 0;
}

void mm_actx_free(mm_actx *cx)
{
    free(cx);
}

void mm_actx_warn(mm_actx *cx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *m = mm_xvasprintf(fmt, ap);
    va_end(ap);
    mm_result_warn(cx->r, "%s", m);
    free(m);
}

const mm_tree *mm_actx_tree(const mm_actx *cx) { return cx->tree; }
mm_inventory *mm_actx_inventory(mm_actx *cx) { return mm_result_inventory(cx->r); }
mm_findings *mm_actx_findings(mm_actx *cx) { return mm_result_findings(cx->r); }
mm_os_info *mm_actx_os(mm_actx *cx) { return mm_result_os_mut(cx->r); }
const char *mm_actx_tmpdir(const mm_actx *cx) { return cx->tmpdir; }
const mm_image_info *mm_actx_image(const mm_actx *cx)
{
    return mm_result_image_mut(cx->r);
}

const char *mm_actx_layer_digest(const mm_actx *cx, int layer)
{
    const mm_layer_info *li = layer < 0 ? NULL : mm_result_layer(cx->r, (size_t)layer);
    return li ? li->diff_id : NULL;
}

const char *mm_actx_layer_instruction(const mm_actx *cx, int layer)
{
    const mm_layer_info *li = layer < 0 ? NULL : mm_result_layer(cx->r, (size_t)layer);
    return li ? li->created_by : NULL;
}

void mm_actx_intake_finding(mm_actx *cx, const char *id, mm_severity sev,
                            const char *title, int layer, const char *path,
                            const char *evidence)
{
    mm_finding f = {0};
    f.id = (char *)id;
    f.kind = MM_FIND_INTAKE;
    f.severity = sev;
    f.title = (char *)title;
    f.loc.layer = layer;
    f.loc.line = 0;
    char *abs = mm_xasprintf("/%s", path);
    f.loc.path = abs;
    f.loc.layer_digest = (char *)mm_actx_layer_digest(cx, layer);
    f.loc.instruction = (char *)mm_actx_layer_instruction(cx, layer);
    f.loc.image = (char *)mm_result_target(cx->r);
    f.evidence = (char *)evidence;
    f.remediation = (char *)"Do not run images from a source that builds layers with "
                            "such entries; rebuild the image with a standard tool.";
    f.section = (char *)"3.1.5";
    mm_findings_add(mm_result_findings(cx->r), &f);
    free(abs);
}
