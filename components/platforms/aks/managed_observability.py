"""Observability's single definitions, shaped for the managed path on AKS.

With ``aks.monitoring: managed`` there is no Prometheus operator in the cluster: the managed
Prometheus agent (ama-metrics) reads PodMonitors of its own API group
``azmonitoring.coreos.com/v1`` (same spec as the operator's), alert rules become Azure
PrometheusRuleGroups, and dashboards go to Managed Grafana. With GPUs the target also runs the
DCGM exporter, scraped through a PodMonitor of that group. This module converts; it creates
nothing. https://learn.microsoft.com/azure/azure-monitor/containers/prometheus-metrics-scrape-crd
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from components.observability.dashboards import dashboard_json, dashboard_specs
from components.observability.k8s_objects import dcgm_pod_monitor, monitors
from components.observability.rules import rule_groups
from components.plan import ServingPlan
from components.platforms.aks.rule_groups import RuleGroupArgs, convert_groups
from components.spec import DeploymentSpec

MANAGED_MONITORING_API = "azmonitoring.coreos.com/v1"


def managed_rule_groups(spec: DeploymentSpec, plans: Sequence[ServingPlan]) -> list[RuleGroupArgs]:
    """Every alert rule of the stack (the same definitions promtool tests) as Azure rule groups."""
    return convert_groups([group.to_group() for group in rule_groups(spec, plans)])


def managed_pod_monitors(spec: DeploymentSpec, plans: Sequence[ServingPlan], namespace: str) -> list[dict[str, Any]]:
    """The stack's PodMonitors for ama-metrics. Engines without /metrics (probed by a blackbox
    exporter in-cluster) have no managed equivalent and are left out."""
    found = []
    for obj in monitors(spec, plans, namespace, namespace, release="unused"):
        if obj["kind"] != "PodMonitor":
            continue
        labels = {k: v for k, v in obj["metadata"]["labels"].items() if k != "release"}
        found.append({**obj, "apiVersion": MANAGED_MONITORING_API, "metadata": {**obj["metadata"], "labels": labels}})
    return found


def managed_dashboards(plans: Sequence[ServingPlan]) -> dict[str, str]:
    """Dashboard JSON by file name; each has a ``$datasource`` variable, so it works with the
    Azure Monitor workspace's Prometheus data source."""
    return {f"{d.uid}.json": dashboard_json(d) for d in dashboard_specs(plans)}


def managed_dcgm_pod_monitor(spec: DeploymentSpec, namespace: str, release: str) -> dict[str, Any]:
    """The DCGM exporter's PodMonitor for ama-metrics, so the GPU rules and dashboard have data."""
    return dcgm_pod_monitor(MANAGED_MONITORING_API, namespace, release, spec.observability.scrape_interval)
