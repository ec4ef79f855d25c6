"""Parse ``adb shell dumpsys batterystats`` power estimates (Android 7-11, 12+ and ``--checkin``).

Android 7-11 print an ``Estimated power use (mAh):`` block with ``Uid u0a90: 15.8 ( cpu=15.8 )`` lines;
Android 12+ (BatteryUsageStats) print ``Capacity: ..., Computed drain: ..., actual drain: lo-hi``, a ``Global``
block and ``UID u0a195: 10.5 ( cpu=10.5 )`` lines (newer builds add ``fg:``/``bg:`` splits and
``Rated:``/``Typical:`` figures); ``--checkin`` prints comma-separated ``uid`` / ``pwi`` / ``pws`` rows.
All are *modelled* estimates from the device's power profile (charge in mAh), not measured energy.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from ground_truth.kernel import ReaderError

from ground_truth.kernel import Bound

from ..plausibility import CHARGE_MAH
from ..record import DeviceInfo, DeviceRecord, EnergyInfo
from ._text import NUM, split_excerpts, to_float, to_int

#: device-level balance items may be negative; any charge stays within the plausible range in size
_SIGNED_CHARGE = Bound(-CHARGE_MAH.high, CHARGE_MAH.high, "mAh", "a balance of charge is smaller than the largest "
                       "plausible battery charge")

_UID_LINE = re.compile(rf"^(\s*)(?:Uid|UID)\s+(u\d+[ai]\d+|\d+)\s*:\s*({NUM})(.*)$")
_ITEM_LINE = re.compile(rf"^\s*([A-Za-z][\w ]*?):\s*({NUM})\s*(?:\((.*)\))?\s*$")
_CAPACITY_LINE = re.compile(r"Capacity:.*Computed drain:")
_FIELD = re.compile(rf"(Capacity|Rated|Typical|Computed drain|actual drain):\s*({NUM})(?:\s*-\s*({NUM}))?")
_GLOBAL_ITEM = re.compile(rf"^\s*(\w+):\s*({NUM})\s+apps:\s*({NUM})")
_STATE_SPLIT = re.compile(rf"\b(fg|bg|fgs|cached):\s*({NUM})")
_SMEARING = re.compile(rf"Including smearing:\s*({NUM})")
_HEADER = re.compile(r"Estimated power use \(mAh\):")
_COMPONENT = re.compile(rf"([A-Za-z_]+)[=:]\s*({NUM})")


def uid_number(token: str) -> int:
    """'u0a90' -> 10090 (user 0, app 90: AID_APP_START 10000 + app id), 'u10a5' -> 1010005, '1000' -> 1000."""
    m = re.fullmatch(r"u(\d+)([ai])(\d+)", token)
    if not m:
        return int(token)
    user, kind, app = int(m.group(1)), m.group(2), int(m.group(3))
    base = 10000 if kind == "a" else 99000  # isolated processes start at AID_ISOLATED_START 99000
    return user * 100000 + base + app


@dataclass
class BatteryStats:
    """One batterystats estimate: per-UID charge (mAh) and the device-level summary."""

    format: str  # "legacy-7-11" | "android12+" | "checkin"
    capacity_mah: float | None = None
    computed_drain_mah: float | None = None
    actual_drain_mah: tuple[float, float] | None = None
    uids: dict[int, dict] = field(default_factory=dict)  # uid -> {"label", "total_mah", "components"}
    items: dict[str, float] = field(default_factory=dict)  # Screen, Unaccounted, Wifi, Global rows ...
    packages: dict[int, str] = field(default_factory=dict)  # checkin uid -> package
    on_battery: bool | None = None
    raw: str = ""
    #: rows left out because a field that identifies them is not a number (e.g. a corrupted UID)
    notes: list[str] = field(default_factory=list)


def _components(text: str | None) -> dict[str, float]:
    return {} if not text else {k: float(v) for k, v in _COMPONENT.findall(text)}


def _number(token: str) -> float | None:
    """A charge as printed ('15.8', '1,234.5'); None when the token is not a finite number."""
    token = token.strip()
    if not re.fullmatch(NUM, token.replace(",", "")):
        return None
    value = to_float(token)
    return value if math.isfinite(value) else None


def _parse_checkin(text: str) -> BatteryStats:
    bs = BatteryStats(format="checkin", raw=text)
    for n_line, line in enumerate(text.splitlines(), 1):
        cols = [c.strip() for c in line.split(",")]
        if len(cols) < 4:
            continue
        if cols[2] == "i" and cols[3] == "uid" and len(cols) >= 6:
            uid = to_int(cols[4])
            if uid is None:
                bs.notes.append(f"checkin line {n_line}: uid {cols[4]!r} is not a whole number; row left out")
            else:
                bs.packages[uid] = cols[5]
        elif cols[3] == "pwi" and len(cols) >= 6 and cols[4] == "uid":
            uid, total = to_int(cols[1]), _number(cols[5])
            if uid is None or total is None:
                what = f"uid {cols[1]!r}" if uid is None else f"charge {cols[5]!r}"
                bs.notes.append(f"checkin line {n_line}: {what} is not a number; row left out")
                continue
            entry = {"label": str(uid), "total_mah": total, "components": {}}
            if len(cols) >= 7:  # newer layout: total, shouldHide, screen, proportional smear
                entry["hidden"] = cols[6] == "1"
            if len(cols) >= 9:
                entry["components"] = {"screen": _number(cols[7]), "proportional_smear": _number(cols[8])}
            bs.uids[uid] = entry
        elif cols[3] == "pwi" and len(cols) >= 6:  # device-level items: scrn, idle, wifi, unacc, ...
            value = _number(cols[5])
            if value is not None:
                bs.items[f"checkin.{cols[4]}"] = bs.items.get(f"checkin.{cols[4]}", 0.0) + value
            else:
                bs.notes.append(f"checkin line {n_line}: {cols[4]} charge {cols[5]!r} is not a number; left out")
        elif cols[3] == "pws" and len(cols) >= 8:
            bs.capacity_mah, bs.computed_drain_mah = _number(cols[4]), _number(cols[5])
            lo, hi = _number(cols[6]), _number(cols[7])
            bs.actual_drain_mah = (lo, hi) if lo is not None and hi is not None else None
    for uid, entry in bs.uids.items():
        if uid in bs.packages:
            entry["package"] = bs.packages[uid]
    return bs


def _parse_text(text: str, file=None) -> BatteryStats:
    bs = BatteryStats(format="legacy-7-11", raw=text)
    in_block = False
    last_uid, uid_indent = None, 0
    for line in text.splitlines():
        if "currently on battery:" in line:
            bs.on_battery = "currently on battery: true" in line
        if _HEADER.search(line):
            in_block = True
            continue
        if _CAPACITY_LINE.search(line):
            in_block = True
            fields = {name: (float(a), float(b) if b else None) for name, a, b in _FIELD.findall(line)}
            bs.capacity_mah = fields.get("Capacity", (None,))[0]
            bs.computed_drain_mah = fields.get("Computed drain", (None,))[0]
            if "actual drain" in fields:
                lo, hi = fields["actual drain"]
                bs.actual_drain_mah = (lo, hi if hi is not None else lo)
            for extra in ("Rated", "Typical"):
                if extra in fields:
                    bs.items[f"capacity.{extra.lower()}"] = fields[extra][0]
            continue
        if not in_block:
            continue
        if m := _UID_LINE.match(line):
            if line.lstrip().startswith("UID"):
                bs.format = "android12+"
            indent, label, total, rest = m.groups()
            # components sit in the first parenthesised group (7-11, 12-14) or on the next, deeper-indented
            # lines (15+); "fg:/bg:" splits and "Including smearing:" are kept apart so nothing is counted twice
            paren = re.match(r"\s*\(([^)]*)\)", rest)
            entry = {"label": label, "total_mah": float(total), "components": _components(paren.group(1)
                                                                                          if paren else None)}
            states = {k: float(v) for k, v in _STATE_SPLIT.findall(rest)}
            if states:
                entry["states_mah"] = states
            if sm := _SMEARING.search(rest):
                entry["including_smearing_mah"] = float(sm.group(1))
            last_uid, uid_indent = uid_number(label), len(indent)
            bs.uids[last_uid] = entry
        elif last_uid is not None and "=" in line and len(line) - len(line.lstrip()) > uid_indent:
            if line.lstrip().startswith("("):  # per-state breakdown, e.g. "(on battery, screen off/doze) cpu=25.3"
                bs.uids[last_uid].setdefault("state_breakdowns", []).append(line.strip())
            else:
                comps = _components(re.sub(r"\([^)]*\)", " ", line))  # drop "(16m 48s 884ms)" durations
                bs.uids[last_uid]["components"].update(comps)
        elif m := _GLOBAL_ITEM.match(line):
            bs.format = "android12+"
            bs.items[f"global.{m.group(1)}"] = float(m.group(2))
            last_uid = None
        elif m := _ITEM_LINE.match(line):
            bs.items[m.group(1).strip()] = float(m.group(2))
            last_uid = None
        elif line.strip() in ("Global", "......", ""):
            continue
        elif bs.uids and not line.startswith(" " * 6):
            in_block = False  # the next dumpsys section begins
    return bs


def parse_batterystats(text: str, *, file=None, skipped: list | None = None) -> list[BatteryStats]:
    """Parse every batterystats estimate in ``text`` (one per ``---8<---`` excerpt).

    Returns
    -------
    list of BatteryStats
        Excerpts holding neither an estimate block nor checkin rows are skipped (e.g. the
        ``Statistics since last charge`` section alone: device-wide discharge, not attributable to an app or
        a model); each skip is appended to ``skipped`` as ``{"excerpt": i, "reason": ...}`` when a list is
        given. If no excerpt holds an estimate, ReaderError is raised.
    """
    out = []
    for i, excerpt in enumerate(split_excerpts(text)):
        if re.search(r"^\s*\d+,\d+,[ilcu],", excerpt, re.MULTILINE):
            bs = _parse_checkin(excerpt)
        else:
            bs = _parse_text(excerpt, file)
        if bs.uids or bs.capacity_mah is not None:
            out.append(bs)
        elif skipped is not None:
            m = re.search(r"^\s*Discharge:\s*([\d.]+)\s*mAh", excerpt, re.MULTILINE)
            what = (f"device-wide discharge {m.group(1)} mAh, not attributable to an app or a model" if m
                    else "nothing recognised")
            skipped.append({"excerpt": i, "reason": f"no 'Estimated power use' block or per-UID rows ({what})"})
    if not out:
        raise ReaderError("no 'Estimated power use' block, no UID power lines and no --checkin pwi rows found",
                          file=file, field="batterystats",
                          expected="output of 'dumpsys batterystats' or 'dumpsys batterystats --checkin'")
    return out


def uid_charge(stats: BatteryStats, uid: int) -> float | None:
    """Estimated charge (mAh) of one UID, or None when the UID is absent (it used no measurable power)."""
    entry = stats.uids.get(uid)
    return None if entry is None else entry["total_mah"]


def batterystats_records(stats: list[BatteryStats], *, uid: int | None = None, file=None) -> list[DeviceRecord]:
    """Records from parsed estimates: one per UID (or only ``uid``), energy = the UID's modelled charge."""
    records = []
    for i, bs in enumerate(stats):
        uids = [uid] if uid is not None else list(bs.uids)
        for u in uids:
            entry = bs.uids.get(u)
            rec = DeviceRecord(device=DeviceInfo(platform="android"),
                               source={"tool": "dumpsys batterystats", "parser": "batterystats",
                                       "format": bs.format, "file": None if file is None else str(file),
                                       "excerpt": i},
                               raw_log=bs.raw)
            rec.extra["batterystats"] = {"uid": u, "capacity_mah": bs.capacity_mah,
                                         "computed_drain_mah": bs.computed_drain_mah,
                                         "actual_drain_mah": list(bs.actual_drain_mah) if bs.actual_drain_mah
                                         else None, "items": bs.items}
            if entry is None:
                rec.energy = EnergyInfo(method="not measured", reason=f"UID {u} absent from the estimate")
                rec.missing.append("energy.value")
            else:
                rec.energy = EnergyInfo(value=entry["total_mah"], unit="mAh", method="batterystats estimate",
                                        scope=f"uid {u} ({entry.get('package', entry['label'])})",
                                        reason="modelled from the device power profile, not measured")
                rec.extra["batterystats"]["components_mah"] = entry["components"]
            rec.errors.extend(f"{'' if file is None else f'{file}: '}{note}" for note in bs.notes)
            for key in ("capacity_mah", "computed_drain_mah", "actual_drain_mah", "items", "components_mah"):
                # charges are >= 0, except the "Unaccounted"/"Over-counted" balance items legacy Android prints
                bound = _SIGNED_CHARGE if key == "items" else CHARGE_MAH
                rec.check_extra(f"batterystats.{key}", bound, file=file)
            rec.check_plausible(file).flag_missing(required=())
            records.append(rec)
    return records
