"""Loading the preset catalog shipped with the package."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

from components.catalog.models import Preset

PRESETS_FILE = Path(__file__).with_name("presets.yaml")


class Catalog(BaseModel):
    """All presets, by name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    presets: dict[str, Preset]

    def get(self, name: str) -> Preset | None:
        return self.presets.get(name)

    def names(self) -> list[str]:
        return sorted(self.presets)


@cache
def load_catalog(path: Path = PRESETS_FILE) -> Catalog:
    """Parse and validate the catalog once per process."""
    with path.open(encoding="utf-8") as handle:
        return Catalog.model_validate(yaml.safe_load(handle))
