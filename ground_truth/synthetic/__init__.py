"""Synthetic single-leg-stance recordings with known truth, written as real C3D files.

``simulate_single_leg_stance(...)`` makes a :class:`SyntheticTrial` (joints, markers, force plates and truth);
``draw_population(...)`` draws subjects (:class:`SubjectParameters`) from published distributions, whose
``simulation_kwargs(condition)`` drive that simulation;
``write_c3d(trial, path)`` writes it through ezc3d; ``check_roundtrip(trial, path)`` reads the file back with the
project's reader and compares COP, COM, events and angles with the truth.
"""
from .body import Subject
from .population import SOURCES, SubjectParameters, draw_population, summarize_bds
from .simulate import CONDITIONS, STRATEGIES, SyntheticTrial, simulate_single_leg_stance, strategy_modes

__all__ = ["CONDITIONS", "SOURCES", "STRATEGIES", "Subject", "SubjectParameters", "SyntheticTrial", "check_roundtrip",
           "draw_population", "simulate_single_leg_stance", "strategy_modes", "summarize_bds", "write_c3d",
           "write_trc"]


def __getattr__(name):
    if name in ("write_c3d", "write_trc"):
        from . import writers
        return getattr(writers, name)
    if name == "check_roundtrip":
        from .roundtrip import check_roundtrip
        return check_roundtrip
    raise AttributeError(name)
