/*
 * fuzz_k8s_audit.c - libFuzzer target for the Kubernetes audit-event parser
 * (mamori/audit.h): the input is one line of an audit log (an Event or an
 * EventList, hostile JSON).  What parses is evaluated through the built-in
 * k8s_audit rules and a rule whose condition and output touch every ka.* and
 * jevt.* field (lists, JSON pointers, the URI query, globs on host paths,
 * image references), and each alert is rendered as JSON.  Nothing may
 * crash, leak or read out of bounds; errors are fine.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/audit.h"
#include "mamori/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *every_field =
    "- rule: every field\n"
    "  condition: >\n"
    "    jevt.rawtime exists and (ka.req.pod.containers.image.repository in (nginx, busybox)\n"
    "    or ka.req.pod.containers.privileged intersects (true) or ka.req.volume.hostpath[/proc*]=true\n"
    "    or ka.req.binding.subject.has_name[cluster-admin]=true or ka.uri.param[command] contains sh\n"
    "    or jevt.value[/a~1~0b/0] exists or ka.req.role.rules.verbs intersects (\"*\")\n"
    "    or ka.user.groups intersects (system:masters) or ka.sourceips in (1.2.3.4)\n"
    "    or ka.response.code startswith 4)\n"
    "  output: >\n"
    "    %jevt.time %jevt.time.iso8601 %jevt.rawtime %jevt.value[/requestObject] %jevt.obj\n"
    "    %ka.auditid %ka.stage %ka.auth.decision %ka.auth.reason %ka.user.name %ka.user.groups\n"
    "    %ka.impuser.name %ka.verb %ka.uri %ka.uri.param[container] %ka.target.name\n"
    "    %ka.target.namespace %ka.target.resource %ka.target.subresource\n"
    "    %ka.req.binding.subjects %ka.req.binding.role %ka.req.configmap.name\n"
    "    %ka.req.configmap.obj %ka.req.pod.containers.image %ka.req.container.image\n"
    "    %ka.req.container.image.repository %ka.req.pod.initContainers.image\n"
    "    %ka.req.pod.initContainers.image.repository %ka.req.pod.ephemeralContainers.image\n"
    "    %ka.req.pod.ephemeralContainers.image.repository %ka.req.pod.host_ipc\n"
    "    %ka.req.pod.host_network %ka.req.pod.host_pid %ka.req.container.host_network\n"
    "    %ka.req.pod.initContainers.privileged %ka.req.pod.ephemeralContainers.privileged\n"
    "    %ka.req.container.privileged %ka.req.pod.volumes.hostpath\n"
    "    %ka.req.pod.containers.host_port %ka.req.pod.containers.add_capabilities\n"
    "    %ka.req.pod.containers.allow_privilege_escalation %ka.req.pod.containers.read_only_fs\n"
    "    %ka.req.role.rules %ka.req.role.rules.resources %ka.req.role.rules.apiGroups\n"
    "    %ka.req.role.rules.nonResourceURLs %ka.req.service.type %ka.req.service.ports\n"
    "    %ka.resp.name %ka.response.reason %ka.useragent %evt.source\n"
    "  priority: INFO\n"
    "  source: k8s_audit\n";

static mm_ruleset *rs;

static void sink(void *ud, const mm_alert *a)
{
    (void)ud;
    free(mm_alert_json(a));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!rs) {
        if (mm_ruleset_new(&rs) || mm_audit_load_default_rules(rs) ||
            mm_ruleset_load_string(rs, "every", every_field, strlen(every_field)) ||
            mm_ruleset_compile(rs))
            abort();
    }
    mm_audit_batch *b;
    if (mm_audit_batch_parse(&b, (const char *)data, size) == 0) {
        for (size_t i = 0; i < mm_audit_batch_count(b); i++) {
            const mm_event *ev = mm_audit_batch_event(b, i);
            mm_ruleset_eval(rs, ev, sink, NULL);
            (void)mm_audit_event_node(ev->audit);
        }
        mm_audit_batch_free(b);
    }
    return 0;
}
