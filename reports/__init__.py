"""Self-contained HTML validation reports (Jinja2 templates, matplotlib figures), rendered from the typed results
model alone (``harness.results.StudyResults``, or a parsed ``results.json``); of the project only that model and
``ground_truth.kernel`` are imported. See docs/report.md."""
from .report import build_report, build_sections, environment, render_html

__all__ = ["build_report", "build_sections", "environment", "render_html"]
