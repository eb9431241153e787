"""``slm-deploy check``: real validators over a render folder (one module per validator)."""

from components.check.report import exit_status, render_report
from components.check.runner import run_checks

__all__ = ["exit_status", "render_report", "run_checks"]
