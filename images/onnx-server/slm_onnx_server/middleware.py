"""ASGI middleware: request body limit, and one access-log line plus HTTP counter per request."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from slm_onnx_server.errors import ApiError
from slm_onnx_server.generation import Outcome
from slm_onnx_server.metrics import ServerMetrics

access_log = logging.getLogger("slm_onnx_server.access")

# Label values for the HTTP counter: known routes by name, everything else as one value.
KNOWN_PATHS = frozenset({"/v1/chat/completions", "/v1/completions", "/v1/models", "/health", "/metrics"})


@dataclass
class RequestRecord:
    """Filled in by route handlers; read once the response has been sent."""

    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    outcome: Outcome | None = None
    stream: bool | None = None


def record_of(scope: Scope) -> RequestRecord:
    record = scope.setdefault("state", {}).get("record")
    if not isinstance(record, RequestRecord):
        record = RequestRecord()
        scope["state"]["record"] = record
    return record


class BodyLimitMiddleware:
    """413 for bodies over the limit, by Content-Length up front or by counting chunks."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await too_large(self.max_bytes).response()(scope, receive, send)
                return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised inside the app (while it reads the body): its handler answers 413.
                    raise too_large(self.max_bytes)
            return message

        await self.app(scope, limited, send)


def too_large(limit: int) -> ApiError:
    return ApiError(413, f"request body is larger than the limit of {limit} bytes")


class AccessLogMiddleware:
    """Logs status, latency and token counts once the last byte of the response is sent."""

    def __init__(self, app: ASGIApp, metrics: ServerMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        record = record_of(scope)
        status = 500
        headers_sent = False

        async def tracking_send(message: Message) -> None:
            nonlocal status, headers_sent
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers_sent = True
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", record.request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except BaseException:
            if not headers_sent:
                status = 499 if record.outcome is not None and record.outcome.finish_reason == "abort" else 500
            raise
        finally:
            self._log(scope, record, status, time.perf_counter() - started)

    def _log(self, scope: Scope, record: RequestRecord, status: int, seconds: float) -> None:
        path = scope["path"] if scope["path"] in KNOWN_PATHS else "other"
        self.metrics.http_requests.labels(path, str(status)).inc()
        fields: dict[str, Any] = {
            "request_id": record.request_id,
            "method": scope["method"],
            "path": path,
            "status": status,
            "latency_ms": round(seconds * 1000, 2),
        }
        if record.stream is not None:
            fields["stream"] = record.stream
        outcome = record.outcome
        if outcome is not None:
            fields["prompt_tokens"] = outcome.prompt_tokens
            fields["completion_tokens"] = outcome.completion_tokens
            fields["finish_reason"] = outcome.finish_reason
        access_log.info("request", extra={"fields": fields})
