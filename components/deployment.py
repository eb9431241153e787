"""The top-level component: one stack's models, served on its target."""

from __future__ import annotations

import pulumi

from components.spec import DeploymentSpec


class Deployment(pulumi.ComponentResource):
    """Everything a :class:`DeploymentSpec` asks for, as Pulumi resources."""

    def __init__(self, name: str, spec: DeploymentSpec, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("slm-deploy:index:Deployment", name, None, opts)
        self.spec = spec
        self.register_outputs({})
