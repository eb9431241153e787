"""Environment-driven defaults, applied in this one place.

``environment`` (dev, preview, staging, prod) decides what a stack gets when it does not say:
replica counts, context windows, Prometheus retention, alert thresholds and severities, and
for AKS the control plane tier, upgrade channel, sign-in and Key Vault purge protection. They
are merged into the raw configuration before validation, so an explicit value always wins
and a parsed :class:`~components.spec.models.DeploymentSpec` is complete. Keys are camelCase,
the only spelling :func:`components.spec.parse_config` accepts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from components.catalog import load_catalog


@dataclass(frozen=True)
class EnvironmentDefaults:
    replicas: int
    max_context_tokens: int
    retention: str
    severities: dict[str, str]
    thresholds: dict[str, Any] = field(default_factory=dict)
    aks: dict[str, Any] = field(default_factory=dict)
    """Defaults of the ``aks`` section (target aks only)."""


def _thresholds(*, ttft: float, itl: float, errors: float, queue: float, kv: float, page_for: str) -> dict[str, Any]:
    return {
        "timeToFirstTokenP95Seconds": {"value": ttft, "for": "10m"},
        "interTokenLatencyP95Seconds": {"value": itl, "for": "10m"},
        "errorRatio": {"value": errors, "for": page_for},
        "queueDepth": {"value": queue, "for": "10m"},
        "kvCacheUsage": {"value": kv, "for": "10m"},
        "gpuTemperatureCelsius": {"value": 85, "for": "5m"},
        "gpuMemoryUsage": {"value": 0.98, "for": "15m"},
        "targetDownFor": page_for,
        "engineStalledFor": page_for,
    }


#: AKS outside prod: free control plane, static credentials for quick access, a vault that can be purged.
_AKS_NONPROD = {
    "skuTier": "Free",
    "upgradeChannel": "patch",
    "localAccounts": True,
    "azureRbac": False,
    "keyVaultPurgeProtection": False,
}
#: AKS in prod: SLA-backed control plane, Entra ID sign-in with Azure RBAC only, purge protection.
_AKS_PROD = {
    "skuTier": "Standard",
    "upgradeChannel": "stable",
    "localAccounts": False,
    "azureRbac": True,
    "keyVaultPurgeProtection": True,
    "systemPool": {"name": "system", "vmSize": "Standard_D4s_v5", "minCount": 2, "maxCount": 3},
}

#: Dev and preview stacks run on laptops and CPUs: looser latency thresholds, no paging.
ENVIRONMENTS: dict[str, EnvironmentDefaults] = {
    "dev": EnvironmentDefaults(
        replicas=1,
        max_context_tokens=4096,
        retention="2d",
        severities={"page": "warning", "ticket": "info"},
        thresholds=_thresholds(ttft=10, itl=0.5, errors=0.10, queue=20, kv=0.95, page_for="10m"),
        aks=_AKS_NONPROD,
    ),
    "preview": EnvironmentDefaults(
        replicas=1,
        max_context_tokens=4096,
        retention="1d",
        severities={"page": "warning", "ticket": "info"},
        thresholds=_thresholds(ttft=10, itl=0.5, errors=0.10, queue=20, kv=0.95, page_for="10m"),
        aks=_AKS_NONPROD,
    ),
    "staging": EnvironmentDefaults(
        replicas=1,
        max_context_tokens=8192,
        retention="7d",
        severities={"page": "warning", "ticket": "warning"},
        thresholds=_thresholds(ttft=3, itl=0.2, errors=0.05, queue=10, kv=0.90, page_for="5m"),
        aks=_AKS_NONPROD,
    ),
    "prod": EnvironmentDefaults(
        replicas=2,
        max_context_tokens=8192,
        retention="15d",
        severities={"page": "critical", "ticket": "warning"},
        thresholds=_thresholds(ttft=2, itl=0.1, errors=0.02, queue=10, kv=0.90, page_for="3m"),
        aks=_AKS_PROD,
    ),
}


def _model_context_length(model: dict[str, Any]) -> int | None:
    preset = load_catalog().get(str(model.get("preset")))
    if preset is not None:
        return preset.context_length
    source = model.get("source")
    if isinstance(source, dict):
        length = source.get("contextLength")
        return length if isinstance(length, int) else None
    return None


def _model_defaults(model: dict[str, Any], env: EnvironmentDefaults, single_host: bool) -> dict[str, Any]:
    model = dict(model)
    if "replicas" not in model and model.get("autoscaling") is None:
        model["replicas"] = 1 if single_host else env.replicas
    if "maxContextTokens" not in model:
        limit = _model_context_length(model)
        model["maxContextTokens"] = min(env.max_context_tokens, limit) if limit else env.max_context_tokens
    return model


def _merge_thresholds(user: Any, env: EnvironmentDefaults) -> Any:
    if not isinstance(user, dict):
        return user if user is not None else dict(env.thresholds)
    merged: dict[str, Any] = {}
    for key, default in env.thresholds.items():
        given = user.get(key)
        merged[key] = {**default, **given} if isinstance(default, dict) and isinstance(given, dict) else given
        if given is None:
            merged[key] = default
    merged.update({k: v for k, v in user.items() if k not in env.thresholds})
    return merged


def apply_environment_defaults(data: Any) -> Any:
    """Return ``data`` (the raw configuration) with every unset environment default filled.

    Input that is not a mapping, or names an unknown environment, is returned unchanged:
    validation reports it.
    """
    if not isinstance(data, dict):
        return data
    env = ENVIRONMENTS.get(str(data.get("environment")))
    if env is None:
        return data
    data = dict(data)
    models = data.get("models")
    if isinstance(models, list):
        # The Docker target runs one container per model, whatever the environment.
        single_host = data.get("target") == "docker"
        data["models"] = [_model_defaults(m, env, single_host) if isinstance(m, dict) else m for m in models]

    observability = data.get("observability", {})
    if isinstance(observability, dict) and "retention" not in observability:
        data["observability"] = {**observability, "retention": env.retention}

    alerting = data.get("alerting", {})
    if isinstance(alerting, dict):
        alerting = dict(alerting)
        alerting["thresholds"] = _merge_thresholds(alerting.get("thresholds"), env)
        if not isinstance(alerting.get("severities"), dict):
            alerting.setdefault("severities", dict(env.severities))
        else:
            alerting["severities"] = {**env.severities, **alerting["severities"]}
        data["alerting"] = alerting

    aks = data.get("aks", {} if data.get("target") == "aks" else None)
    if isinstance(aks, dict):
        data["aks"] = {**env.aks, **aks}
    return data
