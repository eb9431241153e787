"""What differs between /v1/chat/completions and /v1/completions; the route logic is shared.

The chat route applies the model's chat template and streams `chat.completion.chunk` deltas
after an opening role chunk; the legacy route takes a raw prompt and streams `text_completion`
text. Everything else (admission, budgets, errors, usage) is one code path in app.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel

from slm_onnx_server.schemas import (
    ChatChoice,
    ChatCompletion,
    ChatCompletionRequest,
    Completion,
    CompletionChoice,
    CompletionRequest,
    FinishReason,
    ResponseMessage,
    SamplingRequest,
    Usage,
)

RequestT = TypeVar("RequestT", bound=SamplingRequest)


class BodyBuilder(Protocol):
    """The non-streamed response body of a finished generation."""

    def __call__(
        self, *, rid: str, created: int, model: str, text: str, reason: FinishReason, usage: Usage
    ) -> BaseModel: ...


@dataclass(frozen=True)
class Endpoint(Generic[RequestT]):
    request_type: type[RequestT]
    prompt_param: str
    """The request field holding the prompt, named in context-length errors."""
    id_prefix: str
    chunk_object: str
    prompt: Callable[[Any, RequestT], Callable[[], str]]
    """(tokenizer, request) -> a function that renders the prompt text on the tokenize thread."""
    token_limit: Callable[[RequestT], int | None]
    body: BodyBuilder
    text_fields: Callable[[str], dict[str, Any]]
    """The choice fields of a streamed chunk that carry a piece of text."""
    opening: dict[str, Any] | None
    """Choice fields of a chunk sent before any text, if the format has one."""
    closing: dict[str, Any]
    """Choice fields of the chunk that carries the finish reason."""


def _chat_prompt(tokenizer: Any, req: ChatCompletionRequest) -> Callable[[], str]:
    messages = json.dumps([{"role": m.template_role(), "content": m.text()} for m in req.messages])
    return lambda: str(tokenizer.apply_chat_template(messages, add_generation_prompt=True))


def _raw_prompt(_tokenizer: Any, req: CompletionRequest) -> Callable[[], str]:
    text = req.prompt_text()
    return lambda: text


def _chat_body(*, rid: str, created: int, model: str, text: str, reason: FinishReason, usage: Usage) -> ChatCompletion:
    choice = ChatChoice(message=ResponseMessage(content=text), finish_reason=reason)
    return ChatCompletion(id=rid, created=created, model=model, choices=[choice], usage=usage)


def _completion_body(
    *, rid: str, created: int, model: str, text: str, reason: FinishReason, usage: Usage
) -> Completion:
    choice = CompletionChoice(text=text, finish_reason=reason)
    return Completion(id=rid, created=created, model=model, choices=[choice], usage=usage)


CHAT: Endpoint[ChatCompletionRequest] = Endpoint(
    request_type=ChatCompletionRequest,
    prompt_param="messages",
    id_prefix="chatcmpl",
    chunk_object="chat.completion.chunk",
    prompt=_chat_prompt,
    token_limit=ChatCompletionRequest.token_limit,
    body=_chat_body,
    text_fields=lambda text: {"delta": {"content": text}},
    opening={"delta": {"role": "assistant", "content": ""}},
    closing={"delta": {}},
)
COMPLETION: Endpoint[CompletionRequest] = Endpoint(
    request_type=CompletionRequest,
    prompt_param="prompt",
    id_prefix="cmpl",
    chunk_object="text_completion",
    prompt=_raw_prompt,
    token_limit=CompletionRequest.token_limit,
    body=_completion_body,
    text_fields=lambda text: {"text": text},
    opening=None,
    closing={"text": ""},
)
