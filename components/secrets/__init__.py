"""The stack's secret store: values by name, delivered by each target in its own way."""

from components.secrets.stack_secrets import GENERATED_SECRETS, StackSecrets

__all__ = ["GENERATED_SECRETS", "StackSecrets"]
