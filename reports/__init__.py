"""Self-contained HTML validation reports (Jinja2 templates, matplotlib figures), rendered from plain results
data (``results.json``); nothing here imports ``harness``. See docs/report.md."""
from .report import build_report, build_sections, environment, render_html

__all__ = ["build_report", "build_sections", "environment", "render_html"]
