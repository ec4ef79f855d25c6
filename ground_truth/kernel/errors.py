"""Named exception classes shared by every stancebench package.

Every error raised on bad input names the file, the field and what was expected, so a user can fix the input
without reading a traceback from deep inside numpy.
"""
from __future__ import annotations

from os import PathLike


class StancebenchError(Exception):
    """Base class of every error stancebench raises on purpose."""


class InputError(StancebenchError, ValueError):
    """Input data or arguments are not what was expected.

    Parameters
    ----------
    message : str
        What is wrong.
    file : str or path-like, optional
        The file the bad value came from.
    field : str, optional
        The column, channel, parameter or argument that is wrong.
    expected : str, optional
        What was expected instead.
    """

    def __init__(self, message: str, *, file: str | PathLike | None = None, field: str | None = None,
                 expected: str | None = None):
        self.file = None if file is None else str(file)
        self.field = field
        self.expected = expected
        self.reason = message
        parts = []
        if self.file:
            parts.append(f"{self.file}")
        if field:
            parts.append(f"field '{field}'")
        text = ": ".join(parts + [message]) if parts else message
        if expected:
            text += f" (expected {expected})"
        super().__init__(text)


class ReaderError(InputError):
    """A file cannot be read as the format it was given as (truncated, corrupt, wrong layout)."""


class UnitError(InputError):
    """A unit is missing or not one stancebench knows how to convert to SI."""


class ModelError(InputError):
    """A model file is not a usable model, or does not match its declared layout."""


class ManifestError(InputError):
    """A study manifest, candidate manifest or gate policy is invalid."""


class AlignmentError(StancebenchError):
    """Two clocks cannot be aligned reliably; the reason says why (e.g. no reliable correlation peak)."""


class DeviceError(StancebenchError, RuntimeError):
    """A device runner failed: no device, unauthorised device, a tool that vanished mid-run."""


class NotAvailableError(StancebenchError, RuntimeError):
    """A part cannot run on this machine (e.g. Core ML prediction off macOS); the message gives the reason."""
