"""Builders of the Kubernetes target: pod specs, network policies, scaling, exposure, quotas.

Each module turns plans (and the stack's settings) into pulumi-kubernetes argument objects;
:mod:`components.targets.kubernetes` creates the resources. No module here branches on an
engine name: everything comes from the ServingPlan.
"""
