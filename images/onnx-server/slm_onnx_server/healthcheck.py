"""Container health check without curl: `python -m slm_onnx_server.healthcheck [PORT]`.

Exit status 0 when GET /health on 127.0.0.1 answers 200 within three seconds, else 1.
The port comes from the argument, else SLM_ONNX_SERVER_PORT, else 8080.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

from slm_onnx_server.config import DEFAULT_PORT


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    port = args[0] if args else os.environ.get("SLM_ONNX_SERVER_PORT", str(DEFAULT_PORT))
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{int(port)}/health", timeout=3) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError, ValueError):
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
