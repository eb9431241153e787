"""A mock monitor that records every resource a Pulumi program registers.

Pulumi's ``MockMonitor`` runs a program in-process without an engine. This subclass keeps
what a reviewer needs: type, name, parent, provider and inputs of every resource (secret
inputs masked), fills computed outputs with placeholders, and notices duplicate URNs, which
the real engine would refuse but the mock silently accepts.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks, rpc
from pulumi.runtime.mocks import MockMonitor

from components.render.placeholders import CALL_RESULTS, SECRET_OUTPUTS, computed_outputs

MASK = "[secret]"


def mask_secrets(value: Any) -> Any:
    """Replace every secret-wrapped value (at any depth) with ``[secret]``."""
    if rpc.is_rpc_secret(value):
        return MASK
    if isinstance(value, dict):
        return {k: mask_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    """Floats that are whole numbers back to ints (the wire format sends every number as float)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _fill(given: Any, computed: Any) -> Any:
    """Inputs win; computed values fill what is missing, also inside nested objects
    (``oidcIssuerProfile: {enabled}`` gains ``issuerURL``)."""
    if given is None:
        return computed
    if isinstance(given, dict) and isinstance(computed, dict):
        return {**computed, **{k: _fill(v, computed.get(k)) for k, v in given.items()}}
    return given


@dataclass
class RecordedResource:
    urn: str
    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]
    parent: str | None = None
    provider: str | None = None


@dataclass
class RecordingMocks(Mocks):
    """Answers registrations with inputs plus placeholders and remembers them."""

    resources: list[RecordedResource] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        provider = args.provider.rsplit("::", 1)[0] if args.provider else None
        self.resources.append(
            RecordedResource(
                urn="",
                type=args.typ,
                name=args.name,
                custom=bool(args.custom),
                inputs=_plain(mask_secrets(args.inputs)),
                provider=provider,
            )
        )
        state = dict(args.inputs)
        computed = computed_outputs(args.typ, args.name, dict(args.inputs))
        for key, value in computed.items():
            state[key] = _fill(state.get(key), value)
            if key in SECRET_OUTPUTS.get(args.typ, set()):
                state[key] = rpc.wrap_rpc_secret(state[key])
        # Azure ids are ARM paths; the placeholder says so, so ids wired into scopes read like them.
        return str(computed.get("id", f"{args.name}-id")), state

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        self.calls.append((args.token, _plain(mask_secrets(dict(args.args)))))
        # The mock monitor iterates the failures of a tuple: an empty list, never None.
        return dict(CALL_RESULTS.get(args.token, {})), []


class RecordingMonitor(MockMonitor):
    """Adds URN, parent and duplicate detection to what :class:`RecordingMocks` keeps."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.recording = mocks
        self.duplicates: list[str] = []
        self._seen: set[str] = set()
        # Registrations arrive on several threads; the check and the record must be atomic.
        self._lock = threading.Lock()

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        urn = self.make_urn(request.parent, request.type, request.name)
        with self._lock:
            if request.type != "pulumi:pulumi:Stack":
                if urn in self._seen:
                    self.duplicates.append(urn)
                self._seen.add(urn)
            before = len(self.recording.resources)
            response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
            if len(self.recording.resources) > before:
                record = self.recording.resources[-1]
                record.urn = urn
                record.parent = request.parent or None
        return response
