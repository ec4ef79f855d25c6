"""The trial pipeline: one trial × candidate through named stages, in the order data flows.

reference side → candidate side → clock alignment → analysis window → KPIs → pairs → figure data

Each stage is a module with one function taking typed inputs (:mod:`~harness.pipeline.sides`,
:class:`~harness.pipeline.clock.ClockAlignment`, :class:`~harness.pipeline.values.KPIValue`) and returning
typed outputs; :func:`~harness.pipeline.trial.run_trial` calls them in that order and nothing calls back up.
docs/study.md walks one trial through them.
"""
from .trial import TrialOutcome, empty_row, run_trial

__all__ = ["TrialOutcome", "empty_row", "run_trial"]
