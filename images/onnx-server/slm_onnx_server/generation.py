"""One request's generation on the event loop: admission, decoding, stop strings, metrics.

Tokens arrive from the engine thread as Steps on the job's asyncio queue. Whatever has
piled up while the HTTP side was busy is decoded and sent as one piece, so a client that
reads slower than the model generates gets fewer, larger chunks instead of falling behind.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from slm_onnx_server.engine import EngineWorker, Finish, Job, SamplingParams, Step, TokenArray
from slm_onnx_server.metrics import ServerMetrics
from slm_onnx_server.textstream import StopMatcher


class OverloadedError(Exception):
    """Every running and queued slot is taken."""


class GenerationRejectedError(Exception):
    """The engine refused the request's parameters; a client error."""


class GenerationFailedError(Exception):
    """The engine failed while generating; a server error."""


@dataclass
class Outcome:
    """What a finished (or abandoned) generation reports for usage, logs and metrics."""

    prompt_tokens: int
    completion_tokens: int = 0
    finish_reason: str | None = None


class GenerationService:
    """Admission control in front of the engine: bounded running + queued requests."""

    def __init__(self, worker: EngineWorker, metrics: ServerMetrics, *, max_in_flight: int) -> None:
        self.worker = worker
        self.metrics = metrics
        self.max_in_flight = max_in_flight
        self.in_flight = 0

    def start(self, prompt: TokenArray, params: SamplingParams, stops: list[str], arrived: float) -> Generation:
        """Admit a request or raise OverloadedError; the caller must close() what it gets."""
        if self.in_flight >= self.max_in_flight:
            raise OverloadedError
        generation = Generation(self, prompt, params, stops, arrived)
        self.in_flight += 1
        self.metrics.waiting.inc()
        try:
            self.worker.submit(generation.job)
        except BaseException:
            generation.close()
            raise
        return generation


class Generation:
    """Iterate `pieces()` for text; `outcome` holds the counts once it is exhausted."""

    def __init__(
        self,
        service: GenerationService,
        prompt: TokenArray,
        params: SamplingParams,
        stops: list[str],
        arrived: float,
    ) -> None:
        self._service = service
        self._metrics = service.metrics
        self.job = Job(prompt=prompt, params=params)
        self.outcome = Outcome(prompt_tokens=len(prompt))
        self._arrived = arrived
        self._stream = service.worker.tokenizer.create_stream()
        self._stops = StopMatcher(stops)
        self._last_token_at: float | None = None
        self._pending: list[Step] | None = None
        self._closed = False

    async def first(self) -> None:
        """Wait for the first step, so that a refused request can still get a 4xx status."""
        steps = await self.job.mailbox.take()
        finish = steps[0].finish
        if finish is not None and not steps[0].tokens and finish.reason == "error":
            self.outcome.finish_reason = "error"
            self.close()
            raise (GenerationRejectedError if finish.rejected else GenerationFailedError)(
                finish.message or "generation failed"
            )
        self._pending = steps

    async def pieces(self) -> AsyncIterator[str]:
        """Decoded text, in as few pieces as the client's pace allows; ends at a finish."""
        try:
            while self.outcome.finish_reason is None:
                if self._pending is not None:
                    steps, self._pending = self._pending, None
                else:
                    steps = await self.job.mailbox.take()
                counted = self.outcome.completion_tokens
                text = "".join(self._consume(step) for step in steps)
                if self.outcome.completion_tokens > counted:
                    self._metrics.generation_tokens.inc(self.outcome.completion_tokens - counted)
                if self.outcome.finish_reason == "error":
                    raise GenerationFailedError("generation failed")
                if text:
                    yield text
        finally:
            self.close()

    def _consume(self, step: Step) -> str:
        if self.outcome.finish_reason is not None:
            return ""  # tokens that raced a stop-string match or a cancel are not part of the answer
        out: list[str] = []
        for token in step.tokens:
            self._count_token(step.at)
            piece, matched = self._stops.feed(self._stream.decode(token))
            out.append(piece)
            if matched:
                self.outcome.finish_reason = "stop"
                self._service.worker.cancel(self.job)
                return "".join(out)
        if step.finish is not None:
            self._finish(step.finish)
            out.append(self._stops.flush())
        return "".join(out)

    def _count_token(self, at: float) -> None:
        metrics = self._metrics
        if self._last_token_at is None:
            metrics.waiting.dec()
            metrics.running.inc()
            metrics.prompt_tokens.inc(self.outcome.prompt_tokens)
            metrics.ttft.observe(max(0.0, at - self._arrived))
        else:
            metrics.itl.observe(max(0.0, at - self._last_token_at))
        self._last_token_at = at
        self.outcome.completion_tokens += 1

    def _finish(self, finish: Finish) -> None:
        self.outcome.finish_reason = finish.reason

    def close(self) -> None:
        """Idempotent: cancel the job if it still runs, then settle gauges and counters."""
        if self._closed:
            return
        self._closed = True
        if self.outcome.finish_reason is None:
            self.outcome.finish_reason = "abort"
            self._service.worker.cancel(self.job)
        self._service.in_flight -= 1
        metrics = self._metrics
        (metrics.running if self._last_token_at is not None else metrics.waiting).dec()
        metrics.finished(self.outcome.finish_reason)
        metrics.e2e.observe(max(0.0, time.perf_counter() - self._arrived))
        metrics.request_prompt_tokens.observe(self.outcome.prompt_tokens)
        metrics.request_generation_tokens.observe(self.outcome.completion_tokens)


async def collect(generation: Generation) -> str:
    """The whole answer, for non-streaming responses."""
    return "".join([piece async for piece in generation.pieces()])
