"""The server's pure parts, without a model: stop strings, keys, schemas, sampling, metrics."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import onnxruntime_genai as og
import pytest
from pydantic import ValidationError
from slm_onnx_server.auth import ApiKeyChecker, ApiKeyError, load_api_keys
from slm_onnx_server.config import settings_from_args
from slm_onnx_server.engine import (
    Arrivals,
    EngineWorker,
    Finish,
    Mailbox,
    Output,
    SamplingParams,
    apply_sampling,
    finish_reason_name,
    finished,
)
from slm_onnx_server.metrics import EXPORTED_SERIES, ServerMetrics
from slm_onnx_server.schemas import ChatCompletionRequest, CompletionRequest
from slm_onnx_server.textstream import StopMatcher

from tests.conftest import TINY_GENAI as FIXTURE


def feed_all(matcher: StopMatcher, pieces: list[str]) -> tuple[str, bool]:
    out = []
    for piece in pieces:
        text, matched = matcher.feed(piece)
        out.append(text)
        if matched:
            return "".join(out), True
    out.append(matcher.flush())
    return "".join(out), False


@pytest.mark.parametrize(
    ("pieces", "stops", "expected", "matched"),
    [
        (["Hello", " wor", "ld"], ["wor"], "Hello ", True),
        (["ab", "c", "END", "x"], ["END"], "abc", True),
        (["a", "E", "N", "D"], ["END"], "a", True),
        (["xEN", "Dy"], ["END"], "x", True),
        (["EN", "d"], ["END"], "ENd", False),
        (["one two"], ["two", "one"], "", True),
        (["no stop here"], [], "no stop here", False),
        (["café ☃", " snow"], ["☃"], "café ", True),
    ],
)
def test_stop_matcher_cuts_before_the_first_stop_string(
    pieces: list[str], stops: list[str], expected: str, matched: bool
) -> None:
    assert feed_all(StopMatcher(stops), pieces) == (expected, matched)


def test_stop_matcher_holds_back_a_possible_prefix_and_releases_it_later() -> None:
    matcher = StopMatcher(["STOP"])
    assert matcher.feed("abc ST") == ("abc ", False)
    assert matcher.feed("x") == ("STx", False)


def test_keys_file_skips_comments_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text("# comment\n\n  key-one  \nkey-two\n")
    assert load_api_keys(path) == {"key-one", "key-two"}


@pytest.mark.parametrize("content", ["", "# only a comment\n\n", "has space inside\n"])
def test_unusable_keys_files_are_refused_without_echoing_keys(tmp_path: Path, content: str) -> None:
    path = tmp_path / "keys"
    path.write_text(content)
    with pytest.raises(ApiKeyError) as caught:
        load_api_keys(path)
    assert "space inside" not in str(caught.value)


def test_missing_keys_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ApiKeyError, match="cannot read"):
        load_api_keys(tmp_path / "absent")


def test_bearer_check() -> None:
    checker = ApiKeyChecker(frozenset({"k1", "k2"}))
    assert checker.allows("Bearer k1")
    assert checker.allows("bearer k2")
    assert not checker.allows(None)
    assert not checker.allows("Bearer k3")
    assert not checker.allows("Basic k1")
    assert not checker.allows("Bearer ")
    assert ApiKeyChecker(None).allows(None)


def test_cli_requires_a_keys_file_or_explicit_no_auth(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        settings_from_args(["--model-dir", str(FIXTURE)])
    assert caught.value.code == 2
    assert "--no-auth" in capsys.readouterr().err
    settings = settings_from_args(["--model-dir", str(FIXTURE), "--no-auth"])
    assert settings.served_model_name == "tiny-genai"
    assert settings.port == 8080


def test_cli_rejects_a_folder_without_a_model(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        settings_from_args(["--model-dir", str(tmp_path), "--no-auth"])
    assert caught.value.code == 2


def test_chat_request_validation() -> None:
    ok = ChatCompletionRequest.model_validate_json(
        '{"model": "m", "messages": [{"role": "developer", "content": [{"type": "text", "text": "a"},'
        '{"type": "text", "text": "b"}]}], "stop": "x", "max_completion_tokens": 3, "metadata": {"k": "v"}}'
    )
    assert ok.messages[0].text() == "ab"
    assert ok.messages[0].template_role() == "system"
    assert ok.stop_list() == ["x"]
    assert ok.token_limit() == 3
    user = '"messages": [{"role": "user", "content": "x"}]'
    for bad in (
        '{"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]}',
        '{"model": "m", ' + user + ', "response_format": {"type": "json_object"}}',
        '{"model": "m", ' + user + ', "presence_penalty": 0.5}',
        '{"model": "m", ' + user + ', "stop": ' + str(list("abcdefghijklmnopq")).replace("'", '"') + "}",
    ):
        with pytest.raises(ValidationError):
            ChatCompletionRequest.model_validate_json(bad)


def test_completion_request_defaults_to_16_tokens() -> None:
    request = CompletionRequest.model_validate_json('{"model": "m", "prompt": ["only one"]}')
    assert request.token_limit() == 16
    assert request.prompt_text() == "only one"


@pytest.mark.parametrize(
    ("params", "sampling"),
    [
        (SamplingParams(max_tokens=1), None),
        (SamplingParams(max_tokens=1, temperature=0), False),
        (SamplingParams(max_tokens=1, temperature=0.7), True),
        (SamplingParams(max_tokens=1, top_p=0.9), True),
        (SamplingParams(max_tokens=1, top_k=1), None),
        (SamplingParams(max_tokens=1, top_k=40), True),
        (SamplingParams(max_tokens=1, temperature=0, top_k=40), False),
    ],
)
def test_greedy_or_sampling_follows_the_openai_fields(params: SamplingParams, sampling: bool | None) -> None:
    assert params.sampling is sampling


class RecordingOptions:
    def __init__(self) -> None:
        self.calls: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        return lambda value: self.calls.__setitem__(name, value)


def test_greedy_turns_set_no_distribution_fields() -> None:
    options = RecordingOptions()
    apply_sampling(options, SamplingParams(max_tokens=1, temperature=0, top_p=0.5, top_k=5, seed=3), dynamic=True)
    assert options.calls == {"set_do_sample": False}


def test_sampled_turns_set_every_given_field() -> None:
    options = RecordingOptions()
    params = SamplingParams(max_tokens=1, temperature=0.5, top_p=0.9, top_k=-1, seed=-1)
    apply_sampling(options, params, dynamic=True)
    assert options.calls == {
        "set_do_sample": True,
        "set_temperature": 0.5,
        "set_top_p": 0.9,
        "set_top_k": 0,
        "set_seed": 2**64 - 1,
    }
    static = RecordingOptions()
    apply_sampling(static, params, dynamic=False)
    assert "set_seed" not in static.calls


def test_engine_finish_reasons_map_to_openai_ones() -> None:
    assert finish_reason_name(int(og.FinishReason.EOS)) == "stop"
    assert finish_reason_name(int(og.FinishReason.STOP_STRING)) == "stop"
    assert finish_reason_name(int(og.FinishReason.MAX_GENERATED_TOKENS)) == "length"
    assert finish_reason_name(int(og.FinishReason.MAX_SESSION_TOKENS)) == "length"
    assert finish_reason_name(int(og.FinishReason.CANCELLED)) == "abort"
    assert finish_reason_name(int(og.FinishReason.FAILED)) == "error"


def test_exported_series_are_exactly_what_the_registry_exposes() -> None:
    metrics = ServerMetrics("m")
    metrics.http_requests.labels("/health", "200").inc()
    exposed = {sample.name for family in metrics.registry.collect() for sample in family.samples}
    assert exposed == set(EXPORTED_SERIES)
    assert all(name.startswith("ortgenai:") for name in EXPORTED_SERIES)


def test_arrivals_count_until_submitted_or_abandoned() -> None:
    arrivals = Arrivals()
    with arrivals.track() as submitted:
        assert arrivals.count == 1
        submitted()
        submitted()
        assert arrivals.count == 0
    with pytest.raises(RuntimeError), arrivals.track():
        assert arrivals.count == 1
        raise RuntimeError
    assert arrivals.count == 0


def test_stream_interval_defaults_to_10_ms_and_must_not_be_negative(capsys: pytest.CaptureFixture[str]) -> None:
    assert settings_from_args(["--model-dir", str(FIXTURE), "--no-auth"]).stream_interval_ms == 10.0
    every_step = settings_from_args(["--model-dir", str(FIXTURE), "--no-auth", "--stream-interval-ms", "0"])
    assert every_step.stream_interval_ms == 0.0
    with pytest.raises(SystemExit) as caught:
        settings_from_args(["--model-dir", str(FIXTURE), "--no-auth", "--stream-interval-ms", "-1"])
    assert caught.value.code == 2
    assert "--stream-interval-ms" in capsys.readouterr().err


def test_max_context_tokens_is_positive_and_never_above_the_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert settings_from_args(["--model-dir", str(FIXTURE), "--no-auth"]).max_context_tokens is None
    clamped = settings_from_args(["--model-dir", str(FIXTURE), "--no-auth", "--max-context-tokens", "2048"])
    assert clamped.max_context_tokens == 2048
    with pytest.raises(SystemExit) as caught:
        settings_from_args(["--model-dir", str(FIXTURE), "--no-auth", "--max-context-tokens", "0"])
    assert caught.value.code == 2
    assert "--max-context-tokens" in capsys.readouterr().err
    assert EngineWorker._clamped_context(8192, 2048) == 2048
    assert EngineWorker._clamped_context(8192, 100_000) == 8192
    assert EngineWorker._clamped_context(0, 2048) == 2048  # a model without a stated length


def test_a_mailbox_hands_over_everything_that_arrived_in_order() -> None:
    async def scenario() -> tuple[list[Output], list[Output]]:
        mailbox = Mailbox()
        first, second, third = Output((1,), (0.1,)), Output((2, 3), (0.2, 0.3)), finished(Finish("stop"))
        waiting = asyncio.ensure_future(mailbox.take())
        await asyncio.sleep(0)
        assert not waiting.done()  # nothing arrived yet
        mailbox.put(first)
        early = await waiting
        mailbox.put(second)
        mailbox.put(third)
        return early, await mailbox.take()

    early, late = asyncio.run(scenario())
    assert [o.tokens for o in early] == [(1,)]
    assert [o.tokens for o in late] == [(2, 3), ()]
    assert late[1].finish == Finish("stop")
