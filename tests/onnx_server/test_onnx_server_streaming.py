"""Paced streaming: how generated tokens are grouped into SSE chunks.

The engine thread hands tokens to the HTTP side at most once per --stream-interval-ms,
except a request's first token and its finish, which go out at once. A server whose
interval is longer than any generation here therefore sends exactly two content chunks per
answer: the first token, then everything else together with the finish. The tiny model
makes a token in well under a millisecond, so these tests also cover many tokens per chunk.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from .conftest import KEYS, MODEL, Server, StartServer

pytestmark = pytest.mark.integration

AUTH = {"Authorization": f"Bearer {KEYS[0]}"}
HELD_MS = 60_000  # longer than any generation in this module
MESSAGES = [{"role": "user", "content": "Tell me a story about a robot."}]


@pytest.fixture(scope="module")
def held(start_server: StartServer) -> Server:
    """A server that hands over only first tokens and finishes."""
    return start_server("--stream-interval-ms", str(HELD_MS))


@pytest.fixture(scope="module")
def every_step(start_server: StartServer) -> Server:
    """A server that hands over every engine step."""
    return start_server("--stream-interval-ms", "0")


def post(server: Server, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(f"{server.v1}{path}", json=body, headers=AUTH, timeout=60)
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()
    return reply


def stream(server: Server, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Every `data:` event of a streamed request, parsed, up to `[DONE]`."""
    streamed = {**body, "stream": True, "stream_options": {"include_usage": True}}
    events: list[dict[str, Any]] = []
    with httpx.stream("POST", f"{server.v1}{path}", json=streamed, headers=AUTH, timeout=60) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if not line:
                continue
            assert line.startswith("data: ")
            if line == "data: [DONE]":
                return events
            events.append(json.loads(line.removeprefix("data: ")))
    raise AssertionError("the stream ended without data: [DONE]")


def texts(events: list[dict[str, Any]]) -> list[str]:
    """The non-empty text of each content chunk, chat or completion."""
    out = []
    for event in events:
        for choice in event["choices"]:
            text = choice["delta"].get("content") if "delta" in choice else choice["text"]
            if text:
                out.append(text)
    return out


def finish_reasons(events: list[dict[str, Any]]) -> list[str]:
    return [c["finish_reason"] for e in events for c in e["choices"] if c["finish_reason"]]


def answer(reply: dict[str, Any]) -> str:
    choice = reply["choices"][0]
    text: str = choice["message"]["content"] if "message" in choice else choice["text"]
    return text


@pytest.mark.parametrize(
    ("path", "request_body"),
    [
        ("/chat/completions", {"model": MODEL, "messages": MESSAGES}),
        ("/completions", {"model": MODEL, "prompt": "Once upon a time"}),
    ],
)
def test_a_paced_stream_sends_the_first_token_at_once_and_the_rest_with_the_finish(
    held: Server, path: str, request_body: dict[str, Any]
) -> None:
    greedy = {**request_body, "temperature": 0}
    whole = post(held, path, {**greedy, "max_tokens": 48})
    first_token = post(held, path, {**greedy, "max_tokens": 1})
    started = time.monotonic()
    events = stream(held, path, {**greedy, "max_tokens": 48})
    elapsed = time.monotonic() - started
    first = answer(first_token)  # empty when the first token is part of a character
    assert texts(events) == [piece for piece in (first, answer(whole)[len(first) :]) if piece]
    assert "".join(texts(events)) == answer(whole)
    assert finish_reasons(events) == ["length"]
    assert events[-1]["usage"]["completion_tokens"] == 48
    assert events[-1]["usage"]["prompt_tokens"] == whole["usage"]["prompt_tokens"]
    # The finish was handed over at once, not at the end of the interval.
    assert elapsed < HELD_MS / 1000 / 2


def test_a_stop_string_inside_a_many_token_chunk_ends_the_answer_before_it(held: Server) -> None:
    body = {"model": MODEL, "prompt": "The robot", "max_tokens": 60, "temperature": 0}
    text = answer(post(held, "/completions", body))
    stop = text[20:23]
    events = stream(held, "/completions", {**body, "stop": [stop]})
    streamed = "".join(texts(events))
    assert streamed == text[: text.index(stop)]
    assert finish_reasons(events) == ["stop"]
    assert 0 < events[-1]["usage"]["completion_tokens"] < 60
    assert len(texts(events)) <= 2


def test_seeded_sampling_is_paced_the_same_way(held: Server) -> None:
    body = {"model": MODEL, "messages": MESSAGES, "max_tokens": 32, "temperature": 1.5, "top_k": 100, "seed": 11}
    whole = answer(post(held, "/chat/completions", body))
    events = stream(held, "/chat/completions", body)
    assert "".join(texts(events)) == whole
    assert len(texts(events)) <= 2
    assert finish_reasons(events) == ["length"]
    assert events[-1]["usage"]["completion_tokens"] == 32


def test_handing_over_every_step_streams_the_same_answer(every_step: Server) -> None:
    body = {"model": MODEL, "messages": MESSAGES, "max_tokens": 64, "temperature": 0}
    whole = post(every_step, "/chat/completions", body)
    events = stream(every_step, "/chat/completions", body)
    assert "".join(texts(events)) == answer(whole)
    assert finish_reasons(events) == ["length"]
    assert events[-1]["usage"]["completion_tokens"] == 64
    every_step.wait_idle()
