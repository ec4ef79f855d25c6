"""Orchestration: study manifests, time alignment, agreement statistics, gates and the command-line interface."""
