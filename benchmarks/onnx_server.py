"""Throughput and latency of slm-onnx-server against onnxruntime-genai used directly.

    .venv/bin/python benchmarks/onnx_server.py                      # the tiny test model
    .venv/bin/python benchmarks/onnx_server.py --model-dir DIR      # any GenAI model folder

Prints, for one model:
- single-stream decode tokens/s and time to first token (p50/p95) of a raw generation
  loop in this process (the Engine API the server uses, and the classic Generator loop),
  and of one HTTP stream through the server; their ratio is the server's overhead;
- aggregate tokens/s over HTTP at 1, 4 and 16 concurrent streams.
Goals (checked here, never in tests): HTTP single stream >= 85% of the raw Engine loop,
aggregate at 16 streams >= 3x a single stream. The server runs as a subprocess on
127.0.0.1; every phase is bounded in requests and time.
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import onnxruntime_genai as og

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURE = REPO_ROOT / "tests" / "fixtures" / "tiny-genai"
PROMPT = [{"role": "user", "content": "Tell me a long story about a robot who learns to paint."}]
SINGLE_GOAL = 0.85
AGGREGATE_GOAL = 3.0


@dataclass
class Run:
    """One generation: seconds to the first token, decode seconds after it, tokens."""

    ttft: float
    decode_seconds: float
    tokens: int

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


def load(model_dir: Path) -> tuple[Any, Any, Any]:
    model = og.Model(str(model_dir))
    tokenizer = og.Tokenizer(model)
    text = tokenizer.apply_chat_template(json.dumps(PROMPT), add_generation_prompt=True)
    prompt = np.asarray(tokenizer.encode(text), dtype=np.int32)
    return model, tokenizer, prompt


def raw_engine(model: Any, prompt: Any, max_tokens: int, runs: int) -> list[Run]:
    """The server's own path without the server: og.Engine, one request at a time, greedy."""
    engine = og.Engine(model)
    buffer = engine.create_event_buffer(16)
    token_flag = int(og.EngineEventFlags.TOKEN)
    results = []
    for i in range(runs + 1):
        request = engine.create_request()
        options = og.TurnOptions(request)
        options.set_max_generated_tokens(max_tokens)
        options.set_do_sample(False)
        started = time.perf_counter()
        request.begin_turn(prompt, options)
        first = last = 0.0
        tokens = 0
        while engine.has_pending_requests():
            for event in engine.run(buffer):
                if int(event.flags) & token_flag:
                    last = time.perf_counter()
                    first = first or last
                    tokens += 1
        request.close()
        if i:  # the first run warms up
            results.append(Run(first - started, last - first, tokens))
    return results


def raw_generator(model: Any, prompt: Any, max_tokens: int, runs: int) -> list[Run]:
    """The classic og.Generator loop, for reference: no batching, one sequence."""
    results = []
    for i in range(runs + 1):
        params = og.GeneratorParams(model)
        params.set_search_options(max_length=len(prompt) + max_tokens, do_sample=False)
        started = time.perf_counter()
        generator = og.Generator(model, params)
        generator.append_tokens(prompt)
        first = last = 0.0
        tokens = 0
        while not generator.is_done() and tokens < max_tokens:
            generator.generate_next_token()
            generator.get_next_tokens()
            last = time.perf_counter()
            first = first or last
            tokens += 1
        del generator
        if i:
            results.append(Run(first - started, last - first, tokens))
    return results


# -- through HTTP ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(model_dir: Path, workdir: Path, name: str) -> tuple[subprocess.Popen[bytes], str, str]:
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
        "--max-running",
        "16",
        "--log-level",
        "warning",
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
    tokens = 0
    async with client.stream("POST", "/v1/chat/completions", json=body) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if not line.startswith("data: {"):
                continue
            chunk = json.loads(line[6:])
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
            if chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                last = time.perf_counter()
                first = first or last
    return Run(first - started, last - first, tokens)


async def http_single(base: str, key: str, name: str, max_tokens: int, runs: int) -> list[Run]:
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=300) as client:
        await http_stream(client, name, max_tokens)  # warm-up
        return [await http_stream(client, name, max_tokens) for _ in range(runs)]


async def http_aggregate(base: str, key: str, name: str, max_tokens: int, streams: int) -> float:
    """Generated tokens per second of wall time with `streams` requests in flight at once."""
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=streams + 4)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=300, limits=limits) as client:
        await asyncio.gather(*(http_stream(client, name, 8) for _ in range(streams)))  # warm-up
        started = time.perf_counter()
        runs = await asyncio.gather(*(http_stream(client, name, max_tokens) for _ in range(streams)))
        elapsed = time.perf_counter() - started
    return sum(r.tokens for r in runs) / elapsed


# -- report ---------------------------------------------------------------------------------


def row(label: str, rate: float, p50: float, p95: float) -> str:
    return f"{label:<34}{rate:>12.0f}{p50:>14.1f}{p95:>14.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, default=FIXTURE)
    parser.add_argument("--max-tokens", type=int, default=256, help="tokens per stream (default: %(default)s)")
    parser.add_argument("--runs", type=int, default=8, help="single-stream runs per mode (default: %(default)s)")
    args = parser.parse_args()
    model_dir: Path = args.model_dir
    name = model_dir.resolve().name
    n, runs = args.max_tokens, args.runs
    started = time.monotonic()

    model, _, prompt = load(model_dir)
    engine_runs = raw_engine(model, prompt, n, runs)
    generator_runs = raw_generator(model, prompt, n, runs)
    del model

    with tempfile.TemporaryDirectory(prefix="onnx-bench-") as scratch:
        process, base, key = start_server(model_dir, Path(scratch), name)
        try:
            single = asyncio.run(http_single(base, key, name, n, runs))
            aggregate = {c: asyncio.run(http_aggregate(base, key, name, n, c)) for c in (1, 4, 16)}
        finally:
            process.terminate()
            process.wait(60)

    engine_s, generator_s, http_s = summarize(engine_runs), summarize(generator_runs), summarize(single)
    print(f"slm-onnx-server benchmark: {name} ({model_dir}), {n} tokens per stream, {runs} runs, {os.cpu_count()} CPUs")
    print()
    print(f"{'single stream':<34}{'decode tok/s':>12}{'TTFT p50 ms':>14}{'TTFT p95 ms':>14}")
    print(row("raw og.Engine loop (in-process)", *engine_s))
    print(row("raw og.Generator loop (in-process)", *generator_s))
    print(row("HTTP stream through the server", *http_s))
    ratio = http_s[0] / engine_s[0]
    verdict: Callable[[bool], str] = lambda ok: "met" if ok else "NOT met"  # noqa: E731
    print(f"HTTP / raw Engine loop: {ratio:.0%} (goal >= {SINGLE_GOAL:.0%}: {verdict(ratio >= SINGLE_GOAL)})")
    print(f"HTTP / raw Generator loop: {http_s[0] / generator_s[0]:.0%}")
    print()
    print(f"{'concurrent streams':<34}{'aggregate tok/s':>16}{'x 1 stream':>12}")
    for streams, rate in aggregate.items():
        print(f"{streams:<34}{rate:>16.0f}{rate / aggregate[1]:>12.2f}")
    scale = aggregate[16] / aggregate[1]
    print(f"16 streams / 1 stream: {scale:.2f}x (goal >= {AGGREGATE_GOAL:.0f}x: {verdict(scale >= AGGREGATE_GOAL)})")
    print(f"finished in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
