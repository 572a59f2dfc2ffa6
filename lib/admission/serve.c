/*
 * serve.c - the admission webhook and the Docker authorization plugin as
 * one lib/httpd handler (mm_admission_http): the routes, the status codes
 * for bad input (the server keeps serving), and the decision callback.
 *
 *   GET  /healthz                    200 {"status":"ok"}
 *   POST /validate                   AdmissionReview -> AdmissionReview (200),
 *                                    400 {"error":..} for a malformed review
 *   POST /Plugin.Activate            {"Implements":["authz"]}
 *   POST /AuthZPlugin.AuthZReq       AuthZ request -> {"Allow":..,"Msg":..}
 *                                    (Err set for a malformed request: dockerd
 *                                    refuses the API call)
 *   POST /AuthZPlugin.AuthZRes       {"Allow":true} (responses are not judged)
 *   anything else                    404 / 405
 * Bodies over the cap (413) and non-JSON content types (415) are refused by
 * lib/httpd before the handler.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "admission/admission_int.h"

static void reply(mm_http_resp *resp, int status, char *body)
{
    mm_http_resp_text(resp, status, "application/json", body, strlen(body));
    free(body);
}

void mm_admission_http(void *ctx, const mm_http_req *req, mm_http_resp *resp)
{
    mm_admission *a = ctx;
    bool post = !strcmp(req->method, "POST");
    const char *p = req->path;
    if (!strcmp(p, "/healthz") || !strcmp(p, "/readyz")) {
        mm_http_resp_json(resp, 200, json_pack("{s:s}", "status", "ok"));
        return;
    }
    bool validate = !strcmp(p, "/validate");
    bool authz = !strcmp(p, "/AuthZPlugin.AuthZReq");
    bool known = validate || authz || !strcmp(p, "/Plugin.Activate") ||
                 !strcmp(p, "/AuthZPlugin.AuthZRes");
    if (!known) {
        mm_http_resp_error(resp, 404, "no such endpoint: %s", p);
        return;
    }
    if (!post) {
        mm_http_resp_error(resp, 405, "%s: POST only", p);
        mm_http_resp_header(resp, "Allow", "POST");
        return;
    }
    if (!strcmp(p, "/Plugin.Activate")) {
        mm_http_resp_json(resp, 200, json_pack("{s:[s]}", "Implements", "authz"));
        return;
    }
    if (!strcmp(p, "/AuthZPlugin.AuthZRes")) {
        mm_http_resp_json(resp, 200, json_pack("{s:b}", "Allow", 1));
        return;
    }
    char *out = NULL;
    mm_adm_verdict *v = NULL;
    int rc = validate ? mm_admission_review(a, req->body, req->body_len, &out, &v)
                      : mm_admission_authz(a, req->body, req->body_len, &out, &v);
    if (a->c.on_verdict)
        a->c.on_verdict(a->c.on_verdict_ud, validate ? "admission" : "authz", v,
                        rc < 0 ? mm_error_last() : NULL);
    mm_adm_verdict_free(v);
    if (rc < 0 && validate) {
        free(out);
        mm_http_resp_error(resp, rc == MM_ELIMIT ? 413 : 400, "%s", mm_error_last());
        return;
    }
    /* AuthZ: a malformed request still gets a plugin answer with Err */
    reply(resp, 200, out ? out : mm_xstrdup("{\"Allow\":false,\"Err\":\"mamori: no answer\"}"));
}
