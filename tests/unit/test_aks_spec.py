"""The ``aks`` section: names Azure would refuse, pool and network rules, environment defaults.

Each rule has a refused case (the exact one-line message naming the key) and an accepted one.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.spec import DeploymentSpec
from components.spec.aks_rules import gpu_pool_vm_size
from tests.unit.test_spec_rules import accepted, config, model, problems

GPU_MODEL = {"name": "chat", "engine": "vllm", "preset": "qwen3-0.6b", "gpu": True}
GPU_POOL = {"name": "gpu", "minCount": 0, "maxCount": 2}


def aks(settings: dict[str, Any] | None = None, *, models: list[dict[str, Any]] | None = None, **keys: Any) -> Any:
    return config(models or [model()], target="aks", aks=settings or {}, **keys)


def only_problem(cfg: dict[str, str]) -> str:
    found = problems(cfg)
    assert len(found) == 1, found
    return found[0]


# --- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("kv", "'kv' is not 3 to 24 characters long (Key Vault names)"),
        ("a" * 25, f"'{'a' * 25}' is not 3 to 24 characters long (Key Vault names)"),
        ("1vault", "'1vault' is not a Key Vault name"),
        ("my--vault", "'my--vault' is not a Key Vault name"),
        ("vault-", "'vault-' is not a Key Vault name"),
        ("my_vault", "'my_vault' is not a Key Vault name"),
    ],
)
def test_key_vault_names_azure_refuses_are_refused(name: str, message: str) -> None:
    assert only_problem(aks({"keyVaultName": name})).startswith(f"slm-deploy:aks.keyVaultName: {message}")


@pytest.mark.parametrize("name", ["kv1", "slm-prod-kv", "A" + "b" * 23])
def test_key_vault_names_azure_accepts_are_accepted(name: str) -> None:
    assert accepted(aks({"keyVaultName": name})).aks.key_vault_name == name  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ["slm-acr", "acr1", "a" * 51, "slm_acr"])
def test_registry_names_must_be_alphanumeric(name: str) -> None:
    found = only_problem(aks({"registryName": name}))
    rule = "5 to 50 letters and digits, nothing else"
    assert found == f"slm-deploy:aks.registryName: {name!r} is not a registry name: {rule}"


def test_an_alphanumeric_registry_name_is_accepted() -> None:
    assert accepted(aks({"registryName": "slmProd01"})).aks.registry_name == "slmProd01"  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ["GPU", "gpu-pool", "gpupoolnumber1", "1gpu"])
def test_pool_names_must_be_short_lowercase_alphanumerics(name: str) -> None:
    found = only_problem(aks({"gpuPools": [{**GPU_POOL, "name": name}]}, models=[GPU_MODEL]))
    assert found.startswith(f"slm-deploy:aks.gpuPools[0].name: {name!r} is not a node pool name")


def test_resource_group_and_region_names() -> None:
    assert only_problem(aks({"resourceGroup": "slm."})).startswith("slm-deploy:aks.resourceGroup: 'slm.' is not")
    assert only_problem(aks({"location": "West Europe"})).startswith("slm-deploy:aks.location: ")
    spec = accepted(aks({"resourceGroup": "rg-slm_(prod).1", "location": "swedencentral"}))
    assert spec.aks is not None and spec.aks.resource_group == "rg-slm_(prod).1"


def test_unknown_aks_keys_get_a_hint() -> None:
    assert only_problem(aks({"keyvaultName": "kv1"})) == (
        "slm-deploy:aks.keyvaultName: is not a known key (did you mean 'keyVaultName'?)"
    )


# --- pools -----------------------------------------------------------------------------------


def test_gpu_pool_size_comes_from_the_catalog_sizing() -> None:
    spec = accepted(aks({"gpuPools": [GPU_POOL]}, models=[GPU_MODEL]))
    assert spec.aks is not None
    assert gpu_pool_vm_size(spec, spec.aks.gpu_pools[0]) == "Standard_NC4as_T4_v3"


def test_gpu_pool_size_is_the_largest_any_gpu_model_needs() -> None:
    big = {**GPU_MODEL, "name": "big", "preset": "qwen3-8b", "maxContextTokens": 16384, "concurrency": 4}
    spec = accepted(aks({"gpuPools": [{**GPU_POOL, "maxCount": 4}]}, models=[GPU_MODEL, big]))
    assert spec.aks is not None
    assert gpu_pool_vm_size(spec, spec.aks.gpu_pools[0]) == "Standard_NC24ads_A100_v4"


def test_explicit_pool_and_model_sizes_win() -> None:
    pinned = {**GPU_MODEL, "gpu": {"vmSize": "Standard_NC24ads_A100_v4"}}
    spec = accepted(aks({"gpuPools": [GPU_POOL]}, models=[pinned]))
    assert spec.aks is not None and gpu_pool_vm_size(spec, spec.aks.gpu_pools[0]) == "Standard_NC24ads_A100_v4"
    spec = accepted(aks({"gpuPools": [{**GPU_POOL, "vmSize": "Standard_NC8as_T4_v3"}]}, models=[GPU_MODEL]))
    assert spec.aks is not None and gpu_pool_vm_size(spec, spec.aks.gpu_pools[0]) == "Standard_NC8as_T4_v3"


def test_a_gpu_pool_without_gpu_models_needs_a_size() -> None:
    assert only_problem(aks({"gpuPools": [GPU_POOL]})) == (
        "slm-deploy:aks.gpuPools[0].vmSize: no model of the stack uses a GPU, so the pool's size cannot be "
        "derived; set vmSize"
    )
    assert accepted(aks({"gpuPools": [{**GPU_POOL, "vmSize": "Standard_NC4as_T4_v3"}]})).aks is not None


def test_a_gpu_pool_must_have_a_gpu_size() -> None:
    found = only_problem(aks({"gpuPools": [{**GPU_POOL, "vmSize": "Standard_D4s_v5"}]}, models=[GPU_MODEL]))
    assert found.startswith("slm-deploy:aks.gpuPools[0].vmSize: Standard_D4s_v5 has no GPU")


def test_multi_gpu_models_need_an_explicit_size() -> None:
    two = {**GPU_MODEL, "gpu": {"count": 2}}
    found = only_problem(aks({"gpuPools": [GPU_POOL]}, models=[two]))
    assert found.startswith("slm-deploy:aks.gpuPools[0].vmSize: model chat wants 2 GPUs")
    pinned = {**GPU_MODEL, "gpu": {"count": 2, "vmSize": "Standard_NC64as_T4_v3"}}
    assert accepted(aks({"gpuPools": [GPU_POOL]}, models=[pinned])).aks is not None


def test_gpu_models_need_a_gpu_pool() -> None:
    assert only_problem(aks(models=[GPU_MODEL])) == (
        "slm-deploy:models[0].gpu: target aks needs a GPU pool for this model: add aks.gpuPools"
    )


def test_pool_bounds_and_names() -> None:
    assert only_problem(aks({"gpuPools": [{**GPU_POOL, "minCount": 3}]}, models=[GPU_MODEL])) == (
        "slm-deploy:aks.gpuPools[0].minCount: 3 is above maxCount 2"
    )
    assert only_problem(aks({"gpuPools": [{**GPU_POOL, "name": "system"}]}, models=[GPU_MODEL])) == (
        "slm-deploy:aks.gpuPools[0].name: 'system' is already used by systemPool"
    )


def test_system_pool_rules() -> None:
    system = {"name": "system", "vmSize": "Standard_D4s_v5"}
    assert only_problem(aks({"systemPool": {**system, "spot": True}})) == (
        "slm-deploy:aks.systemPool.spot: a system pool cannot use spot VMs (AKS refuses it)"
    )
    assert only_problem(aks({"systemPool": {**system, "minCount": 0}})) == (
        "slm-deploy:aks.systemPool.minCount: a system pool needs at least 1 node (AKS refuses 0)"
    )
    assert only_problem(aks({"systemPool": {**system, "vmSize": "Standard_NC4as_T4_v3"}})).endswith(
        "is a GPU size; GPUs belong in gpuPools"
    )


def test_prod_needs_two_system_nodes_and_a_warm_gpu_node() -> None:
    pool = {**GPU_POOL, "maxCount": 3}  # prod's 2 replicas and a rollout's surge pod
    cfg = aks(
        {"systemPool": {"name": "system", "minCount": 1}, "gpuPools": [pool]},
        models=[GPU_MODEL],
        environment="prod",
    )
    assert problems(cfg) == [
        "slm-deploy:aks.systemPool.minCount: 1: prod needs at least 2 system nodes",
        "slm-deploy:aks.gpuPools[0].minCount: 0: prod keeps at least 1 GPU node (a cold GPU node takes minutes)",
    ]
    ok = aks(
        {"systemPool": {"name": "system", "minCount": 2}, "gpuPools": [{**pool, "minCount": 1}]},
        models=[GPU_MODEL],
        environment="prod",
    )
    assert accepted(ok).aks is not None


def test_gpu_pools_hold_every_gpu_model_at_its_maximum_and_a_rollouts_surge_pod() -> None:
    scaled = {**GPU_MODEL, "autoscaling": {"minReplicas": 1, "maxReplicas": 4}}
    assert only_problem(aks({"gpuPools": [{**GPU_POOL, "maxCount": 4}]}, models=[scaled])) == (
        "slm-deploy:aks.gpuPools[0].maxCount: 4 GPUs at most, but the GPU models need 5 "
        "(chat: 4 replicas + 1 rolling-update surge pod x 1 GPU): raise it to 5"
    )
    assert accepted(aks({"gpuPools": [{**GPU_POOL, "maxCount": 5}]}, models=[scaled])).aks is not None


def test_gpu_capacity_counts_every_gpu_model_over_every_gpu_pool() -> None:
    other = {**GPU_MODEL, "name": "other"}
    two_pools = [{**GPU_POOL, "maxCount": 2}, {**GPU_POOL, "name": "gpub", "maxCount": 1}]
    assert only_problem(aks({"gpuPools": two_pools}, models=[GPU_MODEL, other])) == (
        "slm-deploy:aks.gpuPools: 3 GPUs at most, but the GPU models need 4 (chat: 1 replica + 1 rolling-update "
        "surge pod x 1 GPU; other: 1 replica + 1 rolling-update surge pod x 1 GPU): raise their maxCount"
    )
    two_pools[1]["maxCount"] = 2
    assert accepted(aks({"gpuPools": two_pools}, models=[GPU_MODEL, other])).aks is not None


def test_gpu_capacity_counts_gpus_per_pod_and_per_node() -> None:
    # 2 replicas + 1 surge pod, 2 GPUs each, on a 4-GPU VM outside the catalog: 6 GPUs, so
    # 3 nodes counting the 2 GPUs a pod is known to fit on.
    pair = {**GPU_MODEL, "replicas": 2, "gpu": {"count": 2, "vmSize": "Standard_NC64as_T4_v3"}}
    assert only_problem(aks({"gpuPools": [GPU_POOL]}, models=[pair])) == (
        "slm-deploy:aks.gpuPools[0].maxCount: 4 GPUs at most, but the GPU models need 6 "
        "(chat: 2 replicas + 1 rolling-update surge pod x 2 GPUs): raise it to 3"
    )
    assert accepted(aks({"gpuPools": [{**GPU_POOL, "maxCount": 3}]}, models=[pair])).aks is not None


def test_a_stateful_set_replaces_pods_in_place_and_needs_no_surge_gpu() -> None:
    scaled = {**GPU_MODEL, "autoscaling": {"minReplicas": 1, "maxReplicas": 2}}
    assert only_problem(aks({"gpuPools": [GPU_POOL]}, models=[scaled])).startswith(
        "slm-deploy:aks.gpuPools[0].maxCount: 2 GPUs at most, but the GPU models need 3"
    )
    per_replica = aks({"gpuPools": [GPU_POOL]}, models=[scaled], kubernetes={"modelCache": "per-replica"})
    assert accepted(per_replica).aks is not None


def test_spot_price_only_with_spot() -> None:
    assert only_problem(aks({"gpuPools": [{**GPU_POOL, "spotMaxPrice": 0.5}]}, models=[GPU_MODEL])) == (
        "slm-deploy:aks.gpuPools[0].spotMaxPrice: only applies with spot: true"
    )
    spec = accepted(aks({"gpuPools": [{**GPU_POOL, "spot": True, "spotMaxPrice": -1}]}, models=[GPU_MODEL]))
    assert spec.aks is not None and spec.aks.gpu_pools[0].spot


# --- network and access ----------------------------------------------------------------------


def test_overlapping_cidrs_are_refused() -> None:
    found = only_problem(aks({"network": {"podCidr": "10.0.0.0/8"}}))
    assert found == "slm-deploy:aks.network.serviceCidr: 10.0.0.0/16 overlaps podCidr 10.0.0.0/8"


@pytest.mark.parametrize(
    ("ip", "message"),
    [
        ("10.1.0.10", "10.1.0.10 is outside serviceCidr 10.0.0.0/16"),
        ("10.0.0.1", "10.0.0.1 is reserved (the network address or the kubernetes service's .1)"),
    ],
)
def test_dns_service_ip_must_be_usable(ip: str, message: str) -> None:
    assert only_problem(aks({"network": {"dnsServiceIp": ip}})) == f"slm-deploy:aks.network.dnsServiceIp: {message}"


def test_malformed_cidrs_are_refused() -> None:
    assert only_problem(aks({"network": {"podCidr": "10.244.0.0/33"}})).startswith("slm-deploy:aks.network.podCidr:")


def test_private_clusters_have_no_authorized_ranges() -> None:
    cfg = aks({"privateCluster": True, "network": {"authorizedIpRanges": ["203.0.113.0/24"]}})
    assert only_problem(cfg) == (
        "slm-deploy:aks.network.authorizedIpRanges: a private cluster has no public API server to restrict"
    )
    assert accepted(aks({"network": {"authorizedIpRanges": ["203.0.113.0/24"]}})).aks is not None


def test_disabling_local_accounts_needs_another_way_in() -> None:
    assert only_problem(aks({"localAccounts": False})) == (
        "slm-deploy:aks.localAccounts: false leaves nobody able to sign in: set azureRbac: true or adminGroupObjectIds"
    )
    assert accepted(aks({"localAccounts": False, "azureRbac": True})).aks is not None


def test_managed_monitoring_refuses_receivers_action_groups_lack() -> None:
    receiver = {"name": "ops", "type": "slack", "urlSecret": "slackUrl"}
    cfg = aks({"monitoring": "managed"}, alerting={"receivers": [receiver]}, secrets={"slackUrl": "https://x"})
    assert only_problem(cfg).startswith("slm-deploy:alerting.receivers[0].type: 'slack': Azure Monitor action groups")
    in_cluster = aks({}, alerting={"receivers": [receiver]}, secrets={"slackUrl": "https://x"})
    assert accepted(in_cluster).aks is not None


def test_managed_monitoring_refuses_queue_depth_autoscaling() -> None:
    scaled = {**GPU_MODEL, "autoscaling": {"minReplicas": 1, "maxReplicas": 2}}
    pools = {"gpuPools": [{**GPU_POOL, "maxCount": 3}]}
    assert only_problem(aks({**pools, "monitoring": "managed"}, models=[scaled])) == (
        "slm-deploy:models[0].autoscaling: queue-depth autoscaling (KEDA) reads an in-cluster Prometheus, which "
        "aks.monitoring: managed does not run; use monitoring: in-cluster, or fixed replicas"
    )
    assert accepted(aks(pools, models=[scaled])).aks is not None  # in-cluster: KEDA reads its Prometheus
    fixed = aks({**pools, "monitoring": "managed"}, models=[{**GPU_MODEL, "replicas": 2}])
    assert accepted(fixed).aks is not None


def test_managed_monitoring_accepts_cpu_autoscaling() -> None:
    """Ollama exports no queue gauge: a HorizontalPodAutoscaler scales it on CPU, no Prometheus involved."""
    cpu_scaled = model(autoscaling={"minReplicas": 1, "maxReplicas": 3})
    assert accepted(aks({"monitoring": "managed"}, models=[cpu_scaled])).aks is not None


# --- environment defaults --------------------------------------------------------------------


def _aks_of(spec: DeploymentSpec) -> Any:
    assert spec.aks is not None
    return spec.aks


def test_prod_defaults_are_strict() -> None:
    settings = _aks_of(accepted(aks({"systemPool": {"name": "system", "minCount": 2}}, environment="prod")))
    assert (settings.local_accounts, settings.azure_rbac, settings.key_vault_purge_protection) == (False, True, True)
    assert (settings.sku_tier, settings.upgrade_channel) == ("Standard", "stable")


def test_staging_defaults_are_relaxed_and_explicit_values_win() -> None:
    settings = _aks_of(accepted(aks(environment="staging")))
    assert (settings.local_accounts, settings.key_vault_purge_protection, settings.sku_tier) == (True, False, "Free")
    settings = _aks_of(accepted(aks({"keyVaultPurgeProtection": True}, environment="staging")))
    assert settings.key_vault_purge_protection is True


def test_target_aks_without_an_aks_section_gets_defaults() -> None:
    spec = accepted(config([model()], target="aks"))
    assert spec.aks is not None and spec.aks.sku_tier == "Free"
