"""Offline render: run the real program under a recording mock and write what it asks for."""

from components.render.harness import DuplicateResourceError, Recording, run_program
from components.render.writer import render_files, write_render

__all__ = ["DuplicateResourceError", "Recording", "render_files", "run_program", "write_render"]
