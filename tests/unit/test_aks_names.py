"""Default Azure names stay within each type's rules, for any stack name."""

from __future__ import annotations

import pytest

from components.platforms.aks import names
from components.spec.models import _key_vault_name_problem, _pool_name_problem, _registry_name_problem

STACKS = ["prod", "staging", "pr-1234", "a", "Team_Alpha.Staging", "x" * 60, "9lives"]


@pytest.mark.parametrize("stack", STACKS)
def test_default_key_vault_names_are_valid(stack: str) -> None:
    name = names.key_vault_name(stack, "a1b2c3")
    assert _key_vault_name_problem(name) is None, name


@pytest.mark.parametrize("stack", STACKS)
def test_default_registry_names_are_valid(stack: str) -> None:
    name = names.registry_name(stack, "a1b2c3")
    assert _registry_name_problem(name) is None, name


@pytest.mark.parametrize("stack", STACKS)
def test_other_names_fit_their_limits(stack: str) -> None:
    assert len(names.grafana_name(stack)) <= names.GRAFANA_MAX
    assert len(names.action_group_short_name(stack)) <= 12
    assert len(names.dns_prefix(stack)) <= names.DNS_PREFIX_MAX
    assert len(names.cluster_name(stack)) <= 63
    assert names.resource_group_name(stack, None).startswith("slm-")


def test_the_suffix_keeps_names_unique_per_stack() -> None:
    assert names.key_vault_name("prod", "aaaaaa") != names.key_vault_name("prod", "bbbbbb")
    assert names.key_vault_name("prod", "a1b2c3") == "kv-prod-a1b2c3"
    assert names.resource_group_name("prod", "rg-custom") == "rg-custom"


def test_pool_name_rule_matches_aks() -> None:
    assert _pool_name_problem("gput4") is None
    assert _pool_name_problem("gpu-t4") is not None
