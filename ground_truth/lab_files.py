"""A lab's own files turned into study inputs: a rigidly moved copy of a C3D file (markers and plate corners
moved, analog channels untouched, checked by reading it back) and the subject's mass and stature from a static
trial."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .com import G
from .kernel import InputError, file_sha256

_NON_POSITION_POINTS = ("ANGLES", "FORCES", "MOMENTS", "POWERS", "SCALARS", "REACTIONS")


def write_moved_c3d(src, dst, rotation: np.ndarray, translation_m, *, recording=None) -> dict[str, Any]:
    """Write a copy of a z-up C3D file moved rigidly (``x' = R x + t``, metres) and check it by reading it back.

    Markers (every POINT except the model outputs that POINT:ANGLES, FORCES... list) and the force platforms'
    corners are moved; gaps (zeros, NaN) stay gaps; analog channels, the plates' origins (plate frame) and
    calibration are untouched, so forces and COP follow from the moved corners.

    ``recording`` is ``src`` as :func:`ground_truth.readers.read_recording` read it, when the caller has it.

    Returns
    -------
    dict
        ``passed``, the largest marker, net-force and net-COP differences against the original moved in memory,
        the transform, and both files' sha256.
    """
    import ezc3d

    from ground_truth.readers import read_recording

    rotation = np.asarray(rotation, float)
    translation_m = np.asarray(translation_m, float)
    c = ezc3d.c3d(str(src))
    rec0 = recording if recording is not None else read_recording(src)
    if rec0.vertical_axis != 2 or abs(rotation[2, 2] - 1.0) > 1e-9:
        raise InputError("only a rotation about the vertical of a z-up file is supported", file=src,
                         field="rotation", expected="a z-up C3D and a yaw rotation")
    units = (c["parameters"]["POINT"].get("UNITS", {}).get("value") or ["mm"])[0].strip() or "mm"
    scale = {"mm": 1000.0, "cm": 100.0, "m": 1.0}.get(units)
    if scale is None:
        raise InputError(f"marker unit {units!r}", file=src, field="POINT:UNITS", expected="mm, cm or m")
    labels = [str(x).strip() for x in c["parameters"]["POINT"]["LABELS"]["value"]]
    skip = {str(x).strip() for g in _NON_POSITION_POINTS
            for x in (c["parameters"]["POINT"].get(g, {}).get("value") or [])}
    pts = np.array(c["data"]["points"], dtype=float)
    xyz = pts[:3]
    gap = np.all(xyz == 0.0, axis=0) | np.any(~np.isfinite(xyz), axis=0)      # (M, n)
    moved = np.einsum("ij,jmn->imn", rotation, xyz) + (translation_m * scale)[:, None, None]
    for j, name in enumerate(labels[:xyz.shape[1]]):
        if name not in skip:
            xyz[:, j, :] = np.where(gap[j][None, :], xyz[:, j, :], moved[:, j, :])
    pts[:3] = xyz
    c["data"]["points"] = pts
    fp = c["parameters"].get("FORCE_PLATFORM")
    if fp is not None and "CORNERS" in fp and np.size(fp["CORNERS"]["value"]):
        corners = np.asarray(fp["CORNERS"]["value"], float)                     # (3, 4, plates), point unit
        fp["CORNERS"]["value"] = np.einsum("ij,jkp->ikp", rotation, corners) + (translation_m * scale)[:, None, None]
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    c.write(str(dst))
    rec1 = read_recording(dst)
    diff_m = 0.0
    for name in rec0.markers.channels:
        if name.split(":")[-1] in skip or name not in rec1.markers.channels:
            continue
        a = rec0.markers[name] @ rotation.T + translation_m
        d = np.abs(rec1.markers[name] - a)
        if np.isfinite(d).any():
            diff_m = max(diff_m, float(np.nanmax(d)))
    force_n = cop_m = 0.0
    if rec0.plates:
        n0, n1 = rec0.plate("net"), rec1.plate("net")
        force_n = float(np.nanmax(np.abs(n1["force"] - n0["force"] @ rotation.T)))
        cop_m = float(np.nanmax(np.abs(n1["cop"] - (n0["cop"] @ rotation.T + translation_m))))
    same_time = bool(np.allclose(rec0.markers.time, rec1.markers.time))
    # float32 storage of mm values: ~1e-4 mm; the plates' COP goes through the moved corners' float32 too
    passed = same_time and diff_m < 1e-5 and force_n < 1e-3 and cop_m < 1e-5
    return {"passed": passed, "max_marker_diff_m": diff_m, "max_net_force_diff_n": force_n,
            "max_net_cop_diff_m": cop_m, "same_clock": same_time, "rotation": rotation.tolist(),
            "translation_m": translation_m.tolist(), "source_sha256": file_sha256(src),
            "copy_sha256": file_sha256(dst)}


# -- subjects -------------------------------------------------------------------------------------------------
def _processing_params(path: Path) -> dict[str, float]:
    """``PROCESSING`` group of a Vicon C3D (Height mm, Bodymass kg...), empty when absent."""
    import ezc3d
    try:
        group = ezc3d.c3d(str(path))["parameters"].get("PROCESSING", {})
    except (RuntimeError, OSError, ValueError):
        return {}
    out = {}
    for k, v in group.items():
        if isinstance(v, dict) and "value" in v and np.size(v["value"]) == 1:
            try:
                out[k] = float(np.ravel(v["value"])[0])
            except (TypeError, ValueError):
                continue
    return out


def subject_from_static(static_path: Path | None, dynamic_path: Path) -> dict[str, Any]:
    """Stature (m) and body mass (kg) of a subject, with how each was found.

    Mass: median net vertical force / g of the static (standing) trial, over the samples where a plate is
    loaded; without a static trial, of the dynamic trial (hand support then lowers it: stated). Stature: the
    static trial's head-vertex marker, else its C7 marker (de Leva head ratio), else the lab's own
    ``PROCESSING:Height``, else the hip centres (:func:`ground_truth.marker_mapping.estimate_stature`).
    """
    from ground_truth.marker_mapping import estimate_stature, map_markers
    from ground_truth.markersets import markers_z_up
    from ground_truth.readers import read_recording

    src = static_path if static_path is not None and static_path.is_file() else dynamic_path
    rec = read_recording(src)
    out: dict[str, Any] = {"from": src.name}
    net = rec.plate("net")
    fz = net["force"][:, rec.vertical_axis]
    loaded = np.asarray(net["loaded"], bool)
    out["mass_kg"] = round(float(np.median(fz[loaded]) / G), 1)
    out["mass_from"] = (f"median net vertical force of {src.name} / g ({np.median(fz[loaded]):.0f} N)"
                        + ("" if src != dynamic_path else "; the single-leg trial itself (no static trial found)"))
    mapped = map_markers(markers_z_up(rec.markers, rec.vertical_axis), file=src)
    proc = {} if mapped.landmark("vertex") is not None or mapped.landmark("c7") is not None else \
        _processing_params(src)
    if proc.get("Height", 0) > 0:
        out["height_m"], out["height_from"] = round(proc["Height"] / 1000.0, 3), f"PROCESSING:Height of {src.name}"
    else:
        h, how = estimate_stature(mapped)
        out["height_m"], out["height_from"] = round(h, 3), f"{how}, {src.name}"
    if proc.get("Bodymass"):
        out["lab_bodymass_kg"] = proc["Bodymass"]
    return out


# -- the study -----------------------------------------------------------------------------------------------
