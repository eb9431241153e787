"""Network policies: deny everything in the stack's namespace, then allow exactly what is needed.

Per namespace: default deny (ingress and egress) and DNS egress to the cluster's resolver
(kube-dns pods, or NodeLocal DNSCache's link-local address).
Per model: clients to the API port, and the matching egress of client pods of the namespace
(``slm-deploy.dev/client: "true"``: default deny covers their egress too); Prometheus (the
monitoring namespace) to the metrics port,
or to the API port where the engine has no metrics and a blackbox probe checks health; and
egress on 443 to the internet (never cluster or private ranges, never the cloud metadata
endpoint) only for the pods whose fetch step downloads. NetworkPolicy cannot name hosts, so
the hosts a fetch step needs are recorded in an annotation for review. The fetch step is an
init container, so its pod keeps that egress while serving; servers run with the model
source's offline switch set (HF_HUB_OFFLINE) and never download.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi_kubernetes as k8s

from components.plan import ServingPlan

#: Namespace name label the API server sets on every namespace (Kubernetes 1.21+).
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
#: Pods of the stack's namespace that may call the model servers carry this label.
CLIENT_LABEL = "slm-deploy.dev/client"
#: CoreDNS / kube-dns pods carry this label in kube-system on AKS, EKS, GKE and kubeadm.
DNS_SELECTOR = {"k8s-app": "kube-dns"}
#: NodeLocal DNSCache's default link-local address, where clusters that run it send DNS.
NODE_LOCAL_DNS = "169.254.20.10/32"
PRIVATE_IPV4 = ["10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"]
PRIVATE_IPV6 = ["fc00::/7", "fe80::/10"]
HOSTS_ANNOTATION = "slm-deploy.dev/egress-hosts"


@dataclass(frozen=True)
class Policy:
    """One NetworkPolicy: its name and spec (metadata is added by the target)."""

    name: str
    spec: k8s.networking.v1.NetworkPolicySpecArgs
    annotations: dict[str, str] | None = None


def _namespaces(names: Sequence[str]) -> k8s.networking.v1.NetworkPolicyPeerArgs:
    return k8s.networking.v1.NetworkPolicyPeerArgs(
        namespace_selector=k8s.meta.v1.LabelSelectorArgs(
            match_expressions=[
                k8s.meta.v1.LabelSelectorRequirementArgs(
                    key=NAMESPACE_NAME_LABEL, operator="In", values=sorted(set(names))
                )
            ]
        )
    )


def _tcp(port: int) -> k8s.networking.v1.NetworkPolicyPortArgs:
    return k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=port)


def namespace_policies() -> list[Policy]:
    """Default deny for every pod of the namespace, and DNS for all of them."""
    everything = k8s.meta.v1.LabelSelectorArgs()
    return [
        Policy(
            "default-deny",
            k8s.networking.v1.NetworkPolicySpecArgs(pod_selector=everything, policy_types=["Ingress", "Egress"]),
        ),
        Policy(
            "allow-dns",
            k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=everything,
                policy_types=["Egress"],
                egress=[
                    k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                        to=[
                            k8s.networking.v1.NetworkPolicyPeerArgs(
                                namespace_selector=k8s.meta.v1.LabelSelectorArgs(
                                    match_labels={NAMESPACE_NAME_LABEL: "kube-system"}
                                ),
                                pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=DNS_SELECTOR),
                            ),
                            k8s.networking.v1.NetworkPolicyPeerArgs(
                                ip_block=k8s.networking.v1.IPBlockArgs(cidr=NODE_LOCAL_DNS)
                            ),
                        ],
                        ports=[
                            k8s.networking.v1.NetworkPolicyPortArgs(protocol="UDP", port=53),
                            k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=53),
                        ],
                    )
                ],
            ),
        ),
    ]


def model_policies(
    plan: ServingPlan,
    pods: dict[str, str],
    *,
    monitoring_namespace: str,
    client_namespaces: Sequence[str],
    controller_namespace: str | None,
) -> list[Policy]:
    """The allows of one model's pods (selected by ``pods``)."""
    selector = k8s.meta.v1.LabelSelectorArgs(match_labels=pods)
    clients = [
        k8s.networking.v1.NetworkPolicyPeerArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={CLIENT_LABEL: "true"})
        )
    ]
    if client_namespaces or controller_namespace:
        clients.append(_namespaces([*client_namespaces, *([controller_namespace] if controller_namespace else [])]))
    scrape_port = plan.metrics.port if plan.metrics.port is not None else plan.api_port
    policies = [
        Policy(
            f"{plan.model}-clients",
            k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=selector,
                policy_types=["Ingress"],
                ingress=[k8s.networking.v1.NetworkPolicyIngressRuleArgs(from_=clients, ports=[_tcp(plan.api_port)])],
            ),
        ),
        # The other end: client pods of this namespace may send to the model's pods on that port.
        Policy(
            f"{plan.model}-client-egress",
            k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={CLIENT_LABEL: "true"}),
                policy_types=["Egress"],
                egress=[
                    k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                        to=[k8s.networking.v1.NetworkPolicyPeerArgs(pod_selector=selector)],
                        ports=[_tcp(plan.api_port)],
                    )
                ],
            ),
        ),
        Policy(
            f"{plan.model}-monitoring",
            k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=selector,
                policy_types=["Ingress"],
                ingress=[
                    k8s.networking.v1.NetworkPolicyIngressRuleArgs(
                        from_=[_namespaces([monitoring_namespace])], ports=[_tcp(scrape_port)]
                    )
                ],
            ),
        ),
    ]
    if plan.fetch.egress_hosts:
        policies.append(
            Policy(
                f"{plan.model}-fetch-egress",
                k8s.networking.v1.NetworkPolicySpecArgs(
                    pod_selector=selector,
                    policy_types=["Egress"],
                    egress=[
                        k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                            to=[
                                k8s.networking.v1.NetworkPolicyPeerArgs(
                                    ip_block=k8s.networking.v1.IPBlockArgs(cidr="0.0.0.0/0", except_=PRIVATE_IPV4)
                                ),
                                k8s.networking.v1.NetworkPolicyPeerArgs(
                                    ip_block=k8s.networking.v1.IPBlockArgs(cidr="::/0", except_=PRIVATE_IPV6)
                                ),
                            ],
                            ports=[_tcp(443)],
                        )
                    ],
                ),
                annotations={HOSTS_ANNOTATION: ",".join(plan.fetch.egress_hosts)},
            )
        )
    return policies
