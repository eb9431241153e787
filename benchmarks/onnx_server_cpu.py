"""Where slm-onnx-server's CPU goes per streamed token: server threads and the client.

    .venv/bin/python -m benchmarks.onnx_server_cpu                              # defaults
    .venv/bin/python -m benchmarks.onnx_server_cpu --streams 16 -- --stream-interval-ms 0

Runs the server on the tiny model (or --model-dir) with the server flags after `--`, streams
`--requests` rounds of `--streams` concurrent chat requests through the lean client of
benchmarks/onnx_server.py, and prints wall-clock tokens/s, tokens per SSE chunk, and CPU
microseconds per generated token of: the server's event loop (its main thread), the
server's other threads (the engine thread does nearly all of that), and the client process.
CPU time comes from /proc (Linux). On a shared machine it is inflated by other load, so
compare settings run back to back rather than absolute figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.onnx_server import FIXTURE, Run, http_stream, load_average, run_async, start_server

TICKS = os.sysconf("SC_CLK_TCK")


def thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) of each thread of a process."""
    seconds = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        seconds[int(tid)] = (int(fields[11]) + int(fields[12])) / TICKS
    return seconds


def own_cpu() -> float:
    times = os.times()
    return times.user + times.system


async def drive(base: str, key: str, name: str, *, streams: int, requests: int, tokens: int) -> tuple[list[Run], float]:
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=streams + 4)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=300, limits=limits) as client:
        await asyncio.gather(*(http_stream(client, name, 8) for _ in range(streams)))  # warm-up
        runs: list[Run] = []
        started = time.perf_counter()
        for _ in range(requests):
            runs += await asyncio.gather(*(http_stream(client, name, tokens) for _ in range(streams)))
        return runs, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, default=FIXTURE)
    parser.add_argument("--max-tokens", type=int, default=512, help="tokens per stream (default: %(default)s)")
    parser.add_argument("--streams", type=int, default=1, help="concurrent streams (default: %(default)s)")
    parser.add_argument("--requests", type=int, default=20, help="rounds of streams (default: %(default)s)")
    parser.add_argument("server_flags", nargs="*", help="flags for the server, after --")
    args = parser.parse_args()
    model_dir: Path = args.model_dir
    name = model_dir.resolve().name
    with tempfile.TemporaryDirectory(prefix="onnx-cpu-") as scratch:
        process, base, key = start_server(model_dir, Path(scratch), name, args.server_flags)
        try:
            before, client_before = thread_cpu(process.pid), own_cpu()
            runs, elapsed = run_async(
                drive(base, key, name, streams=args.streams, requests=args.requests, tokens=args.max_tokens)
            )
            after, client_after = thread_cpu(process.pid), own_cpu()
        finally:
            process.terminate()
            process.wait(60)
    tokens = sum(r.tokens for r in runs)
    chunks = sum(r.chunks for r in runs)
    per_token = {tid: (after[tid] - before.get(tid, 0.0)) / tokens * 1e6 for tid in after}
    loop = per_token.pop(process.pid)
    print(f"server flags: {' '.join(args.server_flags) or '(defaults)'}; {args.streams} streams x {args.requests}")
    print(f"{tokens / elapsed:.0f} tok/s, {tokens / chunks:.1f} tokens per chunk; load average {load_average()}")
    print(
        f"CPU us per token: server event loop {loop:.1f}, server engine and other threads "
        f"{sum(per_token.values()):.1f}, client {(client_after - client_before) / tokens * 1e6:.1f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
