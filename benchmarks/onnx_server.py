"""Throughput and latency of slm-onnx-server against onnxruntime-genai used directly.

    .venv/bin/python benchmarks/onnx_server.py                      # the tiny test model
    .venv/bin/python benchmarks/onnx_server.py --model-dir DIR      # any GenAI model folder

Prints, for one model:
- single-stream decode tokens/s and time to first token (p50/p95) of a raw generation
  loop in this process (the Engine API the server uses, and the classic Generator loop),
  and of one HTTP stream through the server; their ratio is the server's overhead;
- aggregate tokens/s over HTTP at 1, 4 and 16 concurrent streams.
Goals (checked here, never in tests): HTTP single stream >= 85% of the raw Engine loop,
aggregate at 16 streams >= 3x a single stream.

Fairness, since the machine's load drifts while it runs: raw and HTTP runs alternate round
by round and medians are reported. The raw Engine loop gets the server's engine settings
(max_batch_size = --max-running) and reads events the fast way, as the server does. Decode
rate is (tokens - 1) / (last token - first token), vLLM's TPOT: for HTTP, the times the
client received the first and the last chunk with content. The client is lean so that its
own cost is small (it shares the cores with the server): httpx streaming, SSE events split by
hand, one json.loads per event, uvloop. The server runs as a subprocess on 127.0.0.1 with
the --max-running and --stream-interval-ms printed in the header; every phase is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import numpy as np
import onnxruntime_genai as og

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURE = REPO_ROOT / "tests" / "fixtures" / "tiny-genai"
PROMPT = [{"role": "user", "content": "Tell me a long story about a robot who learns to paint."}]
SINGLE_GOAL = 0.85
AGGREGATE_GOAL = 3.0
CONCURRENCY = (1, 4, 16)
T = TypeVar("T")


@dataclass
class Run:
    """One generation: seconds to the first token, decode seconds after it, tokens, and for
    HTTP the number of chunks with content."""

    ttft: float
    decode_seconds: float
    tokens: int
    chunks: int = 0
    first_text: str = ""

    @property
    def decode_rate(self) -> float:
        return (self.tokens - 1) / self.decode_seconds if self.decode_seconds > 0 else float("nan")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def summarize(runs: list[Run]) -> tuple[float, float, float]:
    """Median decode rate, TTFT p50 and p95 in milliseconds."""
    rates = [r.decode_rate for r in runs]
    ttfts = [r.ttft * 1000 for r in runs]
    return statistics.median(rates), percentile(ttfts, 50), percentile(ttfts, 95)


# -- raw loops, in this process --------------------------------------------------------------


class RawLoops:
    """The model loaded in this process, with the server's engine settings."""

    def __init__(self, model_dir: Path, max_running: int) -> None:
        config = og.Config(str(model_dir))
        genai = json.loads((model_dir / "genai_config.json").read_text())
        kind = "dynamic_batching" if "dynamic_batching" in genai.get("engine", {}) else "static_batching"
        config.overlay(json.dumps({"engine": {kind: {"max_batch_size": max_running}}}))
        self.model = og.Model(config)
        tokenizer = og.Tokenizer(self.model)
        text = tokenizer.apply_chat_template(json.dumps(PROMPT), add_generation_prompt=True)
        self.prompt = np.asarray(tokenizer.encode(text), dtype=np.int32)
        self.engine = og.Engine(self.model)
        self.buffer = self.engine.create_event_buffer(16)
        self.buffers: dict[int, Any] = {}
        self.token_flag = int(og.EngineEventFlags.TOKEN)

    def engine_run(self, max_tokens: int) -> Run:
        """The server's own path without the server: og.Engine, one request, greedy."""
        engine, buffer, token_flag = self.engine, self.buffer, self.token_flag
        request = engine.create_request()
        options = og.TurnOptions(request)
        options.set_max_generated_tokens(max_tokens)
        options.set_do_sample(False)
        started = time.perf_counter()
        request.begin_turn(self.prompt, options)
        first = last = 0.0
        tokens = 0
        while engine.has_pending_requests():
            events = engine.run(buffer)
            for i in range(len(events)):  # by index, as the server reads them (no iterator)
                if int(events[i].flags) & token_flag:
                    last = time.perf_counter()
                    first = first or last
                    tokens += 1
        request.close()
        return Run(first - started, last - first, tokens)

    def engine_aggregate(self, max_tokens: int, requests: int) -> tuple[float, int]:
        """Tokens/s of `requests` greedy requests batched by og.Engine (the engine's own scaling,
        the ceiling for the server's aggregate throughput), and the most tokens one step made."""
        engine, buffer, token_flag = self.engine, self.buffer_for(requests), self.token_flag
        turns = []
        started = time.perf_counter()
        for _ in range(requests):
            request = engine.create_request()
            options = og.TurnOptions(request)
            options.set_max_generated_tokens(max_tokens)
            options.set_do_sample(False)
            request.begin_turn(self.prompt, options)
            turns.append(request)
        tokens = widest = 0
        while engine.has_pending_requests():
            events = engine.run(buffer)
            step = sum(1 for i in range(len(events)) if int(events[i].flags) & token_flag)
            tokens += step
            widest = max(widest, step)
        elapsed = time.perf_counter() - started
        for request in turns:
            request.close()
        return tokens / elapsed, widest

    def buffer_for(self, requests: int) -> Any:
        if requests not in self.buffers:
            self.buffers[requests] = self.engine.create_event_buffer(4 * requests + 16)
        return self.buffers[requests]

    def generator_run(self, max_tokens: int) -> Run:
        """The classic og.Generator loop, for reference: no batching, one sequence."""
        params = og.GeneratorParams(self.model)
        params.set_search_options(max_length=len(self.prompt) + max_tokens, do_sample=False)
        started = time.perf_counter()
        generator = og.Generator(self.model, params)
        generator.append_tokens(self.prompt)
        first = last = 0.0
        tokens = 0
        while not generator.is_done() and tokens < max_tokens:
            generator.generate_next_token()
            generator.get_next_tokens()
            last = time.perf_counter()
            first = first or last
            tokens += 1
        del generator
        return Run(first - started, last - first, tokens)


# -- through HTTP ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(
    model_dir: Path, workdir: Path, name: str, server_flags: list[str]
) -> tuple[subprocess.Popen[bytes], str, str]:
    port = free_port()
    key = "sk-benchmark"
    keys = workdir / "keys"
    keys.write_text(key + "\n")
    command = [
        sys.executable,
        "-m",
        "slm_onnx_server",
        "--model-dir",
        str(model_dir),
        "--served-model-name",
        name,
        "--port",
        str(port),
        "--api-keys-file",
        str(keys),
        "--log-level",
        "warning",
        *server_flags,
    ]
    log = (workdir / "server.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited: see {workdir / 'server.log'}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return process, base, key
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not become healthy in 300 s")


async def http_stream(client: httpx.AsyncClient, name: str, max_tokens: int) -> Run:
    """One streamed chat request; TTFT is measured to the first chunk with content."""
    body = {
        "model": name,
        "messages": PROMPT,
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    started = time.perf_counter()
    first = last = 0.0
    tokens = chunks = 0
    first_text = ""
    pending = b""
    async with client.stream("POST", "/v1/chat/completions", json=body) as response:
        response.raise_for_status()
        async for data in response.aiter_raw():
            *events, pending = (pending + data).split(b"\n\n")
            for event in events:
                if not event.startswith(b"data: {"):
                    continue
                chunk = json.loads(event[6:])
                if chunk.get("usage"):
                    tokens = chunk["usage"]["completion_tokens"]
                content = chunk["choices"][0]["delta"].get("content") if chunk["choices"] else None
                if content:
                    last = time.perf_counter()
                    first = first or last
                    first_text = first_text or content
                    chunks += 1
    return Run(first - started, last - first, tokens, chunks, first_text)


async def first_token_text(client: httpx.AsyncClient, name: str) -> str:
    """The greedy answer's first token: a stream's first chunk must be exactly this, or its
    decode window would start late and overstate the rate."""
    body = {"model": name, "messages": PROMPT, "max_tokens": 1, "temperature": 0}
    response = await client.post("/v1/chat/completions", json=body)
    response.raise_for_status()
    text: str = response.json()["choices"][0]["message"]["content"]
    return text


async def http_aggregate(client: httpx.AsyncClient, name: str, max_tokens: int, streams: int) -> float:
    """Generated tokens per second of wall time with `streams` requests in flight at once."""
    started = time.perf_counter()
    runs = await asyncio.gather(*(http_stream(client, name, max_tokens) for _ in range(streams)))
    elapsed = time.perf_counter() - started
    return sum(r.tokens for r in runs) / elapsed


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """uvloop when installed: the client's own event loop overhead is not the server's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


@dataclass
class Results:
    engine: list[Run]
    generator: list[Run]
    http: list[Run]
    aggregate: dict[int, list[float]]
    raw_aggregate: dict[int, list[float]]
    widest_step: int = 0
    first_token: str = ""


@dataclass(frozen=True)
class Plan:
    """What to measure."""

    tokens: int
    rounds: int
    aggregate_rounds: int


async def measure(raw: RawLoops, base: str, key: str, name: str, plan: Plan) -> Results:
    """Raw and HTTP runs alternate, so that a change of the machine's load hits all of them."""
    tokens = plan.tokens
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=max(CONCURRENCY) + 4)
    results = Results([], [], [], {c: [] for c in CONCURRENCY}, {c: [] for c in CONCURRENCY})
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=300, limits=limits) as client:
        raw.engine_run(tokens)  # warm-up, all paths
        raw.generator_run(tokens)
        await http_stream(client, name, tokens)
        results.first_token = await first_token_text(client, name)
        await http_aggregate(client, name, 8, max(CONCURRENCY))
        for i in range(plan.rounds):
            if i % 2:  # alternate the order too: neither path always runs right after the other
                results.http.append(await http_stream(client, name, tokens))
            results.engine.append(raw.engine_run(tokens))
            results.generator.append(raw.generator_run(tokens))
            if not i % 2:
                results.http.append(await http_stream(client, name, tokens))
        for _ in range(plan.aggregate_rounds):
            for streams in CONCURRENCY:
                rate, widest = raw.engine_aggregate(tokens, streams)
                results.raw_aggregate[streams].append(rate)
                results.widest_step = max(results.widest_step, widest)
                results.aggregate[streams].append(await http_aggregate(client, name, tokens, streams))
    return results


# -- report ---------------------------------------------------------------------------------


def row(label: str, rate: float, p50: float, p95: float) -> str:
    return f"{label:<34}{rate:>12.0f}{p50:>14.1f}{p95:>14.1f}"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def report(results: Results) -> None:
    """The tables and the goal lines."""
    engine_s, generator_s, http_s = summarize(results.engine), summarize(results.generator), summarize(results.http)
    aggregate = {c: statistics.median(rates) for c, rates in results.aggregate.items()}
    raw_aggregate = {c: statistics.median(rates) for c, rates in results.raw_aggregate.items()}
    print(f"{'single stream':<34}{'decode tok/s':>12}{'TTFT p50 ms':>14}{'TTFT p95 ms':>14}")
    print(row("raw og.Engine loop (in-process)", *engine_s))
    print(row("raw og.Generator loop (in-process)", *generator_s))
    print(row("HTTP stream through the server", *http_s))
    ratio = http_s[0] / engine_s[0]
    verdict: Callable[[bool], str] = lambda ok: "met" if ok else "NOT met"  # noqa: E731
    print(f"HTTP / raw Engine loop: {ratio:.0%} (goal >= {SINGLE_GOAL:.0%}: {verdict(ratio >= SINGLE_GOAL)})")
    pairs = [h.decode_rate / e.decode_rate for h, e in zip(results.http, results.engine, strict=True)]
    quartiles = " / ".join(f"{percentile(pairs, q):.0%}" for q in (25, 50, 75))
    print(f"  per round (HTTP run / the raw Engine run next to it): quartiles {quartiles}")
    per_chunk = statistics.median(r.tokens / r.chunks for r in results.http if r.chunks)
    late = sum(r.first_text != results.first_token for r in results.http)
    if late:
        print(f"  WARNING: in {late} runs the first chunk carried more than the first token: rates overstated")
    print(f"HTTP / raw Generator loop: {http_s[0] / generator_s[0]:.0%}; HTTP tokens per chunk: {per_chunk:.1f}")
    print()
    print(f"{'concurrent streams':<34}{'aggregate tok/s':>16}{'x 1 stream':>12}{'raw og.Engine tok/s':>21}{'x 1':>6}")
    for streams, rate in aggregate.items():
        raw_rate, raw_scale = raw_aggregate[streams], raw_aggregate[streams] / raw_aggregate[1]
        print(f"{streams:<34}{rate:>16.0f}{rate / aggregate[1]:>12.2f}{raw_rate:>21.0f}{raw_scale:>6.2f}")
    print(f"(raw og.Engine: the same requests in-process; its steps carried at most {results.widest_step} tokens)")
    scale = aggregate[max(CONCURRENCY)] / aggregate[1]
    print(f"16 streams / 1 stream: {scale:.2f}x (goal >= {AGGREGATE_GOAL:.0f}x: {verdict(scale >= AGGREGATE_GOAL)})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, default=FIXTURE)
    parser.add_argument("--max-tokens", type=int, default=512, help="tokens per stream (default: %(default)s)")
    parser.add_argument("--runs", type=int, default=40, help="single-stream rounds (default: %(default)s)")
    parser.add_argument(
        "--aggregate-runs", type=int, default=5, help="rounds at each concurrency (default: %(default)s)"
    )
    parser.add_argument(
        "--max-running", type=int, default=max(CONCURRENCY), help="the server's batch size (default: %(default)s)"
    )
    parser.add_argument(
        "--stream-interval-ms", type=float, help="passed to the server (default: the server's own default)"
    )
    args = parser.parse_args()
    model_dir: Path = args.model_dir
    name = model_dir.resolve().name
    n, runs = args.max_tokens, args.runs
    server_flags = ["--max-running", str(args.max_running)]
    if args.stream_interval_ms is not None:
        server_flags += ["--stream-interval-ms", str(args.stream_interval_ms)]
    started = time.monotonic()
    load_before = load_average()

    raw = RawLoops(model_dir, args.max_running)
    with tempfile.TemporaryDirectory(prefix="onnx-bench-") as scratch:
        process, base, key = start_server(model_dir, Path(scratch), name, server_flags)
        try:
            results = run_async(measure(raw, base, key, name, Plan(n, runs, args.aggregate_runs)))
        finally:
            process.terminate()
            process.wait(60)

    print(f"slm-onnx-server benchmark: {name} ({model_dir}), {n} tokens per stream, {runs} runs, {os.cpu_count()} CPUs")
    print(f"server flags: {' '.join(server_flags)}; load average before: {load_before}, after: {load_average()}")
    print()
    report(results)
    print(f"finished in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
