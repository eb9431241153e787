"""Token generation on onnxruntime-genai, off the event loop.

onnxruntime-genai's Engine batches concurrent requests: one `run()` call advances every
scheduled request by one step. Its contract is single-threaded: the Engine, its Requests
and their TurnOptions may only be touched from the thread that created the Engine. So one
owner thread (EngineWorker) loads the model, creates the Engine and pumps it; the event
loop talks to it only through a command queue (submit, cancel), and the owner thread hands
tokens back through an Outbox (one loop wake-up per batch of steps). The native `run()` releases the
GIL, so HTTP work and token decoding on the event loop overlap with the model's compute.

Two kinds of batching exist, chosen by the model folder, not by this server:
- dynamic (continuous) batching, for paged-attention models (CUDA/WebGPU builds whose
  genai_config.json has `engine.dynamic_batching`): requests join a running batch at any
  step, and per-request seeds are supported natively;
- static batching, for every other model, including all CPU models: a batch, once started,
  runs until its last request finishes and later requests wait for the next batch. An idle
  engine therefore waits up to `batch_wait_ms` for concurrent arrivals before it starts a
  batch. Static batching rejects per-request seeds, so sampled requests that carry a `seed`
  run instead on a small pool of classic `og.Generator` loops (SeededPool), one thread
  each, where `random_seed` is honoured.

Stop strings are matched by the caller on decoded text (textstream.StopMatcher), the same
way for both kinds of batching, so that they never leak into a streamed response.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, cast

import numpy as np
import numpy.typing as npt
import onnxruntime_genai as og

log = logging.getLogger("slm_onnx_server.engine")

TokenArray = npt.NDArray[np.int32]
INT32_SEED_MASK = 0x7FFFFFFF


class Arrivals:
    """Requests still being parsed and tokenized, counted on the event loop.

    With static batching, an idle engine about to start a batch waits (up to batch_wait_ms)
    while this is above zero: those requests will be submitted within milliseconds, and a
    batch they miss would make them wait for its whole length.
    """

    def __init__(self) -> None:
        self.count = 0

    @contextmanager
    def track(self) -> Iterator[Callable[[], None]]:
        """Yields `submitted`, to call once the request is handed to the engine (or not at all)."""
        self.count += 1
        pending = True

        def submitted() -> None:
            nonlocal pending
            if pending:
                pending = False
                self.count -= 1

        try:
            yield submitted
        finally:
            submitted()


class EngineUnavailableError(RuntimeError):
    """The engine failed or is shutting down; new work is refused."""


@dataclass(frozen=True)
class SamplingParams:
    """What a request asked for; None means the model's genai_config.json default."""

    max_tokens: int
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    seed: int | None = None

    @property
    def sampling(self) -> bool | None:
        """True to sample, False for greedy decoding, None to keep the model's default."""
        if self.temperature is not None:
            return self.temperature > 0
        if (self.top_p is not None and self.top_p < 1.0) or (self.top_k is not None and self.top_k > 1):
            return True
        return None


@dataclass(frozen=True)
class Finish:
    """How a generation ended. `reason` is one of stop, length, abort, error."""

    reason: str
    generated_tokens: int
    message: str | None = None
    # The engine refused the request before generating (a bad parameter): a 4xx, not a 5xx.
    rejected: bool = False


class Step(NamedTuple):
    """What one engine step produced for one request (a tuple: built once per token, cheaply)."""

    tokens: tuple[int, ...]
    at: float
    finish: Finish | None = None


class Mailbox:
    """A job's steps on the event loop: `take()` waits for and returns all that arrived.

    Lighter than an asyncio.Queue, whose per-item get/put the hot path does not need: the
    reader always wants everything at once.
    """

    __slots__ = ("_steps", "_waiter")

    def __init__(self) -> None:
        self._steps: list[Step] = []
        self._waiter: asyncio.Future[None] | None = None

    def put(self, step: Step) -> None:
        """Event loop only."""
        self._steps.append(step)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def take(self) -> list[Step]:
        """Every step not yet taken, oldest first; waits for at least one. One reader at a time."""
        while not self._steps:
            waiter = asyncio.get_running_loop().create_future()
            self._waiter = waiter
            try:
                await waiter
            finally:
                self._waiter = None
        steps, self._steps = self._steps, []
        return steps


@dataclass(eq=False)
class Job:
    """One generation request, owned by the event loop; the worker only reads its inputs."""

    prompt: TokenArray
    params: SamplingParams
    mailbox: Mailbox = field(default_factory=Mailbox)
    # Set from the event loop, read by worker threads between steps.
    cancelled: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class ModelInfo:
    """Facts about the loaded model the HTTP layer validates requests against."""

    context_length: int
    vocab_size: int
    dynamic_batching: bool
    max_batch_size: int


def read_model_info(model_dir: Path) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads((model_dir / "genai_config.json").read_text()))


_FINISH_REASONS: dict[int, str] = {
    int(og.FinishReason.EOS): "stop",
    int(og.FinishReason.STOP_STRING): "stop",
    int(og.FinishReason.MAX_GENERATED_TOKENS): "length",
    int(og.FinishReason.MAX_SESSION_TOKENS): "length",
    int(og.FinishReason.CANCELLED): "abort",
    int(og.FinishReason.FAILED): "error",
}
_TOKEN = int(og.EngineEventFlags.TOKEN)
_FINISHED = int(og.EngineEventFlags.TURN_FINISHED)
_FAILED = int(og.EngineEventFlags.FAILED)
_BLOCKED = int(og.EngineEventFlags.CAPACITY_BLOCKED) | int(og.EngineEventFlags.RETRYABLE)


def finish_reason_name(reason: int) -> str:
    """onnxruntime-genai's finish reason as the OpenAI / vLLM label."""
    return _FINISH_REASONS.get(reason, "error")


class Outbox:
    """Hands steps from worker threads to the event loop, waking it at a bounded rate.

    One wake-up of the loop carries everything produced since the previous one. Wake-ups
    are at least `min_interval` seconds apart: when the model steps faster than that, its
    tokens wait (at most one interval, plus one step) and go out together, so the loop,
    the HTTP layer and the client handle one chunk per interval instead of one per token,
    and the engine thread waits less for the GIL. Urgent steps (a request's first token,
    a finish) never wait, so time to first token and the end of a stream are not delayed.
    A model slower than the interval per step is woken for every step, as without a limit.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, min_interval: float = 0.0) -> None:
        self._loop = loop
        self._min_interval = min_interval
        self._items: deque[tuple[Job, Step]] = deque()
        self._lock = threading.Lock()
        self._scheduled = False
        self._woken_at = -math.inf

    def send(self, items: list[tuple[Job, Step]], *, urgent: bool = True) -> None:
        """Any thread. Non-urgent items may wait for a later send() or release()."""
        self._items.extend(items)
        if self._scheduled:
            return  # the flush already scheduled runs after this extend
        if not urgent and time.perf_counter() - self._woken_at < self._min_interval:
            return  # held; a stale read of _woken_at only shifts one wake-up by a step
        self._wake()

    def release(self) -> None:
        """Any thread: wake the loop now for whatever is waiting (before a long step)."""
        self._wake()

    def _wake(self) -> None:
        with self._lock:
            if self._scheduled or not self._items:
                return
            self._scheduled = True
            self._woken_at = time.perf_counter()
        with suppress(RuntimeError):  # a closed event loop: nobody is waiting any more
            self._loop.call_soon_threadsafe(self._flush)

    def _flush(self) -> None:
        with self._lock:
            self._scheduled = False
        items = self._items
        while items:
            job, step = items.popleft()
            job.mailbox.put(step)


class _Active:
    """Worker-side state of a job admitted to the Engine."""

    __slots__ = ("finish", "job", "request", "started", "tokens", "turn_id")

    def __init__(self, job: Job, request: Any, turn_id: int) -> None:
        self.job = job
        self.request = request
        self.turn_id = turn_id
        self.started = False  # has produced its first token
        # What the current step produced, gathered from its events.
        self.tokens: list[int] = []
        self.finish: Finish | None = None


class EngineWorker:
    """The Engine's owner thread: loads the model, then admits, steps and cancels requests."""

    def __init__(
        self,
        model_dir: Path,
        loop: asyncio.AbstractEventLoop,
        *,
        max_running: int,
        batch_wait_ms: float,
        seeded_workers: int,
        stream_interval_ms: float = 0.0,
        execution_provider: str | None = None,
        intra_op_threads: int | None = None,
    ) -> None:
        self._model_dir = model_dir
        self._intra_op_threads = intra_op_threads
        self._loop = loop
        self._outbox = Outbox(loop, stream_interval_ms / 1000.0)
        self._max_running = max_running
        self._batch_wait = batch_wait_ms / 1000.0
        self._seeded_workers = seeded_workers
        self._execution_provider = execution_provider
        self._commands: queue.SimpleQueue[tuple[str, Job | None]] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._main, name="ortgenai-engine", daemon=True)
        self._ready: asyncio.Future[None] = loop.create_future()
        self._failed: str | None = None
        self._stopping = False
        self._active: dict[int, _Active] = {}
        self.info: ModelInfo | None = None
        self.tokenizer: Any = None
        self._pool: SeededPool | None = None
        self.arrivals = Arrivals()
        self._default_sampling = False

    # -- event-loop side -----------------------------------------------------------------

    async def start(self) -> ModelInfo:
        """Load the model on the owner thread and run one warm-up generation."""
        self._thread.start()
        await self._ready
        assert self.info is not None
        return self.info

    @property
    def healthy(self) -> bool:
        return self.info is not None and self._failed is None and self._thread.is_alive() and not self._stopping

    def submit(self, job: Job) -> None:
        if not self.healthy:
            raise EngineUnavailableError(self._failed or "the engine is not running")
        p = job.params
        sampling = p.sampling if p.sampling is not None else self._default_sampling
        if self._pool is not None and p.seed is not None and sampling:
            self._pool.submit(job)
        else:
            self._commands.put(("submit", job))

    def cancel(self, job: Job) -> None:
        """Stop a generation at the next step; a finished or unknown job is ignored."""
        job.cancelled.set()
        self._commands.put(("cancel", job))

    def stop(self, timeout: float = 10.0) -> None:
        """Abort whatever still runs, free the engine, and end the threads."""
        self._commands.put(("stop", None))
        if self._pool is not None:
            self._pool.stop()
        self._thread.join(timeout)

    # -- owner thread --------------------------------------------------------------------

    def _resolve_ready(self, error: BaseException | None) -> None:
        def resolve() -> None:
            if self._ready.done():
                return
            if error is None:
                self._ready.set_result(None)
            else:
                self._ready.set_exception(error)

        self._loop.call_soon_threadsafe(resolve)

    def _main(self) -> None:
        try:
            engine = self._load()
            self._warm_up(engine)
        except Exception as error:
            self._failed = f"model failed to load: {error}"
            self._resolve_ready(error)
            return
        self._resolve_ready(None)
        try:
            self._pump(engine)
        except Exception as error:
            log.exception("engine loop failed")
            self._failed = f"engine failed: {error}"
            self._fail_all(str(error))
        finally:
            self._close_all()

    def _load(self) -> Any:
        config_json = read_model_info(self._model_dir)
        dynamic = isinstance(config_json.get("engine", {}).get("dynamic_batching"), dict)
        config = og.Config(str(self._model_dir))
        kind = "dynamic_batching" if dynamic else "static_batching"
        overlay: dict[str, Any] = {"engine": {kind: {"max_batch_size": self._max_running}}}
        if self._intra_op_threads is not None:
            session = {"intra_op_num_threads": self._intra_op_threads}
            overlay["model"] = {"decoder": {"session_options": session}}
        config.overlay(json.dumps(overlay))
        if self._execution_provider is not None:
            config.clear_providers()
            if self._execution_provider != "cpu":
                config.append_provider(self._execution_provider)
        model = og.Model(config)
        self.tokenizer = og.Tokenizer(model)
        engine = og.Engine(model)
        search = config_json.get("search", {})
        self._default_sampling = bool(search.get("do_sample", False))
        model_section = config_json.get("model", {})
        context = int(search.get("max_length") or model_section.get("context_length") or 0)
        capabilities = engine.get_capabilities()
        if int(capabilities.max_request_length) > 0:
            context = min(context, int(capabilities.max_request_length))
        self.info = ModelInfo(
            context_length=context,
            vocab_size=int(model_section.get("vocab_size", 0)),
            dynamic_batching=dynamic,
            max_batch_size=int(capabilities.configured_max_batch_size),
        )
        self._buffer = engine.create_event_buffer(4 * self._max_running + 16)
        if not dynamic:
            self._pool = SeededPool(model, self._outbox, self._seeded_workers, self.tokenizer)
        log.info(
            "model loaded",
            extra={
                "fields": {
                    "batching": "dynamic" if dynamic else "static",
                    "max_batch_size": self.info.max_batch_size,
                    "context_length": context,
                }
            },
        )
        return engine

    def _warm_up(self, engine: Any) -> None:
        """/health turns green only once a real token has come out of the engine."""
        prompt = np.asarray(self.tokenizer.encode("Hello"), dtype=np.int32)
        request = engine.create_request()
        options = og.TurnOptions(request)
        options.set_max_generated_tokens(1)
        request.begin_turn(prompt, options)
        tokens = 0
        deadline = time.monotonic() + 600
        while engine.has_pending_requests() and time.monotonic() < deadline:
            for event in engine.run(self._buffer):
                flags = int(event.flags)
                if flags & _FAILED:
                    raise RuntimeError(f"warm-up generation failed: {event.error_code}")
                tokens += bool(flags & _TOKEN)
        request.close()
        if tokens != 1:
            raise RuntimeError("warm-up generation produced no token")

    def _pump(self, engine: Any) -> None:
        commands = self._commands
        pending = engine.has_pending_requests
        while True:
            if not pending():
                if self._stopping:
                    return
                self._handle(engine, commands.get())
                if self.info is not None and not self.info.dynamic_batching:
                    self._gather_batch(engine)
            if not commands.empty():
                self._drain(engine)
                self._outbox.release()  # a new request's prefill may make the next step long
            if pending():
                self._step(engine)
            elif self._stopping and not self._active:
                return

    def _gather_batch(self, engine: Any) -> None:
        """Static batching: give concurrent arrivals a moment to join the batch about to start."""
        if self._batch_wait <= 0:
            return
        deadline = time.monotonic() + self._batch_wait
        quiet_gap = min(0.002, self._batch_wait)
        while len(self._active) < self._max_running and not self._stopping:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                command = self._commands.get(timeout=min(remaining, quiet_gap))
            except queue.Empty:
                if self.arrivals.count > 0:
                    continue  # a request is being parsed or tokenized right now
                return
            self._handle(engine, command)

    def _drain(self, engine: Any) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            self._handle(engine, command)

    def _handle(self, engine: Any, command: tuple[str, Job | None]) -> None:
        kind, job = command
        if kind == "stop":
            self._stopping = True
            for active in list(self._active.values()):
                active.request.cancel_turn(active.turn_id)
        elif kind == "submit" and job is not None:
            self._admit(engine, job)
        elif kind == "cancel" and job is not None:
            for active in self._active.values():
                if active.job is job:
                    active.request.cancel_turn(active.turn_id)
                    break

    def _admit(self, engine: Any, job: Job) -> None:
        if job.cancelled.is_set() or self._stopping:
            self._send([(job, Step((), time.perf_counter(), Finish("abort", 0)))])
            return
        params = job.params
        request = None
        try:
            request_options = og.RequestOptions()
            request_options.set_max_session_tokens(len(job.prompt) + params.max_tokens)
            request = engine.create_request(options=request_options)
            options = og.TurnOptions(request)
            options.set_max_generated_tokens(params.max_tokens)
            apply_sampling(options, params, dynamic=bool(self.info and self.info.dynamic_batching))
            turn_id = request.begin_turn(job.prompt, options)
        except (RuntimeError, ValueError) as error:
            if request is not None:
                request.close()
            finish = Finish("error", 0, message=str(error), rejected=True)
            self._send([(job, Step((), time.perf_counter(), finish))])
            return
        self._active[id(request)] = _Active(job, request, int(turn_id))

    def _step(self, engine: Any) -> None:
        """One engine step; its tokens and finishes go to the outbox. This is the hot path of the
        engine thread: the loop's work is what slows decoding down, so it stays lean."""
        events = engine.run(self._buffer)
        now = time.perf_counter()
        by_request = self._active
        touched: list[_Active] = []
        blocked = False
        # By index: the event buffer has no iterator, and Python's fallback ends a for loop over
        # it with an IndexError thrown as a C++ exception, which costs more than the whole loop.
        for i in range(len(events)):
            event = events[i]
            flags = int(event.flags)
            if flags & _BLOCKED:
                blocked = True
                continue
            request = event.request
            if request is None:
                if flags & _FAILED:
                    raise RuntimeError(f"engine failure: {event.error_code}")
                continue
            active = by_request.get(id(request))
            if active is None:
                continue
            if not active.tokens and active.finish is None:
                touched.append(active)
            if flags & _TOKEN:
                active.tokens.append(int(event.token))
            if flags & _FINISHED:
                reason = finish_reason_name(int(event.finish_reason))
                message = f"generation failed: {event.error_code}" if reason == "error" else None
                active.finish = Finish(reason, int(event.usage.generated_tokens), message)
        if not touched:
            if blocked:
                time.sleep(0.001)  # capacity pressure: let running requests finish first
            return
        items: list[tuple[Job, Step]] = []
        urgent = False
        for active in touched:
            finish = active.finish
            items.append((active.job, Step(tuple(active.tokens), now, finish)))
            active.tokens.clear()
            if finish is not None:
                urgent = True
                del by_request[id(active.request)]
                active.request.close()
            elif not active.started:
                urgent = active.started = True
        self._outbox.send(items, urgent=urgent)

    def _send(self, items: list[tuple[Job, Step]]) -> None:
        """Finishes and refusals: never held."""
        self._outbox.send(items)

    def _fail_all(self, message: str) -> None:
        now = time.perf_counter()
        self._send([(a.job, Step((), now, Finish("error", 0, message=message))) for a in self._active.values()])
        self._active.clear()

    def _close_all(self) -> None:
        now = time.perf_counter()
        self._send([(a.job, Step((), now, Finish("abort", 0))) for a in self._active.values()])
        for active in self._active.values():
            active.request.close()
        self._active.clear()
        # Commands that arrived too late still get an answer, so no caller waits forever.
        self._stopping = True
        while True:
            try:
                kind, job = self._commands.get_nowait()
            except queue.Empty:
                break
            if kind == "submit" and job is not None:
                self._send([(job, Step((), now, Finish("abort", 0)))])


def apply_sampling(options: Any, params: SamplingParams, *, dynamic: bool) -> None:
    """Map OpenAI sampling fields onto og.TurnOptions without contradicting greedy decoding.

    The engine rejects a turn whose explicit top_p/top_k/temperature contradict the
    resolved greedy-or-sample choice, so distribution fields are only set when sampling.
    """
    sampling = params.sampling
    if sampling is False:
        options.set_do_sample(False)
        return
    if sampling is None:
        return
    options.set_do_sample(True)
    if params.temperature is not None:
        options.set_temperature(params.temperature)
    if params.top_p is not None:
        options.set_top_p(params.top_p)
    if params.top_k is not None:
        options.set_top_k(max(params.top_k, 0))
    if params.seed is not None and dynamic:
        options.set_seed(params.seed & 0xFFFFFFFFFFFFFFFF)


class SeededPool:
    """Classic og.Generator loops for seeded sampling when the Engine cannot reseed per turn.

    A bounded set of threads, each running one request at a time with `random_seed` set;
    waiting requests queue here. Cancellation is checked before every token.
    """

    def __init__(self, model: Any, outbox: Outbox, workers: int, tokenizer: Any) -> None:
        self._model = model
        self._outbox = outbox
        self._eos = frozenset(int(t) for t in tokenizer.eos_token_ids)
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"ortgenai-seeded-{i}", daemon=True) for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, job: Job) -> None:
        self._jobs.put(job)

    def stop(self) -> None:
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join(5)

    def _emit(self, job: Job, step: Step, *, urgent: bool = True) -> None:
        self._outbox.send([(job, step)], urgent=urgent)

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                self._generate(job)
            except Exception as error:
                log.exception("seeded generation failed")
                self._emit(job, Step((), time.perf_counter(), Finish("error", 0, message=str(error))))

    def _generate(self, job: Job) -> None:
        if job.cancelled.is_set():
            self._emit(job, Step((), time.perf_counter(), Finish("abort", 0)))
            return
        p = job.params
        assert p.seed is not None
        search: dict[str, Any] = {
            "max_length": len(job.prompt) + p.max_tokens,
            "do_sample": True,
            "random_seed": p.seed & INT32_SEED_MASK,
        }
        if p.temperature is not None:
            search["temperature"] = p.temperature
        if p.top_p is not None:
            search["top_p"] = p.top_p
        if p.top_k is not None:
            search["top_k"] = max(p.top_k, 0)
        params = og.GeneratorParams(self._model)
        try:
            params.set_search_options(**search)
            generator = og.Generator(self._model, params)
            generator.append_tokens(job.prompt)
        except (RuntimeError, ValueError) as error:
            self._emit(job, Step((), time.perf_counter(), Finish("error", 0, message=str(error), rejected=True)))
            return
        generated = 0
        while True:
            if job.cancelled.is_set():
                self._emit(job, Step((), time.perf_counter(), Finish("abort", generated)))
                return
            if generator.is_done():
                reason = "length" if generated >= p.max_tokens else "stop"
                self._emit(job, Step((), time.perf_counter(), Finish(reason, generated)))
                return
            generator.generate_next_token()
            token = int(generator.get_next_tokens()[0])
            if token in self._eos:
                self._emit(job, Step((), time.perf_counter(), Finish("stop", generated)))
                return
            generated += 1
            finish = Finish("length", generated) if generated >= p.max_tokens else None
            self._emit(job, Step((token,), time.perf_counter(), finish), urgent=finish is not None or generated == 1)
            if finish is not None:
                return
