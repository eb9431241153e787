"""Kubernetes objects of a stack's monitoring, built as data (no Pulumi here).

kube-prometheus-stack's Prometheus selects PodMonitors, Probes and PrometheusRules labelled
``release: <release>`` (its ``*SelectorNilUsesHelmValues`` defaults, research §5.2); its
Grafana sidecar loads ConfigMaps labelled ``grafana_dashboard: "1"`` into the folder named by
the ``grafana_folder`` annotation (research §7.2).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from components.gpu_nodes import GPU_NODE_SELECTOR, daemon_tolerations
from components.observability import images
from components.observability.config_files import K8S_RECEIVER_SECRET
from components.observability.dashboards import dashboard_json, dashboard_specs
from components.observability.grafana_settings import hardening_ini
from components.observability.inventory import EngineGroup, engine_groups
from components.observability.rules import DCGM_JOB, rule_groups
from components.plan import COMMON_LABELS, LABEL_COMPONENT, LABEL_ENGINE, LABEL_MODEL, LABEL_PART_OF, ServingPlan
from components.spec import DeploymentSpec
from components.spec.durations import duration_seconds

MONITORING_API = "monitoring.coreos.com/v1"
DASHBOARD_FOLDER = "slm-deploy"
GRAFANA_ADMIN_SECRET_NAME = "slm-grafana-admin"
BLACKBOX_FULLNAME = "slm-blackbox-exporter"
#: Helm release of the DCGM exporter (in-cluster and managed monitoring alike).
DCGM_RELEASE = "slm-dcgm-exporter"
BLACKBOX_PORT = 9115
#: Where a pod label lands in Kubernetes service discovery (dots and slashes become _).
MODEL_LABEL_META = "__meta_kubernetes_pod_label_" + LABEL_MODEL.replace(".", "_").replace("/", "_").replace("-", "_")
#: Scrape a model pod only once it runs: while its fetch step (an init container) downloads,
#: the pod is Pending and its server does not listen yet, which is no outage.
RUNNING_PODS_ONLY = {"sourceLabels": ["__meta_kubernetes_pod_phase"], "regex": "Running", "action": "keep"}


def _metadata(name: str, namespace: str, labels: Mapping[str, str]) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": {LABEL_PART_OF: COMMON_LABELS[LABEL_PART_OF], **labels}}


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
    if len(ports) != 1:
        raise ValueError(f"models of engine {group.job} expose metrics on differently named ports: {sorted(ports)}")
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
                    "path": group.metrics_path,
                    "interval": interval,
                    "relabelings": [
                        dict(RUNNING_PODS_ONLY),
                        {"sourceLabels": [MODEL_LABEL_META], "targetLabel": "model"},
                    ],
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
            "data": {f"{d.uid}.json": dashboard_json(d)},
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


@dataclass(frozen=True)
class ClusterScrapes:
    """What of a cluster's own components Prometheus can scrape; a managed control plane
    (AKS, EKS, GKE) keeps controller manager, scheduler and etcd out of reach, and a cluster
    whose dataplane replaces kube-proxy (Cilium) has none to scrape. The chart's targets and
    their alert rules (``KubeControllerManagerDown``, ...) exist only for what is reachable."""

    control_plane: bool = True
    kube_proxy: bool = True

    def chart_values(self) -> dict[str, Any]:
        components = {"kubeControllerManager": self.control_plane, "kubeScheduler": self.control_plane}
        components |= {"kubeEtcd": self.control_plane, "kubeProxy": self.kube_proxy}
        return {key: {"enabled": False} for key, reachable in sorted(components.items()) if not reachable}


#: Prometheus' TSDB volume: ``retention / scrapeInterval x ACTIVE_SERIES x BYTES_PER_SAMPLE x
#: HEADROOM``, at least MIN_TSDB_BYTES. About 100k active series is kube-prometheus-stack's own
#: targets (kubelet, cAdvisor, node exporter, kube-state-metrics) on a small cluster plus the
#: model servers; Prometheus stores 1 to 2 bytes per sample once compressed
#: (https://prometheus.io/docs/prometheus/latest/storage/#operational-aspects); the WAL, the
#: head block and compactions need room beyond the blocks themselves.
ACTIVE_SERIES = 100_000
BYTES_PER_SAMPLE = 2
HEADROOM = 1.5
MIN_TSDB_BYTES = 10 * 1024**3
#: Prometheus deletes the oldest blocks beyond this share of the volume, before it fills up.
RETENTION_SIZE_SHARE = 0.8
#: Alertmanager keeps silences and its notification log: small.
ALERTMANAGER_VOLUME = "1Gi"


def tsdb_volume_bytes(retention: str, scrape_interval: str) -> int:
    """The TSDB volume for ``retention`` at ``scrape_interval`` (formula above), in whole GiB."""
    samples = duration_seconds(retention) / duration_seconds(scrape_interval) * ACTIVE_SERIES
    wanted = samples * BYTES_PER_SAMPLE * HEADROOM
    return max(MIN_TSDB_BYTES, math.ceil(wanted / 1024**3) * 1024**3)


def _claim(size: str, storage_class: str | None) -> dict[str, Any]:
    """A volumeClaimTemplate: one ReadWriteOnce volume per replica, the cluster's default
    storage class unless the stack names one."""
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if storage_class:
        spec["storageClassName"] = storage_class
    return {"volumeClaimTemplate": {"spec": spec}}


def kube_prometheus_stack_values(
    spec: DeploymentSpec, alertmanager_yml: str, receivers: bool, scrapes: ClusterScrapes = ClusterScrapes()
) -> dict[str, Any]:
    """Chart values: Grafana at the tag the dashboards are built for, login required with a
    generated admin password, hardened as on Docker (its grafana.ini sections, which Helm
    merges into the chart's own), the sidecar for dashboard ConfigMaps; Alertmanager at a version
    that reads receiver URLs from files, with the receivers' Secret mounted; retention; the
    TSDB and Alertmanager's state on volumes that survive a restart; only the cluster
    components Prometheus can reach."""
    observability = spec.observability
    tsdb_gib = tsdb_volume_bytes(observability.retention, observability.scrape_interval) // 1024**3
    alertmanager_spec: dict[str, Any] = {
        "image": {"tag": images.ALERTMANAGER.tag},
        "storage": _claim(ALERTMANAGER_VOLUME, observability.storage_class),
    }
    if receivers:
        alertmanager_spec["secrets"] = [K8S_RECEIVER_SECRET]
    return {
        "grafana": {
            "enabled": observability.grafana,
            "image": {"tag": images.GRAFANA.tag},
            "admin": {
                "existingSecret": GRAFANA_ADMIN_SECRET_NAME,
                "userKey": "admin-user",
                "passwordKey": "admin-password",
            },
            "grafana.ini": hardening_ini(),
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
                "retention": observability.retention,
                "retentionSize": f"{math.floor(tsdb_gib * RETENTION_SIZE_SHARE)}GB",
                "scrapeInterval": observability.scrape_interval,
                "evaluationInterval": observability.scrape_interval,
                "storageSpec": _claim(f"{tsdb_gib}Gi", observability.storage_class),
            }
        },
        **scrapes.chart_values(),
    }


def blackbox_values() -> dict[str, Any]:
    """The chart's default ``http_2xx`` module is the one the Probes name."""
    return {"fullnameOverride": BLACKBOX_FULLNAME, "image": {"tag": images.BLACKBOX_EXPORTER.tag}}


def dcgm_values(release: str, *, service_monitor: bool = True) -> dict[str, Any]:
    """The exporter on GPU nodes only (their label; the GPU and spot taints tolerated, the same
    list as NVIDIA's device plugin), ``job="dcgm"``. With ``service_monitor`` the chart's
    ServiceMonitor is selected by the operator's release; without, a PodMonitor of another
    scraper (:func:`dcgm_pod_monitor`) takes its place."""
    monitor: dict[str, Any] = {"enabled": service_monitor}
    if service_monitor:
        monitor |= {
            "additionalLabels": {"release": release},
            "relabelings": [{"targetLabel": "job", "replacement": DCGM_JOB}],
        }
    return {
        "image": {"tag": images.DCGM_EXPORTER.tag},
        "nodeSelector": dict(GPU_NODE_SELECTOR),
        "tolerations": daemon_tolerations(),
        "serviceMonitor": monitor,
    }


def dcgm_pod_monitor(api_version: str, namespace: str, release: str, interval: str) -> dict[str, Any]:
    """A PodMonitor for the DCGM exporter release ``release`` (the chart labels its pods with
    its name and the release; its port is ``metrics``), ``job="dcgm"`` as on every target."""
    return {
        "apiVersion": api_version,
        "kind": "PodMonitor",
        "metadata": _metadata(f"slm-{DCGM_JOB}", namespace, {}),
        "spec": {
            "namespaceSelector": {"matchNames": [namespace]},
            "selector": {
                "matchLabels": {"app.kubernetes.io/name": "dcgm-exporter", "app.kubernetes.io/instance": release}
            },
            "podMetricsEndpoints": [
                {
                    "port": "metrics",
                    "path": "/metrics",
                    "interval": interval,
                    "relabelings": [{"targetLabel": "job", "replacement": DCGM_JOB}],
                }
            ],
        },
    }
