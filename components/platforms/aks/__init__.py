"""The AKS platform: Azure resources around a cluster, one module per concern."""

from components.platforms.aks.platform import AksPlatform

__all__ = ["AksPlatform"]
