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
from components.cost.estimate import CostEstimate
from components.engines import build_plans
from components.spec import DeploymentSpec, parse_config

TABLE = load_price_table()
T4, A100 = "Standard_NC4as_T4_v3", "Standard_NC24ads_A100_v4"
#: GPU nodes phi needs at most: its 3 replicas and the pod a rolling update adds (a spec rule).
ROOM = 4
AUTOSCALED = {"autoscaling": {"minReplicas": 1, "maxReplicas": 3}}


def aks_spec(
    gpu_pool: dict[str, Any] | None = None, environment: str = "prod", phi: dict[str, Any] = AUTOSCALED, **aks: Any
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
    return parse_config(config)


def estimate(spec: DeploymentSpec) -> CostEstimate:
    return estimate_cost("test", spec, build_plans(spec), TABLE)


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


def test_prod_pays_for_the_standard_control_plane_and_dev_does_not() -> None:
    # Same system pool in both (prod's default has two nodes): only the control plane differs.
    system = {"name": "system", "vmSize": "Standard_D4s_v5", "minCount": 2}
    prod = estimate(aks_spec({"name": "gpu", "vmSize": T4, "maxCount": ROOM}, environment="prod", systemPool=system))
    dev = estimate(aks_spec({"name": "gpu", "vmSize": T4, "maxCount": ROOM}, environment="dev", systemPool=system))
    assert prod.hourly_min - dev.hourly_min == price("aks/standard")


def test_cache_disks_follow_replicas_and_storage_class() -> None:
    result = estimate(aks_spec({"name": "gpu", "vmSize": T4, "maxCount": ROOM}))
    caches = {line.item.split("`")[1]: line for line in result.lines if line.category == "storage"}
    assert (caches["phi"].count_min, caches["phi"].count_max) == (1, 3)
    assert (caches["small"].count_min, caches["small"].count_max) == (2, 2)
    assert "StandardSSD_LRS" in caches["phi"].item


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
