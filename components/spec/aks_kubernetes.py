"""The Kubernetes settings the AKS target uses on the cluster it creates (pure: no Pulumi).

The AKS target (components/targets/aks.py) deploys the model servers with these settings, and
the cost estimate (components/cost) prices the same facts: which storage class holds the
model cache, and whether it is one shared volume per model or one volume per replica.
"""

from __future__ import annotations

from components.spec.models import DeploymentSpec, KubernetesSettings

#: AKS's built-in storage classes: Azure Files offers ReadWriteMany for a shared model cache,
#: managed premium disks a fast ReadWriteOnce volume per replica.
#: https://learn.microsoft.com/azure/aks/concepts-storage#storage-classes
SHARED_CACHE_STORAGE_CLASS = "azurefile-csi-premium"
PER_REPLICA_CACHE_STORAGE_CLASS = "managed-csi-premium"
#: Where the managed Prometheus agent (ama-metrics) runs and scrapes from.
MANAGED_PROMETHEUS_NAMESPACE = "kube-system"


def kubernetes_settings_for_aks(spec: DeploymentSpec) -> KubernetesSettings:
    """The Kubernetes target's settings on the cluster AKS creates: AKS storage classes for the
    model cache, KEDA from the AKS add-on, and with managed monitoring no in-cluster Prometheus
    (its scraper runs in kube-system)."""
    assert spec.aks is not None
    settings = spec.kubernetes or KubernetesSettings()
    shared = settings.model_cache == "shared"
    update: dict[str, object] = {
        "storage_class": settings.storage_class
        or (SHARED_CACHE_STORAGE_CLASS if shared else PER_REPLICA_CACHE_STORAGE_CLASS),
        "install_keda": False,
        "cluster_identifier": settings.cluster_identifier or f"aks-{spec.aks.location}",
    }
    if spec.managed_monitoring:
        update["install_monitoring"] = False
        if settings.monitoring_namespace == KubernetesSettings().monitoring_namespace:
            update["monitoring_namespace"] = MANAGED_PROMETHEUS_NAMESPACE
    return settings.model_copy(update=update)
