"""Monitoring of a Kubernetes stack: kube-prometheus-stack (unless the cluster has a
Prometheus operator already), PodMonitors, blackbox Probes, PrometheusRules, dashboard
ConfigMaps for the Grafana sidecar, and the DCGM exporter when a model uses a GPU.

The Kubernetes target creates this component with its provider and the name of the models'
namespace (a plain string: ``spec.kubernetes.namespace`` or its default, known before any
resource exists; pass the Namespace resource in ``opts.depends_on``). Every object is built
as data in :mod:`components.observability.k8s_objects`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.observability import images, k8s_objects
from components.observability.alertmanager import alertmanager_yml, receiver_secrets
from components.observability.config_files import K8S_RECEIVER_SECRET, K8S_RECEIVER_SECRETS_DIR
from components.observability.grafana_settings import GRAFANA_ADMIN_SECRET, GRAFANA_ADMIN_USER
from components.observability.images import Chart
from components.plan import COMMON_LABELS, LABEL_PART_OF, ServingPlan
from components.secrets import StackSecrets
from components.spec import DeploymentSpec
from components.spec.models import KubernetesSettings

#: node-exporter (hostNetwork, hostPID, hostPath) and the DCGM exporter (SYS_ADMIN, kubelet
#: socket) cannot meet the restricted Pod Security Standard; they get their own namespace.
PRIVILEGED = {
    "pod-security.kubernetes.io/enforce": "privileged",
    "pod-security.kubernetes.io/warn": "privileged",
    "pod-security.kubernetes.io/audit": "privileged",
}


class KubernetesMonitoring(pulumi.ComponentResource):
    """Prometheus, Alertmanager and Grafana for the models of one namespace."""

    def __init__(  # noqa: PLR0917 (the signature every target part shares, plus the provider)
        self,
        name: str,
        spec: DeploymentSpec,
        plans: Sequence[ServingPlan],
        provider: k8s.Provider,
        namespace: str,
        opts: pulumi.ResourceOptions | None = None,
        *,
        secrets: StackSecrets | None = None,
        scrapes: k8s_objects.ClusterScrapes | None = None,
    ) -> None:
        """``scrapes`` says which of the cluster's own components Prometheus can reach (a managed
        control plane cannot be scraped); all of them when None."""
        super().__init__("slm-deploy:observability:KubernetesMonitoring", name, None, opts)
        self._name = name
        self._provider = provider
        settings = spec.kubernetes or KubernetesSettings()
        release = settings.monitoring_release
        install = settings.install_monitoring
        # The namespace the target's NetworkPolicies let scrape the model servers.
        monitoring_namespace = settings.monitoring_namespace
        self.releases: list[k8s.helm.v3.Release] = []
        needs_secrets = install and (receiver_secrets(spec) or spec.observability.grafana)
        if needs_secrets and secrets is None:
            raise ValueError("KubernetesMonitoring needs the stack's secrets for Grafana and the receivers")

        if install:
            ns = k8s.core.v1.Namespace(
                f"{name}-monitoring",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=monitoring_namespace, labels={LABEL_PART_OF: COMMON_LABELS[LABEL_PART_OF], **PRIVILEGED}
                ),
                opts=self._child(),
            )
            deps: list[pulumi.Resource] = [ns]
            assert secrets is not None or not needs_secrets
            if secrets is not None:
                deps += self._secrets(spec, secrets, monitoring_namespace, ns)
            config = alertmanager_yml(spec, name, K8S_RECEIVER_SECRETS_DIR)
            reachable = scrapes or k8s_objects.ClusterScrapes()
            values = k8s_objects.kube_prometheus_stack_values(spec, config, bool(receiver_secrets(spec)), reachable)
            self.releases.append(
                self._release(release, images.KUBE_PROMETHEUS_STACK, monitoring_namespace, values, deps)
            )
            if any(not p.metrics.native for p in plans):
                self.releases.append(
                    self._release(
                        "slm-blackbox",
                        images.BLACKBOX_EXPORTER_CHART,
                        monitoring_namespace,
                        k8s_objects.blackbox_values(),
                        [ns],
                    )
                )
            if any(p.uses_gpu for p in plans):
                self.releases.append(
                    self._release(
                        k8s_objects.DCGM_RELEASE,
                        images.DCGM_EXPORTER_CHART,
                        monitoring_namespace,
                        k8s_objects.dcgm_values(release),
                        [ns],
                    )
                )

        # The CRDs come with the chart: custom resources wait for it.
        after = list(self.releases)
        for obj in self._objects(spec, plans, namespace, monitoring_namespace, release):
            self._custom(obj, after)
        self.register_outputs({"releases": [r.name for r in self.releases]})

    def _child(self, depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._provider, depends_on=list(depends_on))

    def _release(
        self, name: str, chart: Chart, namespace: str, values: dict[str, Any], deps: Sequence[pulumi.Resource]
    ) -> k8s.helm.v3.Release:
        return k8s.helm.v3.Release(
            f"{self._name}-{name}",
            name=name,
            chart=chart.name,
            version=chart.version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository),
            namespace=namespace,
            values=values,
            opts=self._child(deps),
        )

    def _secrets(
        self, spec: DeploymentSpec, secrets: StackSecrets, namespace: str, ns: pulumi.Resource
    ) -> list[pulumi.Resource]:
        """Grafana's admin login and the receivers' URLs/passwords as Secrets the chart mounts."""
        created: list[pulumi.Resource] = []
        if spec.observability.grafana:
            created.append(
                k8s.core.v1.Secret(
                    f"{self._name}-grafana-admin",
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        name=k8s_objects.GRAFANA_ADMIN_SECRET_NAME, namespace=namespace
                    ),
                    string_data={
                        "admin-user": GRAFANA_ADMIN_USER,
                        "admin-password": secrets.value(GRAFANA_ADMIN_SECRET),
                    },
                    opts=self._child([ns]),
                )
            )
        names = receiver_secrets(spec)
        if names:
            created.append(
                k8s.core.v1.Secret(
                    f"{self._name}-alertmanager-receivers",
                    metadata=k8s.meta.v1.ObjectMetaArgs(name=K8S_RECEIVER_SECRET, namespace=namespace),
                    string_data={n: secrets.value(n) for n in names},
                    opts=self._child([ns]),
                )
            )
        return created

    @staticmethod
    def _objects(
        spec: DeploymentSpec,
        plans: Sequence[ServingPlan],
        namespace: str,
        monitoring_namespace: str,
        release: str,
    ) -> list[dict[str, Any]]:
        return [
            *k8s_objects.monitors(spec, plans, namespace, monitoring_namespace, release),
            *k8s_objects.prometheus_rules(spec, plans, namespace, release),
            *(k8s_objects.dashboard_config_maps(plans, namespace) if spec.observability.grafana else []),
        ]

    def _custom(self, obj: dict[str, Any], deps: Sequence[pulumi.Resource]) -> None:
        meta = obj["metadata"]
        resource_name = f"{self._name}-{obj['kind'].lower()}-{meta['name']}"
        if obj["kind"] == "ConfigMap":
            k8s.core.v1.ConfigMap(
                resource_name,
                metadata=k8s.meta.v1.ObjectMetaArgs(**meta),
                data=obj["data"],
                opts=self._child(),
            )
            return
        k8s.apiextensions.CustomResource(
            resource_name,
            api_version=obj["apiVersion"],
            kind=obj["kind"],
            metadata=k8s.meta.v1.ObjectMetaArgs(**meta),
            spec=obj["spec"],
            opts=self._child(deps),
        )
