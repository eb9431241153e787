"""Fixtures that run slm-onnx-server for real, as a subprocess on 127.0.0.1, on the tiny model.

Every server is started on a free port, waited for through /health, and always killed at
teardown; every wait is bounded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import TINY_GENAI as FIXTURE
from tests.conftest import free_port

MODEL = "tiny-genai"
KEYS = ("sk-onnx-test-first-key", "sk-onnx-test-second-key")
START_TIMEOUT = 60.0


@dataclass
class Server:
    """A running server: its address, process and log file."""

    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    home: Path
    cwd: Path

    @property
    def v1(self) -> str:
        return f"{self.base_url}/v1"

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def metrics(self) -> dict[str, float]:
        """Every sample on /metrics, keyed `name{label="value",...}` with sorted labels."""
        text = httpx.get(f"{self.base_url}/metrics", timeout=10).text
        samples: dict[str, float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
                samples[f"{sample.name}{{{labels}}}"] = sample.value
        return samples

    def wait_idle(self, timeout: float = 20.0) -> dict[str, float]:
        """Wait until no request is running or waiting; returns the metrics then."""
        deadline = time.monotonic() + timeout
        while True:
            samples = self.metrics()
            busy = (
                samples[f'ortgenai:num_requests_running{{model_name="{MODEL}"}}']
                + samples[f'ortgenai:num_requests_waiting{{model_name="{MODEL}"}}']
            )
            if busy == 0:
                return samples
            if time.monotonic() > deadline:
                raise AssertionError(f"server still busy after {timeout}s: {busy} requests")
            time.sleep(0.05)

    def terminate(self, timeout: float = 30.0) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)


def _wait_healthy(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"server exited with {server.process.returncode}:\n{server.log_text()}")
        try:
            if httpx.get(f"{server.base_url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"server not healthy after {START_TIMEOUT}s:\n{server.log_text()}")


StartServer = Callable[..., Server]


@pytest.fixture(scope="module")
def start_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartServer]:
    """Factory: start a server with extra flags; all are killed when the module ends."""
    started: list[Server] = []
    workdir = tmp_path_factory.mktemp("onnx-server")
    keys_file = workdir / "api-keys"
    keys_file.write_text("# test keys\n" + "\n".join(KEYS) + "\n\n")

    def start(*flags: str) -> Server:
        port = free_port()
        home, cwd = workdir / f"home-{port}", workdir / f"cwd-{port}"
        home.mkdir()
        cwd.mkdir()
        log_path = workdir / f"server-{port}.log"
        command = [
            sys.executable,
            "-m",
            "slm_onnx_server",
            "--model-dir",
            str(FIXTURE),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--api-keys-file",
            str(keys_file),
            *flags,
        ]
        with log_path.open("wb") as log:
            # An empty HOME and working directory: the server must leave both untouched.
            env = {**os.environ, "HOME": str(home)}
            env.pop("ORT_DISABLE_TELEMETRY", None)
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        server = Server(f"http://127.0.0.1:{port}", process, log_path, home, cwd)
        started.append(server)
        _wait_healthy(server)
        return server

    yield start
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(10)


@pytest.fixture(scope="module")
def server(start_server: StartServer) -> Server:
    """The shared server for tests that do not change its configuration."""
    return start_server()


@pytest.fixture(scope="session")
def count_tokens() -> Callable[[str], int]:
    """Token count of a text with the fixture's own tokenizer, computed in the test process."""
    import onnxruntime_genai as og

    tokenizer = og.Tokenizer(og.Model(str(FIXTURE)))

    def count(text: str) -> int:
        return len(tokenizer.encode(text))

    return count


@pytest.fixture(scope="session")
def chat_prompt() -> Callable[[Sequence[Mapping[str, Any]]], str]:
    """The fixture's chat template applied in the test process."""
    import onnxruntime_genai as og

    tokenizer = og.Tokenizer(og.Model(str(FIXTURE)))

    def render(messages: Sequence[Mapping[str, Any]]) -> str:
        return str(tokenizer.apply_chat_template(json.dumps(list(messages)), add_generation_prompt=True))

    return render
