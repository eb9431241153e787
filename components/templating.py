"""Jinja2 templates for text formats other programs read (templates/ at the repository root)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["tojson"] = json.dumps
    return env


def render_template(template_name: str, /, **context: Any) -> str:
    """Render ``templates/<template_name>`` with ``context``; a missing variable is an error."""
    return _environment().get_template(template_name).render(**context)
