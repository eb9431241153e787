"""What a stack costs per hour and per month, at its minimum and at its maximum scale.

Reads the spec (node pools, replicas, managed services) and the serving plans (cache sizes),
prices every line from :mod:`components.cost.prices`, and keeps four kinds of lines apart:
priced, unknown (no sourced figure: the totals are then marked incomplete), usage-based (a
unit price, not in the totals) and not priced (own hardware or an existing cluster).

On ``aks`` it prices what the program creates, from the same settings the AKS target reads:

* the control plane at ``aks.skuTier`` and the registry at ``aks.registrySku``;
* egress: a Standard Load Balancer, or a NAT gateway (``aks.network.outboundType``);
* the model caches as the Kubernetes target creates them on the storage class the AKS target
  picks (:func:`components.spec.aks_kubernetes.kubernetes_settings_for_aks`): with
  ``kubernetes.modelCache: shared`` one ReadWriteMany volume per model (an Azure Files share
  on ``azurefile-csi-premium``), with ``per-replica`` one ReadWriteOnce volume per replica (a
  managed disk on ``managed-csi-premium``), kept when the StatefulSet scales in;
* a GPU pool without ``vmSize`` runs the largest VM the stack's GPU models need (their
  ``gpu.vmSize``, else the catalog sizing's recommendation).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from components.catalog.sizing import GIB, GPU_CLASSES
from components.cost.prices import PriceTable, load_price_table
from components.plan import ServingPlan
from components.spec import DeploymentSpec, ModelSpec, Target, resolve_artifact, size_model
from components.spec.aks_kubernetes import kubernetes_settings_for_aks
from components.spec.models import GpuRequest, KubernetesSettings, NodePool
from components.spec.scaling import max_replicas


@dataclass(frozen=True)
class CacheVolume:
    """What a PersistentVolumeClaim on a storage class becomes on Azure."""

    kind: Literal["disk", "files"]
    sku: str


#: AKS built-in storage classes and what backs them.
#: https://learn.microsoft.com/azure/aks/concepts-storage#storage-classes
STORAGE_CLASSES: dict[str, CacheVolume] = {
    "default": CacheVolume("disk", "StandardSSD_LRS"),
    "managed-csi": CacheVolume("disk", "StandardSSD_LRS"),
    "managed": CacheVolume("disk", "StandardSSD_LRS"),
    "managed-csi-premium": CacheVolume("disk", "Premium_LRS"),
    "managed-premium": CacheVolume("disk", "Premium_LRS"),
    "azurefile-csi": CacheVolume("files", "Standard_LRS"),
    "azurefile": CacheVolume("files", "Standard_LRS"),
    "azurefile-csi-premium": CacheVolume("files", "Premium_LRS"),
    "azurefile-premium": CacheVolume("files", "Premium_LRS"),
}
#: Premium file shares are provisioned at 100 GiB at least; the Azure Files CSI driver rounds
#: smaller claims up (https://learn.microsoft.com/azure/aks/azure-files-csi).
PREMIUM_SHARE_MIN_GIB = 100


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
    table: PriceTable,
    category: str,
    item: str,
    key: str,
    counts: tuple[int, int],
    *,
    note: str | None = None,
    quantity: int = 1,
) -> CostLine:
    """A line priced from ``table[key]``: unknown when the table has no figure. ``quantity``
    multiplies the table's unit price (GiB of a share priced per GiB-month)."""
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
    unit_price = None if entry.price is None else entry.price * quantity
    unit = entry.unit if quantity == 1 else f"{entry.unit} x {quantity}"
    if entry.usage or hours is None:  # never in the totals, whether its unit price is known or not
        return CostLine(
            category,
            item,
            LineStatus.USAGE,
            count_min,
            count_max,
            unit_price=unit_price,
            unit=unit,
            price_key=key,
            source=entry.source,
            note=notes,
        )
    if unit_price is None:
        return CostLine(
            category,
            item,
            LineStatus.UNKNOWN,
            count_min,
            count_max,
            unit=unit,
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
        unit_price=unit_price,
        hourly_unit=unit_price / hours,
        monthly_unit=unit_price * Decimal(table.hours_per_month) / hours,
        unit=unit,
        price_key=key,
        source=entry.source,
        note=notes,
    )


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


def cache_volumes(model: ModelSpec, settings: KubernetesSettings) -> tuple[int, int, str]:
    """How many cache volumes a model has at minimum and at maximum scale, and why: the
    Kubernetes target's shared cache is one volume per model; a per-replica cache is one per
    replica, and the StatefulSet keeps those of scaled-in replicas (whenScaled: Retain), so
    once scaled out the maximum stays."""
    if settings.model_cache == "shared":
        return 1, 1, "one volume shared by every replica"
    high = max_replicas(model)
    return high, high, "one volume per replica, kept when replicas scale in"


def _cache_line(
    table: PriceTable, plan: ServingPlan, model: ModelSpec, settings: KubernetesSettings, storage_class: str
) -> CostLine:
    low, high, how = cache_volumes(model, settings)
    size_gib = max(1, math.ceil(plan.cache_size_bytes / GIB))
    item = f"model cache `{plan.model}` ({size_gib} GiB, {settings.model_cache}"
    volume = STORAGE_CLASSES.get(storage_class)
    if volume is None:
        return CostLine(
            "storage",
            f"{item}, storage class {storage_class})",
            LineStatus.UNKNOWN,
            low,
            high,
            note=f"{how}; storage class {storage_class!r}: what backs it and its price are not known",
        )
    if volume.kind == "files":
        provisioned = max(size_gib, PREMIUM_SHARE_MIN_GIB) if volume.sku.startswith("Premium") else size_gib
        note = how
        if provisioned != size_gib:
            note += f"; a premium share is provisioned at {PREMIUM_SHARE_MIN_GIB} GiB at least"
        item = f"{item}, Azure Files {volume.sku} share of {provisioned} GiB)"
        return _line(table, "storage", item, f"files/{volume.sku}", (low, high), note=note, quantity=provisioned)
    tier = table.disk_tier(volume.sku, size_gib)
    if tier is None:
        return CostLine(
            "storage",
            f"{item}, {volume.sku} disk)",
            LineStatus.UNKNOWN,
            low,
            high,
            note=f"{how}; {size_gib} GiB is larger than every {volume.sku} tier in the price table",
        )
    return _line(
        table, "storage", f"{item}, {volume.sku} {tier} disk)", f"disk/{volume.sku}/{tier}", (low, high), note=how
    )


def _aks_lines(table: PriceTable, spec: DeploymentSpec, plans: Sequence[ServingPlan]) -> list[CostLine]:
    assert spec.aks is not None  # the spec gives every aks stack its aks section
    aks = spec.aks
    tier = aks.sku_tier
    lines = [_line(table, "platform", f"AKS control plane ({tier} tier)", f"aks/{tier.lower()}", (1, 1))]
    lines.append(_pool_line(table, aks.system_pool, "system", aks.system_pool.vm_size))
    lines.append(_pool_line(table, aks.user_pool, "user", aks.user_pool.vm_size))
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
    if aks.network.outbound_type == "managedNATGateway":
        lines.append(_line(table, "platform", "NAT gateway (AKS egress)", "network/nat-gateway", (1, 1)))
    else:
        lines.append(
            _line(table, "platform", "Standard Load Balancer (AKS egress)", "network/load-balancer-standard", (1, 1))
        )
    sku = aks.registry_sku
    lines.append(_line(table, "registry", f"container registry ({sku})", f"acr/{sku}", (1, 1)))
    lines.append(_line(table, "secrets", "Key Vault operations", "keyvault/operations", (1, 1)))
    if spec.managed_monitoring:
        lines.append(_line(table, "monitoring", "Managed Prometheus ingestion", "monitor/prometheus-ingestion", (1, 1)))
        lines.append(_line(table, "monitoring", "Log Analytics ingestion", "monitor/log-analytics-ingestion", (1, 1)))
        if spec.observability.grafana:
            lines.append(_line(table, "monitoring", "Managed Grafana (Standard)", "grafana/standard-instance", (1, 1)))
    settings = kubernetes_settings_for_aks(spec)
    storage_class = settings.storage_class or ""
    for plan in sorted(plans, key=lambda p: p.model):
        lines.append(_cache_line(table, plan, spec.model(plan.model), settings, storage_class))
    return lines


def _kubernetes_cache_lines(spec: DeploymentSpec, plans: Sequence[ServingPlan]) -> list[CostLine]:
    """An existing cluster: the volumes are counted, their price depends on its provider."""
    settings = spec.kubernetes or KubernetesSettings()
    storage_class = settings.storage_class or "(cluster default)"
    lines = []
    for plan in sorted(plans, key=lambda p: p.model):
        low, high, how = cache_volumes(spec.model(plan.model), settings)
        size_gib = max(1, math.ceil(plan.cache_size_bytes / GIB))
        lines.append(
            CostLine(
                "storage",
                f"model cache `{plan.model}` ({size_gib} GiB, {settings.model_cache}, storage class {storage_class})",
                LineStatus.UNKNOWN,
                low,
                high,
                note=f"{how}; the price depends on the cluster's provider and storage class",
            )
        )
    return lines


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
        lines += _kubernetes_cache_lines(spec, plans)
        notes.append("The kubernetes target uses an existing cluster: its nodes are not priced here.")
    else:
        lines = _aks_lines(table, spec, plans)
        location = spec.aks.location if spec.aks else None
        if location and location != table.region:
            notes.append(f"Prices are {table.region} list prices; this stack runs in {location}, where they differ.")
    return CostEstimate(stack, spec.target.value, table.currency, table.region, table.date, lines, notes)
