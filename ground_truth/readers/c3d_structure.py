"""The structure of a C3D file, checked with plain Python before the C3D library sees it.

ezc3d 1.7.2 trusts what a file says about itself: a parameter record whose dimension count is 255 makes it die
with SIGSEGV, a NaN rate makes it allocate a vector of NaN length. So the header (length, key byte, where the
parameter and data sections start, the processor type), every parameter record (it must fit inside itself) and
the scale factors and rates that size and scale all data are read here first, and a file that lies about
itself is a ReaderError naming the field (C3D manual: header section, parameter section).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..kernel import ReaderError, require_plausible

NOT_C3D = "a C3D file (512-byte header, parameter section, data section)"
#: C3D parameter data types (bytes per value; -1 is a character)
_PARAM_TYPES = (-1, 1, 2, 4)


def _float(raw: bytes, processor: int) -> float:
    """A 4-byte float of the header in the file's processor format (84 Intel, 85 DEC, 86 MIPS)."""
    import struct

    if processor == 86:
        return struct.unpack(">f", raw)[0]
    if processor == 85:   # DEC F-float: 16-bit words swapped, and a factor of 4 from the exponent bias
        return struct.unpack("<f", raw[2:4] + raw[0:2])[0] / 4.0
    return struct.unpack("<f", raw)[0]


def _refuse(path: Path, why: str, field: str) -> ReaderError:
    return ReaderError(f"not a valid or complete C3D file ({why})", file=path, field=field, expected=NOT_C3D)


def structure(path: Path) -> dict | None:
    """The header words and the parameter section's layout, read with plain Python; ReaderError on corruption.

    Refuses, before the native library can crash or block on them: a file shorter than its header, a wrong key
    byte, a parameter section or a data section that starts outside the file, an unknown processor type, a
    non-finite or absurd header scale factor (its sign tells integer from float data), and a parameter record
    whose declared size runs past its own record or the section (the library reads it whole, past the end of
    its buffer). Returns None for files that start with zero bytes (the library skips them; those rare Vicon
    files are then checked by the library alone, in its child process).
    """
    import struct

    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(512)
        if len(head) < 512:
            raise _refuse(path, f"{size} bytes, shorter than the 512-byte header", "header")
        if head[0] == 0:
            return None
        if head[1] != 0x50:
            raise _refuse(path, f"header byte 2 is 0x{head[1]:02x}, not the C3D key 0x50", "header byte 2")
        param_block = head[0]
        if param_block < 2:
            raise _refuse(path, "header byte 1 puts the parameter section in block 1, the header's own",
                          "header byte 1 (parameter section block)")
        param_at = (param_block - 1) * 512
        fh.seek(param_at)
        section_head = fh.read(4)
        if len(section_head) < 4:
            raise _refuse(path, f"the parameter section starts at block {param_block}, beyond the end of the "
                                f"file ({size} bytes)", "header byte 1 (parameter section block)")
        n_blocks, processor = section_head[2], section_head[3]
        if processor not in (84, 85, 86):
            raise _refuse(path, f"processor type {processor}, not 84 (Intel), 85 (DEC) or 86 (MIPS)",
                          "parameter section byte 4 (processor type)")
        if n_blocks == 0 or param_at + 512 * n_blocks > size:
            raise _refuse(path, f"the parameter section declares {n_blocks} block(s) from block {param_block}, "
                                f"{'none' if n_blocks == 0 else 'past the end of the file'} ({size} bytes)",
                          "parameter section byte 3 (number of blocks)")
        order = ">" if processor == 86 else "<"
        data_block = struct.unpack(order + "H", head[16:18])[0]
        # some writers declare fewer parameter blocks than they fill (c3d.org sample15: 3 declared, records up
        # to the data section); the library follows the records, so the walk below may too
        fh.seek(param_at)
        section = fh.read(max(512 * n_blocks, (data_block - 1) * 512 - param_at))
    n_points, analog_per_frame, first, last = struct.unpack(order + "HHHH", head[2:10])
    scale = _float(head[12:16], processor)
    rate = _float(head[20:24], processor)
    if data_block <= param_block or (data_block - 1) * 512 > size:
        raise _refuse(path, f"the data section starts at block {data_block}, "
                            f"{'before the parameter section' if data_block <= param_block else 'beyond the end'} "
                            f"(parameter section at block {param_block}, file of {size} bytes)",
                      "header word 9 (data section block)")
    if n_points or analog_per_frame:
        require_plausible(scale, "scale_abs", file=path, field="header words 7-8 (scale factor)")
    values = _check_parameter_records(path, section, order, param_at)
    _check_key_parameters(path, values, processor, n_points, analog_per_frame)
    point_scale = values.get(("POINT", "SCALE"))
    if n_points and point_scale is not None and (scale < 0) != (_float(point_scale, processor) < 0):
        # the sign of the scale factor says whether the data are stored as integers or floats; two places that
        # disagree mean one is corrupted, and reading by the wrong one turns every sample into noise
        raise _refuse(path, f"the header's scale factor ({scale:g}) and POINT:SCALE "
                            f"({_float(point_scale, processor):g}) disagree on integer vs float data",
                      "header words 7-8 (scale factor)")
    return {"n_points": n_points, "analog_per_frame": analog_per_frame, "first": first, "last": last,
            "data_block": data_block, "scale": scale, "frame_rate": rate, "processor": processor, "size": size}


def _check_parameter_records(path: Path, section: bytes, order: str, param_at: int) -> dict[tuple[str, str], bytes]:
    """Walk the chain of group and parameter records; each must fit in its record and in the section.

    Returns the first value (raw bytes) of each 4-byte float parameter, keyed by (group, parameter) name.
    """
    import struct

    end = len(section)
    pos = 4
    group_names: dict[int, str] = {}
    floats: dict[tuple[int, str], bytes] = {}
    while pos + 2 <= end:
        n_name = abs(struct.unpack("b", section[pos:pos + 1])[0])
        group = struct.unpack("b", section[pos + 1:pos + 2])[0]
        if n_name == 0:               # a zero-length name ends the chain (some writers end it so)
            break
        offset_at = pos + 2 + n_name
        name = section[pos + 2:offset_at].decode("ascii", "replace")
        where = f"byte {param_at + pos} of the file"
        field = f"parameter section record {name!r}"
        if offset_at + 2 > end:
            raise _refuse(path, f"the record {name!r} at {where} runs past the parameter section", field)
        offset = struct.unpack(order + "h", section[offset_at:offset_at + 2])[0]
        next_at = offset_at + offset if offset else None
        if offset < 0 or (next_at is not None and next_at > end):
            raise _refuse(path, f"the record {name!r} at {where} points {'back' if offset < 0 else 'past the end'} "
                                f"of the parameter section (offset {offset})", field)
        limit = next_at if next_at is not None else end
        body = offset_at + 2
        if group > 0:
            if body + 2 > limit:
                raise _refuse(path, f"the parameter {name!r} at {where} is cut short", field)
            dtype = struct.unpack("b", section[body:body + 1])[0]
            n_dims = section[body + 1]
            if dtype not in _PARAM_TYPES:
                raise _refuse(path, f"the parameter {name!r} at {where} has data type {dtype}, not one of "
                                    f"{_PARAM_TYPES}", field)
            if n_dims > 7 or body + 2 + n_dims > limit:
                raise _refuse(path, f"the parameter {name!r} at {where} declares {n_dims} dimensions "
                                    f"(at most 7, within its record)", field)
            count = int(np.prod([int(d) for d in section[body + 2:body + 2 + n_dims]], dtype=object)) \
                if n_dims else 1
            data_end = body + 2 + n_dims + count * abs(dtype)
            if data_end + 1 > limit:
                raise _refuse(path, f"the parameter {name!r} at {where} declares {count} value(s) of "
                                    f"{abs(dtype)} byte(s), more than its record holds ({limit - body} bytes)", field)
            record_end = data_end + 1 + section[data_end]
            if dtype == 4 and count:
                floats[(group, name.strip().upper())] = section[body + 2 + n_dims:body + 6 + n_dims]
        elif group < 0:
            group_names[-group] = name.strip().upper()
            record_end = body + 1 + (section[body] if body < end else 0)
        else:
            raise _refuse(path, f"the record {name!r} at {where} has group id 0 (neither a group nor a parameter)",
                          field)
        if record_end > limit:
            raise _refuse(path, f"the description of {name!r} at {where} runs past its record", field)
        if next_at is None:
            break
        pos = next_at
    return {(group_names[g], n): raw for (g, n), raw in floats.items() if g in group_names}


def _check_key_parameters(path: Path, values: dict[tuple[str, str], bytes], processor: int, n_points: int,
                          analog_per_frame: int) -> None:
    """The scale factors and rates that size and scale every value, as stored: the library allocates and
    multiplies with them before anything else can look (a NaN rate makes it fail on a vector of NaN length)."""
    for (group, name), quantity, needed in ((("POINT", "SCALE"), "scale_abs", n_points),
                                            (("ANALOG", "GEN_SCALE"), "scale_abs", analog_per_frame),
                                            (("POINT", "RATE"), "rate_hz", 1), (("ANALOG", "RATE"), "rate_hz", 1)):
        raw = values.get((group, name))
        if raw is None or not needed:
            continue
        value = _float(raw, processor)
        if quantity == "rate_hz" and value == 0:     # a stream that is not recorded (Kistler: POINT:RATE 0)
            continue
        require_plausible(value, quantity, file=path, field=f"{group}:{name}")


