"""The kernel every package shares: named errors, input checks with one wording, the time series with its
units and events, JSON conversion, file hashing,
input-path checks and atomic output writes, and the bounds of physically plausible values.
It imports nothing of the project outside itself."""
from .bounds import BOUNDS, Bound, mask_implausible, require_plausible
from .checks import as_float_array, check_option, check_range, lookup, validate_type
from .errors import (AlignmentError, DeviceError, InputError, ManifestError, ModelError, NotAvailableError,
                     ReaderError, StancebenchError, UnitError)
from .files import (OutputError, atomic_output, check_input_file, check_output_path, make_output_dir,
                    read_text_file, write_bytes_atomic, write_text_atomic)
from .hashing import file_sha256
from .jsonio import SEVERAL_DOCUMENTS, jsonable, parse_json
from .strict import STRICT_ENV, record_unexpected, strict_mode
from .timeseries import Event, TimeSeries

__all__ = ["BOUNDS", "SEVERAL_DOCUMENTS", "STRICT_ENV", "Bound", "OutputError", "atomic_output", "check_input_file",
           "check_output_path", "make_output_dir", "mask_implausible", "read_text_file", "require_plausible",
           "write_bytes_atomic", "write_text_atomic", "AlignmentError", "DeviceError", "Event", "InputError",
           "ManifestError", "ModelError", "NotAvailableError", "ReaderError", "StancebenchError", "TimeSeries",
           "UnitError", "as_float_array", "check_option", "check_range", "file_sha256", "jsonable", "lookup",
           "parse_json", "record_unexpected", "strict_mode", "validate_type"]
