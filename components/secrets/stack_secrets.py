"""Secret values of one stack: the config's ``slm-deploy:secrets`` plus generated ones.

Plans name the secrets they read; this component turns names into Pulumi secret Outputs.
Targets deliver them: as uploaded files on Docker, as a Kubernetes Secret mounted as files,
as Key Vault secrets read through the CSI driver on AKS. A value never leaves as plain text.
"""

from __future__ import annotations

from collections.abc import Iterable

import pulumi
import pulumi_random as random

from components.spec import DeploymentSpec

#: Secrets the program creates when the stack does not provide them.
GENERATED_SECRETS = {"apiKey": 48, "grafanaAdminPassword": 32, "openWebUiSecretKey": 48}


class MissingSecretError(Exception):
    pass


class StackSecrets(pulumi.ComponentResource):
    """Secret values by name, for the names a stack's plans need."""

    def __init__(
        self,
        name: str,
        spec: DeploymentSpec,
        needed: Iterable[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("slm-deploy:secrets:StackSecrets", name, None, opts)
        self._values: dict[str, pulumi.Output[str]] = {
            key: pulumi.Output.secret(value.get_secret_value()) for key, value in spec.secrets.items()
        }
        for key in sorted(set(needed) - set(self._values)):
            if key not in GENERATED_SECRETS:
                raise MissingSecretError(f"secret {key!r} is needed but not in slm-deploy:secrets")
            password = random.RandomPassword(
                f"{name}-{key}",
                length=GENERATED_SECRETS[key],
                special=False,
                opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["result"]),
            )
            self._values[key] = pulumi.Output.secret(password.result)
        self.register_outputs({})

    def value(self, key: str) -> pulumi.Output[str]:
        return self._values[key]
