"""Platforms: the infrastructure a target runs on, created by the program (AKS)."""
