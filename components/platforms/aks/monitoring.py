"""Managed monitoring on AKS: Azure Monitor managed Prometheus, alert rule groups, action group
and Azure Managed Grafana.

The wiring Azure documents for managed Prometheus: the cluster's metrics add-on
(``azureMonitorProfile.metrics``), an Azure Monitor workspace, a data collection endpoint and
rule forwarding ``Microsoft-PrometheusMetrics`` to the workspace, and associations of the rule
and endpoint with the cluster. Alert rules come from observability's single rule definitions,
converted by :mod:`rule_groups`; receivers become an action group. Grafana reads the
workspace with Monitoring Data Reader on that workspace only (research/pulumi-azure.md §6),
and our dashboards are imported into it (:mod:`grafana_dashboards`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_azure_native import alertsmanagement, containerservice, dashboard, monitor

from components.platforms.aks import names
from components.platforms.aks.grafana_dashboards import import_dashboards
from components.platforms.aks.roles import MANAGED_IDENTITY, BuiltInRole, assign
from components.platforms.aks.rule_groups import RuleGroupArgs
from components.secrets import StackSecrets
from components.spec import DeploymentSpec

PROMETHEUS_STREAM = "Microsoft-PrometheusMetrics"
GRAFANA_MAJOR_VERSION = "11"


@dataclass(frozen=True)
class ManagedMonitoring:
    workspace: monitor.AzureMonitorWorkspace
    grafana: dashboard.Grafana | None
    """Managed Grafana with the stack's dashboards; None with ``observability.grafana: false``."""
    grafana_endpoint: pulumi.Output[str] | None
    action_group: monitor.ActionGroup
    rule_groups: list[alertsmanagement.PrometheusRuleGroup]


@dataclass(frozen=True)
class MonitoringContext:
    stack: str
    resource_group_name: pulumi.Output[str]
    location: str
    subscription_id: pulumi.Output[str]
    deployer_object_id: pulumi.Output[str]
    deployer_principal_type: str
    tags: Mapping[str, str]


def _receivers(spec: DeploymentSpec, secrets: StackSecrets) -> dict[str, Any]:
    """Email and webhook receivers of the action group; URLs stay Pulumi secrets."""
    emails: list[dict[str, Any]] = []
    webhooks: list[dict[str, Any]] = []
    for receiver in spec.alerting.receivers:
        if receiver.type == "email" and receiver.to:
            emails.append({"name": receiver.name, "email_address": receiver.to, "use_common_alert_schema": True})
        elif receiver.type == "webhook" and receiver.url_secret:
            webhooks.append(
                {
                    "name": receiver.name,
                    "service_uri": secrets.value(receiver.url_secret),
                    "use_common_alert_schema": True,
                }
            )
    return {"email_receivers": emails or None, "webhook_receivers": webhooks or None}


def create_managed_monitoring(
    ctx: MonitoringContext,
    spec: DeploymentSpec,
    secrets: StackSecrets,
    cluster: containerservice.ManagedCluster,
    *,
    rule_groups: Sequence[RuleGroupArgs],
    dashboards: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> ManagedMonitoring:
    stack, tags = ctx.stack, dict(ctx.tags)
    common = {"resource_group_name": ctx.resource_group_name, "location": ctx.location, "tags": tags}
    workspace = monitor.AzureMonitorWorkspace(
        f"{stack}-prometheus", azure_monitor_workspace_name=f"amw-slm-{stack}", opts=opts, **common
    )
    endpoint = monitor.DataCollectionEndpoint(
        f"{stack}-prometheus-dce",
        data_collection_endpoint_name=f"dce-slm-{stack}",
        kind="Linux",
        opts=opts,
        **common,
    )
    rule = monitor.DataCollectionRule(
        f"{stack}-prometheus-dcr",
        data_collection_rule_name=f"dcr-slm-{stack}",
        data_collection_endpoint_id=endpoint.id,
        kind="Linux",
        data_sources={
            "prometheus_forwarder": [{"name": "PrometheusDataSource", "streams": [PROMETHEUS_STREAM]}],
        },
        destinations={"monitoring_accounts": [{"account_resource_id": workspace.id, "name": "MonitoringAccount1"}]},
        data_flows=[{"streams": [PROMETHEUS_STREAM], "destinations": ["MonitoringAccount1"]}],
        opts=opts,
        **common,
    )
    monitor.DataCollectionRuleAssociation(
        f"{stack}-prometheus-dcra",
        association_name=f"dcra-slm-{stack}",
        resource_uri=cluster.id,
        data_collection_rule_id=rule.id,
        opts=opts,
    )
    monitor.DataCollectionRuleAssociation(
        f"{stack}-prometheus-dcea",
        # Azure requires exactly this name for the endpoint association.
        association_name="configurationAccessEndpoint",
        resource_uri=cluster.id,
        data_collection_endpoint_id=endpoint.id,
        opts=opts,
    )
    action_group = monitor.ActionGroup(
        f"{stack}-alerts",
        action_group_name=f"ag-slm-{stack}",
        group_short_name=names.action_group_short_name(stack),
        enabled=True,
        resource_group_name=ctx.resource_group_name,
        location="global",
        tags=tags,
        opts=opts,
        **_receivers(spec, secrets),
    )
    groups = [
        alertsmanagement.PrometheusRuleGroup(
            f"{stack}-rules-{group.name}",
            rule_group_name=f"slm-{stack}-{group.name}",
            cluster_name=cluster.name,
            scopes=[workspace.id, cluster.id],
            interval=group.interval,
            enabled=True,
            rules=[
                {**r, "actions": [{"action_group_id": action_group.id}]} if "alert" in r else r for r in group.rules
            ],
            opts=opts,
            **common,
        )
        for group in rule_groups
    ]
    grafana = _managed_grafana(ctx, workspace, dashboards, opts) if spec.observability.grafana else None
    return ManagedMonitoring(
        workspace=workspace,
        grafana=grafana,
        grafana_endpoint=grafana.properties.apply(lambda p: str(p.endpoint) if p else "") if grafana else None,
        action_group=action_group,
        rule_groups=groups,
    )


def _managed_grafana(
    ctx: MonitoringContext,
    workspace: monitor.AzureMonitorWorkspace,
    dashboards: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> dashboard.Grafana:
    """Managed Grafana reading the workspace, with the deployer as its admin and our dashboards."""
    stack, tags = ctx.stack, dict(ctx.tags)
    common = {"resource_group_name": ctx.resource_group_name, "location": ctx.location, "tags": tags}
    grafana = dashboard.Grafana(
        f"{stack}-grafana",
        workspace_name=names.grafana_name(stack),
        sku={"name": "Standard"},
        identity={"type": "SystemAssigned"},
        properties={
            "grafana_major_version": GRAFANA_MAJOR_VERSION,
            "public_network_access": "Enabled",
            "api_key": "Disabled",
            "grafana_integrations": {
                "azure_monitor_workspace_integrations": [{"azure_monitor_workspace_resource_id": workspace.id}]
            },
        },
        opts=opts,
        **common,
    )
    assign(
        f"{stack}-grafana-reads-prometheus",
        role=BuiltInRole.MONITORING_DATA_READER,
        scope=workspace.id,
        principal_id=grafana.identity.apply(lambda i: str(i.principal_id) if i else ""),
        subscription_id=ctx.subscription_id,
        principal_type=MANAGED_IDENTITY,
        opts=opts,
    )
    admin = assign(
        f"{stack}-grafana-admin",
        role=BuiltInRole.GRAFANA_ADMIN,
        scope=grafana.id,
        principal_id=ctx.deployer_object_id,
        subscription_id=ctx.subscription_id,
        principal_type=ctx.deployer_principal_type,
        opts=opts,
    )
    import_dashboards(
        stack,
        dashboards,
        grafana_name=grafana.name,
        resource_group_name=ctx.resource_group_name,
        depends_on=[admin],
        opts=opts,
    )
    return grafana
