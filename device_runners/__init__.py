"""Device runners: latency, memory, battery and size of exported models on host, Android and iOS.

Light imports only here (the record); runners load their runtimes when called:
``device_runners.host.run_host``, ``device_runners.android.run_android`` / ``measure_app``,
``device_runners.ios.run_ios`` / ``install_template``, ``device_runners.parsers.KINDS``,
``device_runners.variants.make_variants``. See docs/device-runners.md.
"""
from .record import (SCHEMA_VERSION, DeviceRecord, latency_stats, read_records, records_frame, replicability,
                     write_records)

__all__ = ["SCHEMA_VERSION", "DeviceRecord", "latency_stats", "read_records", "records_frame", "replicability",
           "write_records"]
