"""Images the program builds (the ONNX Runtime server), pushed to the stack's registry.

The push authenticates with the deploying identity's Docker credentials for the registry
(``az acr login --name <registry>``, which uses the AcrPush grant of :mod:`registry`); the
registry has no admin user, so no password is created or stored.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from components.plan import Container, LocalBuild
from components.targets.image_build import build_image


def push_built_images(
    stack: str,
    containers: Sequence[Container],
    *,
    login_server: pulumi.Output[str],
    opts: pulumi.ResourceOptions,
) -> dict[str, pulumi.Output[str]]:
    """Build each LocalBuild image once and push it; returns ``<registry>/<tag>@<digest>`` by the
    plan's ``image_tag``, so pods run exactly the pushed image."""
    refs: dict[str, pulumi.Output[str]] = {}
    for container in containers:
        build = container.image
        if not isinstance(build, LocalBuild) or container.image_tag in refs:
            continue
        slug = container.image_tag.replace(":", "-").replace("/", "-").replace(".", "-")
        tag = pulumi.Output.concat(login_server, "/", container.image_tag)
        image = build_image(
            f"{stack}-push-{slug}", build, [tag], push=True, registries=[{"address": login_server}], opts=opts
        )
        refs[container.image_tag] = pulumi.Output.concat(tag, "@", image.digest)
    return refs
