"""The price table (prices.yaml): dated, one region and currency, a source for every figure.

A figure nobody could source is ``price: null``; estimates show it as unknown, never as zero.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

PRICES_FILE = Path(__file__).with_name("prices.yaml")

Unit = Literal["hour", "day", "month", "GiB-month", "10k operations", "10M samples", "GB"]
#: Hours one unit of time-based billing covers (``month`` uses the table's hoursPerMonth).
UNIT_HOURS: dict[str, Decimal] = {"hour": Decimal(1), "day": Decimal(24)}
#: Units billed per month (per GiB for ``GiB-month``: the estimate multiplies by the size).
MONTHLY_UNITS = ("month", "GiB-month")


class PriceTableError(Exception):
    """The price table is missing or malformed; the message is one line."""


class PriceItem(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)

    price: Decimal | None
    """Price per ``unit``; None when no source gave one."""
    unit: Unit
    source: str = Field(min_length=1)
    seen: str | None = None
    note: str | None = None
    usage: bool = False
    """Billed by usage the stack file cannot predict: shown with its unit price, not in totals."""


class PriceTable(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)

    date: str
    region: str
    currency: str
    hours_per_month: int = Field(gt=0)
    disk_tiers: dict[str, dict[str, int]] = Field(default_factory=dict)
    """Managed disk type -> its tiers (name -> size in GiB); a disk is billed at the smallest
    tier that holds it, each tier priced as ``disk/<type>/<tier>``."""
    items: dict[str, PriceItem]

    def item(self, key: str) -> PriceItem | None:
        return self.items.get(key)

    def hours(self, unit: str) -> Decimal | None:
        """Hours one billing unit covers, or None for usage units."""
        if unit in MONTHLY_UNITS:
            return Decimal(self.hours_per_month)
        return UNIT_HOURS.get(unit)

    def disk_tier(self, disk_type: str, size_gib: int) -> str | None:
        """The smallest tier of ``disk_type`` holding ``size_gib``; None when none does."""
        fitting = [(size, name) for name, size in self.disk_tiers.get(disk_type, {}).items() if size >= size_gib]
        return min(fitting)[1] if fitting else None


def parse_price_table(document: object, origin: str = "price table") -> PriceTable:
    try:
        return PriceTable.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PriceTableError(f"{origin}: {where}: {first['msg']}") from None


@cache
def load_price_table(path: Path = PRICES_FILE) -> PriceTable:
    """The table shipped in the repository (or another file with the same shape)."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PriceTableError(f"{path}: cannot be read: {exc}") from None
    return parse_price_table(document, str(path))
