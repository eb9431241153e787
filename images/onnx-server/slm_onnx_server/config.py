"""Server settings and the command line that fills them."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from slm_onnx_server import __version__

DEFAULT_PORT = 8080


@dataclass(frozen=True)
class Settings:
    """Everything the server needs to start; built once from the command line.

    One field per option of `build_parser()`, named as its destination: the defaults live
    there, next to the help text that shows them.
    """

    model_dir: Path
    served_model_name: str
    host: str
    port: int
    api_keys_file: Path | None
    no_auth: bool
    max_running: int
    max_queued: int
    batch_wait_ms: float
    stream_interval_ms: float
    seeded_workers: int
    max_body_bytes: int
    shutdown_timeout: int
    execution_provider: str | None
    intra_op_threads: int | None
    max_context_tokens: int | None
    log_level: str


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="slm-onnx-server",
        description="OpenAI-compatible server for onnxruntime-genai models.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--model-dir",
        type=Path,
        required=True,
        help="folder with genai_config.json, the ONNX model, tokenizer",
    )
    parser.add_argument("--served-model-name", help="model id clients send (default: the model folder's name)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default: %(default)s)")
    auth = parser.add_mutually_exclusive_group()
    auth.add_argument("--api-keys-file", type=Path, help="file with one API key per line ('#' starts a comment)")
    auth.add_argument("--no-auth", action="store_true", help="serve /v1 without API keys (local development only)")
    parser.add_argument(
        "--max-running",
        type=_positive_int,
        default=16,
        help="requests generated together in one batch (default: %(default)s)",
    )
    parser.add_argument(
        "--max-queued",
        type=_non_negative_int,
        default=64,
        help="requests waiting for a batch slot before new ones get 429 (default: %(default)s)",
    )
    parser.add_argument(
        "--batch-wait-ms",
        type=_non_negative_float,
        default=10.0,
        help="with static batching, how long an idle engine waits for more requests to join a new "
        "batch (default: %(default)s)",
    )
    parser.add_argument(
        "--stream-interval-ms",
        type=_non_negative_float,
        default=10.0,
        help="least time between two hand-overs of generated tokens to the HTTP side: tokens of "
        "faster steps go out together in one chunk; a request's first token and its end go out "
        "at once; 0 hands over every step (default: %(default)s)",
    )
    parser.add_argument(
        "--seeded-workers",
        type=_positive_int,
        default=2,
        help="threads for sampled requests with a seed when the engine cannot reseed per request "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=_positive_int,
        default=4 * 1024 * 1024,
        help="largest request body accepted (default: %(default)s)",
    )
    parser.add_argument(
        "--shutdown-timeout",
        type=_non_negative_int,
        default=30,
        help="seconds in-flight requests get to finish after SIGTERM (default: %(default)s)",
    )
    parser.add_argument(
        "--execution-provider",
        choices=["cpu", "cuda"],
        help="override the execution provider in genai_config.json (default: as configured there)",
    )
    parser.add_argument(
        "--intra-op-threads",
        type=_positive_int,
        help="ONNX Runtime threads per model step (default: genai_config.json, else all host CPUs; "
        "set it to the container's CPU limit)",
    )
    parser.add_argument(
        "--max-context-tokens",
        type=_positive_int,
        help="longest context served, prompt plus max_tokens; longer requests get 400 "
        "(default: the model's search.max_length; a larger value is lowered to it)",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="(default: %(default)s)",
    )
    return parser


def settings_from_args(argv: list[str] | None = None) -> Settings:
    """Parse the command line; argparse exits with status 2 and one line on bad input."""
    parser = build_parser()
    args = parser.parse_args(argv)
    model_dir: Path = args.model_dir
    if not (model_dir / "genai_config.json").is_file():
        parser.error(f"--model-dir {model_dir}: no genai_config.json there")
    if args.api_keys_file is None and not args.no_auth:
        parser.error("no API keys: pass --api-keys-file FILE, or --no-auth for local development")
    if not 0 < args.port < 65536:
        parser.error(f"--port {args.port}: not a TCP port")
    served_model_name = args.served_model_name or model_dir.resolve().name
    return Settings(**{**vars(args), "served_model_name": served_model_name})
