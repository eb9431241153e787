"""OpenAI error responses: one envelope and one status-to-type table for the app and its middleware."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

_ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    404: ("invalid_request_error", "not_found"),
    405: ("invalid_request_error", "method_not_allowed"),
    413: ("invalid_request_error", "request_too_large"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
    503: ("service_unavailable", "service_unavailable"),
}


def error_body(message: str, error_type: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    """The OpenAI error envelope; `message` must never echo a key or prompt text."""
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


class ApiError(Exception):
    """An OpenAI-style error response; the message must not quote the request's content."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type, default_code = _ERROR_TYPES.get(status, ("server_error", "internal_error"))
        self.code = code or default_code
        self.param = param
        self.headers = headers

    def response(self) -> JSONResponse:
        body = error_body(self.message, self.error_type, self.code, self.param)
        return JSONResponse(body, status_code=self.status, headers=self.headers)
