"""OpenAI request and response bodies (the subset this server honours).

Requests are validated strictly: a wrong type is a 400, never a coercion. Fields that
would change the answer but are not implemented (n > 1, logprobs, tools, ...) are
rejected by name instead of being ignored silently; unknown fields are ignored, as the
OpenAI API does.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, model_validator

UINT64_MAX = 2**64 - 1
# Most stop strings one request may set; more is a 400.
MAX_STOP_STRINGS = 16

Temperature = Annotated[float, Field(ge=0.0, le=2.0)]
TopP = Annotated[float, Field(gt=0.0, le=1.0)]
MaxTokens = Annotated[StrictInt, Field(ge=1)]
Seed = Annotated[StrictInt, Field(ge=-(2**63), le=UINT64_MAX)]
StopStrings = StrictStr | Annotated[list[Annotated[StrictStr, Field(min_length=1)]], Field(max_length=MAX_STOP_STRINGS)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class TextPart(_Strict):
    type: Literal["text"]
    text: StrictStr


class ChatMessage(_Strict):
    role: Literal["system", "developer", "user", "assistant"]
    content: StrictStr | list[TextPart]
    name: StrictStr | None = None

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)

    def template_role(self) -> str:
        """OpenAI's newer `developer` role is the system prompt for chat templates."""
        return "system" if self.role == "developer" else self.role


class StreamOptions(_Strict):
    include_usage: StrictBool = False


class SamplingRequest(_Strict):
    """Fields shared by /v1/chat/completions and /v1/completions."""

    model: StrictStr
    temperature: Temperature | None = None
    top_p: TopP | None = None
    # vLLM's extension: 0 or -1 disable top-k.
    top_k: Annotated[StrictInt, Field(ge=-1)] | None = None
    stop: StopStrings | None = None
    seed: Seed | None = None
    stream: StrictBool = False
    stream_options: StreamOptions | None = None
    n: Annotated[StrictInt, Field(ge=1, le=1)] = 1
    user: StrictStr | None = None
    presence_penalty: Annotated[float, Field(ge=0.0, le=0.0)] | None = None
    frequency_penalty: Annotated[float, Field(ge=0.0, le=0.0)] | None = None

    def stop_list(self) -> list[str]:
        if self.stop is None:
            return []
        return [self.stop] if isinstance(self.stop, str) else list(self.stop)


def _reject_set(model: BaseModel, names: tuple[str, ...]) -> None:
    extra = model.model_extra or {}
    for name in names:
        value = extra.get(name)
        if value not in (None, False, [], {}):
            raise ValueError(f"'{name}' is not supported by this server")


class ChatCompletionRequest(SamplingRequest):
    model_config = ConfigDict(strict=True, extra="allow")

    messages: Annotated[list[ChatMessage], Field(min_length=1)]
    max_tokens: MaxTokens | None = None
    max_completion_tokens: MaxTokens | None = None

    @model_validator(mode="after")
    def _unsupported(self) -> ChatCompletionRequest:
        _reject_set(self, ("tools", "functions", "logprobs", "top_logprobs", "logit_bias", "audio"))
        response_format = (self.model_extra or {}).get("response_format")
        if isinstance(response_format, dict) and response_format.get("type") not in (None, "text"):
            raise ValueError("'response_format' other than text is not supported by this server")
        return self

    def token_limit(self) -> int | None:
        return self.max_completion_tokens if self.max_completion_tokens is not None else self.max_tokens


class CompletionRequest(SamplingRequest):
    model_config = ConfigDict(strict=True, extra="allow")

    prompt: StrictStr | Annotated[list[StrictStr], Field(min_length=1, max_length=1)]
    # OpenAI's default for the legacy completions endpoint.
    max_tokens: MaxTokens | None = 16

    @model_validator(mode="after")
    def _unsupported(self) -> CompletionRequest:
        _reject_set(self, ("echo", "logprobs", "suffix", "logit_bias"))
        best_of = (self.model_extra or {}).get("best_of")
        if best_of not in (None, 1):
            raise ValueError("'best_of' other than 1 is not supported by this server")
        return self

    def prompt_text(self) -> str:
        return self.prompt if isinstance(self.prompt, str) else self.prompt[0]

    def token_limit(self) -> int | None:
        return self.max_tokens


# Responses -------------------------------------------------------------------------------

FinishReason = Literal["stop", "length"]


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ResponseMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    index: int = 0
    message: ResponseMessage
    finish_reason: FinishReason
    logprobs: None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage


class CompletionChoice(BaseModel):
    index: int = 0
    text: str
    finish_reason: FinishReason | None
    logprobs: None = None


class Completion(BaseModel):
    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage | None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "slm-deploy"
    max_model_len: int


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]
