"""Token generation on onnxruntime-genai, off the event loop.

onnxruntime-genai's Engine batches concurrent requests: one `run()` call advances every
scheduled request by one step. Its contract is single-threaded: the Engine, its Requests
and their TurnOptions may only be touched from the thread that created the Engine. So one
owner thread (EngineWorker) loads the model, creates the Engine and pumps it; the event
loop talks to it only through a command queue (submit, cancel), and the owner thread hands
tokens back through an Outbox. The native `run()` releases the GIL, so HTTP work and token
decoding on the event loop overlap with the model's compute.

Hand-overs are paced (`stream_interval_ms`): each wake-up of the event loop costs the
engine thread far more than the loop's own work (the GIL changes hands, and on a busy host
the woken thread takes a core the engine was using), so tokens of steps faster than the
interval are gathered and handed over together, at most once per interval. A request's
first token and its finish are handed over at once: time to first token and the end of a
stream never wait. A model slower than the interval per step hands over every step.

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
    message: str | None = None
    # The engine refused the request before generating (a bad parameter): a 4xx, not a 5xx.
    rejected: bool = False


class Output(NamedTuple):
    """What one request produced since its previous hand-over: tokens, when each came out
    of the engine (perf_counter, for the latency metrics), and the finish if it ended."""

    tokens: tuple[int, ...]
    times: tuple[float, ...]
    finish: Finish | None = None


def finished(finish: Finish) -> Output:
    """An Output that only ends the request."""
    return Output((), (), finish)


class Mailbox:
    """A job's outputs on the event loop: `take()` waits for and returns all that arrived.

    Lighter than an asyncio.Queue, whose per-item get/put the hot path does not need: the
    reader always wants everything at once.
    """

    __slots__ = ("_outputs", "_waiter")

    def __init__(self) -> None:
        self._outputs: list[Output] = []
        self._waiter: asyncio.Future[None] | None = None

    def put(self, output: Output) -> None:
        """Event loop only."""
        self._outputs.append(output)
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def take(self) -> list[Output]:
        """Every output not yet taken, oldest first; waits for at least one. One reader at a time."""
        while not self._outputs:
            waiter = asyncio.get_running_loop().create_future()
            self._waiter = waiter
            try:
                await waiter
            finally:
                self._waiter = None
        outputs, self._outputs = self._outputs, []
        return outputs


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
    """Hands outputs from worker threads to the event loop: one wake-up per batch of sends.

    A send while a wake-up is pending joins it, so when the loop falls behind, it catches
    up in fewer, larger batches.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._items: deque[tuple[Job, Output]] = deque()
        self._lock = threading.Lock()
        self._scheduled = False

    def send(self, items: list[tuple[Job, Output]]) -> None:
        """Any thread."""
        self._items.extend(items)
        with self._lock:
            if self._scheduled:
                return
            self._scheduled = True
        with suppress(RuntimeError):  # a closed event loop: nobody is waiting any more
            self._loop.call_soon_threadsafe(self._flush)

    def _flush(self) -> None:
        with self._lock:
            self._scheduled = False
        items = self._items
        while items:
            job, output = items.popleft()
            job.mailbox.put(output)


class _Active:
    """Worker-side state of a job admitted to the Engine, with what it produced since the
    previous hand-over."""

    __slots__ = ("finish", "gathering", "job", "request", "started", "times", "tokens", "turn_id")

    def __init__(self, job: Job, request: Any, turn_id: int) -> None:
        self.job = job
        self.request = request
        self.turn_id = turn_id
        self.started = False  # has produced its first token
        self.gathering = False  # is in EngineWorker._gathering
        self.tokens: list[int] = []
        self.times: list[float] = []
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
        stream_interval_ms: float,
        execution_provider: str | None = None,
        intra_op_threads: int | None = None,
        max_context_tokens: int | None = None,
    ) -> None:
        self._model_dir = model_dir
        self._intra_op_threads = intra_op_threads
        self._max_context_tokens = max_context_tokens
        self._loop = loop
        self._outbox = Outbox(loop)
        self._interval = stream_interval_ms / 1000.0
        self._handed_over_at = -math.inf
        self._gathering: list[_Active] = []  # requests with output not yet handed over
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
        search = config_json.get("search", {})
        model_section = config_json.get("model", {})
        context = int(search.get("max_length") or model_section.get("context_length") or 0)
        config = og.Config(str(self._model_dir))
        kind = "dynamic_batching" if dynamic else "static_batching"
        overlay: dict[str, Any] = {"engine": {kind: {"max_batch_size": self._max_running}}}
        if self._intra_op_threads is not None:
            session = {"intra_op_num_threads": self._intra_op_threads}
            overlay["model"] = {"decoder": {"session_options": session}}
        if self._max_context_tokens is not None:
            context = self._clamped_context(context, self._max_context_tokens)
            # search.max_length also sizes the KV cache of static batching: the clamp saves memory.
            overlay["search"] = {"max_length": context}
        config.overlay(json.dumps(overlay))
        if self._execution_provider is not None:
            config.clear_providers()
            if self._execution_provider != "cpu":
                config.append_provider(self._execution_provider)
        model = og.Model(config)
        self.tokenizer = og.Tokenizer(model)
        engine = og.Engine(model)
        self._default_sampling = bool(search.get("do_sample", False))
        capabilities = engine.get_capabilities()
        if int(capabilities.max_request_length) > 0:
            context = min(context, int(capabilities.max_request_length))
        self.info = ModelInfo(
            context_length=context,
            dynamic_batching=dynamic,
            max_batch_size=int(capabilities.configured_max_batch_size),
        )
        self._buffer = engine.create_event_buffer(4 * self._max_running + 16)
        if not dynamic:
            self._pool = SeededPool(model, self._outbox, self._seeded_workers, self.tokenizer, self._interval)
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

    @staticmethod
    def _clamped_context(model_context: int, wanted: int) -> int:
        """``wanted``, unless the model is configured for less (then the model's)."""
        if 0 < model_context < wanted:
            log.warning(
                "--max-context-tokens is above the model's context; serving the model's",
                extra={"fields": {"max_context_tokens": wanted, "context_length": model_context}},
            )
            return model_context
        return wanted

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
                self._hand_over(time.perf_counter())  # normally done: finishes are handed over at once
                if self._stopping:
                    return
                self._handle(engine, commands.get())
                if self.info is not None and not self.info.dynamic_batching:
                    self._gather_batch(engine)
            if not commands.empty():
                self._drain(engine)
                self._hand_over(time.perf_counter())  # a new request's prefill may make the next step long
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
            self._send([(job, finished(Finish("abort")))])
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
            finish = Finish("error", message=str(error), rejected=True)
            self._send([(job, finished(finish))])
            return
        self._active[id(request)] = _Active(job, request, int(turn_id))

    def _step(self, engine: Any) -> None:
        """One engine step: gather its tokens and finishes per request, and hand them over
        when they are urgent or the interval has passed. This is the engine thread's hot
        path, run once per token, so it stays lean."""
        events = engine.run(self._buffer)
        now = time.perf_counter()
        by_request = self._active
        gathering = self._gathering
        urgent = blocked = progressed = False
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
            progressed = True
            if not active.gathering:
                active.gathering = True
                gathering.append(active)
            if flags & _TOKEN:
                active.tokens.append(int(event.token))
                active.times.append(now)
                if not active.started:
                    active.started = urgent = True
            if flags & _FINISHED:
                reason = finish_reason_name(int(event.finish_reason))
                message = f"generation failed: {event.error_code}" if reason == "error" else None
                active.finish = Finish(reason, message=message)
                urgent = True
        if urgent or (gathering and now - self._handed_over_at >= self._interval):
            self._hand_over(now)
        elif blocked and not progressed:
            time.sleep(0.001)  # capacity pressure: let running requests finish first

    def _hand_over(self, now: float) -> None:
        """Send what the requests produced since the previous hand-over to the event loop."""
        if not self._gathering:
            return
        items: list[tuple[Job, Output]] = []
        for active in self._gathering:
            finish = active.finish
            items.append((active.job, Output(tuple(active.tokens), tuple(active.times), finish)))
            active.tokens.clear()
            active.times.clear()
            active.gathering = False
            if finish is not None:
                del self._active[id(active.request)]
                active.request.close()
        self._gathering.clear()
        self._handed_over_at = now
        self._outbox.send(items)

    def _send(self, items: list[tuple[Job, Output]]) -> None:
        self._outbox.send(items)

    def _fail_all(self, message: str) -> None:
        self._hand_over(time.perf_counter())
        self._send([(a.job, finished(Finish("error", message=message))) for a in self._active.values()])
        self._active.clear()

    def _close_all(self) -> None:
        self._hand_over(time.perf_counter())
        self._send([(a.job, finished(Finish("abort"))) for a in self._active.values()])
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
                self._send([(job, finished(Finish("abort")))])


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

    def __init__(self, model: Any, outbox: Outbox, workers: int, tokenizer: Any, interval: float) -> None:
        self._model = model
        self._outbox = outbox
        self._interval = interval
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

    def _emit(self, job: Job, output: Output) -> None:
        self._outbox.send([(job, output)])

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                self._generate(job)
            except Exception as error:
                log.exception("seeded generation failed")
                self._emit(job, finished(Finish("error", message=str(error))))

    def _generate(self, job: Job) -> None:
        if job.cancelled.is_set():
            self._emit(job, finished(Finish("abort")))
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
            self._emit(job, finished(Finish("error", message=str(error), rejected=True)))
            return
        generated = 0
        tokens: list[int] = []
        times: list[float] = []
        handed_over_at = -math.inf
        finish: Finish | None = None
        while finish is None:
            if job.cancelled.is_set():
                finish = Finish("abort")
            elif generator.is_done():
                finish = Finish("length" if generated >= p.max_tokens else "stop")
            else:
                generator.generate_next_token()
                token = int(generator.get_next_tokens()[0])
                if token in self._eos:
                    finish = Finish("stop")
                    continue
                generated += 1
                now = time.perf_counter()
                tokens.append(token)
                times.append(now)
                if generated >= p.max_tokens:
                    finish = Finish("length")
                elif generated == 1 or now - handed_over_at >= self._interval:  # paced like the Engine's
                    self._emit(job, Output(tuple(tokens), tuple(times)))
                    tokens.clear()
                    times.clear()
                    handed_over_at = now
        self._emit(job, Output(tuple(tokens), tuple(times), finish))
