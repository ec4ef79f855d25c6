"""Parse ``adb shell dumpsys meminfo PKG``: total PSS, RSS and swap PSS of one app process.

Android 10+ end the App Summary with ``TOTAL PSS: ... TOTAL RSS: ... TOTAL SWAP PSS: ...``; Android 8-9 with
``TOTAL: ... TOTAL SWAP PSS: ...`` (no RSS). Values are in KiB (the header says "Kilobytes"; the kernel's
smaps kB are 1024 bytes) and are converted to MB = 10^6 bytes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ground_truth.kernel import BOUNDS, ReaderError

from ..record import DeviceRecord, DeviceInfo, KIB_TO_MB, MemoryStats
from ._text import split_excerpts

_PID = re.compile(r"\*\* MEMINFO in pid (\d+) \[([^\]]+)\] \*\*")
_TABLE_TOTAL = re.compile(r"^\s*TOTAL\s+(\d+(?:\s+\d+)*)\s*$", re.MULTILINE)
_SUMMARY_ROW = re.compile(r"^\s*(Java Heap|Native Heap|Code|Stack|Graphics|Private Other|System|Unknown):"
                          r"\s*(\d+)?(?:\s+(\d+))?\s*$", re.MULTILINE)


#: App Summary totals: label -> the figure it gives; a label followed by something other than a whole number
#: of KiB is a corrupted value, named as left out
_TOTAL_LABELS = {"TOTAL PSS": "memory.pss_mb", "TOTAL RSS": "memory.rss_mb", "TOTAL SWAP PSS": "memory.swap_pss_mb",
                 "TOTAL SWAP (KB)": "memory.swap_pss_mb", "TOTAL": "memory.pss_mb"}
_TOTAL_VALUE = re.compile(r"(TOTAL(?: PSS| RSS| SWAP PSS| SWAP \(KB\))?):[ \t]*(\S*)")


def _unreadable_totals(excerpt: str) -> list[str]:
    return [f"{_TOTAL_LABELS[label]} left out: '{label}: {value}' is not a number of KiB as the tool prints them "
            "(a whole number)" for label, value in _TOTAL_VALUE.findall(excerpt) if not value.isdigit()]


@dataclass
class MemInfo:
    """App memory from one ``dumpsys meminfo`` dump (KiB as printed)."""

    layout: str  # "android10+" | "android8-9"
    total_pss_kib: int | None  # None when the App Summary's value is corrupted and no table row is there
    total_rss_kib: int | None = None
    total_swap_pss_kib: int | None = None
    pid: int | None = None
    package: str | None = None
    summary_pss_kib: dict[str, int] = field(default_factory=dict)
    raw: str = ""
    notes: list[str] = field(default_factory=list)


def parse_meminfo(text: str, *, file=None) -> list[MemInfo]:
    """Parse every ``dumpsys meminfo PKG`` dump in ``text``.

    The App Summary totals are used; an excerpt cut before them falls back to the first column of the table's
    ``TOTAL`` row (which is total PSS in every layout). ReaderError if no total is found at all.
    """
    out = []
    dumps = []
    for excerpt in split_excerpts(text):
        # one dump per process: a package with several processes prints one "** MEMINFO in pid" block each
        starts = [m.start() for m in _PID.finditer(excerpt)]
        if len(starts) > 1:
            dumps += [excerpt[a:b] for a, b in zip(starts, starts[1:] + [len(excerpt)])]
        else:
            dumps.append(excerpt)
    for excerpt in dumps:
        totals: dict[str, str] = {}
        for label, value in _TOTAL_VALUE.findall(excerpt):
            totals.setdefault(label, value)

        def kib(label: str) -> int | None:
            value = totals.get(label)
            return int(value) if value is not None and value.isdigit() else None

        table = _TABLE_TOTAL.search(excerpt)
        table_pss = int(table.group(1).split()[0]) if table else None
        swap = kib("TOTAL SWAP PSS") if "TOTAL SWAP PSS" in totals else kib("TOTAL SWAP (KB)")
        # each total is read on its own, so that one corrupted value does not lose the others
        if "TOTAL PSS" in totals:
            info = MemInfo("android10+", kib("TOTAL PSS"), kib("TOTAL RSS"), swap)
        elif "TOTAL" in totals:
            info = MemInfo("android8-9", kib("TOTAL"), None, swap)
        elif table_pss is not None:
            info = MemInfo("table-only", table_pss)
        else:
            continue
        info.raw = excerpt
        info.notes = _unreadable_totals(excerpt)
        if info.total_pss_kib is None and table_pss is not None:
            info.total_pss_kib = table_pss
            info.notes.append("memory.pss_mb taken from the first column of the TOTAL table row instead")
        if m := _PID.search(excerpt):
            info.pid, info.package = int(m.group(1)), m.group(2)
        for name, pss, _rss in _SUMMARY_ROW.findall(excerpt):
            if pss:
                info.summary_pss_kib[name] = int(pss)
        out.append(info)
    if not out:
        raise ReaderError("no 'TOTAL PSS:', 'TOTAL:' or TOTAL table row found", file=file, field="meminfo",
                          expected="output of 'adb shell dumpsys meminfo PACKAGE'")
    return out


def meminfo_records(infos: list[MemInfo], *, file=None) -> list[DeviceRecord]:
    """One record per dump: memory.pss_mb (and rss_mb / swap_pss_mb when printed)."""
    records = []
    for i, info in enumerate(infos):
        mem = MemoryStats(source_unit="KiB (dumpsys meminfo)")
        if info.total_pss_kib is not None:
            mem.pss_mb = info.total_pss_kib * KIB_TO_MB
            mem.figures.append("pss_mb")
        if info.total_rss_kib is not None:
            mem.rss_mb = info.total_rss_kib * KIB_TO_MB
            mem.figures.append("rss_mb")
        if info.total_swap_pss_kib is not None:
            mem.swap_pss_mb = info.total_swap_pss_kib * KIB_TO_MB
            mem.figures.append("swap_pss_mb")
        rec = DeviceRecord(device=DeviceInfo(platform="android"), memory=mem,
                           source={"tool": "dumpsys meminfo", "parser": "meminfo", "layout": info.layout,
                                   "file": None if file is None else str(file), "excerpt": i},
                           raw_log=info.raw)
        rec.extra["meminfo"] = {"pid": info.pid, "package": info.package,
                                "summary_pss_kib": info.summary_pss_kib}
        if info.layout == "table-only":
            rec.errors.append("App Summary absent (truncated dump): PSS from the TOTAL table row")
        rec.errors.extend(f"{'' if file is None else f'{file}: '}{note}" for note in info.notes)
        rec.check_extra("meminfo.summary_pss_kib", BOUNDS["memory_bytes"], scale=1024, file=file)
        rec.check_plausible(file).flag_missing(required=())
        records.append(rec)
    return records
