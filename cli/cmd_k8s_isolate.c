/*
 * cmd_k8s_isolate.c - `mamori k8s isolate NODE`: cordon a node and taint it
 * mamori.io/compromised (SP 800-190 §3.3.5), by hand.  The same call serves
 * the `isolate-node` rule action of `mamori k8s audit`.
 *
 *   mamori k8s isolate NODE [--effect NoSchedule|PreferNoSchedule|NoExecute]
 *       [--taint-key K] [--taint-value V] [--reason TEXT]
 *       [--in-cluster [--server URL] [--sa-dir DIR] | --kubeconfig F [--context C]]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/k8s.h"
#include "cli.h"

enum { I_EFFECT = 1, I_KEY, I_VALUE, I_REASON, I_INCLUSTER, I_SERVER, I_SADIR, I_KUBECONFIG,
       I_CONTEXT, I_TIMEOUT };

static const struct option iso_longopts[] = {
    {"effect", required_argument, NULL, I_EFFECT},
    {"taint-key", required_argument, NULL, I_KEY},
    {"taint-value", required_argument, NULL, I_VALUE},
    {"reason", required_argument, NULL, I_REASON},
    {"in-cluster", no_argument, NULL, I_INCLUSTER},
    {"server", required_argument, NULL, I_SERVER},
    {"sa-dir", required_argument, NULL, I_SADIR},
    {"kubeconfig", required_argument, NULL, I_KUBECONFIG},
    {"context", required_argument, NULL, I_CONTEXT},
    {"timeout", required_argument, NULL, I_TIMEOUT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void iso_usage(FILE *f)
{
    fprintf(f,
"Usage: mamori k8s isolate NODE [options]\n"
"\n"
"Cordons NODE (spec.unschedulable) and taints it mamori.io/compromised, as\n"
"kubectl cordon and kubectl taint do, keeping its other taints.\n"
"\n"
"Options:\n"
"      --effect E         NoSchedule (default), PreferNoSchedule or NoExecute\n"
"                         (NoExecute also evicts the pods that do not tolerate it)\n"
"      --taint-key K      default mamori.io/compromised\n"
"      --taint-value V    default true\n"
"      --reason TEXT      recorded as annotation mamori.io/isolation-reason\n"
"      --in-cluster       the pod's service account (token and CA of --sa-dir,\n"
"                         default /var/run/secrets/kubernetes.io/serviceaccount;\n"
"                         server from KUBERNETES_SERVICE_HOST/PORT or --server URL)\n"
"      --kubeconfig F     a kubeconfig instead (default $KUBECONFIG, ~/.kube/config)\n"
"      --context C        its context\n"
"      --timeout SECS     per request (default 30)\n");
}

int cli_k8s_isolate_client(mm_k8s_client **c, bool in_cluster, const char *server,
                           const char *sa_dir, const char *kubeconfig, const char *context,
                           long timeout_s)
{
    mm_k8s_client_opts ko;
    mm_k8s_client_opts_init(&ko);
    ko.kubeconfig = kubeconfig;
    ko.context = context;
    ko.timeout_s = timeout_s;
    if (in_cluster || server || sa_dir)
        return mm_k8s_client_new_sa(c, server, sa_dir, &ko);
    return mm_k8s_client_new(c, &ko);
}

int cmd_k8s_isolate(int argc, char **argv)
{
    mm_k8s_isolate_opts io;
    mm_k8s_isolate_opts_init(&io);
    const char *server = NULL, *sa_dir = NULL, *kubeconfig = NULL, *context = NULL;
    bool in_cluster = false;
    long timeout = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", iso_longopts, NULL)) != -1) {
        switch (c) {
        case I_EFFECT: io.effect = optarg; break;
        case I_KEY: io.taint_key = optarg; break;
        case I_VALUE: io.taint_value = optarg; break;
        case I_REASON: io.reason = optarg; break;
        case I_INCLUSTER: in_cluster = true; break;
        case I_SERVER: server = optarg; break;
        case I_SADIR: sa_dir = optarg; break;
        case I_KUBECONFIG: kubeconfig = optarg; break;
        case I_CONTEXT: context = optarg; break;
        case I_TIMEOUT: timeout = atol(optarg); break;
        case 'h': iso_usage(stdout); return 0;
        default: iso_usage(stderr); return EXIT_ERROR;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "%s: k8s isolate: name one NODE (see --help)\n", prog);
        return EXIT_ERROR;
    }
    const char *node = argv[optind];
    mm_k8s_client *kc;
    if (cli_k8s_isolate_client(&kc, in_cluster, server, sa_dir, kubeconfig, context, timeout))
        return cli_fail("");
    mm_k8s_isolate_result r;
    int rc = mm_k8s_isolate_node(kc, node, &io, &r);
    mm_k8s_client_free(kc);
    if (rc)
        return cli_fail("isolate: ");
    if (r.already)
        printf("node %s: already cordoned and tainted %s:%s\n", node,
               io.taint_key, io.effect);
    else
        printf("node %s: %s%s%s (taint %s=%s:%s)\n", node, r.cordoned ? "cordoned" : "",
               r.cordoned && r.tainted ? ", " : "", r.tainted ? "tainted" : "",
               io.taint_key, io.taint_value, io.effect);
    return 0;
}
