"""What a stack costs per hour and per month, at its minimum and at its maximum scale.

Reads the spec (node pools, replicas, managed services) and the serving plans (cache sizes),
prices every line from :mod:`components.cost.prices`, and keeps four kinds of lines apart:
priced, unknown (no sourced figure: the totals are then marked incomplete), usage-based (a
unit price, not in the totals) and not priced (own hardware or an existing cluster).

Assumptions until the AKS target lands (keep them in step with it):

* control plane tier: Standard (uptime SLA) for ``prod``, Free otherwise (``AKS_TIER``);
* one container registry, Basic, or Premium for a private cluster (private endpoints);
* one Standard Load Balancer (AKS egress);
* one model cache disk per replica, on the storage class ``kubernetes.storageClass``
  (``managed-csi``, Standard SSD, by default);
* a GPU pool without ``vmSize`` runs the largest VM the stack's GPU models need (their
  ``gpu.vmSize``, else the catalog sizing's recommendation).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from components.catalog.sizing import GIB, GPU_CLASSES
from components.cost.prices import PriceTable, load_price_table
from components.plan import ServingPlan
from components.spec import DeploymentSpec, Environment, ModelSpec, Target, resolve_artifact, size_model
from components.spec.models import AksSettings, GpuRequest, NodePool

AKS_TIER: dict[Environment, str] = {Environment.PROD: "standard"}
DEFAULT_AKS_TIER = "free"
#: AKS built-in storage classes and the disk type behind each.
STORAGE_CLASS_DISKS = {
    "default": "StandardSSD_LRS",
    "managed-csi": "StandardSSD_LRS",
    "managed": "StandardSSD_LRS",
    "managed-csi-premium": "Premium_LRS",
    "managed-premium": "Premium_LRS",
}
DEFAULT_STORAGE_CLASS = "managed-csi"


class LineStatus(StrEnum):
    PRICED = "priced"
    UNKNOWN = "unknown"
    USAGE = "usage-based"
    NOT_PRICED = "not priced"


@dataclass(frozen=True)
class CostLine:
    """One thing that costs money, with its count at minimum and at maximum scale."""

    category: str
    item: str
    status: LineStatus
    count_min: int
    count_max: int
    unit_price: Decimal | None = None
    unit: str | None = None
    price_key: str | None = None
    source: str | None = None
    note: str | None = None
    hourly_unit: Decimal | None = None
    monthly_unit: Decimal | None = None

    @property
    def hourly_min(self) -> Decimal | None:
        return None if self.hourly_unit is None else self.hourly_unit * self.count_min

    @property
    def hourly_max(self) -> Decimal | None:
        return None if self.hourly_unit is None else self.hourly_unit * self.count_max

    @property
    def monthly_min(self) -> Decimal | None:
        return None if self.monthly_unit is None else self.monthly_unit * self.count_min

    @property
    def monthly_max(self) -> Decimal | None:
        return None if self.monthly_unit is None else self.monthly_unit * self.count_max


@dataclass(frozen=True)
class CostEstimate:
    stack: str
    target: str
    currency: str
    region: str
    table_date: str
    lines: list[CostLine]
    notes: list[str] = field(default_factory=list)

    def _total(self, attribute: str) -> Decimal:
        values = [getattr(line, attribute) for line in self.lines if line.status is LineStatus.PRICED]
        return sum(values, Decimal(0))

    @property
    def hourly_min(self) -> Decimal:
        return self._total("hourly_min")

    @property
    def hourly_max(self) -> Decimal:
        return self._total("hourly_max")

    @property
    def monthly_min(self) -> Decimal:
        return self._total("monthly_min")

    @property
    def monthly_max(self) -> Decimal:
        return self._total("monthly_max")

    @property
    def complete(self) -> bool:
        """False when any line has no sourced price: the totals leave it out."""
        return not any(line.status is LineStatus.UNKNOWN for line in self.lines)

    @property
    def priced(self) -> bool:
        """True when at least one line is priced (docker stacks price nothing)."""
        return any(line.status is LineStatus.PRICED for line in self.lines)


def _line(
    table: PriceTable, category: str, item: str, key: str, counts: tuple[int, int], *, note: str | None = None
) -> CostLine:
    """A line priced from ``table[key]``: unknown when the table has no figure."""
    count_min, count_max = counts
    entry = table.item(key)
    if entry is None:
        return CostLine(
            category,
            item,
            LineStatus.UNKNOWN,
            count_min,
            count_max,
            price_key=key,
            note=f"no entry {key!r} in the price table" + (f"; {note}" if note else ""),
        )
    notes = "; ".join(n for n in (note, entry.note) if n) or None
    hours = table.hours(entry.unit)
    if entry.usage or hours is None:  # never in the totals, whether its unit price is known or not
        return CostLine(
            category,
            item,
            LineStatus.USAGE,
            count_min,
            count_max,
            unit_price=entry.price,
            unit=entry.unit,
            price_key=key,
            source=entry.source,
            note=notes,
        )
    if entry.price is None:
        return CostLine(
            category,
            item,
            LineStatus.UNKNOWN,
            count_min,
            count_max,
            unit=entry.unit,
            price_key=key,
            source=entry.source,
            note=notes,
        )
    return CostLine(
        category,
        item,
        LineStatus.PRICED,
        count_min,
        count_max,
        unit_price=entry.price,
        hourly_unit=entry.price / hours,
        monthly_unit=entry.price * Decimal(table.hours_per_month) / hours,
        unit=entry.unit,
        price_key=key,
        source=entry.source,
        note=notes,
    )


def replica_range(model: ModelSpec) -> tuple[int, int]:
    """Replicas at minimum and at maximum scale."""
    if model.autoscaling is not None:
        return model.autoscaling.min_replicas, model.autoscaling.max_replicas
    replicas = model.replicas if model.replicas is not None else 1
    return replicas, replicas


def _gpu_rank(vm_size: str) -> int:
    """Position in the sizing table; sizes outside it (explicit choices) rank above all."""
    names = [gpu.vm_size for gpu in GPU_CLASSES]
    return names.index(vm_size) if vm_size in names else len(names)


def gpu_vm_for_models(spec: DeploymentSpec) -> str | None:
    """The VM a GPU pool without ``vmSize`` needs: the largest any GPU model of the stack asks for."""
    wanted: set[str] = set()
    for model in spec.models:
        sizing = size_model(model, resolve_artifact(model))
        if not sizing.use_gpu:
            continue
        if isinstance(model.gpu, GpuRequest) and model.gpu.vm_size:
            wanted.add(model.gpu.vm_size)
        elif sizing.gpu_class is not None:
            wanted.add(sizing.gpu_class.vm_size)
    return max(sorted(wanted), key=_gpu_rank) if wanted else None


def _pool_line(table: PriceTable, pool: NodePool, role: str, vm_size: str | None) -> CostLine:
    if vm_size is None:
        return CostLine(
            "compute",
            f"{role} pool `{pool.name}`",
            LineStatus.UNKNOWN,
            pool.min_count,
            pool.max_count,
            note="no vmSize and no GPU model to size it from",
        )
    item = f"{role} pool `{pool.name}` ({vm_size}{', spot' if pool.spot else ''})"
    if pool.spot:
        return CostLine(
            "compute",
            item,
            LineStatus.UNKNOWN,
            pool.min_count,
            pool.max_count,
            note="spot prices vary and are not in the price table",
        )
    return _line(table, "compute", item, f"vm/{vm_size}", (pool.min_count, pool.max_count))


def _disk_tier(tiers: dict[str, int], size_gib: int) -> str | None:
    fitting = [(size, name) for name, size in tiers.items() if size >= size_gib]
    return min(fitting)[1] if fitting else None


def _cache_lines(
    table: PriceTable, spec: DeploymentSpec, plans: Sequence[ServingPlan], storage_class: str
) -> list[CostLine]:
    disk = STORAGE_CLASS_DISKS.get(storage_class)
    lines = []
    for plan in sorted(plans, key=lambda p: p.model):
        low, high = replica_range(spec.model(plan.model))
        size_gib = max(1, math.ceil(plan.cache_size_bytes / GIB))
        item = f"model cache `{plan.model}` ({size_gib} GiB per replica"
        if disk is None:
            lines.append(
                CostLine(
                    "storage",
                    f"{item}, storage class {storage_class})",
                    LineStatus.UNKNOWN,
                    low,
                    high,
                    note="unknown storage class: its disk type and price are not known",
                )
            )
            continue
        entry = table.item(f"disk/{disk}")
        tier = _disk_tier(entry.tiers, size_gib) if entry else None
        lines.append(_line(table, "storage", f"{item}, {disk} {tier or '?'})", f"disk/{disk}", (low, high)))
    return lines


def _aks_lines(table: PriceTable, spec: DeploymentSpec, plans: Sequence[ServingPlan]) -> list[CostLine]:
    aks = spec.aks or AksSettings()
    tier = AKS_TIER.get(spec.environment, DEFAULT_AKS_TIER)
    lines = [_line(table, "platform", f"AKS control plane ({tier} tier)", f"aks/{tier}", (1, 1))]
    lines.append(_pool_line(table, aks.system_pool, "system", aks.system_pool.vm_size))
    default_gpu_vm = gpu_vm_for_models(spec)
    for pool in aks.gpu_pools:
        lines.append(_pool_line(table, pool, "GPU", pool.vm_size or default_gpu_vm))
    if default_gpu_vm and not aks.gpu_pools:
        lines.append(
            CostLine(
                "compute",
                "GPU nodes",
                LineStatus.UNKNOWN,
                0,
                0,
                note=f"GPU models need {default_gpu_vm} but aks.gpuPools is empty",
            )
        )
    lines.append(_line(table, "platform", "Standard Load Balancer", "network/load-balancer-standard", (1, 1)))
    registry = "Premium" if aks.private_cluster else "Basic"
    lines.append(_line(table, "registry", f"container registry ({registry})", f"acr/{registry}", (1, 1)))
    lines.append(_line(table, "secrets", "Key Vault operations", "keyvault/operations", (1, 1)))
    if spec.observability.enabled and aks.monitoring == "managed":
        lines.append(_line(table, "monitoring", "Managed Prometheus ingestion", "monitor/prometheus-ingestion", (1, 1)))
        lines.append(_line(table, "monitoring", "Log Analytics ingestion", "monitor/log-analytics-ingestion", (1, 1)))
        if spec.observability.grafana:
            lines.append(_line(table, "monitoring", "Managed Grafana (Standard)", "grafana/standard-instance", (1, 1)))
    storage_class = (spec.kubernetes.storage_class if spec.kubernetes else None) or DEFAULT_STORAGE_CLASS
    return lines + _cache_lines(table, spec, plans, storage_class)


def estimate_cost(
    stack: str, spec: DeploymentSpec, plans: Sequence[ServingPlan], table: PriceTable | None = None
) -> CostEstimate:
    """The estimate of one stack; ``table`` defaults to the repository's prices.yaml."""
    table = table or load_price_table()
    notes: list[str] = []
    if spec.target is Target.DOCKER:
        lines = [
            CostLine(
                "compute", "containers on the local Docker engine", LineStatus.NOT_PRICED, 1, 1, note="own hardware"
            )
        ]
        notes.append("The docker target runs on your own machine: nothing here is billed by a cloud.")
    elif spec.target is Target.KUBERNETES:
        lines = [
            CostLine("compute", "nodes of the existing cluster", LineStatus.NOT_PRICED, 1, 1, note="existing cluster")
        ]
        storage_class = (spec.kubernetes.storage_class if spec.kubernetes else None) or "(cluster default)"
        lines += [
            CostLine(
                "storage",
                line.item,
                LineStatus.UNKNOWN,
                line.count_min,
                line.count_max,
                note="the price depends on the cluster's provider and storage class",
            )
            for line in _cache_lines(table, spec, plans, storage_class)
        ]
        notes.append("The kubernetes target uses an existing cluster: its nodes are not priced here.")
    else:
        lines = _aks_lines(table, spec, plans)
        location = spec.aks.location if spec.aks else None
        if location and location != table.region:
            notes.append(f"Prices are {table.region} list prices; this stack runs in {location}, where they differ.")
    return CostEstimate(stack, spec.target.value, table.currency, table.region, table.date, lines, notes)
