"""Cost estimates of a stack from the price table kept in the repository (pure: no Pulumi)."""

from components.cost.estimate import CostEstimate, CostLine, LineStatus, estimate_cost
from components.cost.prices import PriceTable, PriceTableError, load_price_table, parse_price_table
from components.cost.report import cost_document, cost_json, cost_markdown, cost_text

__all__ = [
    "CostEstimate",
    "CostLine",
    "LineStatus",
    "PriceTable",
    "PriceTableError",
    "cost_document",
    "cost_json",
    "cost_markdown",
    "cost_text",
    "estimate_cost",
    "load_price_table",
    "parse_price_table",
]
