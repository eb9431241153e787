"""The model catalog: presets with facts from model cards, and the sizing that follows from them."""

from components.catalog.models import Architecture, Engine, EngineSupport, Preset, Variant
from components.catalog.sizing import GPU_CLASSES, GpuClass, Sizing, SizingRequest, size_deployment
from components.catalog.store import Catalog, load_catalog

__all__ = [
    "GPU_CLASSES",
    "Architecture",
    "Catalog",
    "Engine",
    "EngineSupport",
    "GpuClass",
    "Preset",
    "Sizing",
    "SizingRequest",
    "Variant",
    "load_catalog",
    "size_deployment",
]
