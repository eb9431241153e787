"""Bad keys and bad input get OpenAI-style 4xx errors; the server never answers 5xx to them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from .conftest import KEYS, MODEL, Server, StartServer

pytestmark = pytest.mark.integration

USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello"}]


def post(
    server: Server, path: str, body: Any, *, key: str | None = KEYS[0], raw: bytes | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    if raw is not None:
        headers["Content-Type"] = "application/json"
        return httpx.post(f"{server.v1}{path}", content=raw, headers=headers, timeout=30)
    return httpx.post(f"{server.v1}{path}", json=body, headers=headers, timeout=30)


def assert_openai_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str)
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    return dict(error)


def test_wrong_key_is_rejected_by_the_openai_client(server: Server) -> None:
    api = openai.OpenAI(base_url=server.v1, api_key="sk-wrong", max_retries=0, timeout=30)
    with pytest.raises(openai.AuthenticationError) as caught:
        api.models.list()
    assert caught.value.status_code == 401
    with pytest.raises(openai.AuthenticationError):
        api.chat.completions.create(model=MODEL, messages=USER, max_tokens=3)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": f"Basic {KEYS[0]}"},
        {"Authorization": f"Bearer {KEYS[0]}x"},
    ],
)
@pytest.mark.parametrize("path", ["/v1/models", "/v1/chat/completions", "/v1/completions"])
def test_every_v1_route_needs_a_valid_bearer_key(server: Server, path: str, headers: dict[str, str]) -> None:
    method = "GET" if path.endswith("models") else "POST"
    response = httpx.request(method, f"{server.base_url}{path}", headers=headers, json={}, timeout=10)
    error = assert_openai_error(response, 401, "invalid_api_key")
    assert KEYS[0] not in error["message"]
    assert response.headers["www-authenticate"] == "Bearer"


def test_every_configured_key_works(server: Server) -> None:
    for key in KEYS:
        assert httpx.get(f"{server.v1}/models", headers={"Authorization": f"Bearer {key}"}).status_code == 200


def test_health_and_metrics_need_no_key(server: Server) -> None:
    assert httpx.get(f"{server.base_url}/health").json() == {"status": "ok"}
    metrics = httpx.get(f"{server.base_url}/metrics")
    assert metrics.status_code == 200
    assert "ortgenai:num_requests_running" in metrics.text


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        (b"{not json", None),
        (b"", None),
        (b"[1, 2]", None),
        (b'{"model": "tiny-genai"}', "messages"),
        (b'{"model": "tiny-genai", "messages": "hello"}', "messages"),
        (b'{"model": "tiny-genai", "messages": []}', "messages"),
        (b'{"model": "tiny-genai", "messages": [{"role": "wizard", "content": "x"}]}', "messages.0.role"),
        (b'{"model": "tiny-genai", "messages": [{"role": "user", "content": 5}]}', None),
        (
            b'{"model": "tiny-genai", "messages": [{"role": "user", "content": "x"}], "max_tokens": "5"}',
            "max_tokens",
        ),
        (
            b'{"model": "tiny-genai", "messages": [{"role": "user", "content": "x"}], "max_tokens": 0}',
            "max_tokens",
        ),
        (
            b'{"model": "tiny-genai", "messages": [{"role": "user", "content": "x"}], "max_tokens": 1.5}',
            "max_tokens",
        ),
        (
            b'{"model": "tiny-genai", "messages": [{"role": "user", "content": "x"}], "temperature": 3}',
            "temperature",
        ),
        (b'{"model": "tiny-genai", "messages": [{"role": "user", "content": "x"}], "top_p": 0}', "top_p"),
        (
            b'{"model": "tiny-genai", "messages": [{"role": "user", "content": "x"}], "stream": "yes"}',
            "stream",
        ),
        (b'{"model": "tiny-genai", "messages": [{"role": "user", "content": "x"}], "stop": [""]}', "stop"),
        (b'{"model": "tiny-genai", "messages": [{"role": "user", "content": "x"}], "n": 2}', "n"),
        (b'{"model": "tiny-genai", "messages": [{"role": "user", "content": "x"}], "seed": "1"}', "seed"),
        (
            b'{"model": "tiny-genai", "messages": [{"role": "user", "content": "x"}], "tools": [{"a": 1}]}',
            None,
        ),
        (b'{"model": "tiny-genai", "messages": [{"role": "user", "content": "x"}], "logprobs": true}', None),
        (b'{"model": 7, "messages": [{"role": "user", "content": "x"}]}', "model"),
    ],
)
def test_malformed_chat_requests_get_400(server: Server, raw: bytes, param: str | None) -> None:
    error = assert_openai_error(post(server, "/chat/completions", None, raw=raw), 400)
    assert error["type"] == "invalid_request_error"
    if param is not None:
        assert error["param"] == param


@pytest.mark.parametrize(
    "body",
    [
        {"model": MODEL},
        {"model": MODEL, "prompt": 5},
        {"model": MODEL, "prompt": ["a", "b"]},
        {"model": MODEL, "prompt": "x", "echo": True},
        {"model": MODEL, "prompt": "x", "best_of": 3},
        {"model": MODEL, "prompt": "x", "max_tokens": -1},
        {"model": MODEL, "prompt": ""},
    ],
)
def test_malformed_completion_requests_get_400(server: Server, body: dict[str, Any]) -> None:
    assert_openai_error(post(server, "/completions", body), 400)


def test_unknown_model_is_404(server: Server) -> None:
    api = openai.OpenAI(base_url=server.v1, api_key=KEYS[0], max_retries=0)
    with pytest.raises(openai.NotFoundError) as caught:
        api.chat.completions.create(model="gpt-4o", messages=USER, max_tokens=3)
    assert caught.value.code == "model_not_found"


def test_prompt_longer_than_the_context_is_400(server: Server) -> None:
    long_text = "☃ zq " * 6000
    response = post(server, "/chat/completions", {"model": MODEL, "messages": [{"role": "user", "content": long_text}]})
    error = assert_openai_error(response, 400, "context_length_exceeded")
    assert "8192" in error["message"]
    assert "☃" not in error["message"]


def test_max_tokens_beyond_the_context_is_400(server: Server) -> None:
    response = post(server, "/chat/completions", {"model": MODEL, "messages": USER, "max_tokens": 8192})
    error = assert_openai_error(response, 400, "context_length_exceeded")
    assert error["param"] == "max_tokens"


def test_max_context_tokens_clamps_the_served_context(
    start_server: StartServer, count_tokens: Callable[[str], int]
) -> None:
    clamped = start_server("--max-context-tokens", "64")
    auth = {"Authorization": f"Bearer {KEYS[0]}"}
    assert httpx.get(f"{clamped.v1}/models", headers=auth).json()["data"][0]["max_model_len"] == 64

    # The fixture's own context is 8192: these requests fit the model, not the clamp.
    prompt_tokens = count_tokens("hello")
    beyond = post(clamped, "/completions", {"model": MODEL, "prompt": "hello", "max_tokens": 65 - prompt_tokens})
    error = assert_openai_error(beyond, 400, "context_length_exceeded")
    assert "maximum context length is 64 tokens" in error["message"] and error["param"] == "max_tokens"
    long_prompt = "zq " * 60
    assert count_tokens(long_prompt) >= 64
    too_long = post(clamped, "/completions", {"model": MODEL, "prompt": long_prompt, "max_tokens": 1})
    assert assert_openai_error(too_long, 400, "context_length_exceeded")["param"] == "prompt"

    within = post(clamped, "/completions", {"model": MODEL, "prompt": "hello", "max_tokens": 64 - prompt_tokens})
    assert within.status_code == 200, within.text
    # Without max_tokens a chat may use the rest of the clamped context, never more.
    rest = post(clamped, "/chat/completions", {"model": MODEL, "messages": USER})
    assert rest.status_code == 200, rest.text
    assert rest.json()["usage"]["total_tokens"] <= 64
    assert "Traceback" not in clamped.log_text()


def test_body_over_the_limit_is_413(server: Server) -> None:
    huge = b'{"model": "tiny-genai", "prompt": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    assert_openai_error(post(server, "/completions", None, raw=huge), 413, "request_too_large")

    def chunks() -> Any:
        yield b'{"model": "tiny-genai", "prompt": "'
        for _ in range(5):
            yield b"y" * (1024 * 1024)
        yield b'"}'

    # Without Content-Length (chunked upload) the limit is enforced while reading.
    response = httpx.post(
        f"{server.v1}/completions",
        content=chunks(),
        headers={"Authorization": f"Bearer {KEYS[0]}", "Content-Type": "application/json"},
        timeout=30,
    )
    assert_openai_error(response, 413, "request_too_large")


def test_unknown_route_and_wrong_method_are_4xx(server: Server) -> None:
    auth = {"Authorization": f"Bearer {KEYS[0]}"}
    assert_openai_error(httpx.get(f"{server.v1}/nothing-here", headers=auth), 404)
    assert_openai_error(httpx.get(f"{server.v1}/chat/completions", headers=auth), 405)


def test_no_bad_input_ever_produced_a_5xx(server: Server) -> None:
    """Runs after the other tests of this module, on the same server."""
    assert httpx.get(f"{server.base_url}/health").status_code == 200
    statuses = {key: value for key, value in server.metrics().items() if key.startswith("ortgenai:http_requests")}
    assert any('status="400"' in key for key in statuses)
    assert not [key for key, value in statuses.items() if 'status="5' in key and value > 0]
    assert "Traceback" not in server.log_text()
