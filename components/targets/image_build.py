"""Images the program builds from this repository (:class:`~components.plan.LocalBuild`), with
pulumi-docker-build: loaded into the local engine (Docker target) or pushed to a registry
(Kubernetes, AKS). One place for how a LocalBuild becomes a build."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_docker_build as docker_build

from components.plan import LocalBuild


def build_image(
    resource_name: str,
    build: LocalBuild,
    tags: Sequence[pulumi.Input[str]],
    *,
    push: bool,
    registries: Sequence[Any] | None = None,
    opts: pulumi.ResourceOptions,
) -> docker_build.Image:
    """Build ``build``; a pushed image is built for linux/amd64 (the nodes' platform), a local one
    for the engine's own platform and loaded into it."""
    return docker_build.Image(
        resource_name,
        tags=list(tags),
        # Relative to the project root, where Pulumi runs the program.
        context=docker_build.BuildContextArgs(location=build.context),
        dockerfile=docker_build.DockerfileArgs(location=f"{build.context}/{build.dockerfile}"),
        target=build.target,
        build_args=build.build_args or None,
        platforms=[docker_build.Platform.LINUX_AMD64] if push else None,
        push=push,
        load=None if push else True,
        registries=list(registries) if registries else None,
        opts=opts,
    )
