"""Protocol definitions (conditions, durations, stopping rules) and the KPIs they report.

>>> from protocols import get_protocol, get_kpi
>>> get_protocol("single_leg_stance").max_duration_s
45.0
>>> get_kpi("com_path_length").unit
'cm'
"""
from __future__ import annotations

from ground_truth.kernel import InputError, lookup, validate_type

from .definitions import (AlignmentCue, Condition, KPIMeasurement, Protocol, StoppingRule, load_protocol,
                          protocol_from_dict)
from .kpis import KPI, KPIS, get_kpi, list_kpis
from .mctsib import MCTSIB
from .single_leg_stance import SINGLE_LEG_STANCE
from .y_balance import Y_BALANCE, composite_score, normalised_reach

PROTOCOLS: dict[str, Protocol] = {p.name: p for p in (SINGLE_LEG_STANCE, MCTSIB, Y_BALANCE)}


def get_protocol(name: str) -> Protocol:
    """The protocol called ``name`` (built in or registered); InputError listing the known names otherwise."""
    return lookup(PROTOCOLS, name, "protocol", "protocol")


def list_protocols() -> list[str]:
    """Names of the known protocols: the built-in ones, then those registered (e.g. by a study manifest)."""
    return list(PROTOCOLS)


BUILT_IN = tuple(PROTOCOLS)


def register_protocol(protocol: Protocol) -> Protocol:
    """Make a lab's own protocol (e.g. from :func:`load_protocol`) known to :func:`get_protocol` in this process.

    A built-in name cannot be taken over; registering the same definition again is a no-op, a different
    definition under a registered name an InputError.
    """
    validate_type(protocol, Protocol, "protocol")
    if protocol.name in BUILT_IN:
        raise InputError(f"protocol name {protocol.name!r} is a built-in protocol", field="name",
                         expected=f"a name other than {', '.join(BUILT_IN)}")
    old = PROTOCOLS.get(protocol.name)
    if old is not None and old.to_dict() != protocol.to_dict():
        raise InputError(f"another protocol called {protocol.name!r} is already registered", field="name",
                         expected="one definition per protocol name")
    PROTOCOLS[protocol.name] = protocol
    return protocol


__all__ = ["AlignmentCue", "Condition", "KPI", "KPIMeasurement", "KPIS", "PROTOCOLS", "Protocol", "StoppingRule",
           "composite_score", "get_kpi", "get_protocol", "list_kpis", "list_protocols", "load_protocol",
           "normalised_reach", "protocol_from_dict", "register_protocol"]
