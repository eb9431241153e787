"""The one place a program reads its stack configuration from the Pulumi runtime.

The spec package stays free of Pulumi; this adapter collects the ``slm-deploy:*`` keys the
engine passed (as the CLI passes them: strings, JSON for objects) and hands them to
:func:`components.spec.parse_config`.
"""

from __future__ import annotations

from pulumi.runtime import config as runtime_config

from components.spec import NAMESPACE, DeploymentSpec, parse_config


def read_stack_config() -> dict[str, str]:
    """Every ``slm-deploy:*`` key of the running stack, as strings."""
    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    values: dict[str, str] = {}
    for key in sorted(keys):
        if key.startswith(f"{NAMESPACE}:"):
            value = runtime_config.get_config(key)
            if value is not None:
                values[key] = str(value)
    return values


def load_spec() -> DeploymentSpec:
    """Parse and validate this stack's configuration (raises ``SpecError``)."""
    return parse_config(read_stack_config())
