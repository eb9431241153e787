"""The AKS target: the Azure platform first, then the model servers on its cluster.

:class:`~components.platforms.aks.AksPlatform` creates the Azure side and hands over a
Kubernetes provider for the new cluster; the model servers are then deployed by the
Kubernetes target exactly as on any cluster, on that provider only, with secrets delivered
from Key Vault through the Secrets Store CSI driver instead of Kubernetes Secrets.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from components.plan import LocalBuild, ServingPlan
from components.platforms.aks import AksPlatform
from components.secrets import StackSecrets
from components.spec import DeploymentSpec
from components.targets.base import PublishedModel

#: The service account the model servers run as; its federated credential is created up front.
MODEL_SERVICE_ACCOUNT = "slm-model-server"


def namespace_for(name: str, spec: DeploymentSpec) -> str:
    return spec.kubernetes.namespace if spec.kubernetes and spec.kubernetes.namespace else f"slm-{name}"


class AksTarget(pulumi.ComponentResource):
    """All model servers of a stack on an AKS cluster the program provisions."""

    published: list[PublishedModel]
    stack_outputs: dict[str, pulumi.Output[str]]
    """Exports of this target: kubeconfig (secret), clusterName, registryLoginServer, keyVaultUri,
    grafanaEndpoint (managed monitoring)."""

    def __init__(
        self,
        name: str,
        spec: DeploymentSpec,
        plans: Sequence[ServingPlan],
        secrets: StackSecrets,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("slm-deploy:targets:Aks", name, None, opts)
        builds = [c for plan in plans for c in (plan.server, plan.fetch.container) if isinstance(c.image, LocalBuild)]
        self.platform = AksPlatform(
            name,
            spec,
            secrets,
            namespace=namespace_for(name, spec),
            service_account=MODEL_SERVICE_ACCOUNT,
            built_images=builds,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # The model servers land with the Kubernetes target (issue 8 builds on it).
        self.published = []
        self.stack_outputs = dict(self.platform.outputs)
        self.register_outputs({})
