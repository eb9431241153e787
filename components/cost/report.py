"""A cost estimate as a terminal table, a Markdown section and JSON (for ``cost.json`` and diffs)."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from components.cost.estimate import CostEstimate, CostLine, LineStatus

HOURLY = Decimal("0.001")
MONTHLY = Decimal("0.01")
HEADER = ["Item", "Count (min-max)", "Unit price", "Per hour (min / max)", "Per month (min / max)"]


def money(value: Decimal | None, step: Decimal) -> str:
    return "unknown" if value is None else str(value.quantize(step, rounding=ROUND_HALF_UP))


def _counts(line: CostLine) -> str:
    return str(line.count_min) if line.count_min == line.count_max else f"{line.count_min}-{line.count_max}"


def _unit_price(line: CostLine) -> str:
    if line.status is LineStatus.NOT_PRICED:
        return "not priced"
    if line.unit_price is None:
        return "unknown"
    return f"{line.unit_price} / {line.unit}"


def _amounts(line: CostLine) -> tuple[str, str]:
    if line.status is LineStatus.PRICED:
        return (
            f"{money(line.hourly_min, HOURLY)} / {money(line.hourly_max, HOURLY)}",
            f"{money(line.monthly_min, MONTHLY)} / {money(line.monthly_max, MONTHLY)}",
        )
    label = {LineStatus.UNKNOWN: "unknown", LineStatus.USAGE: "usage-based", LineStatus.NOT_PRICED: "-"}[line.status]
    return label, label


def _rows(estimate: CostEstimate) -> list[list[str]]:
    rows = []
    for line in estimate.lines:
        hourly, monthly = _amounts(line)
        rows.append([line.item, _counts(line), _unit_price(line), hourly, monthly])
    return rows


def _total_row(estimate: CostEstimate) -> list[str]:
    label = "Total" if estimate.complete else "Total (incomplete)"
    return [
        label,
        "",
        "",
        f"{money(estimate.hourly_min, HOURLY)} / {money(estimate.hourly_max, HOURLY)}",
        f"{money(estimate.monthly_min, MONTHLY)} / {money(estimate.monthly_max, MONTHLY)}",
    ]


def _footnotes(estimate: CostEstimate) -> list[str]:
    notes = list(estimate.notes)
    unknown = [line for line in estimate.lines if line.status is LineStatus.UNKNOWN]
    if unknown:
        notes.append(
            f"Incomplete: {len(unknown)} line(s) have no sourced price and are left out of the totals: "
            + ", ".join(line.item for line in unknown)
            + "."
        )
    if any(line.status is LineStatus.USAGE for line in estimate.lines):
        notes.append("Usage-based charges come on top of the totals.")
    for line in estimate.lines:
        if line.note and line.status is not LineStatus.NOT_PRICED:
            notes.append(f"{line.item}: {line.note}.")
    notes.append(
        f"Prices: components/cost/prices.yaml of {estimate.table_date}, {estimate.region}, {estimate.currency} "
        "(each figure names its source)."
    )
    return notes


def cost_text(estimate: CostEstimate) -> str:
    """A fixed-width table for terminals."""
    title = f"Cost estimate for stack {estimate.stack} (target {estimate.target}, {estimate.currency})"
    rows = [HEADER, *_rows(estimate)]
    if estimate.priced:
        rows.append(_total_row(estimate))
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]

    def fmt(row: list[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()

    lines = [title, "", fmt(rows[0]), "  ".join("-" * w for w in widths)]
    lines += [fmt(row) for row in rows[1:]]
    lines += ["", *(f"- {note}" for note in _footnotes(estimate))]
    return "\n".join(lines) + "\n"


def cost_markdown(estimate: CostEstimate) -> str:
    """The body of SUMMARY.md's Cost section (no heading)."""
    header = [*HEADER[:3], f"Per hour, {estimate.currency} (min / max)", f"Per month, {estimate.currency} (min / max)"]
    rows = _rows(estimate)
    if estimate.priced:
        rows.append([f"**{cell}**" if cell else "" for cell in _total_row(estimate)])
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    lines += ["", *(f"- {note}" for note in _footnotes(estimate))]
    return "\n".join(lines) + "\n"


def cost_document(estimate: CostEstimate) -> dict[str, Any]:
    """Plain data for ``cost.json``; amounts as decimal strings, None when unknown."""
    return {
        "stack": estimate.stack,
        "target": estimate.target,
        "currency": estimate.currency,
        "region": estimate.region,
        "tableDate": estimate.table_date,
        "complete": estimate.complete,
        "priced": estimate.priced,
        "totals": {
            "hourlyMin": money(estimate.hourly_min, HOURLY),
            "hourlyMax": money(estimate.hourly_max, HOURLY),
            "monthlyMin": money(estimate.monthly_min, MONTHLY),
            "monthlyMax": money(estimate.monthly_max, MONTHLY),
        },
        "lines": [
            {
                "category": line.category,
                "item": line.item,
                "status": line.status.value,
                "countMin": line.count_min,
                "countMax": line.count_max,
                "unitPrice": None if line.unit_price is None else str(line.unit_price),
                "unit": line.unit,
                "priceKey": line.price_key,
                "source": line.source,
                "monthlyMin": None if line.monthly_min is None else money(line.monthly_min, MONTHLY),
                "monthlyMax": None if line.monthly_max is None else money(line.monthly_max, MONTHLY),
            }
            for line in estimate.lines
        ],
        "notes": estimate.notes,
    }


def cost_json(estimate: CostEstimate) -> str:
    return json.dumps(cost_document(estimate), indent=2, sort_keys=True) + "\n"
