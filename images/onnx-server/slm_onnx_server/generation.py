"""One request's generation on the event loop: admission, decoding, stop strings, metrics.

Tokens arrive from the engine thread as Outputs in the job's mailbox. Whatever has
piled up while the HTTP side was busy is decoded and sent as one piece, so a client that
reads slower than the model generates gets fewer, larger chunks instead of falling behind.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from slm_onnx_server.engine import EngineWorker, Job, Output, SamplingParams, TokenArray
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
        self._pending: list[Output] | None = None
        self._closed = False

    async def first(self) -> None:
        """Wait for the first step, so that a refused request can still get a 4xx status."""
        outputs = await self.job.mailbox.take()
        finish = outputs[0].finish
        if finish is not None and not outputs[0].tokens and finish.reason == "error":
            self.outcome.finish_reason = "error"
            self.close()
            raise (GenerationRejectedError if finish.rejected else GenerationFailedError)(
                finish.message or "generation failed"
            )
        self._pending = outputs

    async def pieces(self) -> AsyncIterator[str]:
        """Decoded text, in as few pieces as the client's pace allows; ends at a finish."""
        try:
            while self.outcome.finish_reason is None:
                if self._pending is not None:
                    outputs, self._pending = self._pending, None
                else:
                    outputs = await self.job.mailbox.take()
                text = self._decode(outputs)
                if self.outcome.finish_reason == "error":
                    raise GenerationFailedError("generation failed")
                if text:
                    yield text
        finally:
            self.close()

    def _decode(self, outputs: list[Output]) -> str:
        """Text of the outputs' tokens, counted and timed; the loop's per-token hot path."""
        outcome = self.outcome
        decode = self._stream.decode
        feed = self._stops.feed if self._stops.active else None
        observe_itl = self._metrics.itl.observe
        last = self._last_token_at
        out: list[str] = []
        counted = 0
        for tokens, times, finish in outputs:
            if outcome.finish_reason is not None:
                break  # tokens that raced a stop-string match or a cancel are not part of the answer
            for token, at in zip(tokens, times, strict=True):
                if last is None:
                    self._first_token(at)
                else:
                    observe_itl(max(0.0, at - last))
                last = at
                counted += 1
                piece = decode(token)
                if feed is not None:
                    piece, matched = feed(piece)
                    if matched:
                        out.append(piece)
                        outcome.finish_reason = "stop"
                        self._service.worker.cancel(self.job)
                        break
                out.append(piece)
            else:
                if finish is not None:
                    outcome.finish_reason = finish.reason
                    out.append(self._stops.flush())
        self._last_token_at = last
        if counted:
            outcome.completion_tokens += counted
            self._metrics.generation_tokens.inc(counted)
        return "".join(out)

    def _first_token(self, at: float) -> None:
        metrics = self._metrics
        metrics.waiting.dec()
        metrics.running.inc()
        metrics.prompt_tokens.inc(self.outcome.prompt_tokens)
        metrics.ttft.observe(max(0.0, at - self._arrived))

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
