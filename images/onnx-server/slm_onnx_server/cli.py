"""`slm-onnx-server --model-dir DIR --host H --port P [--api-keys-file FILE]`."""

from __future__ import annotations

import logging
import sys

from slm_onnx_server.auth import ApiKeyError, load_api_keys
from slm_onnx_server.config import settings_from_args
from slm_onnx_server.logs import configure_logging

log = logging.getLogger("slm_onnx_server")


def main(argv: list[str] | None = None) -> int:
    settings = settings_from_args(sys.argv[1:] if argv is None else argv)
    configure_logging(settings.log_level)
    keys = None
    if settings.api_keys_file is not None:
        try:
            keys = load_api_keys(settings.api_keys_file)
        except ApiKeyError as error:
            log.error(str(error))
            return 2
    else:
        log.warning("serving /v1 without API keys (--no-auth)")
    # Imported late: uvicorn, FastAPI and onnxruntime-genai take a moment, and --help should not.
    from slm_onnx_server.server import serve

    return serve(settings, keys)
