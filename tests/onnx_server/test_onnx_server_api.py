"""The OpenAI protocol of slm-onnx-server, through the official `openai` client.

The tiny model has random weights, so these tests check protocol behaviour, counts and
limits, never the words. Greedy decoding is deterministic, and the fixture never emits EOS
under it, so `max_tokens` decides the length unless a stop string ends the answer first.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from .conftest import KEYS, MODEL, Server

pytestmark = pytest.mark.integration

USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Tell me a story about a robot."}]


def client(server: Server, key: str = KEYS[0]) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.v1, api_key=key, max_retries=0, timeout=60)


def test_models_lists_the_served_model(server: Server) -> None:
    models = client(server).models.list()
    assert [m.id for m in models.data] == [MODEL]
    assert models.data[0].model_extra == {"max_model_len": 8192}


def test_chat_counts_prompt_and_completion_tokens_exactly(
    server: Server,
    count_tokens: Callable[[str], int],
    chat_prompt: Callable[[list[ChatCompletionMessageParam]], str],
) -> None:
    reply = client(server).chat.completions.create(model=MODEL, messages=USER, max_tokens=7, temperature=0)
    assert reply.object == "chat.completion"
    assert reply.model == MODEL
    choice = reply.choices[0]
    assert choice.finish_reason == "length"
    assert choice.message.role == "assistant"
    assert choice.message.content
    assert reply.usage is not None
    assert reply.usage.prompt_tokens == count_tokens(chat_prompt(USER))
    assert reply.usage.completion_tokens == 7
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + 7


def test_chat_stream_matches_the_non_streamed_answer(server: Server) -> None:
    api = client(server)
    whole = api.chat.completions.create(model=MODEL, messages=USER, max_tokens=40, temperature=0)
    stream = api.chat.completions.create(
        model=MODEL,
        messages=USER,
        max_tokens=40,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.id == chunks[0].id and c.object == "chat.completion.chunk" for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["length"]
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 40
    assert chunks[-1].usage.prompt_tokens == whole.usage.prompt_tokens  # type: ignore[union-attr]


def test_stream_is_server_sent_events_ending_with_done(server: Server) -> None:
    body = {"model": MODEL, "messages": USER, "max_tokens": 5, "stream": True}
    headers = {"Authorization": f"Bearer {KEYS[1]}"}
    with httpx.stream("POST", f"{server.v1}/chat/completions", json=body, headers=headers, timeout=30) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"
    last_chunk = json.loads(lines[-2].removeprefix("data: "))
    assert last_chunk["choices"][0]["finish_reason"] == "length"


def test_completions_plain_and_streamed(server: Server, count_tokens: Callable[[str], int]) -> None:
    api = client(server)
    prompt = "Once upon a time"
    whole = api.completions.create(model=MODEL, prompt=prompt, max_tokens=12, temperature=0)
    assert whole.object == "text_completion"
    assert whole.choices[0].finish_reason == "length"
    assert whole.usage is not None
    assert whole.usage.prompt_tokens == count_tokens(prompt)
    assert whole.usage.completion_tokens == 12
    chunks = list(
        api.completions.create(
            model=MODEL,
            prompt=prompt,
            max_tokens=12,
            temperature=0,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert "".join(c.choices[0].text for c in chunks if c.choices) == whole.choices[0].text
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 12


def test_default_max_tokens_of_completions_is_16(server: Server) -> None:
    reply = client(server).completions.create(model=MODEL, prompt="Hello", temperature=0)
    assert reply.usage is not None
    assert reply.usage.completion_tokens == 16


@pytest.mark.parametrize("stream", [False, True])
def test_stop_string_ends_the_answer_before_it(server: Server, stream: bool) -> None:
    api = client(server)
    full = api.completions.create(model=MODEL, prompt="The robot", max_tokens=60, temperature=0)
    text = full.choices[0].text
    stop = text[20:23]
    expected = text[: text.index(stop)]
    if stream:
        chunks = list(
            api.completions.create(
                model=MODEL,
                prompt="The robot",
                max_tokens=60,
                temperature=0,
                stop=[stop, "\x00never"],
                stream=True,
                stream_options={"include_usage": True},
            )
        )
        answer = "".join(c.choices[0].text for c in chunks if c.choices)
        finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
        usage = chunks[-1].usage
    else:
        reply = api.completions.create(
            model=MODEL, prompt="The robot", max_tokens=60, temperature=0, stop=[stop, "\x00never"]
        )
        answer, finish, usage = reply.choices[0].text, [reply.choices[0].finish_reason], reply.usage
    assert answer == expected
    assert stop not in answer
    assert finish == ["stop"]
    assert usage is not None
    assert 0 < usage.completion_tokens < 60


def test_sampling_with_a_seed_is_reproducible(server: Server) -> None:
    api = client(server)

    def sample(seed: int) -> str:
        reply = api.chat.completions.create(
            model=MODEL,
            messages=USER,
            max_tokens=32,
            temperature=1.5,
            top_p=0.95,
            extra_body={"top_k": 100},
            seed=seed,
        )
        assert reply.usage is not None
        assert reply.usage.completion_tokens == 32
        return reply.choices[0].message.content or ""

    first = sample(7)
    assert sample(7) == first
    assert sample(8) != first


def test_sampling_parameters_change_the_answer(server: Server) -> None:
    api = client(server)
    greedy = api.completions.create(model=MODEL, prompt="Robots", max_tokens=32, temperature=0)
    greedy_again = api.completions.create(
        model=MODEL, prompt="Robots", max_tokens=32, temperature=1.0, extra_body={"top_k": 1}
    )
    sampled = [
        api.completions.create(model=MODEL, prompt="Robots", max_tokens=32, temperature=2.0, extra_body={"top_k": 200})
        .choices[0]
        .text
        for _ in range(3)
    ]
    assert greedy_again.choices[0].text == greedy.choices[0].text
    assert any(text != greedy.choices[0].text for text in sampled)


def test_32_concurrent_streams_complete_with_exact_usage(server: Server) -> None:
    api = openai.AsyncOpenAI(base_url=server.v1, api_key=KEYS[0], max_retries=0, timeout=120)

    async def one(i: int) -> tuple[int, int, str | None]:
        stream = await api.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": f"Request number {i}"}],
            max_tokens=20 + i,
            temperature=0,
            stream=True,
            stream_options={"include_usage": True},
        )
        finish, usage = None, None
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].finish_reason:
                finish = chunk.choices[0].finish_reason
            if chunk.usage is not None:
                usage = chunk.usage
        assert usage is not None
        return usage.completion_tokens, usage.prompt_tokens, finish

    async def run_all() -> list[tuple[int, int, str | None]]:
        async with api:
            return await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(32))), timeout=120)

    results = asyncio.run(run_all())
    assert [r[0] for r in results] == [20 + i for i in range(32)]
    assert all(r[2] == "length" for r in results)
    assert all(r[1] > 0 for r in results)
    server.wait_idle()


def test_metrics_move_as_requests_are_served(server: Server) -> None:
    before = server.wait_idle()
    reply = client(server).chat.completions.create(model=MODEL, messages=USER, max_tokens=9, temperature=0)
    after = server.wait_idle()
    assert reply.usage is not None

    def delta(key: str) -> float:
        return after.get(key, 0.0) - before.get(key, 0.0)

    m = f'model_name="{MODEL}"'
    assert delta(f"ortgenai:prompt_tokens_total{{{m}}}") == reply.usage.prompt_tokens
    assert delta(f"ortgenai:generation_tokens_total{{{m}}}") == 9
    assert delta(f'ortgenai:request_success_total{{finished_reason="length",{m}}}') == 1
    assert delta(f"ortgenai:time_to_first_token_seconds_count{{{m}}}") == 1
    assert delta(f"ortgenai:inter_token_latency_seconds_count{{{m}}}") == 8
    assert delta(f"ortgenai:e2e_request_latency_seconds_count{{{m}}}") == 1
    assert delta(f"ortgenai:request_generation_tokens_sum{{{m}}}") == 9
    assert delta('ortgenai:http_requests_total{path="/v1/chat/completions",status="200"}') == 1
    assert after[f"ortgenai:time_to_first_token_seconds_sum{{{m}}}"] > 0


def test_metric_names_on_the_wire_are_the_documented_ones(server: Server) -> None:
    from slm_onnx_server.metrics import EXPORTED_SERIES

    names = {key.split("{")[0] for key in server.metrics()}
    ours = {name for name in names if name.startswith("ortgenai:")}
    assert ours == set(EXPORTED_SERIES)
    assert all(f'model_name="{MODEL}"' in key for key in server.metrics() if "http_requests" not in key)


def test_logs_are_json_lines_without_prompts_completions_or_keys(server: Server) -> None:
    secret_prompt = "ZEBRA-PROMPT-MARKER-1234"
    reply = client(server, KEYS[1]).completions.create(model=MODEL, prompt=secret_prompt, max_tokens=24, temperature=0)
    completion = reply.choices[0].text
    server.wait_idle()
    lines = [json.loads(line) for line in server.log_text().splitlines() if line.strip()]
    requests = [line for line in lines if line.get("msg") == "request" and line.get("path") == "/v1/completions"]
    last = requests[-1]
    assert last["status"] == 200
    assert last["prompt_tokens"] == reply.usage.prompt_tokens  # type: ignore[union-attr]
    assert last["completion_tokens"] == 24
    assert last["latency_ms"] > 0
    text = server.log_text()
    assert secret_prompt not in text
    assert all(key not in text for key in KEYS)
    assert len(completion.strip()) >= 8
    assert completion.strip() not in text


def test_the_server_writes_nothing_to_home_or_its_working_directory(server: Server) -> None:
    """What a read-only root filesystem needs; ONNX Runtime's telemetry database included."""
    client(server).completions.create(model=MODEL, prompt="hi", max_tokens=4, temperature=0.5, seed=1)
    server.wait_idle()
    assert list(server.home.iterdir()) == []
    assert list(server.cwd.iterdir()) == []
