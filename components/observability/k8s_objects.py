"""Kubernetes objects of a stack's monitoring, built as data (no Pulumi here).

kube-prometheus-stack's Prometheus selects PodMonitors, Probes and PrometheusRules labelled
``release: <release>`` (its ``*SelectorNilUsesHelmValues`` defaults, research §5.2); its
Grafana sidecar loads ConfigMaps labelled ``grafana_dashboard: "1"`` into the folder named by
the ``grafana_folder`` annotation (research §7.2).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from components.observability import images
from components.observability.config_files import K8S_RECEIVER_SECRET
from components.observability.dashboards import build, dashboard_specs
from components.observability.inventory import EngineGroup, engine_groups
from components.observability.rules import DCGM_JOB, rule_groups
from components.plan import LABEL_COMPONENT, LABEL_ENGINE, LABEL_MODEL, LABEL_PART_OF, ServingPlan
from components.spec import DeploymentSpec

MONITORING_API = "monitoring.coreos.com/v1"
DASHBOARD_FOLDER = "slm-deploy"
GRAFANA_ADMIN_SECRET_NAME = "slm-grafana-admin"
BLACKBOX_FULLNAME = "slm-blackbox-exporter"
BLACKBOX_PORT = 9115
#: Where a pod label lands in Kubernetes service discovery (dots and slashes become _).
MODEL_LABEL_META = "__meta_kubernetes_pod_label_" + LABEL_MODEL.replace(".", "_").replace("/", "_").replace("-", "_")


def _metadata(name: str, namespace: str, labels: Mapping[str, str]) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": {LABEL_PART_OF: "slm-deploy", **labels}}


def _port_name(plan: ServingPlan, port: int) -> str:
    for candidate in plan.server.ports:
        if candidate.container_port == port:
            return candidate.name
    raise ValueError(f"{plan.model}: no named container port {port} for metrics")


def pod_monitor(
    group: EngineGroup, plans: Sequence[ServingPlan], namespace: str, release: str, interval: str
) -> dict[str, Any]:
    """One PodMonitor per native engine: ``job`` is the engine (from the pod label), ``model``
    the model (from the pod label), as on Docker, so the same rules apply."""
    members = [p for p in plans if p.engine == group.job]
    ports = {_port_name(p, m.port) for p, m in zip(members, group.models, strict=True)}
    paths = {m.path for m in group.models}
    if len(ports) != 1 or len(paths) != 1:
        raise ValueError(f"models of engine {group.job} expose metrics on different ports or paths")
    return {
        "apiVersion": MONITORING_API,
        "kind": "PodMonitor",
        "metadata": _metadata(f"slm-{group.job}", namespace, {"release": release}),
        "spec": {
            "jobLabel": LABEL_ENGINE,
            "namespaceSelector": {"matchNames": [namespace]},
            "selector": {"matchLabels": {LABEL_ENGINE: group.job, LABEL_COMPONENT: "model-server"}},
            "podMetricsEndpoints": [
                {
                    "port": ports.pop(),
                    "path": paths.pop(),
                    "interval": interval,
                    "relabelings": [{"sourceLabels": [MODEL_LABEL_META], "targetLabel": "model"}],
                }
            ],
        },
    }


def probes(
    group: EngineGroup, namespace: str, monitoring_namespace: str, release: str, interval: str
) -> list[dict[str, Any]]:
    """One blackbox Probe per model of an engine without /metrics (its Service is the model's name)."""
    return [
        {
            "apiVersion": MONITORING_API,
            "kind": "Probe",
            "metadata": _metadata(f"slm-{group.job}-{model.model}", namespace, {"release": release}),
            "spec": {
                "jobName": group.job,
                "interval": interval,
                "module": "http_2xx",
                "prober": {
                    "url": f"{BLACKBOX_FULLNAME}.{monitoring_namespace}.svc:{BLACKBOX_PORT}",
                    "path": "/probe",
                },
                "targets": {
                    "staticConfig": {
                        "static": [f"http://{model.model}.{namespace}.svc:{model.port}{model.path}"],
                        "labels": {"model": model.model},
                    }
                },
            },
        }
        for model in group.models
    ]


def prometheus_rules(
    spec: DeploymentSpec, plans: Sequence[ServingPlan], namespace: str, release: str
) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": MONITORING_API,
            "kind": "PrometheusRule",
            "metadata": _metadata(group.name, namespace, {"release": release}),
            "spec": {"groups": [group.to_group()]},
        }
        for group in rule_groups(spec, plans)
    ]


def dashboard_config_maps(plans: Sequence[ServingPlan], namespace: str) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                **_metadata(f"dashboard-{d.uid}", namespace, {"grafana_dashboard": "1"}),
                "annotations": {"grafana_folder": DASHBOARD_FOLDER},
            },
            "data": {f"{d.uid}.json": json.dumps(build(d), indent=2, sort_keys=True)},
        }
        for d in dashboard_specs(plans)
    ]


def monitors(
    spec: DeploymentSpec, plans: Sequence[ServingPlan], namespace: str, monitoring_namespace: str, release: str
) -> list[dict[str, Any]]:
    """PodMonitors and Probes of every engine in the stack."""
    interval = spec.observability.scrape_interval
    objects: list[dict[str, Any]] = []
    for group in engine_groups(plans):
        if group.profile.native:
            objects.append(pod_monitor(group, plans, namespace, release, interval))
        else:
            objects += probes(group, namespace, monitoring_namespace, release, interval)
    return objects


def kube_prometheus_stack_values(spec: DeploymentSpec, alertmanager_yml: str, receivers: bool) -> dict[str, Any]:
    """Chart values: Grafana at the tag the dashboards are built for, login required with a
    generated admin password, the sidecar for dashboard ConfigMaps; Alertmanager at a version
    that reads receiver URLs from files, with the receivers' Secret mounted; retention."""
    alertmanager_spec: dict[str, Any] = {"image": {"tag": images.ALERTMANAGER.tag}}
    if receivers:
        alertmanager_spec["secrets"] = [K8S_RECEIVER_SECRET]
    return {
        "grafana": {
            "enabled": spec.observability.grafana,
            "image": {"tag": images.GRAFANA.tag},
            "admin": {
                "existingSecret": GRAFANA_ADMIN_SECRET_NAME,
                "userKey": "admin-user",
                "passwordKey": "admin-password",
            },
            "grafana.ini": {
                "auth.anonymous": {"enabled": False},
                "users": {"allow_sign_up": False},
                "analytics": {"reporting_enabled": False, "check_for_updates": False},
            },
            "sidecar": {
                "dashboards": {
                    "enabled": True,
                    "label": "grafana_dashboard",
                    "labelValue": "1",
                    "searchNamespace": "ALL",
                    "folderAnnotation": "grafana_folder",
                    "provider": {"foldersFromFilesStructure": True, "allowUiUpdates": False},
                }
            },
        },
        "alertmanager": {"alertmanagerSpec": alertmanager_spec, "config": yaml.safe_load(alertmanager_yml)},
        "prometheus": {
            "prometheusSpec": {
                "retention": spec.observability.retention,
                "scrapeInterval": spec.observability.scrape_interval,
                "evaluationInterval": spec.observability.scrape_interval,
            }
        },
    }


def blackbox_values() -> dict[str, Any]:
    """The chart's default ``http_2xx`` module is the one the Probes name."""
    return {"fullnameOverride": BLACKBOX_FULLNAME, "image": {"tag": images.BLACKBOX_EXPORTER.tag}}


def dcgm_values(release: str) -> dict[str, Any]:
    """The exporter on GPU nodes, its ServiceMonitor selected by the chart, ``job="dcgm"``."""
    return {
        "image": {"tag": images.DCGM_EXPORTER.tag},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        "serviceMonitor": {
            "enabled": True,
            "additionalLabels": {"release": release},
            "relabelings": [{"targetLabel": "job", "replacement": DCGM_JOB}],
        },
    }
