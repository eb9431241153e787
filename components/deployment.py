"""The top-level component: one stack's models, served on its target."""

from __future__ import annotations

from typing import Any

import pulumi

from components.engines import build_plans
from components.frontends.open_webui import NAME as OPEN_WEBUI
from components.frontends.open_webui import open_webui_service
from components.observability.attach import GRAFANA_ADMIN_SECRET, attach_monitoring, monitoring_secrets
from components.plan import ServicePlan, secrets_of
from components.secrets import StackSecrets
from components.spec import DeploymentSpec
from components.targets import ServingTarget, create_target


class Deployment(pulumi.ComponentResource):
    """Everything a :class:`DeploymentSpec` asks for, as Pulumi resources.

    Platform teams can use it as a library: build a spec with ``components.spec.parse_config``
    (or the models directly) and create ``Deployment(name, spec)`` in their own program.
    """

    endpoints: pulumi.Output[dict[str, str]]
    """OpenAI base URL per model."""
    served_model_names: pulumi.Output[dict[str, str]]
    """The ``model`` value clients send, per model."""
    api_keys: pulumi.Output[dict[str, str | None]]
    """API key per model (a secret); None where the engine has no authentication (Ollama)."""
    grafana_url: pulumi.Output[str | None]
    """Grafana on the host (Docker stacks with observability); None otherwise."""
    grafana_admin_password: pulumi.Output[str | None]
    """Grafana's ``admin`` password (a secret); None without Grafana."""
    open_webui_url: pulumi.Output[str | None]
    """Open WebUI on the host (Docker stacks with ``docker.openWebUi``); None otherwise."""

    def __init__(self, name: str, spec: DeploymentSpec, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("slm-deploy:index:Deployment", name, None, opts)
        self.spec = spec
        self.plans = build_plans(spec)
        webui = open_webui_service(self.plans, spec.docker) if spec.docker and spec.docker.open_web_ui else None
        needed = set(secrets_of(self.plans)) | monitoring_secrets(spec)
        if webui is not None:
            needed |= webui.secrets
        self.secrets = StackSecrets(name, spec, needed, opts=pulumi.ResourceOptions(parent=self))
        target = create_target(name, spec, self.plans, self.secrets, pulumi.ResourceOptions(parent=self))
        monitoring = attach_monitoring(name, spec, self.plans, target, self.secrets)
        self.open_webui_url = pulumi.Output.from_input(self._run_open_webui(webui, target))
        grafana = GRAFANA_ADMIN_SECRET in needed
        self.grafana_url = pulumi.Output.from_input(monitoring.get("obs-grafana"))
        self.grafana_admin_password = pulumi.Output.secret(
            self.secrets.value(GRAFANA_ADMIN_SECRET) if grafana else None
        )

        self.endpoints = pulumi.Output.from_input({p.model: p.base_url for p in target.published})
        self.served_model_names = pulumi.Output.from_input({plan.model: plan.model for plan in self.plans})
        keys: dict[str, pulumi.Input[str | None]] = {
            plan.model: self.secrets.value(plan.api_key_secret) if plan.api_key_secret else None for plan in self.plans
        }
        self.api_keys = pulumi.Output.secret(pulumi.Output.all(**keys))
        #: Exports only some targets have (AKS: kubeconfig, clusterName, ...), by export name.
        self.target_outputs: dict[str, pulumi.Output[Any]] = dict(target.stack_outputs)
        self.register_outputs(self.own_outputs)

    @property
    def own_outputs(self) -> dict[str, pulumi.Output[Any]]:
        """What every stack exports, by export name."""
        return {
            "endpoints": self.endpoints,
            "servedModelNames": self.served_model_names,
            "apiKeys": self.api_keys,
            "grafanaUrl": self.grafana_url,
            "grafanaAdminPassword": self.grafana_admin_password,
            "openWebUiUrl": self.open_webui_url,
        }

    @property
    def outputs(self) -> dict[str, pulumi.Output[Any]]:
        """Every stack export by name: the Deployment's own, then its target's."""
        return self.own_outputs | dict(sorted(self.target_outputs.items()))

    @staticmethod
    def _run_open_webui(webui: ServicePlan | None, target: ServingTarget) -> str | None:
        """Open WebUI next to the model servers of a local stack, when asked for; its URL."""
        if webui is None:
            return None
        from components.targets.docker import DockerTarget

        assert isinstance(target, DockerTarget), "the docker section only applies to target docker"
        return target.run_services([webui])[OPEN_WEBUI]
