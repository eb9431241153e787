"""The FastAPI application: OpenAI routes under /v1, /health and /metrics."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError
from starlette.exceptions import HTTPException

from slm_onnx_server.auth import ApiKeyChecker
from slm_onnx_server.config import Settings
from slm_onnx_server.endpoints import CHAT, COMPLETION, Endpoint, RequestT
from slm_onnx_server.engine import EngineUnavailableError, EngineWorker, ModelInfo, SamplingParams, TokenArray
from slm_onnx_server.errors import ApiError, error_body
from slm_onnx_server.generation import (
    Generation,
    GenerationFailedError,
    GenerationRejectedError,
    GenerationService,
    OverloadedError,
    collect,
)
from slm_onnx_server.metrics import ServerMetrics
from slm_onnx_server.middleware import AccessLogMiddleware, BodyLimitMiddleware, record_of
from slm_onnx_server.schemas import ModelCard, ModelList, SamplingRequest, Usage

log = logging.getLogger("slm_onnx_server")
T = TypeVar("T")

# Seconds a client told 429 (at capacity) should wait before retrying.
RETRY_AFTER_SECONDS = 1


class ClientDisconnectedError(Exception):
    """The client closed the connection before the answer was ready."""


@dataclass
class Runtime:
    """What the lifespan builds: the engine, admission control and model facts."""

    worker: EngineWorker
    service: GenerationService
    info: ModelInfo
    tokenize: ThreadPoolExecutor
    created: int


_UNION_TAGS = frozenset({"str", "int", "float", "bool", "list", "dict", "none"})


def _field_path(loc: tuple[int | str, ...]) -> str:
    """`messages.0.role`: the field path without pydantic's union-member tags like `list[str]`."""
    parts = [str(p) for p in loc if isinstance(p, int) or (p.isidentifier() and p not in _UNION_TAGS)]
    return ".".join(parts)


def _validation_message(error: ValidationError) -> tuple[str, str | None]:
    """First problem, by field path, without echoing the submitted value."""
    first = error.errors(include_input=False, include_url=False)[0]
    if first["type"] == "json_invalid":
        return "request body is not valid JSON", None
    loc = _field_path(first["loc"])
    return (f"{loc}: {first['msg']}" if loc else str(first["msg"])), (loc or None)


async def _wait_disconnect(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def run_until_disconnect(request: Request, awaitable: Awaitable[T]) -> T:
    """Await `awaitable`, but cancel it as soon as the client disconnects."""
    work = asyncio.ensure_future(awaitable)
    watch = asyncio.ensure_future(_wait_disconnect(request))
    try:
        await asyncio.wait({work, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watch.cancel()
        if not work.done():
            work.cancel()
            with suppress(asyncio.CancelledError):
                await work
    if work.cancelled():
        raise ClientDisconnectedError
    return work.result()


class OpenAIApi:
    """Route logic for one served model; create_app wires it into FastAPI."""

    def __init__(self, settings: Settings, keys: frozenset[str] | None) -> None:
        self.settings = settings
        self.model_name = settings.served_model_name
        self.metrics = ServerMetrics(settings.served_model_name)
        self.checker = ApiKeyChecker(keys)
        self.rt: Runtime | None = None

    @asynccontextmanager
    async def lifespan(self, _: FastAPI) -> AsyncIterator[None]:
        """Load the model before uvicorn binds its socket; stop the engine after the drain."""
        s = self.settings
        worker = EngineWorker(
            s.model_dir,
            asyncio.get_running_loop(),
            max_running=s.max_running,
            batch_wait_ms=s.batch_wait_ms,
            stream_interval_ms=s.stream_interval_ms,
            seeded_workers=s.seeded_workers,
            execution_provider=s.execution_provider,
            intra_op_threads=s.intra_op_threads,
            max_context_tokens=s.max_context_tokens,
        )
        info = await worker.start()
        service = GenerationService(worker, self.metrics, max_in_flight=s.max_running + s.max_queued)
        self.rt = Runtime(worker, service, info, ThreadPoolExecutor(1, "tokenize"), int(time.time()))
        log.info("ready", extra={"fields": {"model": self.model_name, "port": s.port}})
        try:
            yield
        finally:
            log.info("stopping the engine")
            await asyncio.to_thread(worker.stop)
            self.rt.tokenize.shutdown(wait=False)

    def runtime(self) -> Runtime:
        rt = self.rt
        if rt is None or not rt.worker.healthy:
            raise ApiError(503, "the model is not ready")
        return rt

    async def require_key(self, request: Request) -> None:
        if not self.checker.allows(request.headers.get("authorization")):
            raise ApiError(
                401,
                "missing or invalid API key: send 'Authorization: Bearer <key>'",
                headers={"WWW-Authenticate": "Bearer"},
            )

    async def health(self) -> Response:
        if self.rt is None or not self.rt.worker.healthy:
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    async def prometheus_metrics(self) -> Response:
        return PlainTextResponse(generate_latest(self.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def models(self) -> ModelList:
        rt = self.runtime()
        card = ModelCard(id=self.model_name, created=rt.created, max_model_len=rt.info.context_length)
        return ModelList(data=[card])

    async def parse(self, request: Request, model: type[RequestT]) -> RequestT:
        body = await request.body()
        try:
            parsed = model.model_validate_json(body)
        except ValidationError as error:
            message, param = _validation_message(error)
            raise ApiError(400, message, param=param) from None
        if parsed.model != self.model_name:
            raise ApiError(404, f"the model '{parsed.model}' does not exist", code="model_not_found", param="model")
        return parsed

    async def encode(self, rt: Runtime, make_text: Callable[[], str]) -> TokenArray:
        """Tokenize on one helper thread: long prompts must not stall the event loop."""
        tokenizer = rt.worker.tokenizer

        def work() -> TokenArray:
            return np.asarray(tokenizer.encode(make_text()), dtype=np.int32)

        try:
            return await asyncio.get_running_loop().run_in_executor(rt.tokenize, work)
        except (RuntimeError, ValueError) as error:
            raise ApiError(400, f"the prompt could not be tokenized: {type(error).__name__}") from None

    @staticmethod
    def budget(rt: Runtime, prompt: TokenArray, requested: int | None, what: str) -> int:
        """max_tokens, checked against the context; None means the rest of the context."""
        context = rt.info.context_length
        size = len(prompt)
        if size == 0:
            raise ApiError(400, "the prompt is empty", param=what)
        if size >= context:
            raise ApiError(
                400,
                f"This model's maximum context length is {context} tokens, but the {what} have {size} tokens.",
                code="context_length_exceeded",
                param=what,
            )
        if requested is None:
            return context - size
        if size + requested > context:
            raise ApiError(
                400,
                f"This model's maximum context length is {context} tokens. However, you requested "
                f"{size + requested} tokens ({size} in the {what}, {requested} in the completion).",
                code="context_length_exceeded",
                param="max_tokens",
            )
        return requested

    async def start(
        self,
        request: Request,
        rt: Runtime,
        req: SamplingRequest,
        prompt: TokenArray,
        *,
        max_tokens: int,
        arrived: float,
        submitted: Callable[[], None],
    ) -> Generation:
        """Admit the request and wait for its first token (or its refusal)."""
        params = SamplingParams(
            max_tokens=max_tokens,
            temperature=req.temperature,
            top_p=req.top_p,
            top_k=req.top_k,
            seed=req.seed,
        )
        try:
            generation = rt.service.start(prompt, params, req.stop_list(), arrived)
            submitted()
        except OverloadedError:
            raise ApiError(
                429,
                "the server is at capacity; retry later",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            ) from None
        except EngineUnavailableError:
            raise ApiError(503, "the model is not available") from None
        record_of(request.scope).outcome = generation.outcome
        try:
            await run_until_disconnect(request, generation.first())
        except GenerationRejectedError as error:
            raise ApiError(400, f"the engine refused the request: {error}") from None
        except GenerationFailedError:
            raise ApiError(500, "generation failed") from None
        except BaseException:
            generation.close()
            raise
        return generation

    @staticmethod
    async def answer(request: Request, generation: Generation) -> str:
        try:
            text = await run_until_disconnect(request, collect(generation))
        except GenerationFailedError:
            raise ApiError(500, "generation failed") from None
        if generation.outcome.finish_reason not in ("stop", "length"):
            raise ApiError(503, "the generation was aborted")
        return text

    async def complete(self, request: Request, endpoint: Endpoint[RequestT]) -> Response:
        """One completion route: parse, tokenize, admit, then answer whole or as a stream."""
        arrived = time.perf_counter()
        rt = self.runtime()
        with rt.worker.arrivals.track() as submitted:
            req = await self.parse(request, endpoint.request_type)
            record_of(request.scope).stream = req.stream
            prompt = await self.encode(rt, endpoint.prompt(rt.worker.tokenizer, req))
            max_tokens = self.budget(rt, prompt, endpoint.token_limit(req), endpoint.prompt_param)
            try:
                generation = await self.start(
                    request, rt, req, prompt, max_tokens=max_tokens, arrived=arrived, submitted=submitted
                )
            except ClientDisconnectedError:
                return Response(status_code=499)
        rid, created = f"{endpoint.id_prefix}-{uuid.uuid4().hex}", int(time.time())
        if req.stream:
            usage = bool(req.stream_options and req.stream_options.include_usage)
            events = stream_events(
                endpoint, generation, rid=rid, created=created, model=self.model_name, include_usage=usage
            )
            return sse_response(events)
        try:
            text = await self.answer(request, generation)
        except ClientDisconnectedError:
            return Response(status_code=499)
        body = endpoint.body(
            rid=rid,
            created=created,
            model=self.model_name,
            text=text,
            reason=_openai_reason(generation),
            usage=_usage(generation),
        )
        return JSONResponse(body.model_dump())

    async def chat_completions(self, request: Request) -> Response:
        return await self.complete(request, CHAT)

    async def completions(self, request: Request) -> Response:
        return await self.complete(request, COMPLETION)


async def _api_error(_: Request, error: Exception) -> Response:
    assert isinstance(error, ApiError)
    return error.response()


async def _http_error(_: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    headers = dict(error.headers) if error.headers is not None else None
    return ApiError(error.status_code, str(error.detail), headers=headers).response()


async def _request_invalid(_: Request, error: Exception) -> Response:
    return ApiError(400, "invalid request").response()


async def _unexpected(_: Request, error: Exception) -> Response:
    log.error("unexpected error", exc_info=error)
    return ApiError(500, "internal server error").response()


def create_app(settings: Settings, keys: frozenset[str] | None) -> FastAPI:
    """An app for one model; the model loads during the lifespan startup (before binding)."""
    api = OpenAIApi(settings, keys)
    app = FastAPI(title="slm-onnx-server", lifespan=api.lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(Exception, _unexpected)
    app.add_api_route("/health", api.health, methods=["GET"])
    app.add_api_route("/metrics", api.prometheus_metrics, methods=["GET"])
    v1 = APIRouter(prefix="/v1", dependencies=[Depends(api.require_key)])
    v1.add_api_route("/models", api.models, methods=["GET"])
    v1.add_api_route("/chat/completions", api.chat_completions, methods=["POST"])
    v1.add_api_route("/completions", api.completions, methods=["POST"])
    app.include_router(v1)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(AccessLogMiddleware, metrics=api.metrics)
    return app


def _usage(generation: Generation) -> Usage:
    o = generation.outcome
    return Usage(
        prompt_tokens=o.prompt_tokens,
        completion_tokens=o.completion_tokens,
        total_tokens=o.prompt_tokens + o.completion_tokens,
    )


def _openai_reason(generation: Generation) -> Any:
    reason = generation.outcome.finish_reason
    return reason if reason in ("stop", "length") else None


def sse_response(events: AsyncIterator[str]) -> StreamingResponse:
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)


def _sse(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False, separators=(',', ':'))}\n\n"


_DONE = "data: [DONE]\n\n"
_MARK = "\x00piece\x00"


def _json_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _split_template(event: str, mark: str) -> tuple[str, str]:
    """An SSE event around a placeholder string, split where the JSON string goes."""
    before, _, after = event.partition(_json_str(mark))
    return before, after


def _stream_error(message: str) -> str:
    return _sse(error_body(message, "server_error", "internal_error"))


async def stream_events(
    endpoint: Endpoint[Any], generation: Generation, *, rid: str, created: int, model: str, include_usage: bool
) -> AsyncIterator[str]:
    """OpenAI chunk events of ``endpoint``, ending with `data: [DONE]`."""
    head = {"id": rid, "object": endpoint.chunk_object, "created": created, "model": model}

    def chunk(fields: dict[str, Any], finish: str | None = None) -> str:
        choice = {"index": 0, **fields, "logprobs": None, "finish_reason": finish}
        payload: dict[str, Any] = {**head, "choices": [choice]}
        if include_usage:
            payload["usage"] = None
        return _sse(payload)

    # Content chunks are the hot path: only the text is serialized per chunk.
    before, after = _split_template(chunk(endpoint.text_fields(_MARK)), _MARK)

    if endpoint.opening is not None:
        yield chunk(endpoint.opening)
    try:
        async for piece in generation.pieces():
            yield before + _json_str(piece) + after
    except GenerationFailedError:
        yield _stream_error("generation failed")
        yield _DONE
        return
    reason = _openai_reason(generation)
    if reason is None:
        yield _stream_error("the generation was aborted")
        yield _DONE
        return
    yield chunk(endpoint.closing, reason)
    if include_usage:
        yield _sse({**head, "choices": [], "usage": _usage(generation).model_dump()})
    yield _DONE
