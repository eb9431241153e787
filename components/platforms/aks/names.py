"""Physical names of the Azure resources, within each type's rules.

Key Vaults and registries are globally unique, so their default names end in a random
suffix the stack keeps in its state (``suffix``); the other names only need to be unique in
their resource group. Pure functions: the rules are tested without Pulumi.
"""

from __future__ import annotations

import re

#: Length of the random suffix of globally unique names.
SUFFIX_LENGTH = 6
KEY_VAULT_MAX = 24
REGISTRY_MAX = 50
GRAFANA_MAX = 23
DNS_PREFIX_MAX = 54


def _slug(text: str) -> str:
    """Lowercase letters, digits and single hyphens, starting with a letter."""
    slug = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]+", "-", text.lower())).strip("-")
    return slug if slug[:1].isalpha() else f"s{slug}"


def resource_group_name(stack: str, override: str | None) -> str:
    return override or f"slm-{_slug(stack)}"


def cluster_name(stack: str) -> str:
    return f"aks-slm-{_slug(stack)}"[:63].rstrip("-")


def dns_prefix(stack: str) -> str:
    return f"slm-{_slug(stack)}"[:DNS_PREFIX_MAX].rstrip("-")


def key_vault_name(stack: str, suffix: str) -> str:
    """``kv-<stack>-<suffix>``, cut so the whole stays within 24 characters."""
    room = KEY_VAULT_MAX - len("kv-") - 1 - SUFFIX_LENGTH
    return f"kv-{_slug(stack)[:room].rstrip('-')}-{suffix}"


def registry_name(stack: str, suffix: str) -> str:
    """``slm<stack><suffix>``: letters and digits only."""
    alnum = re.sub(r"[^a-z0-9]", "", stack.lower())
    room = REGISTRY_MAX - len("slm") - SUFFIX_LENGTH
    return f"slm{alnum[:room]}{suffix}"


def grafana_name(stack: str) -> str:
    """Managed Grafana: 2 to 23 letters, digits and hyphens."""
    return f"graf-{_slug(stack)}"[:GRAFANA_MAX].rstrip("-")


def action_group_short_name(stack: str) -> str:
    """Action groups show a short name of at most 12 characters in notifications."""
    return f"slm-{_slug(stack)}"[:12].rstrip("-")
