"""The local target: serving plans as containers on one Docker engine (pulumi-docker).

Per stack one network; per model a named cache volume that survives ``pulumi up`` re-runs, a
one-shot fetch container that fills it, and the server container, which starts after the
fetch finished. Every container runs as a non-root user with a read-only root filesystem,
tmpfs for exactly the plan's writable paths, all capabilities dropped and no-new-privileges.
Ports are published on 127.0.0.1 unless the stack sets ``docker.bindAddress``. Secrets and
config files (a Modelfile, prometheus.yml) are uploaded into small volumes of their own, since
Docker copies nothing into a read-only root filesystem; named volumes are made writable for
the non-root user without running anything as root (see ``_prepare_volume``).

The target knows nothing about engines: it reads plans.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import PurePosixPath
from typing import Any

import pulumi
import pulumi_docker as docker

from components.catalog.sizing import MIB
from components.plan import (
    COMMON_LABELS,
    LABEL_COMPONENT,
    LABEL_EXPOSE_PORTS,
    LABEL_PART_OF,
    Container,
    Image,
    LocalBuild,
    Probes,
    ServicePlan,
    ServingPlan,
)
from components.secrets import StackSecrets
from components.spec import DeploymentSpec
from components.spec.models import DockerSettings
from components.targets.base import PublishedModel
from components.targets.image_build import build_image

#: File a prepared volume keeps so that Docker never copies image content over it.
VOLUME_MARKER = ".slm-deploy-volume"
#: Label of a server container: how its fetch step ended (always 0: anything else fails the run).
LABEL_FETCH_EXIT_CODE = "slm-deploy.dev/fetch-exit-code"


def host_port(settings: DockerSettings, index: int) -> int:
    return settings.base_port + index


def healthcheck(probes: Probes) -> docker.ContainerHealthcheckArgs:
    """Docker runs the plan's readiness command in the container (never curl), with the plan's
    period and timeout; the start period is the startup budget."""
    return docker.ContainerHealthcheckArgs(
        tests=["CMD", *probes.readiness.command],
        interval=f"{probes.period_seconds}s",
        timeout=f"{probes.timeout_seconds}s",
        retries=3,
        start_period=f"{probes.startup_budget_seconds}s",
    )


def tmpfs_for(container: Container) -> dict[str, str]:
    """tmpfs mounts for the writable paths; /dev/shm is Docker's shm_size instead."""
    return {
        # exec stays allowed: Triton and torch.compile load the kernels they build from these paths
        w.path: f"rw,nosuid,nodev,size={max(1, w.size_bytes // MIB)}m,uid={container.run_as_user}"
        for w in container.writable_paths
        if w.path != "/dev/shm"
    }


def shm_size_mb(container: Container) -> int | None:
    shm = [w for w in container.writable_paths if w.path == "/dev/shm"]
    return max(1, shm[0].size_bytes // MIB) if shm else None


def upload_folders(container: Container) -> list[str]:
    """The folders that receive the container's files, none inside another."""
    paths = [f.path for f in container.secret_files] + [f.path for f in container.config_files]
    folders = sorted({str(PurePosixPath(path).parent) for path in paths})
    return [f for f in folders if not any(f != o and PurePosixPath(f).is_relative_to(o) for o in folders)]


def labels_for(values: Mapping[str, pulumi.Input[str]]) -> list[docker.ContainerLabelArgs]:
    return [docker.ContainerLabelArgs(label=k, value=v) for k, v in sorted(values.items())]


class FetchFailedError(Exception):
    """A model's fetch step ended with a non-zero exit code."""


def fetch_succeeded(model: str, container: str, exit_code: int | None) -> str:
    """The fetch step's exit code as a label value, or one clear error when it failed.

    The fetch container runs once (``must_run`` off, attached), so Docker records how it
    ended instead of failing the deployment; the server reads this, so a failed download
    stops ``pulumi up`` before the server starts on an empty cache."""
    if exit_code != 0:
        ended = "reported no exit code" if exit_code is None else f"exited with {exit_code}"
        raise FetchFailedError(f"model {model}: the fetch step {ended}; see `docker logs {container}`")
    return "0"


def envs_for(container: Container) -> list[str]:
    return [f"{k}={v}" for k, v in sorted(container.env.items())]


class DockerTarget(pulumi.ComponentResource):
    """All model servers of a stack on the local Docker engine."""

    published: list[PublishedModel]
    """How clients reach each model."""
    cluster: None = None
    """No cluster: monitoring runs as services of this target (:meth:`run_services`)."""

    @property
    def stack_outputs(self) -> dict[str, pulumi.Output[Any]]:
        """No exports beyond the Deployment's own."""
        return {}

    def __init__(
        self,
        name: str,
        spec: DeploymentSpec,
        plans: Sequence[ServingPlan],
        secrets: StackSecrets,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("slm-deploy:targets:Docker", name, None, opts)
        self._stack = name
        self._settings = spec.docker or DockerSettings()
        self._secrets = secrets
        self._provider = docker.Provider(
            f"{name}-docker",
            host=self._settings.host,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._images: dict[str, pulumi.Resource] = {}
        self.network = docker.Network(
            f"{name}-net",
            name=f"slm-{name}",
            driver="bridge",
            labels=[docker.NetworkLabelArgs(label=LABEL_PART_OF, value=COMMON_LABELS[LABEL_PART_OF])],
            opts=self._child(),
        )
        self.published = [self._model(plan, index) for index, plan in enumerate(plans)]
        self.register_outputs({"network": self.network.name})

    # -- helpers -------------------------------------------------------------------------

    def _child(self, depends_on: Sequence[pulumi.Resource] = ()) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._provider, depends_on=list(depends_on))

    def _image(self, container: Container) -> tuple[str, list[pulumi.Resource]]:
        """The image reference to run, and the resource that provides it (pull or build)."""
        key = container.image_ref
        if key not in self._images:
            resource_name = f"{self._stack}-image-{re.sub(r'[^a-z0-9]+', '-', key.lower()).strip('-')}"
            if isinstance(container.image, LocalBuild):
                self._images[key] = build_image(
                    resource_name,
                    container.image,
                    [container.image_tag],
                    push=False,
                    opts=pulumi.ResourceOptions(parent=self),
                )
            else:
                assert isinstance(container.image, Image)
                self._images[key] = docker.RemoteImage(
                    resource_name, name=container.image.ref, keep_locally=True, opts=self._child()
                )
        return key, [self._images[key]]

    def _files(self, container: Container) -> dict[str, Any]:
        """Uploads of the container's secret and config files, and the volumes they land in.

        Docker cannot copy files into a container whose root filesystem is read-only, except
        into a volume. Each folder that receives files is an anonymous volume created empty
        (``no_copy``) with the container and removed with it; files belong to the container's
        user, secrets readable by it alone.
        """
        owner, group = str(container.run_as_user), str(container.run_as_group)
        uploads = [
            docker.ContainerUploadArgs(
                file=s.path, content=self._secrets.value(s.secret), permissions="0400", owner=owner, group=group
            )
            for s in container.secret_files
        ]
        uploads += [
            docker.ContainerUploadArgs(file=f.path, content=f.content, permissions="0444", owner=owner, group=group)
            for f in container.config_files
        ]
        if not uploads:
            return {}
        mounts = [
            docker.ContainerMountArgs(
                target=folder, type="volume", volume_options=docker.ContainerMountVolumeOptionsArgs(no_copy=True)
            )
            for folder in upload_folders(container)
        ]
        return {"uploads": uploads, "mounts": mounts}

    def _hardened(self, container: Container) -> dict[str, Any]:
        """Arguments every container gets: non-root, read-only, no capabilities, no escalation,
        its files, its resources."""
        resources = container.resources
        args: dict[str, Any] = {
            **self._files(container),
            "user": f"{container.run_as_user}:{container.run_as_group}",
            "read_only": True,
            "tmpfs": tmpfs_for(container),
            "shm_size": shm_size_mb(container),
            "capabilities": docker.ContainerCapabilitiesArgs(drops=["ALL"]),
            "security_opts": ["no-new-privileges:true"],
            "envs": envs_for(container),
            "log_driver": "json-file",
            "log_opts": {"max-size": "20m", "max-file": "3"},
        }
        if resources is not None:
            args["memory"] = math.ceil(resources.memory_limit_bytes / MIB)
            args["memory_reservation"] = math.ceil(resources.memory_request_bytes / MIB)
            args["cpus"] = f"{resources.cpu_limit_millis / 1000:g}"
            if resources.gpu_count:
                args["device_requests"] = [
                    docker.ContainerDeviceRequestArgs(driver="nvidia", count=resources.gpu_count, capabilities=["gpu"])
                ]
        return args

    def _prepare_volume(
        self,
        prefix: str,
        volume: docker.Volume,
        user: Container,
        image: str,
        deps: Sequence[pulumi.Resource],
    ) -> docker.Container:
        """Make a new named volume writable for the non-root containers that use it, without root.

        Docker creates named volumes owned by root, and copies the image's content and
        ownership into an empty volume on its first mount. Mounting the new volume over the
        image's /tmp makes Docker give it /tmp's mode (1777, sticky: anyone writes, only owners
        delete); the marker file keeps later mounts from copying anything over it.
        """
        return docker.Container(
            f"{prefix}-prepare",
            name=f"slm-{prefix}-prepare",
            image=image,
            entrypoints=["touch", f"/tmp/{VOLUME_MARKER}"],
            volumes=[docker.ContainerVolumeArgs(volume_name=volume.name, container_path="/tmp")],
            labels=labels_for({LABEL_COMPONENT: "volume-prepare", LABEL_PART_OF: COMMON_LABELS[LABEL_PART_OF]}),
            must_run=False,
            attach=True,
            restart="no",
            **self._hardened(replace(user, env={}, writable_paths=(), secret_files=(), config_files=())),
            opts=self._child(deps),
        )

    # -- one model -----------------------------------------------------------------------

    def _model(self, plan: ServingPlan, index: int) -> PublishedModel:
        prefix = f"{self._stack}-{plan.model}"
        container_name = f"slm-{prefix}"
        cache = docker.Volume(
            f"{prefix}-cache",
            name=f"{container_name}-cache",
            labels=[docker.VolumeLabelArgs(label=k, value=v) for k, v in sorted(plan.labels.items())],
            opts=self._child(),
        )
        network = [docker.ContainerNetworksAdvancedArgs(name=self.network.name)]

        fetch = plan.fetch.container
        fetch_image, fetch_deps = self._image(fetch)
        assert fetch.cache is not None
        prepare = self._prepare_volume(f"{prefix}-cache", cache, fetch, fetch_image, fetch_deps)
        fetch_container = docker.Container(
            f"{prefix}-fetch",
            name=f"{container_name}-fetch",
            image=fetch_image,
            entrypoints=list(plan.fetch.command),
            volumes=[
                docker.ContainerVolumeArgs(volume_name=cache.name, container_path=fetch.cache.path, read_only=False)
            ],
            networks_advanced=network,
            labels=labels_for(plan.fetch_labels),
            must_run=False,
            attach=True,
            logs=True,
            restart="no",
            **self._hardened(fetch),
            opts=self._child([*fetch_deps, prepare]),
        )

        server = plan.server
        server_image, server_deps = self._image(server)
        assert server.probes is not None and server.cache is not None
        labels: dict[str, pulumi.Input[str]] = dict(plan.labels)
        fetch_name = f"{container_name}-fetch"
        labels[LABEL_FETCH_EXIT_CODE] = fetch_container.exit_code.apply(
            lambda code: fetch_succeeded(plan.model, fetch_name, code)
        )
        ports, url = self._publish(plan.api_port, host_port(self._settings, index), labels)
        self._serve(
            f"{prefix}-server",
            server,
            server_image,
            name=container_name,
            alias=plan.model,
            ports=ports,
            volumes=[
                docker.ContainerVolumeArgs(volume_name=cache.name, container_path=server.cache.path, read_only=True)
            ],
            labels=labels,
            deps=[*server_deps, fetch_container],
        )
        return PublishedModel(
            model=plan.model,
            base_url=f"{url}{plan.openai_base_path}",
            internal_url=f"http://{plan.model}:{plan.api_port}{plan.openai_base_path}",
        )

    def _publish(
        self, internal: int, external: int, labels: dict[str, pulumi.Input[str]]
    ) -> tuple[list[docker.ContainerPortArgs], str]:
        """Publish ``internal`` on the host at ``external`` on the stack's bind address; the URL to
        reach it. Ports bound beyond loopback are labelled, so the policy pack sees the opt-out."""
        bind = self._settings.bind_address
        if bind != "127.0.0.1":
            labels[LABEL_EXPOSE_PORTS] = "true"
        host = "127.0.0.1" if bind == "0.0.0.0" else bind
        return [docker.ContainerPortArgs(internal=internal, external=external, ip=bind)], f"http://{host}:{external}"

    def _serve(
        self,
        resource_name: str,
        container: Container,
        image: pulumi.Input[str],
        *,
        name: str,
        alias: str,
        ports: list[docker.ContainerPortArgs] | None,
        volumes: list[docker.ContainerVolumeArgs],
        labels: Mapping[str, pulumi.Input[str]],
        deps: Sequence[pulumi.Resource],
    ) -> docker.Container:
        """A long-running container on the stack's network under ``alias``, hardened, restarted
        unless stopped, and waited for until healthy when it has probes."""
        probes = container.probes
        return docker.Container(
            resource_name,
            name=name,
            image=image,
            entrypoints=list(container.command) if container.command else None,
            command=list(container.args) or None,
            ports=ports,
            healthcheck=healthcheck(probes) if probes else None,
            wait=probes is not None,
            wait_timeout=probes.startup_budget_seconds + 60 if probes else None,
            restart="unless-stopped",
            volumes=volumes or None,
            networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=self.network.name, aliases=[alias])],
            labels=labels_for(labels),
            **self._hardened(container),
            opts=self._child(deps),
        )

    # -- supporting services -------------------------------------------------------------

    def run_services(self, services: Sequence[ServicePlan]) -> dict[str, str]:
        """Run services (Prometheus, Grafana, ...) on the stack's network, hardened exactly like
        the model servers; returns the host URL of each service that publishes a port."""
        urls: dict[str, str] = {}
        for service in services:
            prefix = f"{self._stack}-{service.name}"
            container = service.container
            image, deps = self._image(container)
            volumes = []
            for data in service.volumes:
                volume = docker.Volume(
                    f"{prefix}-{data.name}",
                    name=f"slm-{prefix}-{data.name}",
                    labels=[docker.VolumeLabelArgs(label=k, value=v) for k, v in sorted(service.labels.items())],
                    opts=self._child(),
                )
                deps = [*deps, self._prepare_volume(f"{prefix}-{data.name}", volume, container, image, deps)]
                volumes.append(docker.ContainerVolumeArgs(volume_name=volume.name, container_path=data.path))
            labels: dict[str, pulumi.Input[str]] = dict(service.labels)
            ports = None
            if service.publish_port is not None and service.host_port is not None:
                ports, urls[service.name] = self._publish(service.publish_port, service.host_port, labels)
            self._serve(
                prefix,
                container,
                image,
                name=f"slm-{prefix}",
                alias=service.name,
                ports=ports,
                volumes=volumes,
                labels=labels,
                deps=deps,
            )
        return urls
