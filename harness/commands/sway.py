"""``stancebench sway``: COP sway metrics of a force-plate file under a named convention.

Contract (other tools call it; keep it stable)::

    stancebench sway PATH [--format auto|c3d|bmclab|motive|mot] [--convention bds2016|quijoux2021|prieto1996]
                          [--plate N|net] [--window START:END] [--axes auto|ap,ml|ml,ap] [--json]

``--plate`` numbers plates from 1 (plate 1 is the first plate in the file, as force platforms are numbered
in C3D and lab software); ``net`` is the vertical-force-weighted COP of all loaded plates and the default
for files with several plates. ``--window`` is in seconds from the first sample, half-open
``[START, END)``; either side may be left empty. With ``--json`` one JSON object is printed::

    {"file", "format", "convention", "citation", "plate", "window_s", "fs_hz", "analysis_fs_hz",
     "n_samples", "axes", "metrics": {"area95_cm2": ..., "mean_velocity_cm_s": ..., ...}, "units", "notes",
     "net_cop"}

``notes`` also carry, prefixed ``reader:``, what the reader noted about the file: values set to NaN as
implausible (non-finite, outside physical bounds, a COP off its plate), isolated spikes kept as read, units
assumed. When too little data is left for the metrics, the error names those notes too.

``net_cop`` is null unless the plate is ``net``; then it says where the net COP came from: ``{"source":
"file", "description": "the file's COPNET columns", "max_abs_diff_mm", "tolerance_mm", ...}`` when the file
has its own net COP columns (BMClab PDS), checked against the net COP recomputed from the per-plate columns
over the whole file, else ``{"source": "recomputed", "description": ...}``.

Exit status 0, or 2 on bad input (message on stderr).
"""
from __future__ import annotations

HELP = "Compute COP sway metrics of a force-plate file under a named convention."
DESCRIPTION = (HELP + " Reads C3D, BMClab text (BDS/PDS), Motive CSV and OpenSim .mot force files; reports cm, "
               "cm^2, cm/s and Hz, with the convention's citation. Path length and velocity depend strongly on "
               "sampling rate and filtering: compare numbers only within one convention.")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("sway", help=HELP, description=DESCRIPTION)
    p.add_argument("path", metavar="PATH", help="force-plate file (.c3d, BMClab .txt, Motive .csv, OpenSim .mot)")
    p.add_argument("--format", default="auto", choices=["auto", "c3d", "bmclab", "motive", "mot"],
                   help="file format (default: from the extension and first line)")
    p.add_argument("--convention", default="bds2016", choices=["bds2016", "quijoux2021", "prieto1996"],
                   help="metric definitions and preprocessing (default: bds2016, no filtering)")
    p.add_argument("--plate", default=None, metavar="N|net",
                   help="plate number counted from 1, or 'net' (default: the only plate, or 'net' when the file "
                        "has several)")
    p.add_argument("--window", default=None, metavar="START:END",
                   help="seconds from the first sample, half-open [START, END); e.g. 40:70, 5:, :30")
    p.add_argument("--axes", default="auto", choices=["auto", "ap,ml", "ml,ap"],
                   help="what the two horizontal lab axes are (default: as the reader knows them for the "
                        "format, else 'ap,ml')")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.set_defaults(func=run)


def parse_window(text: str | None) -> tuple[float | None, float | None] | None:
    """'40:70' -> (40.0, 70.0); '5:' -> (5.0, None); None -> None. InputError on anything else."""
    from ground_truth.kernel import InputError

    if text is None:
        return None
    parts = text.split(":")
    if len(parts) != 2:
        raise InputError(f"window {text!r} is not START:END", field="--window",
                         expected="seconds from the first sample, e.g. 40:70, 5: or :30")
    out = []
    for part in parts:
        part = part.strip()
        if part == "":
            out.append(None)
            continue
        try:
            out.append(float(part))
        except ValueError:
            raise InputError(f"window {text!r}: {part!r} is not a number of seconds", field="--window",
                             expected="START:END in seconds, e.g. 40:70") from None
    if out[0] is not None and out[1] is not None and out[1] <= out[0]:
        raise InputError(f"window {text!r} is empty (END <= START)", field="--window", expected="START < END")
    return out[0], out[1]


def parse_plate(text: str | None, n_plates: int, path) -> int | str:
    """CLI plate (1-based number or 'net') -> Recording.plate argument (0-based index or 'net')."""
    from ground_truth.kernel import InputError

    if text is None:
        return 0 if n_plates == 1 else "net"
    if text.strip().lower() == "net":
        return "net"
    try:
        number = int(text)
    except ValueError:
        raise InputError(f"plate {text!r} is not a number", file=path, field="--plate",
                         expected=f"'net' or a plate number 1..{n_plates}") from None
    if not 1 <= number <= n_plates:
        raise InputError(f"no plate {number} (the file has {n_plates}; plates are numbered from 1)", file=path,
                         field="--plate", expected=f"'net' or a plate number 1..{n_plates}")
    return number - 1


def compute(path, *, format: str = "auto", convention: str = "bds2016", plate: str | None = None,
            window: str | None = None, axes: str = "auto") -> dict:
    """Everything ``stancebench sway`` prints, as a JSON-ready dict (also used by other commands)."""
    import numpy as np

    from ground_truth import InputError, TimeSeries
    from ground_truth.readers import read_recording
    from ground_truth.sway import sway_metrics

    rec = read_recording(path, format)
    which = parse_plate(plate, len(rec.plates), path)
    win = parse_window(window)
    t, cop = rec.horizontal_cop(which)
    net_cop = rec.net_cop_provenance() if which == "net" else None
    ts = TimeSeries(t, {"cop": cop}, {"cop": "m"}, meta={"file": str(path)})
    if win is not None:
        ts = ts.window(*win)
    fs = ts.sampling_rate()
    # Time stamps printed to 1e-6 s give 100.000000000002 Hz; report (and use) the nominal rate.
    if abs(fs - round(fs, 6)) <= 1e-9 * fs:
        fs = round(fs, 6)
    axis_names = tuple(axes.split(",")) if axes != "auto" else tuple(rec.meta.get("horizontal_axis_names",
                                                                                   ("ap", "ml")))
    reader_notes = [f"reader: {n}" for n in rec.meta.get("notes", [])]
    try:
        res = sway_metrics(ts["cop"], fs, convention, units_in="m", axes=axis_names)
    except InputError as exc:  # name the file (sway_metrics only sees an array) and what the reader masked
        if exc.file and not reader_notes:
            raise
        reason = exc.reason + ("; " + "; ".join(reader_notes) if reader_notes else "")
        raise type(exc)(reason, file=exc.file or path, field=exc.field, expected=exc.expected) from None
    notes = list(res.notes) + reader_notes
    if axes == "auto" and "horizontal_axis_names" not in rec.meta:
        notes.append("axes assumed: first horizontal lab axis AP, second ML (pass --axes to change)")
    lab = "xyz"
    h = rec.horizontal_axes
    notes.append(f"COP axes used: lab {lab[h[0]]} = {axis_names[0].upper()}, lab {lab[h[1]]} = "
                 f"{axis_names[1].upper()}")
    out = {
        "file": str(path),
        "format": rec.meta.get("format", format),
        "convention": res.convention,
        "citation": res.citation,
        "plate": "net" if which == "net" else which + 1,
        "window_s": None if win is None else [win[0], win[1]],
        "fs_hz": res.fs_hz,
        "analysis_fs_hz": res.analysis_fs_hz,
        "n_samples": res.n_samples,
        "axes": list(axis_names),
        "metrics": res.to_dict()["metrics"],
        "units": dict(res.units),
        "notes": notes,
        "net_cop": net_cop,
    }
    # Not a metric: how much of the selected data was masked by the plate-loading threshold.
    out["n_masked_samples"] = int(np.count_nonzero(~np.all(np.isfinite(ts["cop"]), axis=1)))
    return out


def run(args) -> int:
    import json

    out = compute(args.path, format=args.format, convention=args.convention, plate=args.plate,
                  window=args.window, axes=args.axes)
    if args.json:
        print(json.dumps(out, indent=None))
        return 0
    print(f"file        {out['file']} ({out['format']})")
    print(f"plate       {out['plate']}")
    net = out["net_cop"]
    if net is not None:
        text = f"net COP     {net['description']}"
        if "max_abs_diff_mm" in net:
            text += (f" (checked against the net COP recomputed from the per-plate columns: max difference "
                     f"{net['max_abs_diff_mm']:.4f} mm, tolerance {net['tolerance_mm']:g} mm)")
        print(text)
    win = out["window_s"]
    if win is None:
        win_text = "whole recording"
    else:
        end = "end" if win[1] is None else f"{win[1]:g}"
        win_text = f"[{win[0] or 0:g}, {end}) s from the first sample"
    print(f"window      {win_text}")
    print(f"samples     {out['n_samples']} at {out['fs_hz']:g} Hz (metrics computed at {out['analysis_fs_hz']:g} Hz)")
    print(f"convention  {out['convention']}: {out['citation']}")
    print()
    width = max(len(k) for k in out["metrics"])
    for name, value in out["metrics"].items():
        text = "nan" if value is None else f"{value:.6g}"
        print(f"  {name:<{width}}  {text:>12}  {out['units'][name]}")
    print()
    for note in out["notes"]:
        print(f"note: {note}")
    return 0
