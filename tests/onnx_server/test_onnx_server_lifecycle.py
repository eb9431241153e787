"""Overload, client disconnects and SIGTERM, each on a server of its own.

A long generation is 8000 tokens: the tiny model needs seconds for it, so a test can act
(disconnect, overload, signal) while it certainly still runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from .conftest import KEYS, MODEL, Server, StartServer

pytestmark = pytest.mark.integration

AUTH = {"Authorization": f"Bearer {KEYS[0]}"}
LONG = 8000
M = f'model_name="{MODEL}"'


def long_stream_body(max_tokens: int = LONG) -> dict[str, object]:
    return {
        "model": MODEL,
        "messages": [{"role": "user", "content": "go on"}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


@contextlib.contextmanager
def open_stream(http: httpx.Client, server: Server, max_tokens: int = LONG) -> Iterator[Iterator[str]]:
    """A streaming chat request whose first content event has already arrived."""
    with http.stream("POST", f"{server.v1}/chat/completions", json=long_stream_body(max_tokens), headers=AUTH) as r:
        assert r.status_code == 200
        lines = (line for line in r.iter_lines() if line)
        first = next(lines)
        assert first.startswith("data: ")
        yield lines


def poll(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def test_overload_gets_429_with_retry_after(start_server: StartServer) -> None:
    server = start_server("--max-running", "2", "--max-queued", "2")
    url = f"{server.v1}/chat/completions"

    def in_flight() -> float:
        samples = server.metrics()
        return samples[f"ortgenai:num_requests_running{{{M}}}"] + samples[f"ortgenai:num_requests_waiting{{{M}}}"]

    async def scenario() -> httpx.Response:
        async with httpx.AsyncClient(timeout=60, headers=AUTH) as http:

            async def hold() -> None:
                async with http.stream("POST", url, json=long_stream_body()) as response:
                    async for _ in response.aiter_lines():
                        pass

            holders = [asyncio.create_task(hold()) for _ in range(4)]
            try:
                deadline = time.monotonic() + 15
                while in_flight() < 4:
                    assert time.monotonic() < deadline, "the four long requests were not admitted"
                    await asyncio.sleep(0.05)
                return await http.post(url, json=long_stream_body(5))
            finally:
                for task in holders:
                    task.cancel()
                await asyncio.gather(*holders, return_exceptions=True)

    rejected = asyncio.run(scenario())
    assert rejected.status_code == 429
    assert rejected.headers["retry-after"] == "1"
    assert rejected.json()["error"]["code"] == "rate_limit_exceeded"
    # Once the clients have gone, their slots are free again.
    server.wait_idle()
    reply = httpx.post(f"{server.v1}/completions", json={"model": MODEL, "prompt": "hi", "max_tokens": 3}, headers=AUTH)
    assert reply.status_code == 200


def test_a_disconnected_stream_cancels_its_generation(server: Server) -> None:
    before = server.wait_idle()
    with httpx.Client(timeout=60) as http, open_stream(http, server) as lines:
        next(lines)
        poll(lambda: server.metrics()[f"ortgenai:num_requests_running{{{M}}}"] == 1)
    # Leaving the block closed the connection mid-stream.
    after = server.wait_idle(timeout=30)
    aborted = f'ortgenai:request_success_total{{finished_reason="abort",{M}}}'
    assert after[aborted] - before[aborted] == 1
    generated = after[f"ortgenai:generation_tokens_total{{{M}}}"] - before[f"ortgenai:generation_tokens_total{{{M}}}"]
    assert 0 < generated < LONG


def test_a_disconnected_plain_request_cancels_its_generation(server: Server) -> None:
    before = server.wait_idle()
    body = {"model": MODEL, "prompt": "go on", "max_tokens": LONG, "temperature": 0}
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(f"{server.v1}/completions", json=body, headers=AUTH, timeout=httpx.Timeout(30, read=0.5))
    after = server.wait_idle(timeout=30)
    aborted = f'ortgenai:request_success_total{{finished_reason="abort",{M}}}'
    assert after[aborted] - before[aborted] == 1
    generated = after[f"ortgenai:generation_tokens_total{{{M}}}"] - before[f"ortgenai:generation_tokens_total{{{M}}}"]
    assert generated < LONG


def test_sigterm_lets_in_flight_streams_finish_then_exits(start_server: StartServer) -> None:
    server = start_server("--shutdown-timeout", "60")
    with httpx.Client(timeout=60) as http, open_stream(http, server, 3000) as lines:
        server.process.send_signal(signal.SIGTERM)
        # New connections are refused while the stream drains.
        poll(lambda: _refused(server), timeout=15)
        rest = list(lines)
    assert rest[-1] == "data: [DONE]"
    usage = json.loads(rest[-2].removeprefix("data: "))["usage"]
    assert usage["completion_tokens"] == 3000
    finish = [json.loads(x.removeprefix("data: "))["choices"] for x in rest[:-2]]
    assert finish[-1][0]["finish_reason"] == "length"
    assert_clean_exit(server)


def test_sigterm_drain_is_bounded(start_server: StartServer) -> None:
    server = start_server("--shutdown-timeout", "1")
    rest: list[str] = []
    with httpx.Client(timeout=60) as http, open_stream(http, server) as lines:
        signalled = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        with contextlib.suppress(httpx.HTTPError):
            rest = list(lines)
        assert_clean_exit(server, timeout=15)
        elapsed = time.monotonic() - signalled
    assert elapsed < 10
    assert "data: [DONE]" not in rest


def assert_clean_exit(server: Server, timeout: float = 30) -> None:
    """uvicorn re-raises the signal after its orderly shutdown, so the status is -SIGTERM."""
    assert server.process.wait(timeout) == -signal.SIGTERM
    assert "Application shutdown complete" in server.log_text()


def _refused(server: Server) -> bool:
    try:
        httpx.get(f"{server.base_url}/health", timeout=1)
    except httpx.ConnectError:
        return True
    return False
