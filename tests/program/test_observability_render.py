"""`slm-deploy render` writes observability/ for every shipped stack, in the layout
`slm-deploy check` reads, and promtool and amtool accept it."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.render import render_files
from components.spec import Target
from tests.conftest import RunStack, shipped_stacks, spec_for
from tests.observability_support import run, tool, write_files


@pytest.mark.parametrize("stack", shipped_stacks())
def test_rendered_observability_passes_promtool_and_amtool(run_stack: RunStack, stack: str, tmp_path: Path) -> None:
    spec = spec_for(stack)
    files = render_files(run_stack(stack), spec)
    observability = {k: v for k, v in files.items() if k.startswith("observability/")}
    write_files(tmp_path, observability)
    root = tmp_path / "observability"
    prometheus = root / "prometheus"
    # On a cluster the Prometheus operator writes the scrape configuration from the monitors.
    assert (prometheus / "prometheus.yml").is_file() == (spec.target is Target.DOCKER)
    rules = sorted((prometheus / "rules").glob("*.yml"))
    tests = sorted((prometheus / "tests").glob("*.yml"))
    assert rules and [t.name.removesuffix(".test.yml") for t in tests] == [r.stem for r in rules]
    # AKS with managed monitoring routes alerts through an Azure action group, not Alertmanager.
    alertmanager = not (spec.aks is not None and spec.aks.monitoring == "managed")
    assert (root / "alertmanager" / "alertmanager.yml").is_file() == alertmanager
    assert bool(list((root / "grafana" / "dashboards").glob("*.json"))) == spec.observability.grafana
    assert list((root / "runbooks").glob("*.md"))

    promtool, amtool = tool("promtool"), tool("amtool")
    runs: list[tuple[list[str | Path], Path]] = [
        ([promtool, "check", "rules", *rules], prometheus),
        ([promtool, "test", "rules", *(t.name for t in tests)], prometheus / "tests"),
    ]
    if alertmanager:
        runs.append(([amtool, "check-config", "alertmanager.yml"], root / "alertmanager"))
    if spec.target is Target.DOCKER:
        runs.append(([promtool, "check", "config", "--syntax-only", "prometheus.yml"], prometheus))
    for args, cwd in runs:
        result = run(args, cwd=cwd)
        assert result.returncode == 0, f"{args[:3]}: {result.stdout}{result.stderr}"


def test_every_alert_has_its_runbook(run_stack: RunStack) -> None:
    files = render_files(run_stack("local-gpu"), spec_for("local-gpu"))
    alerts = {
        line.split("alert: ", 1)[1]
        for path, text in files.items()
        if path.startswith("observability/prometheus/rules/")
        for line in text.splitlines()
        if "- alert: " in line
    }
    runbooks = {p.rsplit("/", 1)[1].removesuffix(".md") for p in files if p.startswith("observability/runbooks/")}
    assert alerts == runbooks
    text = files["observability/runbooks/VllmKVCacheNearFull.md"]
    assert "vllm:kv_cache_usage_perc" in text and "preempt" in text
