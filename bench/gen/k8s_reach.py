#!/usr/bin/env python3
"""Generates a cluster snapshot for bench/k8s-reach.sh: W workloads
(Deployments with labels app/tier/team and named container ports) over 50
namespaces (labelled env/team), and P NetworkPolicies of the usual shapes:
default-deny per namespace, allow from the same app, allow from a team's
namespaces (matchExpressions), tier-to-tier on named ports, egress to DNS
only, ipBlock with except, port ranges (endPort).  Deterministic (seeded).

Usage: k8s_reach.py OUT.json [workloads] [policies]
"""
import json
import random
import sys

random.seed(16)
out = sys.argv[1]
W = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
P = int(sys.argv[3]) if len(sys.argv) > 3 else 200
NNS = min(50, W)
teams = ["pay", "shop", "data", "ops", "web"]
tiers = ["front", "back", "data"]
items = []
nss = []
for i in range(NNS):
    ns = "ns%02d" % i
    nss.append(ns)
    items.append({"apiVersion": "v1", "kind": "Namespace",
                  "metadata": {"name": ns, "labels": {"env": random.choice(["prod", "dev"]),
                                                      "team": teams[i % len(teams)]}}})
apps = []
for i in range(W):
    ns = nss[i % NNS]
    app = "app%d" % (i // 3)
    tier = tiers[i % 3]
    apps.append((ns, app, tier))
    items.append({"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": "w%04d" % i, "namespace": ns},
                  "spec": {"selector": {"matchLabels": {"app": app}},
                           "template": {"metadata": {"labels": {"app": app, "tier": tier,
                                                                "team": teams[i % 5]}},
                                        "spec": {"containers": [{
                                            "name": "c", "image": "x",
                                            "ports": [{"name": "http", "containerPort": 8080},
                                                      {"name": "metrics", "containerPort": 9090},
                                                      {"name": "dns", "containerPort": 53,
                                                       "protocol": "UDP"}]}]}}}})


def pol(ns, name, spec):
    items.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                  "metadata": {"name": name, "namespace": ns}, "spec": spec})


for k in range(P):
    # five shapes, spread so that 10 of the 50 namespaces get a default
    # deny and the others a mix of allow rules (many pairs stay connected)
    ns = nss[(k * 3) % NNS]
    shape = k % 5
    ns_apps = [a for a in apps if a[0] == ns]
    a = random.choice(ns_apps)
    if shape == 0:
        pol(ns, "deny-%d" % k, {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
    elif shape == 1:
        pol(ns, "same-app-%d" % k, {"podSelector": {"matchLabels": {"app": a[1]}},
                                    "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": a[1]}}}]}]})
    elif shape == 2:
        pol(ns, "team-%d" % k, {
            "podSelector": {"matchLabels": {"tier": "back"}},
            "ingress": [{"from": [{"namespaceSelector": {"matchExpressions": [
                {"key": "team", "operator": "In", "values": random.sample(teams, 2)}]},
                "podSelector": {"matchLabels": {"tier": "front"}}}],
                "ports": [{"port": "http"}, {"port": 9000, "endPort": 9100}]}]})
    elif shape == 3:
        pol(ns, "dns-%d" % k, {
            "podSelector": {}, "policyTypes": ["Egress"],
            "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": nss[0]}},
                                "podSelector": {"matchLabels": {"tier": "front"}}}],
                        "ports": [{"port": 53, "protocol": "UDP"}, {"port": "dns", "protocol": "UDP"}]},
                       {"to": [{"podSelector": {"matchExpressions": [{"key": "tier", "operator": "NotIn",
                                                                       "values": ["data"]}]}}]}]})
    else:
        pol(ns, "ipb-%d" % k, {
            "podSelector": {"matchLabels": {"tier": "data"}},
            "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}},
                                  {"namespaceSelector": {"matchLabels": {"env": "prod"}}}],
                         "ports": [{"port": 5432}]}]})
json.dump({"apiVersion": "v1", "kind": "List", "items": items}, open(out, "w"))
