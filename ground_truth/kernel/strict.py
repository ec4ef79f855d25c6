"""What to do with an unexpected exception (a bug) at a point that isolates one piece of work from the rest
(one trial of a study, one KPI's statistics, one report section, one generated demo trial).

The work goes on and the error is recorded with its type, message and traceback, unless the run is strict
(``STANCEBENCH_STRICT=1``: the test suite, ``stancebench validate --strict``), where it re-raises so that a
bug can never pass as a status string.
"""
from __future__ import annotations

import os
import traceback

#: Environment variable that makes every isolation point re-raise.
STRICT_ENV = "STANCEBENCH_STRICT"


def strict_mode() -> bool:
    """True when unexpected exceptions must re-raise (``STANCEBENCH_STRICT`` set to anything but 0)."""
    return os.environ.get(STRICT_ENV, "") not in ("", "0")


def record_unexpected(exc: BaseException) -> dict[str, str]:
    """``{"error_type", "message", "traceback"}`` of an exception being handled; re-raises it when strict.

    Call inside the ``except`` block (the traceback is the one being handled).
    """
    if strict_mode():
        raise exc
    return {"error_type": type(exc).__name__, "message": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc()}
