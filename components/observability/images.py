"""Pinned images and Helm charts of the monitoring stack, in one place.

Alertmanager must read receiver URLs from files (``url_file`` for webhooks, and
``msteamsv2_configs`` for Microsoft Teams), which Debian 12's Alertmanager 0.25 does not
know; v0.28.1 has them. Grafana's tag matches the grafana-foundation-sdk build the dashboards
are made with (``GRAFANA_SDK``), so the JSON's schemaVersion is one this Grafana reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.plan import Image

PROMETHEUS = Image("prom/prometheus", "v3.5.0")
ALERTMANAGER = Image("prom/alertmanager", "v0.28.1")
GRAFANA = Image("grafana/grafana", "11.6.0")
GRAFANA_SDK = "1769699379!11.6.0"
"""The grafana-foundation-sdk build (pyproject.toml pins the same)."""
BLACKBOX_EXPORTER = Image("prom/blackbox-exporter", "v0.25.0")
DCGM_EXPORTER = Image("nvcr.io/nvidia/k8s/dcgm-exporter", "4.2.3-4.1.3-ubuntu22.04")
"""NVIDIA/dcgm-exporter:deployment/values.yaml@9190a38 (chart 4.1.3)."""


@dataclass(frozen=True)
class Chart:
    name: str
    version: str
    repository: str


KUBE_PROMETHEUS_STACK = Chart("kube-prometheus-stack", "88.5.3", "https://prometheus-community.github.io/helm-charts")
"""research/observability-security.md §5.2 (prometheus-community/helm-charts@cf408a2)."""
BLACKBOX_EXPORTER_CHART = Chart(
    "prometheus-blackbox-exporter", "9.0.1", "https://prometheus-community.github.io/helm-charts"
)
"""appVersion v0.25.0, the same exporter as the Docker image."""
DCGM_EXPORTER_CHART = Chart("dcgm-exporter", "4.1.3", "https://nvidia.github.io/dcgm-exporter/helm-charts")
