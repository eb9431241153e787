"""Run the app under uvicorn with a bounded graceful shutdown.

On SIGTERM uvicorn closes the listening socket, lets in-flight requests (streams
included) finish for up to `--shutdown-timeout` seconds, cancels what is left, and then
the lifespan stops the engine thread. The exit status is 0 after a clean drain.
"""

from __future__ import annotations

import uvicorn

from slm_onnx_server.app import create_app
from slm_onnx_server.config import Settings

STARTUP_FAILURE = 3


def serve(settings: Settings, keys: frozenset[str] | None) -> int:
    app = create_app(settings, keys)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=settings.shutdown_timeout,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    server.run()
    return 0 if server.started else STARTUP_FAILURE
