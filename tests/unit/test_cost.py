"""Cost estimates: the shipped price table, and what a change to a stack does to the cost."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.cli import main
from components.cost import (
    LineStatus,
    PriceTableError,
    cost_json,
    cost_text,
    estimate_cost,
    load_price_table,
    parse_price_table,
)
from components.cost.estimate import CostEstimate, CostLine
from components.cost.prices import PriceTable
from components.engines import build_plans
from components.spec import DeploymentSpec, parse_config

TABLE = load_price_table()
T4, A100 = "Standard_NC4as_T4_v3", "Standard_NC24ads_A100_v4"
#: GPU nodes phi needs at most: its 3 replicas and the pod a rolling update adds (a spec rule).
ROOM = 4
AUTOSCALED = {"autoscaling": {"minReplicas": 1, "maxReplicas": 3}}


def aks_spec(
    gpu_pool: dict[str, Any] | None = None,
    environment: str = "prod",
    kubernetes: dict[str, Any] | None = None,
    phi: dict[str, Any] = AUTOSCALED,
    **aks: Any,
) -> DeploymentSpec:
    models = [
        {"name": "phi", "engine": "vllm", "preset": "phi-4-mini-instruct", "gpu": True, **phi},
        {"name": "small", "engine": "ollama", "preset": "qwen3-0.6b", "replicas": 2},
    ]  # fmt: skip
    pools = [gpu_pool] if gpu_pool is not None else []
    config = {
        "slm-deploy:target": "aks",
        "slm-deploy:environment": environment,
        "slm-deploy:models": json.dumps(models),
        "slm-deploy:aks": json.dumps({"gpuPools": pools, **aks}),
    }
    if kubernetes is not None:
        config["slm-deploy:kubernetes"] = json.dumps(kubernetes)
    return parse_config(config)


def estimate(spec: DeploymentSpec, table: PriceTable = TABLE) -> CostEstimate:
    return estimate_cost("test", spec, build_plans(spec), table)


def line(result: CostEstimate, start: str) -> CostLine:
    return next(item for item in result.lines if item.item.startswith(start))


def caches(result: CostEstimate) -> dict[str, CostLine]:
    return {item.item.split("`")[1]: item for item in result.lines if item.category == "storage"}


def with_prices(**prices: str) -> PriceTable:
    """The shipped table with some unknown figures filled in."""
    items = dict(TABLE.items)
    for key, value in prices.items():
        items[key] = items[key].model_copy(update={"price": Decimal(value)})
    return TABLE.model_copy(update={"items": items})


def price(key: str) -> Decimal:
    value = TABLE.items[key].price
    assert value is not None
    return value


def test_every_figure_of_the_shipped_table_names_its_source() -> None:
    assert TABLE.date and TABLE.region and TABLE.currency == "USD"
    for key, item in TABLE.items.items():
        assert item.source.startswith("https://"), key
        if item.price is not None and item.source.startswith("https://prices.azure.com/"):
            assert item.seen, f"{key}: the table was compiled offline: say where the figure was read"


def test_one_more_gpu_node_at_max_scale_costs_exactly_the_tables_figure() -> None:
    before = estimate(aks_spec({"name": "gpu", "vmSize": T4, "minCount": 1, "maxCount": ROOM}))
    after = estimate(aks_spec({"name": "gpu", "vmSize": T4, "minCount": 1, "maxCount": ROOM + 1}))
    assert after.hourly_max - before.hourly_max == price(f"vm/{T4}")
    assert after.monthly_max - before.monthly_max == price(f"vm/{T4}") * TABLE.hours_per_month
    assert after.hourly_min == before.hourly_min


def test_a_bigger_gpu_vm_changes_the_cost_by_the_price_difference_times_the_count() -> None:
    t4 = estimate(aks_spec({"name": "gpu", "vmSize": T4, "minCount": 2, "maxCount": 4}))
    a100 = estimate(aks_spec({"name": "gpu", "vmSize": A100, "minCount": 2, "maxCount": 4}))
    step = price(f"vm/{A100}") - price(f"vm/{T4}")
    assert a100.hourly_min - t4.hourly_min == 2 * step
    assert a100.hourly_max - t4.hourly_max == 4 * step


def test_a_gpu_pool_without_vm_size_uses_the_sizing_recommendation() -> None:
    result = estimate(aks_spec({"name": "gpu", "minCount": 1, "maxCount": ROOM}))
    gpu = next(line for line in result.lines if line.item.startswith("GPU pool"))
    assert T4 in gpu.item  # Phi-4-mini with 4k context fits a T4 by the catalog sizing
    assert gpu.hourly_min == price(f"vm/{T4}")


def test_unknown_prices_show_as_unknown_and_mark_the_total_incomplete() -> None:
    result = estimate(aks_spec({"name": "gpu", "vmSize": "Standard_NV36ads_A10_v5", "minCount": 1, "maxCount": ROOM}))
    gpu = next(line for line in result.lines if line.item.startswith("GPU pool"))
    assert gpu.status is LineStatus.UNKNOWN and gpu.hourly_min is None
    assert not result.complete
    text = cost_text(result)
    assert "Total (incomplete)" in text
    row = next(line for line in text.splitlines() if line.startswith("GPU pool"))
    assert "unknown" in row and " 0.000" not in row


def test_spot_pools_and_vm_sizes_outside_the_table_are_unknown() -> None:
    spot = estimate(aks_spec({"name": "gpu", "vmSize": T4, "spot": True, "maxCount": ROOM}))
    other = estimate(aks_spec({"name": "gpu", "vmSize": "Standard_ND96asr_v4", "maxCount": ROOM}))
    for result in (spot, other):
        gpu = next(line for line in result.lines if line.item.startswith("GPU pool"))
        assert gpu.status is LineStatus.UNKNOWN
        assert not result.complete


def test_the_control_plane_is_priced_at_the_stacks_sku_tier_not_its_environment() -> None:
    # Same system pool everywhere: only the control plane differs.
    system = {"name": "system", "vmSize": "Standard_D4s_v5", "minCount": 2}
    gpu = {"name": "gpu", "vmSize": T4, "maxCount": ROOM}
    prod = estimate(aks_spec(gpu, environment="prod", systemPool=system))  # prod's default tier: Standard
    free_prod = estimate(aks_spec(gpu, environment="prod", systemPool=system, skuTier="Free"))
    standard_dev = estimate(aks_spec(gpu, environment="dev", systemPool=system, skuTier="Standard"))
    assert prod.hourly_min - free_prod.hourly_min == price("aks/standard")
    assert standard_dev.hourly_min == prod.hourly_min
    assert line(free_prod, "AKS control plane").item == "AKS control plane (Free tier)"
    premium = estimate(aks_spec(gpu, environment="dev", systemPool=system, skuTier="Premium"))
    assert line(premium, "AKS control plane").status is LineStatus.UNKNOWN  # no sourced figure: never zero


def test_the_registry_is_priced_at_the_stacks_registry_sku() -> None:
    basic = estimate(
        aks_spec({"name": "gpu", "vmSize": T4, "maxCount": ROOM}, registrySku="Basic", privateCluster=True)
    )
    registry = line(basic, "container registry")
    assert registry.item == "container registry (Basic)"
    assert registry.hourly_min == price("acr/Basic") / 24
    standard = estimate(aks_spec({"name": "gpu", "vmSize": T4, "maxCount": ROOM}))  # the default SKU
    assert line(standard, "container registry").item == "container registry (Standard)"
    assert line(standard, "container registry").status is LineStatus.UNKNOWN


def test_egress_is_a_load_balancer_or_a_nat_gateway_by_outbound_type() -> None:
    default = estimate(aks_spec({"name": "gpu", "vmSize": T4, "maxCount": ROOM}))
    nat = estimate(
        aks_spec({"name": "gpu", "vmSize": T4, "maxCount": ROOM}, network={"outboundType": "managedNATGateway"})
    )
    assert line(default, "Standard Load Balancer").price_key == "network/load-balancer-standard"
    assert not any(item.item.startswith("Standard Load Balancer") for item in nat.lines)
    assert line(nat, "NAT gateway").price_key == "network/nat-gateway"


def test_a_shared_cache_is_one_premium_file_share_per_model_at_its_provisioned_size() -> None:
    result = estimate(
        aks_spec({"name": "gpu", "vmSize": T4, "maxCount": ROOM})
    )  # kubernetes.modelCache: shared (default)
    phi = caches(result)["phi"]
    assert (phi.count_min, phi.count_max) == (1, 1)  # whatever the replicas: one ReadWriteMany volume
    assert "Azure Files Premium_LRS share of 100 GiB" in phi.item  # 10 GiB asked, 100 GiB provisioned
    assert phi.price_key == "files/Premium_LRS" and phi.status is LineStatus.UNKNOWN
    priced = estimate(
        aks_spec({"name": "gpu", "vmSize": T4, "maxCount": ROOM}), with_prices(**{"files/Premium_LRS": "0.16"})
    )
    assert caches(priced)["phi"].monthly_max == Decimal("0.16") * 100


def test_a_per_replica_cache_is_a_premium_disk_per_replica_priced_by_its_tier() -> None:
    spec = aks_spec({"name": "gpu", "vmSize": T4, "maxCount": ROOM}, kubernetes={"modelCache": "per-replica"})
    result = estimate(spec)
    phi, small = caches(result)["phi"], caches(result)["small"]
    # one ReadWriteOnce disk per replica; the StatefulSet keeps those of scaled-in replicas
    assert (phi.count_min, phi.count_max) == (3, 3)
    assert (small.count_min, small.count_max) == (2, 2)
    assert phi.price_key == "disk/Premium_LRS/P3" and "Premium_LRS P3 disk" in phi.item  # 10 GiB fits P3 (16 GiB)
    assert small.price_key == "disk/Premium_LRS/P1"  # 2 GiB fits P1 (4 GiB)
    priced = estimate(spec, with_prices(**{"disk/Premium_LRS/P3": "2.50"}))
    assert caches(priced)["phi"].monthly_max == Decimal("2.50") * 3
    assert caches(priced)["small"].status is LineStatus.UNKNOWN  # P1 still has no figure: not zero
    assert not priced.complete


def test_the_stacks_own_storage_class_decides_what_backs_the_cache() -> None:
    ssd = estimate(
        aks_spec({"name": "gpu", "vmSize": T4, "maxCount": ROOM}, kubernetes={"storageClass": "managed-csi"})
    )
    assert caches(ssd)["phi"].price_key == "disk/StandardSSD_LRS/E3"
    assert (caches(ssd)["phi"].count_min, caches(ssd)["phi"].count_max) == (1, 1)  # still shared
    other = estimate(aks_spec({"name": "gpu", "vmSize": T4, "maxCount": ROOM}, kubernetes={"storageClass": "fast-nfs"}))
    assert caches(other)["phi"].status is LineStatus.UNKNOWN and "fast-nfs" in caches(other)["phi"].item


def test_cost_reads_the_aks_targets_own_kubernetes_settings() -> None:
    """One function decides the AKS target's storage class and model cache; cost imports it."""
    from components.spec import aks_kubernetes
    from components.targets import aks

    assert aks.__dict__["kubernetes_settings_for_aks"] is aks_kubernetes.kubernetes_settings_for_aks


def test_managed_monitoring_adds_usage_based_lines_outside_the_totals() -> None:
    # Fixed replicas: queue-depth autoscaling needs an in-cluster Prometheus (a spec rule).
    pool, fixed = {"name": "gpu", "vmSize": T4, "maxCount": ROOM}, {"replicas": 3}
    managed = estimate(aks_spec(pool, phi=fixed, monitoring="managed"))
    usage = [line for line in managed.lines if line.status is LineStatus.USAGE]
    assert {line.item for line in usage} >= {"Managed Prometheus ingestion", "Log Analytics ingestion"}
    in_cluster = estimate(aks_spec(pool, phi=fixed))
    assert managed.hourly_max == in_cluster.hourly_max


def test_docker_and_kubernetes_targets_do_not_price_compute() -> None:
    docker = parse_config(
        {"slm-deploy:target": "docker", "slm-deploy:environment": "dev",
         "slm-deploy:models": json.dumps([{"name": "m", "engine": "ollama", "preset": "qwen3-0.6b"}])}
    )  # fmt: skip
    result = estimate(docker)
    assert [line.status for line in result.lines] == [LineStatus.NOT_PRICED]
    assert not result.priced and "Total" not in cost_text(result)

    models = json.dumps([{"name": "m", "engine": "ollama", "preset": "qwen3-0.6b"}])
    k8s = parse_config(
        {"slm-deploy:target": "kubernetes", "slm-deploy:environment": "staging", "slm-deploy:models": models}
    )
    result = estimate(k8s)
    assert result.lines[0].status is LineStatus.NOT_PRICED
    assert any(line.category == "storage" and line.status is LineStatus.UNKNOWN for line in result.lines)
    assert not result.complete


def test_a_malformed_price_table_is_one_line() -> None:
    with pytest.raises(PriceTableError, match=r"^t: items\.vm/x\.unit: "):
        parse_price_table(
            {"date": "d", "region": "r", "currency": "USD", "hoursPerMonth": 730,
             "items": {"vm/x": {"price": "1", "unit": "fortnight", "source": "https://x"}}},
            "t",
        )  # fmt: skip


def test_the_diff_shows_the_cost_change_of_a_bigger_gpu_pool(tmp_path: Path) -> None:
    from components.delivery.diff import diff_renders
    from components.delivery.diff_report import diff_markdown
    from components.delivery.renders import load_render

    for name, max_count in (("base", ROOM), ("head", ROOM + 1)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "plan.json").write_text(json.dumps({"stack": "prod", "resources": [], "outputs": {}}))
        spec = aks_spec({"name": "gpu", "vmSize": T4, "minCount": 1, "maxCount": max_count})
        (folder / "cost.json").write_text(cost_json(estimate(spec)))
    diff = diff_renders(load_render(tmp_path / "base"), load_render(tmp_path / "head"))
    assert diff.cost is not None
    assert diff.cost.delta("monthlyMax") == (price(f"vm/{T4}") * TABLE.hours_per_month).quantize(Decimal("0.01"))
    assert diff.cost.delta("monthlyMin") == 0
    assert diff.status == "changed"
    assert "(incomplete)" in diff_markdown([diff])


def test_cost_command_prints_the_table_for_a_stack_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "Pulumi.yaml").write_text("name: slm-deploy\nstackConfigDir: stacks\n")
    (tmp_path / "__main__.py").write_text("")
    stack = {
        "config": {
            "slm-deploy:target": "aks",
            "slm-deploy:environment": "staging",
            "slm-deploy:models": [{"name": "small", "engine": "ollama", "preset": "qwen3-0.6b"}],
            "slm-deploy:aks": {"gpuPools": [{"name": "gpu", "vmSize": T4, "minCount": 0, "maxCount": 2}]},
        }
    }
    (tmp_path / "stacks" / "Pulumi.staging.yaml").write_text(yaml.safe_dump(stack))
    monkeypatch.chdir(tmp_path)
    assert main(["cost", "staging"]) == 0
    out = capsys.readouterr().out
    gpu_row = next(line for line in out.splitlines() if line.startswith("GPU pool"))
    assert "0.000 / 1.052" in gpu_row  # 0 to 2 nodes at 0.526 per hour
    assert main(["cost", "nope"]) == 2
