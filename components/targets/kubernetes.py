"""The Kubernetes target: serving plans as hardened workloads on any cluster (pulumi-kubernetes).

Per stack: one explicit provider (passed to every child; ``clusterIdentifier`` keeps token
rotation from replacing resources and ``deleteUnreachable`` lets a stack be destroyed after
its cluster is gone), a namespace enforcing the "restricted" Pod Security Standard, a
ResourceQuota and LimitRange, default-deny network policies with explicit allows, and the
stack's secrets (one Secret, mounted as files, through a pluggable delivery).

Per model, from its plan: a ServiceAccount without a token, a Deployment with a shared model
cache (ReadWriteMany) or a StatefulSet with a cache per replica, the fetch step as an init
container, probes with the plan's startup budget, GPU scheduling when the model asks for one,
topology spread when replicas may exceed one, a PodDisruptionBudget, a ClusterIP Service (and
a headless one governing a StatefulSet),
autoscaling (HPA on CPU, or KEDA on queue depth) and optional exposure of ``/v1`` only.

Nothing here assumes a cloud: AKS reuses this class on the cluster it creates by passing its
own ``provider`` and, for Key Vault, its own ``secret_delivery``. The target never branches
on an engine name; it reads plans.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_docker_build as docker_build
import pulumi_kubernetes as k8s

from components.plan import (
    COMMON_LABELS,
    LABEL_COMPONENT,
    Container,
    Image,
    LocalBuild,
    ServingPlan,
    secrets_of,
)
from components.secrets import StackSecrets
from components.secrets.kubernetes import (
    KEYS_ANNOTATION,
    SecretDelivery,
    SecretDeliveryFactory,
    kubernetes_secret_files,
)
from components.spec import DeploymentSpec
from components.spec.models import ExposureSettings, ImageRegistry, KubernetesSettings
from components.spec.scaling import SURGE_PODS, scales_on_queue
from components.targets.base import PublishedModel
from components.targets.image_build import build_image
from components.targets.kube import exposure as expose
from components.targets.kube import network, quota, scaling
from components.targets.kube.pods import CACHE_VOLUME, PodInputs, config_data, pod_template, selector
from components.targets.kube.scheduling import GPU_TOLERATION
from components.targets.kube.units import go_duration, storage

__all__ = ["KubernetesTarget", "namespace_for", "service_account_for"]


def service_account_for(plan: ServingPlan) -> str:
    """The service account a model's pods run under (named after the model); AKS federates
    its workload identity to exactly these names."""
    return plan.model


#: Pod Security Standard every pod of the stack's namespace must meet.
POD_SECURITY_LEVEL = "restricted"
REGISTRY_SECRET = "slm-registry"
KEDA_REPOSITORY = "https://kedacore.github.io/charts"
KEDA_NAMESPACE = "keda"
#: Checkov findings that are deliberate, with the reason written on the object.
DIGEST_SKIP = "CKV_K8S_43=images are pinned by tag; set image.digest in the stack to pin by digest"
#: Time beyond the fetch and startup budgets before Pulumi and the Deployment give up.
ROLLOUT_MARGIN_SECONDS = 300
#: Objects whose readiness depends on pods that may take long to start, or be scaled to zero.
SKIP_AWAIT = {"pulumi.com/skipAwait": "true"}


def namespace_for(stack: str, settings: KubernetesSettings) -> str:
    """The stack's namespace: the setting, else ``slm-<stack>`` as a DNS label."""
    if settings.namespace:
        return settings.namespace
    label = re.sub(r"[^a-z0-9-]+", "-", f"slm-{stack}".lower()).strip("-")
    return label[:63].rstrip("-")


def headless_service(plan: ServingPlan) -> str:
    """The headless Service governing a model's StatefulSet."""
    return f"{plan.model}-pods"


def cluster_identifier(stack: str, settings: KubernetesSettings) -> str:
    """A stable name for the cluster, so a rotated token in the kubeconfig is no new cluster."""
    if settings.cluster_identifier:
        return settings.cluster_identifier
    if settings.context:
        return settings.context
    if settings.stack_reference:
        return f"{settings.stack_reference.stack}#{settings.stack_reference.output}"
    return f"{stack}-cluster"


def _registry_host(registry: ImageRegistry) -> str:
    return registry.server.split("/", 1)[0]


class KubernetesTarget(pulumi.ComponentResource):
    """All model servers of a stack on one Kubernetes cluster."""

    published: list[PublishedModel]
    """How clients reach each model."""
    provider: k8s.Provider
    """The cluster's provider; observability creates its resources with it."""
    namespace_name: str
    """The stack's namespace."""
    namespace: k8s.core.v1.Namespace
    managed_control_plane: bool
    """The cluster's control plane is run by a cloud (AKS): its controller manager, scheduler and
    etcd cannot be scraped."""
    kube_proxy: bool
    """The cluster runs kube-proxy (a Cilium dataplane replaces it)."""

    @property
    def stack_outputs(self) -> dict[str, pulumi.Output[Any]]:
        """No exports beyond the Deployment's own."""
        return {}

    def __init__(
        self,
        name: str,
        spec: DeploymentSpec,
        plans: Sequence[ServingPlan],
        secrets: StackSecrets,
        opts: pulumi.ResourceOptions | None = None,
        *,
        provider: k8s.Provider | None = None,
        secret_delivery: SecretDeliveryFactory | None = None,
        built_images: Mapping[str, pulumi.Input[str]] | None = None,
        gpu_tolerations: Sequence[k8s.core.v1.TolerationArgs] | None = None,
        managed_control_plane: bool = False,
        kube_proxy: bool = True,
    ) -> None:
        """``built_images`` maps a LocalBuild's ``image_tag`` to a reference a platform already
        built and pushed (AKS: its registry); ``gpu_tolerations`` replaces the GPU toleration
        (AKS adds its spot taint); ``managed_control_plane`` and ``kube_proxy`` say what a
        platform knows about the cluster it made, for monitoring."""
        super().__init__("slm-deploy:targets:Kubernetes", name, None, opts)
        self.managed_control_plane = managed_control_plane
        self.kube_proxy = kube_proxy
        self._name = name
        self._spec = spec
        self._settings = spec.kubernetes or KubernetesSettings()
        self.provider = provider or self._cluster_provider()
        self.namespace_name = namespace_for(name, self._settings)
        self._common_labels = dict(COMMON_LABELS)
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=self.namespace_name,
                labels=self._common_labels
                | {f"pod-security.kubernetes.io/{mode}": POD_SECURITY_LEVEL for mode in ("enforce", "warn", "audit")}
                | {f"pod-security.kubernetes.io/{mode}-version": "latest" for mode in ("enforce", "warn", "audit")},
            ),
            opts=self._child(),
        )
        # Every namespaced object reads the name from the Namespace, so it waits for it.
        self._ns: pulumi.Output[str] = self.namespace.metadata.apply(lambda m: str(m.name))
        self._builds: dict[str, pulumi.Output[str]] = {}
        self._built_elsewhere = dict(built_images or {})
        self._gpu_tolerations = tuple(gpu_tolerations or (GPU_TOLERATION,))
        self._build_provider: docker_build.Provider | None = None
        self._models = [
            quota.ModelScale(
                plan,
                spec.model(plan.model),
                per_replica_cache=self._settings.model_cache == "per-replica",
            )
            for plan in plans
        ]

        self._namespace_guards(plans)
        self._stack_secrets = secrets
        self._pull_secret = self._registry_pull_secret()
        names = secrets_of(plans)
        factory = secret_delivery or kubernetes_secret_files(secrets, self._common_labels)
        self._secrets: SecretDelivery = factory(name, self._ns, names, self._child())
        self._keda = self._install_keda()
        self.published = []
        for model in self._models:
            self._model(model)
        self.register_outputs({"namespace": self.namespace_name})

    @property
    def cluster(self) -> KubernetesTarget:
        """This target is the cluster side itself."""
        return self

    # -- helpers -------------------------------------------------------------------------

    def _child(
        self,
        depends_on: Sequence[pulumi.Resource] = (),
        custom_timeouts: pulumi.CustomTimeouts | None = None,
    ) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(
            parent=self, provider=self.provider, depends_on=list(depends_on), custom_timeouts=custom_timeouts
        )

    def _meta(
        self, name: str, labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None
    ) -> k8s.meta.v1.ObjectMetaArgs:
        return k8s.meta.v1.ObjectMetaArgs(
            name=name,
            namespace=self._ns,
            labels=dict(sorted((labels or self._common_labels).items())),
            annotations=dict(sorted(annotations.items())) if annotations else None,
        )

    def _cluster_provider(self) -> k8s.Provider:
        """The cluster from the stack: a kubeconfig secret, another stack's output, or ambient."""
        settings = self._settings
        kubeconfig: pulumi.Input[str] | None = None
        if settings.kubeconfig is not None:
            kubeconfig = pulumi.Output.secret(settings.kubeconfig.get_secret_value())
        elif settings.stack_reference is not None:
            reference = pulumi.StackReference(
                f"{self._name}-cluster",
                stack_name=settings.stack_reference.stack,
                opts=pulumi.ResourceOptions(parent=self),
            )
            kubeconfig = pulumi.Output.secret(reference.get_output(settings.stack_reference.output))
        return k8s.Provider(
            f"{self._name}-k8s",
            kubeconfig=kubeconfig,
            context=settings.context,
            cluster_identifier=cluster_identifier(self._name, settings),
            delete_unreachable=True,
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self),
        )

    # -- per namespace -------------------------------------------------------------------

    def _namespace_guards(self, plans: Sequence[ServingPlan]) -> None:
        name = self._name
        k8s.core.v1.ResourceQuota(
            f"{name}-quota",
            metadata=self._meta("slm-quota"),
            spec=k8s.core.v1.ResourceQuotaSpecArgs(hard=quota.quota_hard(self._models, self._settings)),
            opts=self._child(),
        )
        k8s.core.v1.LimitRange(
            f"{name}-limits",
            metadata=self._meta("slm-limits"),
            spec=quota.limit_range(plans),
            opts=self._child(),
        )
        for policy in network.namespace_policies():
            self._network_policy(policy)

    def _network_policy(self, policy: network.Policy, labels: dict[str, str] | None = None) -> None:
        k8s.networking.v1.NetworkPolicy(
            f"{self._name}-netpol-{policy.name}",
            metadata=self._meta(policy.name, labels, policy.annotations),
            spec=policy.spec,
            opts=self._child(),
        )

    def _registry_pull_secret(self) -> k8s.core.v1.Secret | None:
        """A dockerconfigjson Secret for the registry of built images, when it has credentials."""
        registry = self._settings.image_registry
        if registry is None or registry.username is None or registry.password_secret is None:
            return None
        password = self._stack_secrets.value(registry.password_secret)
        config = pulumi.Output.json_dumps(
            {"auths": {_registry_host(registry): {"username": registry.username, "password": password}}}
        )
        secret = k8s.core.v1.Secret(
            f"{self._name}-registry",
            metadata=self._meta(REGISTRY_SECRET, annotations={KEYS_ANNOTATION: ".dockerconfigjson"}),
            type="kubernetes.io/dockerconfigjson",
            string_data={".dockerconfigjson": config},  # secret: it holds the secret password
            opts=self._child(),
        )
        return secret

    def _install_keda(self) -> k8s.helm.v3.Release | None:
        if not self._settings.install_keda:
            return None
        return k8s.helm.v3.Release(
            f"{self._name}-keda",
            name="keda",
            chart="keda",
            version=self._settings.keda_chart_version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=KEDA_REPOSITORY),
            namespace=KEDA_NAMESPACE,
            create_namespace=True,
            atomic=True,
            values={"crds": {"install": True}},
            opts=self._child(),
        )

    # -- images --------------------------------------------------------------------------

    def _image(self, container: Container) -> pulumi.Input[str]:
        """The image reference a pod runs: pinned upstream, or built, pushed and pinned by digest."""
        if isinstance(container.image, Image):
            return container.image.ref
        if container.image_tag in self._built_elsewhere:
            return self._built_elsewhere[container.image_tag]
        registry = self._settings.image_registry
        if registry is None:
            raise ValueError(f"container {container.name} needs a built image and kubernetes.imageRegistry is not set")
        tag = f"{registry.server}/{container.image_tag}"
        if tag not in self._builds:
            self._builds[tag] = self._build(container.image, tag, registry)
        return self._builds[tag]

    def _build(self, build: LocalBuild, tag: str, registry: ImageRegistry) -> pulumi.Output[str]:
        if self._build_provider is None:
            self._build_provider = docker_build.Provider(
                f"{self._name}-docker-build", opts=pulumi.ResourceOptions(parent=self)
            )
        credentials = None
        if registry.username is not None and registry.password_secret is not None:
            credentials = [
                docker_build.RegistryArgs(
                    address=_registry_host(registry),
                    username=registry.username,
                    password=self._stack_secrets.value(registry.password_secret),
                )
            ]
        image = build_image(
            f"{self._name}-image-{re.sub(r'[^a-z0-9]+', '-', tag.rsplit('/', 1)[-1]).strip('-')}",
            build,
            [tag],
            push=True,
            registries=credentials,
            opts=pulumi.ResourceOptions(parent=self, provider=self._build_provider),
        )
        return pulumi.Output.concat(tag, "@", image.digest)

    # -- one model -----------------------------------------------------------------------

    def _model(self, model: quota.ModelScale) -> None:
        plan, autoscaling = model.plan, model.scaling
        prefix = f"{self._name}-{plan.model}"
        # Only the workload and its pods are the model server; the objects around them carry
        # the model's labels without the component, so policies that look for model servers
        # by label find exactly the workloads.
        workload_labels = dict(sorted(plan.labels.items()))
        labels = {k: v for k, v in workload_labels.items() if k != LABEL_COMPONENT}
        pods = selector(plan)
        per_replica = model.per_replica_cache

        account = k8s.core.v1.ServiceAccount(
            f"{prefix}-sa",
            metadata=self._meta(service_account_for(plan), labels),
            automount_service_account_token=False,
            opts=self._child(),
        )
        waits_for: list[pulumi.Resource] = [account, *self._secrets.resources]
        if self._pull_secret is not None:
            waits_for.append(self._pull_secret)
        config_map = None
        if config_data(plan):
            config_map = f"{plan.model}-config"
            waits_for.append(
                k8s.core.v1.ConfigMap(
                    f"{prefix}-config",
                    metadata=self._meta(config_map, labels),
                    data=config_data(plan),
                    opts=self._child(),
                )
            )
        cache_claim = None
        if not per_replica:
            cache_claim = f"{plan.model}-cache"
            waits_for.append(
                k8s.core.v1.PersistentVolumeClaim(
                    f"{prefix}-cache",
                    # The claim binds when the first pod mounts it (WaitForFirstConsumer): do not await it.
                    metadata=self._meta(cache_claim, labels, SKIP_AWAIT),
                    spec=self._cache_spec(plan, "ReadWriteMany"),
                    opts=self._child(),
                )
            )
        ports = [
            k8s.core.v1.ServicePortArgs(
                name=p.name, port=p.container_port, target_port=p.name, protocol="TCP", app_protocol="http"
            )
            for p in plan.server.ports
        ]
        k8s.core.v1.Service(
            f"{prefix}-service",
            # Pulumi would wait for endpoints, which appear only after the model is fetched and
            # loaded (or never, while scaled to zero); the workload's own await covers readiness.
            metadata=self._meta(plan.model, labels, SKIP_AWAIT),
            spec=k8s.core.v1.ServiceSpecArgs(type="ClusterIP", selector=pods, ports=ports),
            opts=self._child(),
        )
        if per_replica:
            # A StatefulSet's governing Service must be headless: it gives each replica its DNS
            # name (<pod>.<service>); clients keep using the ClusterIP Service above.
            k8s.core.v1.Service(
                f"{prefix}-pods",
                metadata=self._meta(headless_service(plan), labels, SKIP_AWAIT),
                spec=k8s.core.v1.ServiceSpecArgs(cluster_ip="None", selector=pods, ports=ports),
                opts=self._child(),
            )
        containers = (plan.fetch.container, plan.server)
        built = any(isinstance(c.image, LocalBuild) for c in containers)
        template = pod_template(
            PodInputs(
                plan=plan,
                images={c.name: self._image(c) for c in containers},
                secrets=self._secrets,
                service_account=service_account_for(plan),
                config_map=config_map,
                cache_claim=cache_claim,
                spread=model.max_replicas > 1,
                image_pull_secrets=[REGISTRY_SECRET] if built and self._pull_secret else [],
                gpu_tolerations=self._gpu_tolerations,
            )
        )
        by_tag_only = any(isinstance(c.image, Image) and not c.image.digest for c in containers)
        annotations = {"checkov.io/skip1": DIGEST_SKIP} if by_tag_only else None
        budget = plan.fetch.timeout_seconds + plan.server.probes.startup_budget_seconds if plan.server.probes else 0
        budget += ROLLOUT_MARGIN_SECONDS
        opts = self._child(waits_for, pulumi.CustomTimeouts(create=go_duration(budget), update=go_duration(budget)))
        replicas = None if autoscaling is not None else plan.replicas
        workload: scaling.Workload
        server: pulumi.Resource
        if per_replica:
            workload = scaling.Workload("StatefulSet", plan.model)
            server = k8s.apps.v1.StatefulSet(
                f"{prefix}-server",
                metadata=self._meta(plan.model, workload_labels, annotations),
                spec=k8s.apps.v1.StatefulSetSpecArgs(
                    service_name=headless_service(plan),
                    replicas=replicas,
                    selector=k8s.meta.v1.LabelSelectorArgs(match_labels=pods),
                    pod_management_policy="Parallel",
                    update_strategy=k8s.apps.v1.StatefulSetUpdateStrategyArgs(
                        type="RollingUpdate",
                        rolling_update=k8s.apps.v1.RollingUpdateStatefulSetStrategyArgs(partition=0),
                    ),
                    persistent_volume_claim_retention_policy=(
                        k8s.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs(
                            # Scaled-down replicas keep their download for the next scale-up;
                            # deleting the stack deletes the caches.
                            when_deleted="Delete",
                            when_scaled="Retain",
                        )
                    ),
                    volume_claim_templates=[
                        k8s.core.v1.PersistentVolumeClaimArgs(
                            metadata=k8s.meta.v1.ObjectMetaArgs(name=CACHE_VOLUME, labels=labels),
                            spec=self._cache_spec(plan, "ReadWriteOnce"),
                        )
                    ],
                    revision_history_limit=5,
                    template=template,
                ),
                opts=opts,
            )
        else:
            workload = scaling.Workload("Deployment", plan.model)
            server = k8s.apps.v1.Deployment(
                f"{prefix}-server",
                metadata=self._meta(plan.model, workload_labels, annotations),
                spec=k8s.apps.v1.DeploymentSpecArgs(
                    replicas=replicas,
                    selector=k8s.meta.v1.LabelSelectorArgs(match_labels=pods),
                    strategy=k8s.apps.v1.DeploymentStrategyArgs(
                        type="RollingUpdate",
                        # A new pod must be ready before an old one goes: never below capacity.
                        rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(max_surge=SURGE_PODS, max_unavailable=0),
                    ),
                    progress_deadline_seconds=budget,
                    revision_history_limit=5,
                    template=template,
                ),
                opts=opts,
            )
        k8s.policy.v1.PodDisruptionBudget(
            f"{prefix}-pdb",
            metadata=self._meta(plan.model, labels),
            spec=scaling.disruption_budget(pods),
            opts=self._child(),
        )
        self._model_network(plan, pods, labels)
        if autoscaling is not None:
            self._autoscaler(prefix, model, workload, labels)
        self._publish(prefix, plan, labels, server)

    def _cache_spec(self, plan: ServingPlan, access_mode: str) -> k8s.core.v1.PersistentVolumeClaimSpecArgs:
        """The model cache, sized from the catalog (weights plus slack)."""
        return k8s.core.v1.PersistentVolumeClaimSpecArgs(
            access_modes=[access_mode],
            storage_class_name=self._settings.storage_class,
            resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": storage(plan.cache_size_bytes)}),
        )

    def _model_network(self, plan: ServingPlan, pods: dict[str, str], labels: dict[str, str]) -> None:
        exposure = self._settings.exposure
        exposed = exposure is not None and plan.api_key_secret is not None
        policies = network.model_policies(
            plan,
            pods,
            monitoring_namespace=self._settings.monitoring_namespace,
            client_namespaces=self._settings.client_namespaces,
            controller_namespace=expose.controller_namespace(exposure) if exposure and exposed else None,
        )
        for policy in policies:
            self._network_policy(policy, labels)

    def _autoscaler(
        self, prefix: str, model: quota.ModelScale, workload: scaling.Workload, labels: dict[str, str]
    ) -> None:
        plan, autoscaling = model.plan, model.scaling
        assert autoscaling is not None
        if scales_on_queue(model.model):
            url = self._settings.prometheus_url or (
                f"http://prometheus-operated.{self._settings.monitoring_namespace}.svc:9090"
            )
            k8s.apiextensions.CustomResource(
                f"{prefix}-scaledobject",
                api_version=scaling.KEDA_API_VERSION,
                kind="ScaledObject",
                metadata=self._meta(plan.model, labels),
                spec=scaling.scaled_object(
                    workload, plan, autoscaling, namespace=self.namespace_name, prometheus_url=url
                ),
                opts=self._child([self._keda] if self._keda else []),
            )
        else:
            k8s.autoscaling.v2.HorizontalPodAutoscaler(
                f"{prefix}-hpa",
                metadata=self._meta(plan.model, labels),
                spec=scaling.cpu_autoscaler(workload, autoscaling),
                opts=self._child(),
            )

    def _publish(self, prefix: str, plan: ServingPlan, labels: dict[str, str], server: pulumi.Resource) -> None:
        internal = f"http://{plan.model}.{self.namespace_name}.svc.cluster.local:{plan.api_port}{plan.openai_base_path}"
        base_url = internal
        exposure = self._settings.exposure
        if exposure is not None and plan.api_key_secret is None:
            pulumi.log.warn(f"{plan.model}: the engine has no authentication, so it stays inside the cluster")
        elif exposure is not None:
            self._expose(prefix, plan, labels, exposure, server)
            base_url = expose.public_base_url(plan, exposure)
        self.published.append(PublishedModel(model=plan.model, base_url=base_url, internal_url=internal))

    def _expose(
        self,
        prefix: str,
        plan: ServingPlan,
        labels: dict[str, str],
        exposure: ExposureSettings,
        server: pulumi.Resource,
    ) -> None:
        """Routes are created once the server is ready, so they never point at nothing."""
        if exposure.kind == "ingress":
            k8s.networking.v1.Ingress(
                f"{prefix}-ingress",
                # Not every controller reports a load balancer status; readiness was awaited already.
                metadata=self._meta(plan.model, labels, expose.ingress_annotations(exposure) | SKIP_AWAIT),
                spec=expose.ingress(plan, plan.model, exposure),
                opts=self._child([server]),
            )
        else:
            k8s.apiextensions.CustomResource(
                f"{prefix}-httproute",
                api_version=expose.GATEWAY_API_VERSION,
                kind="HTTPRoute",
                metadata=self._meta(plan.model, labels),
                spec=expose.http_route(plan, plan.model, exposure),
                opts=self._child([server]),
            )
