"""Unit strings found in motion-capture and force-plate files, and their factors to SI."""
from __future__ import annotations

from ..kernel import UnitError

_LENGTH = {"mm": 1e-3, "millimeter": 1e-3, "millimetre": 1e-3, "millimeters": 1e-3, "millimetres": 1e-3,
           "cm": 1e-2, "centimeter": 1e-2, "centimetre": 1e-2, "dm": 1e-1, "m": 1.0, "meter": 1.0,
           "metre": 1.0, "meters": 1.0, "metres": 1.0, "in": 0.0254, "inch": 0.0254, "inches": 0.0254}
# C3D stores strings in fixed-width fields, so "meters" may arrive cut to "mete" (c3d.org sample15).
_TRUNCATED_METRE = ("met", "mete", "meter", "metr", "metre")

_FORCE = {"n": 1.0, "newton": 1.0, "newtons": 1.0, "kn": 1e3}
_MOMENT = {"nm": 1.0, "n.m": 1.0, "n*m": 1.0, "n-m": 1.0, "n m": 1.0, "nmm": 1e-3, "n.mm": 1e-3,
           "n*mm": 1e-3, "n-mm": 1e-3, "n mm": 1e-3, "ncm": 1e-2, "n.cm": 1e-2}
_VOLT = {"v": 1.0, "volt": 1.0, "volts": 1.0, "mv": 1e-3, "uv": 1e-6, "µv": 1e-6}


def _norm(unit: str) -> str:
    return unit.strip().lower()


def length_scale(unit: str) -> float:
    """Factor that converts a length in ``unit`` to metres; UnitError for anything else."""
    u = _norm(unit)
    if u in _LENGTH:
        return _LENGTH[u]
    if u in _TRUNCATED_METRE:
        return 1.0
    raise UnitError(f"unknown length unit {unit!r}", field="units", expected="mm, cm, m or in")


def force_scale(unit: str) -> float:
    u = _norm(unit)
    if u in _FORCE:
        return _FORCE[u]
    raise UnitError(f"unknown force unit {unit!r}", field="units", expected="N")


def moment_scale(unit: str) -> float:
    """Factor that converts a moment in ``unit`` (e.g. 'Nmm', 'N.m') to N*m."""
    u = _norm(unit)
    if u in _MOMENT:
        return _MOMENT[u]
    if u.startswith("n") and u[1:] in _TRUNCATED_METRE:
        return 1.0
    raise UnitError(f"unknown moment unit {unit!r}", field="units", expected="N*m or N*mm")


def si_analog(unit: str) -> tuple[str, float]:
    """(SI unit, factor) for an analog channel's unit; ('raw', 1.0) when it is absent or not a known
    physical unit (EMG gains, 'counts', ...): such channels are kept as stored and say so."""
    u = _norm(unit)
    if u in _VOLT:
        return "V", _VOLT[u]
    if u in _FORCE:
        return "N", _FORCE[u]
    if u in _MOMENT:
        return "N*m", _MOMENT[u]
    if u in ("deg", "degree", "degrees"):
        return "deg", 1.0
    return "raw", 1.0
