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
from slm_onnx_server.engine import EngineUnavailable, EngineWorker, ModelInfo, SamplingParams, TokenArray
from slm_onnx_server.generation import (
    Generation,
    GenerationFailed,
    GenerationRejected,
    GenerationService,
    Overloaded,
    collect,
)
from slm_onnx_server.metrics import ServerMetrics
from slm_onnx_server.middleware import AccessLogMiddleware, BodyLimitMiddleware, record_of
from slm_onnx_server.schemas import (
    ChatChoice,
    ChatCompletion,
    ChatCompletionRequest,
    Completion,
    CompletionChoice,
    CompletionRequest,
    ModelCard,
    ModelList,
    ResponseMessage,
    Usage,
    error_body,
)

log = logging.getLogger("slm_onnx_server")
T = TypeVar("T")

_ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    404: ("invalid_request_error", "not_found"),
    405: ("invalid_request_error", "method_not_allowed"),
    413: ("invalid_request_error", "request_too_large"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
    503: ("service_unavailable", "service_unavailable"),
}


class ApiError(Exception):
    """An OpenAI-style error response; the message must not quote the request's content."""

    def __init__(
        self, status: int, message: str, *, code: str | None = None, param: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type, default_code = _ERROR_TYPES.get(status, ("server_error", "internal_error"))
        self.code = code or default_code
        self.param = param
        self.headers = headers

    def response(self) -> JSONResponse:
        body = error_body(self.message, self.error_type, self.code, self.param)
        return JSONResponse(body, status_code=self.status, headers=self.headers)


class ClientGone(Exception):
    """The client closed the connection before the answer was ready."""


@dataclass
class Runtime:
    """What the lifespan builds: the engine, admission control and model facts."""

    worker: EngineWorker
    service: GenerationService
    info: ModelInfo
    tokenize: ThreadPoolExecutor
    created: int


def _validation_message(error: ValidationError) -> tuple[str, str | None]:
    """First problem, by field path, without echoing the submitted value."""
    first = error.errors(include_input=False, include_url=False)[0]
    loc = ".".join(str(part) for part in first["loc"])
    if first["type"] == "json_invalid":
        return "request body is not valid JSON", None
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
        raise ClientGone
    return work.result()


def create_app(settings: Settings, keys: frozenset[str] | None) -> FastAPI:
    """An app for one model; the model loads during the lifespan startup (before binding)."""
    metrics = ServerMetrics(settings.served_model_name)
    checker = ApiKeyChecker(keys)
    holder: dict[str, Runtime] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        worker = EngineWorker(
            settings.model_dir,
            asyncio.get_running_loop(),
            max_running=settings.max_running,
            batch_wait_ms=settings.batch_wait_ms,
            seeded_workers=settings.seeded_workers,
            execution_provider=settings.execution_provider,
        )
        info = await worker.start()
        service = GenerationService(worker, metrics, max_in_flight=settings.max_running + settings.max_queued)
        holder["rt"] = Runtime(worker, service, info, ThreadPoolExecutor(1, "tokenize"), int(time.time()))
        log.info("ready", extra={"fields": {"model": settings.served_model_name, "port": settings.port}})
        try:
            yield
        finally:
            log.info("stopping the engine")
            await asyncio.to_thread(worker.stop)
            holder["rt"].tokenize.shutdown(wait=False)

    app = FastAPI(title="slm-onnx-server", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    def runtime() -> Runtime:
        rt = holder.get("rt")
        if rt is None or not rt.worker.healthy:
            raise ApiError(503, "the model is not ready")
        return rt

    async def require_key(request: Request) -> None:
        if not checker.allows(request.headers.get("authorization")):
            raise ApiError(
                401,
                "missing or invalid API key: send 'Authorization: Bearer <key>'",
                headers={"WWW-Authenticate": "Bearer"},
            )

    v1 = APIRouter(prefix="/v1", dependencies=[Depends(require_key)])

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, error: ApiError) -> Response:
        return error.response()

    @app.exception_handler(HTTPException)
    async def _http_error(_: Request, error: HTTPException) -> Response:
        return ApiError(error.status_code, str(error.detail), headers=error.headers).response()

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(_: Request, error: RequestValidationError) -> Response:
        return ApiError(400, "invalid request").response()

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, error: Exception) -> Response:
        log.exception("unexpected error")
        return ApiError(500, "internal server error").response()

    @app.get("/health")
    async def health() -> Response:
        rt = holder.get("rt")
        if rt is None or not rt.worker.healthy:
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/metrics")
    async def prometheus_metrics() -> Response:
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @v1.get("/models")
    async def models() -> ModelList:
        rt = runtime()
        card = ModelCard(id=settings.served_model_name, created=rt.created, max_model_len=rt.info.context_length)
        return ModelList(data=[card])

    async def parse(request: Request, model: type[T]) -> T:
        body = await request.body()
        try:
            parsed = model.model_validate_json(body)  # type: ignore[attr-defined]
        except ValidationError as error:
            message, param = _validation_message(error)
            raise ApiError(400, message, param=param) from None
        if parsed.model != settings.served_model_name:
            raise ApiError(404, f"the model '{parsed.model}' does not exist", code="model_not_found", param="model")
        return parsed  # type: ignore[no-any-return]

    async def encode(rt: Runtime, make_text: Callable[[], str]) -> TokenArray:
        tokenizer = rt.worker.tokenizer

        def work() -> TokenArray:
            return np.asarray(tokenizer.encode(make_text()), dtype=np.int32)

        try:
            return await asyncio.get_running_loop().run_in_executor(rt.tokenize, work)
        except (RuntimeError, ValueError) as error:
            raise ApiError(400, f"the prompt could not be tokenized: {type(error).__name__}") from None

    def budget(rt: Runtime, prompt: TokenArray, requested: int | None, what: str) -> int:
        context = rt.info.context_length
        size = len(prompt)
        if size == 0:
            raise ApiError(400, "the prompt is empty", param=what)
        if size >= context:
            raise ApiError(
                400,
                f"This model's maximum context length is {context} tokens, "
                f"but the {what} have {size} tokens.",
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
        request: Request, rt: Runtime, prompt: TokenArray, params: SamplingParams, stops: list[str], arrived: float
    ) -> Generation:
        try:
            generation = rt.service.start(prompt, params, stops, arrived)
        except Overloaded:
            raise ApiError(
                429,
                "the server is at capacity; retry later",
                headers={"Retry-After": str(settings.retry_after_seconds)},
            ) from None
        except EngineUnavailable:
            raise ApiError(503, "the model is not available") from None
        record_of(request.scope).outcome = generation.outcome
        try:
            await run_until_disconnect(request, generation.first())
        except GenerationRejected as error:
            raise ApiError(400, f"the engine refused the request: {error}") from None
        except GenerationFailed:
            raise ApiError(500, "generation failed") from None
        except BaseException:
            generation.close()
            raise
        return generation

    async def answer(request: Request, generation: Generation) -> str:
        try:
            text = await run_until_disconnect(request, collect(generation))
        except GenerationFailed:
            raise ApiError(500, "generation failed") from None
        if generation.outcome.finish_reason not in ("stop", "length"):
            raise ApiError(503, "the generation was aborted")
        return text

    def usage_of(generation: Generation) -> Usage:
        o = generation.outcome
        return Usage(
            prompt_tokens=o.prompt_tokens,
            completion_tokens=o.completion_tokens,
            total_tokens=o.prompt_tokens + o.completion_tokens,
        )

    def sampling(req: ChatCompletionRequest | CompletionRequest, max_tokens: int) -> SamplingParams:
        return SamplingParams(
            max_tokens=max_tokens, temperature=req.temperature, top_p=req.top_p, top_k=req.top_k, seed=req.seed
        )

    @v1.post("/chat/completions")
    async def chat_completions(request: Request) -> Response:
        arrived = time.perf_counter()
        req = await parse(request, ChatCompletionRequest)
        rt = runtime()
        record_of(request.scope).stream = req.stream
        messages = json.dumps([{"role": m.template_role(), "content": m.text()} for m in req.messages])
        tokenizer = rt.worker.tokenizer
        prompt = await encode(rt, lambda: str(tokenizer.apply_chat_template(messages, add_generation_prompt=True)))
        max_tokens = budget(rt, prompt, req.token_limit(), "messages")
        try:
            generation = await start(request, rt, prompt, sampling(req, max_tokens), req.stop_list(), arrived)
        except ClientGone:
            return Response(status_code=499)
        rid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        if req.stream:
            include_usage = bool(req.stream_options and req.stream_options.include_usage)
            events = chat_events(generation, rid, created, settings.served_model_name, include_usage)
            return sse_response(events)
        try:
            text = await answer(request, generation)
        except ClientGone:
            return Response(status_code=499)
        body = ChatCompletion(
            id=rid,
            created=created,
            model=settings.served_model_name,
            choices=[ChatChoice(message=ResponseMessage(content=text), finish_reason=_openai_reason(generation))],
            usage=usage_of(generation),
        )
        return JSONResponse(body.model_dump())

    @v1.post("/completions")
    async def completions(request: Request) -> Response:
        arrived = time.perf_counter()
        req = await parse(request, CompletionRequest)
        rt = runtime()
        record_of(request.scope).stream = req.stream
        text_prompt = req.prompt_text()
        prompt = await encode(rt, lambda: text_prompt)
        max_tokens = budget(rt, prompt, req.token_limit(), "prompt")
        try:
            generation = await start(request, rt, prompt, sampling(req, max_tokens), req.stop_list(), arrived)
        except ClientGone:
            return Response(status_code=499)
        rid, created = f"cmpl-{uuid.uuid4().hex}", int(time.time())
        if req.stream:
            include_usage = bool(req.stream_options and req.stream_options.include_usage)
            events = completion_events(generation, rid, created, settings.served_model_name, include_usage)
            return sse_response(events)
        try:
            text = await answer(request, generation)
        except ClientGone:
            return Response(status_code=499)
        body = Completion(
            id=rid,
            created=created,
            model=settings.served_model_name,
            choices=[CompletionChoice(text=text, finish_reason=_openai_reason(generation))],
            usage=usage_of(generation),
        )
        return JSONResponse(body.model_dump())

    app.include_router(v1)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(AccessLogMiddleware, metrics=metrics)
    return app


def _openai_reason(generation: Generation) -> Any:
    reason = generation.outcome.finish_reason
    return reason if reason in ("stop", "length") else None


def sse_response(events: AsyncIterator[str]) -> StreamingResponse:
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)


def _sse(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False, separators=(',', ':'))}\n\n"


_DONE = "data: [DONE]\n\n"


def _stream_error(message: str) -> str:
    return _sse(error_body(message, "server_error", "internal_error"))


def _usage_dict(generation: Generation) -> dict[str, int]:
    o = generation.outcome
    return {
        "prompt_tokens": o.prompt_tokens,
        "completion_tokens": o.completion_tokens,
        "total_tokens": o.prompt_tokens + o.completion_tokens,
    }


async def chat_events(
    generation: Generation, rid: str, created: int, model: str, include_usage: bool
) -> AsyncIterator[str]:
    """OpenAI chat.completion.chunk events, ending with `data: [DONE]`."""
    head = {"id": rid, "object": "chat.completion.chunk", "created": created, "model": model}

    def chunk(delta: dict[str, str], finish: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        payload: dict[str, Any] = {**head, "choices": [choice]}
        if include_usage:
            payload["usage"] = None
        return _sse(payload)

    yield chunk({"role": "assistant", "content": ""})
    try:
        async for piece in generation.pieces():
            yield chunk({"content": piece})
    except GenerationFailed:
        yield _stream_error("generation failed")
        yield _DONE
        return
    reason = _openai_reason(generation)
    if reason is None:
        yield _stream_error("the generation was aborted")
        yield _DONE
        return
    yield chunk({}, reason)
    if include_usage:
        yield _sse({**head, "choices": [], "usage": _usage_dict(generation)})
    yield _DONE


async def completion_events(
    generation: Generation, rid: str, created: int, model: str, include_usage: bool
) -> AsyncIterator[str]:
    """OpenAI text_completion events, ending with `data: [DONE]`."""
    head = {"id": rid, "object": "text_completion", "created": created, "model": model}

    def chunk(text: str, finish: str | None = None) -> str:
        choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": finish}
        payload: dict[str, Any] = {**head, "choices": [choice]}
        if include_usage:
            payload["usage"] = None
        return _sse(payload)

    try:
        async for piece in generation.pieces():
            yield chunk(piece)
    except GenerationFailed:
        yield _stream_error("generation failed")
        yield _DONE
        return
    reason = _openai_reason(generation)
    if reason is None:
        yield _stream_error("the generation was aborted")
        yield _DONE
        return
    yield chunk("", reason)
    if include_usage:
        yield _sse({**head, "choices": [], "usage": _usage_dict(generation)})
    yield _DONE
