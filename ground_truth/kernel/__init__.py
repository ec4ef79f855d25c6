"""The kernel every package shares: named errors, input checks with one wording, the time series with its
units and events, JSON conversion and file hashing. It imports nothing of the project outside itself."""
from .checks import as_float_array, check_option, lookup, validate_type
from .errors import (AlignmentError, DeviceError, InputError, ManifestError, ModelError, NotAvailableError,
                     ReaderError, StancebenchError, UnitError)
from .hashing import file_sha256
from .jsonio import jsonable
from .strict import STRICT_ENV, record_unexpected, strict_mode
from .timeseries import Event, TimeSeries

__all__ = ["STRICT_ENV", "AlignmentError", "DeviceError", "Event", "InputError", "ManifestError", "ModelError",
           "NotAvailableError", "ReaderError", "StancebenchError", "TimeSeries", "UnitError", "as_float_array",
           "check_option", "file_sha256", "jsonable", "lookup", "record_unexpected", "strict_mode",
           "validate_type"]
