"""The server's version is written in three places; the image tag the engine deploys is one of them."""

from __future__ import annotations

import tomllib

import slm_onnx_server

from components.engines.onnx import SERVER_VERSION
from tests.conftest import REPO


def test_the_package_the_image_and_the_engine_agree_on_the_server_version() -> None:
    pyproject = tomllib.loads((REPO / "images" / "onnx-server" / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["version"] == slm_onnx_server.__version__ == SERVER_VERSION
