"""Self-contained HTML validation reports (Jinja2 templates, matplotlib figures)."""
