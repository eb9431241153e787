"""Run a Pulumi program in-process under the recording mock monitor.

This is both the engine of ``slm-deploy render`` and the pytest harness for programs. It
guards against the known traps of Pulumi's mocks (see ../shared/research/pulumi-azure.md §2.6):
``preview=False`` so outputs resolve; a fresh event loop per run; config set before the
program creates ``pulumi.Config``; computed outputs filled (placeholders); the run awaits
every output, so an exception or failed assertion inside ``apply`` fails the run; duplicate
URNs raise.
"""

from __future__ import annotations

import asyncio
import logging
import runpy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import settings

from components.render.recorder import MASK, RecordedResource, RecordingMocks, RecordingMonitor
from components.spec.errors import NAMESPACE as PROJECT

#: The mock engine logs what the program logs; failures surface as exceptions instead.
_QUIET_LOGGER = logging.getLogger("slm-deploy.render.engine")
_QUIET_LOGGER.propagate = False
_QUIET_LOGGER.addHandler(logging.NullHandler())
STACK_TYPE = "pulumi:pulumi:Stack"


class DuplicateResourceError(Exception):
    """Two resources got the same URN; the Pulumi engine would refuse the program."""


@dataclass
class Recording:
    """What one program run registered and exported."""

    stack: str
    resources: list[RecordedResource]
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def of_type(self, type_token: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_token]

    def named(self, name: str) -> RecordedResource:
        matches = [r for r in self.resources if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named {name!r}")
        return matches[0]

    def masked_outputs(self) -> dict[str, Any]:
        return {k: (MASK if k in self.secret_outputs else v) for k, v in sorted(self.outputs.items())}


def _shutdown(loop: asyncio.AbstractEventLoop) -> None:
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()
    asyncio.set_event_loop(None)


def run_program(
    program: Path | Callable[[], Any],
    config: Mapping[str, str],
    secret_keys: Sequence[str] = (),
    stack: str = "test",
) -> Recording:
    """Run ``program`` (a ``__main__.py`` path or a callable) and return what it registered.

    A callable may return an Output; it is awaited, so assertions inside ``apply`` count.
    """
    loop = asyncio.new_event_loop()
    # A failing program leaves futures whose exception was already raised here; do not let
    # asyncio print each of them again when they are collected.
    loop.set_exception_handler(lambda _loop, _context: None)
    asyncio.set_event_loop(loop)
    mocks = RecordingMocks()
    monitor = RecordingMonitor(mocks)
    exported: dict[str, Any] = {}
    secret: set[str] = set()
    try:
        settings.reset_options(project=PROJECT, stack=stack, preview=False)
        pulumi.runtime.set_all_config(dict(config), list(secret_keys))
        pulumi.runtime.set_mocks(
            mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor, logger=_QUIET_LOGGER
        )

        def body() -> Any:
            if isinstance(program, Path):
                runpy.run_path(str(program), run_name="__main__")
                result = None
            else:
                result = program()
            return pulumi.Output.all(result, _collect_outputs(exported, secret))

        pulumi.runtime.test(body)()  # type: ignore[no-untyped-call]
    finally:
        _shutdown(loop)
        settings.reset_options()
        pulumi.runtime.set_all_config({}, [])
    if monitor.duplicates:
        raise DuplicateResourceError("duplicate resource URNs: " + ", ".join(sorted(set(monitor.duplicates))))
    for record in mocks.resources:
        if record.parent and STACK_TYPE in record.parent.split("::")[2]:
            record.parent = None
    return Recording(stack=stack, resources=mocks.resources, outputs=exported, secret_outputs=secret, calls=mocks.calls)


def _collect_outputs(exported: dict[str, Any], secret: set[str]) -> pulumi.Output[Any]:
    """Resolve the stack's exports into ``exported`` (and note which are secrets)."""
    root = settings.get_root_resource()
    outputs: dict[str, Any] = dict(getattr(root, "outputs", {}) or {})

    async def resolve() -> None:
        for name, value in outputs.items():
            output = pulumi.Output.from_input(value)
            exported[name] = await output.future()
            if await output.is_secret():
                secret.add(name)

    return pulumi.Output.from_input(asyncio.ensure_future(resolve()))
