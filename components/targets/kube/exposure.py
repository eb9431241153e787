"""Publishing the OpenAI routes of a model outside the cluster, and nothing else.

Only the path prefix ``/v1`` reaches the server (chat/completions, completions, models,
embeddings): never ``/metrics``, ``/health``, vLLM's unauthenticated ``/invocations``,
``/tokenize`` or admin routes, or Ollama's ``/api`` (pull, delete). Each model gets its own
host, ``<model>.<host>``, so clients use ``https://<model>.<host>/v1`` as the OpenAI base URL
and no path rewriting (which Ingress controllers spell differently) is needed. TLS is
mandatory: on an Ingress with the stack's certificate Secret, on a Gateway at its listener.
"""

from __future__ import annotations

from typing import Any

import pulumi_kubernetes as k8s

from components.plan import ServingPlan
from components.spec.models import ExposureSettings

GATEWAY_API_VERSION = "gateway.networking.k8s.io/v1"
#: Generation can stream for minutes; ingress-nginx cuts idle upstreams after 60 s by default.
NGINX_ANNOTATIONS = {
    "nginx.ingress.kubernetes.io/proxy-read-timeout": "600",
    "nginx.ingress.kubernetes.io/proxy-send-timeout": "600",
    "nginx.ingress.kubernetes.io/proxy-buffering": "off",
}


def public_host(plan: ServingPlan, exposure: ExposureSettings) -> str:
    return f"{plan.model}.{exposure.host}"


def public_base_url(plan: ServingPlan, exposure: ExposureSettings) -> str:
    return f"https://{public_host(plan, exposure)}{plan.openai_base_path}"


def controller_namespace(exposure: ExposureSettings) -> str:
    """Where the forwarding pods run: the setting, else the Gateway's namespace or ingress-nginx."""
    if exposure.controller_namespace:
        return exposure.controller_namespace
    if exposure.kind == "gateway" and exposure.gateway:
        return exposure.gateway.split("/", 1)[0]
    return "ingress-nginx"


def ingress_annotations(exposure: ExposureSettings) -> dict[str, str]:
    annotations = dict(NGINX_ANNOTATIONS) if exposure.ingress_class == "nginx" else {}
    if exposure.cluster_issuer:
        annotations["cert-manager.io/cluster-issuer"] = exposure.cluster_issuer
    return annotations


def ingress(plan: ServingPlan, service: str, exposure: ExposureSettings) -> k8s.networking.v1.IngressSpecArgs:
    host = public_host(plan, exposure)
    return k8s.networking.v1.IngressSpecArgs(
        ingress_class_name=exposure.ingress_class,
        tls=[k8s.networking.v1.IngressTLSArgs(hosts=[host], secret_name=exposure.tls_secret)],
        rules=[
            k8s.networking.v1.IngressRuleArgs(
                host=host,
                http=k8s.networking.v1.HTTPIngressRuleValueArgs(
                    paths=[
                        k8s.networking.v1.HTTPIngressPathArgs(
                            path=plan.openai_base_path,
                            path_type="Prefix",
                            backend=k8s.networking.v1.IngressBackendArgs(
                                service=k8s.networking.v1.IngressServiceBackendArgs(
                                    name=service,
                                    port=k8s.networking.v1.ServiceBackendPortArgs(number=plan.api_port),
                                )
                            ),
                        )
                    ]
                ),
            )
        ],
    )


def http_route(plan: ServingPlan, service: str, exposure: ExposureSettings) -> dict[str, Any]:
    """An HTTPRoute spec attached to the stack's Gateway (its HTTPS listener when named)."""
    assert exposure.gateway is not None, "spec rules require the Gateway for kind gateway"
    gateway_namespace, gateway_name = exposure.gateway.split("/", 1)
    parent: dict[str, Any] = {
        "group": "gateway.networking.k8s.io",
        "kind": "Gateway",
        "namespace": gateway_namespace,
        "name": gateway_name,
    }
    if exposure.listener:
        parent["sectionName"] = exposure.listener
    return {
        "parentRefs": [parent],
        "hostnames": [public_host(plan, exposure)],
        "rules": [
            {
                "matches": [{"path": {"type": "PathPrefix", "value": plan.openai_base_path}}],
                "backendRefs": [{"group": "", "kind": "Service", "name": service, "port": plan.api_port}],
            }
        ],
    }
