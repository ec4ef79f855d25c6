"""Gold-standard side: readers of force-plate and motion-capture files, and the balance signals and KPIs
computed from them (COP sway, COM, events, time-to-failure, joint angles), plus synthetic recordings with
known truth."""
from .kernel import (AlignmentError, DeviceError, InputError, ManifestError, ModelError, NotAvailableError,
                     ReaderError, StancebenchError, UnitError)
from .recording import ForcePlate, Recording
from .kernel import Event, TimeSeries

__all__ = ["AlignmentError", "DeviceError", "Event", "ForcePlate", "InputError", "ManifestError", "ModelError",
           "NotAvailableError", "ReaderError", "Recording", "StancebenchError", "TimeSeries", "UnitError"]
