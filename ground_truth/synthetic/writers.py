"""Write a :class:`SyntheticTrial` as a real C3D file (through ezc3d) or an OpenSim .trc marker file.

C3D layout written here (C3D User Guide, c3d.org, chapters on the POINT, ANALOG, FORCE_PLATFORM and EVENT groups):

* POINT: markers in mm (``UNITS = "mm"``), float storage, ``RATE`` = marker rate; gaps (NaN) stay NaN.
* ANALOG: per plate ``Fx Fy Fz`` (N) and ``Mx My Mz`` (N*mm) in the *plate* frame, ``SCALE = 1``,
  ``OFFSET = 0``, ``GEN_SCALE = 1`` (float storage holds values in their units), ``RATE`` = analog rate.
* FORCE_PLATFORM: ``TYPE = 2`` (6 channels: forces and moments about the sensor origin), ``ZERO = [0, 0]`` (no
  baseline frames), ``CORNERS`` (mm, lab frame), ``ORIGIN`` (mm, plate frame), ``CHANNEL`` (1-based).
  The plate axes are AMTI-style: plate x = lab x, plate y = -lab y, plate z down, which is what CORNERS encode
  (ezc3d takes plate x along corner1 - corner2 and y along corner1 - corner4). ``ORIGIN`` is the vector from the
  sensor origin to the centre of the plate surface, in plate coordinates, hence negative z (40 mm), as in
  real Vicon/Qualisys files. The analog force is the ground reaction on the subject, so ezc3d's lab-frame Fz
  is positive upward.
* EVENT: ``foot_lift``, ``touch_down`` (and ``sync``) with contexts Left/Right/General; times in seconds.
* PROCESSING: ``Bodymass`` (kg), ``Height`` (mm), ``LLegLength``/``RLegLength`` (mm), Vicon-style.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..kernel import InputError, validate_type
from .body import body_dims
from .simulate import SyntheticTrial, _plate_to_lab

CHANNELS = ("Fx", "Fy", "Fz", "Mx", "My", "Mz")


def plate_corners_mm(trial: SyntheticTrial) -> np.ndarray:
    """CORNERS parameter (3, 4, n_plates) in mm, lab frame, ordered for the AMTI-style plate axes."""
    lay = trial.layout
    a, b = lay.size_x / 2, lay.size_y / 2
    out = np.zeros((3, 4, len(lay.centres)))
    for i, (cx, cy, cz) in enumerate(lay.centres):
        # plate (+a,+b), (-a,+b), (-a,-b), (+a,-b) with plate y = -lab y
        pts = [(cx + a, cy - b), (cx - a, cy - b), (cx - a, cy + b), (cx + a, cy + b)]
        for k, (x, y) in enumerate(pts):
            out[:, k, i] = (x * 1000, y * 1000, cz * 1000)
    return out


def write_c3d(trial: SyntheticTrial, path: str | Path) -> Path:
    """Write ``trial`` as a C3D file (markers, two type-2 force plates, events) and return its path.

    ``ezc3d.c3d(path, extract_forceplat_data=True)`` computes from it the plate COP of the trial (see the module
    docstring for the parameter conventions); :func:`ground_truth.synthetic.check_roundtrip` verifies it.
    """
    import ezc3d

    validate_type(trial, SyntheticTrial, "trial")
    validate_type(path, "path-like", "path")
    path = Path(path)
    if not path.parent.exists():
        raise InputError("folder does not exist", file=path.parent, field="path")
    c3d = ezc3d.c3d()
    p = c3d["parameters"]
    # -- markers -------------------------------------------------------------------------------------------
    names = list(trial.markers.channels)
    n = trial.time_s.size
    pts = np.ones((4, len(names), n))
    for j, name in enumerate(names):
        pts[:3, j, :] = trial.markers[name].T * 1000.0
    p["POINT"]["RATE"]["value"] = [float(trial.marker_rate_hz)]
    p["POINT"]["LABELS"]["value"] = names
    p["POINT"]["DESCRIPTIONS"]["value"] = ["synthetic marker"] * len(names)
    c3d["data"]["points"] = pts
    c3d.add_parameter("POINT", "UNITS", "mm")
    # -- analogs (plate frame) -----------------------------------------------------------------------------
    ratio = int(round(trial.analog_rate_hz / trial.marker_rate_hz))
    labels, units, rows = [], [], []
    for i, plate in enumerate(trial.plates):
        f_plate = _plate_to_lab(plate["force"])             # same axis flip both ways (180 deg about x)
        m_plate = _plate_to_lab(plate["moment"]) * 1000.0   # N*m -> N*mm
        for k, ch in enumerate(CHANNELS):
            labels.append(f"{ch}{i + 1}")
            units.append("N" if ch.startswith("F") else "Nmm")
            rows.append(f_plate[:, k] if k < 3 else m_plate[:, k - 3])
    analogs = np.asarray(rows)[None, :, : n * ratio]
    nch = len(labels)
    p["ANALOG"]["RATE"]["value"] = [float(trial.analog_rate_hz)]
    p["ANALOG"]["LABELS"]["value"] = labels
    p["ANALOG"]["DESCRIPTIONS"]["value"] = [f"force plate {int(lab[2:])} {lab[:2]}" for lab in labels]
    p["ANALOG"]["UNITS"]["value"] = units
    p["ANALOG"]["SCALE"]["value"] = [1.0] * nch
    p["ANALOG"]["OFFSET"]["value"] = [0] * nch
    p["ANALOG"]["GEN_SCALE"]["value"] = [1.0]
    c3d["data"]["analogs"] = analogs
    # -- force platforms -----------------------------------------------------------------------------------
    n_pl = len(trial.plates)
    fp = p["FORCE_PLATFORM"]     # the group exists in a new ezc3d object with the right parameter types
    fp["USED"]["value"] = np.array([n_pl], dtype=int)
    fp["TYPE"]["value"] = np.full(n_pl, 2, dtype=int)
    fp["ZERO"]["value"] = np.array([0, 0], dtype=int)
    fp["CORNERS"]["value"] = plate_corners_mm(trial)
    fp["ORIGIN"]["value"] = np.asarray(trial.layout.origin_mm, float).T.copy()
    fp["CHANNEL"]["value"] = (np.arange(6 * n_pl).reshape(n_pl, 6).T + 1).astype(int)
    # -- events and subject --------------------------------------------------------------------------------
    for ev in trial.truth["events"]:
        c3d.add_event(time=[0, float(ev.time)], context=ev.context or "General", label=ev.name,
                      description=ev.source, subject=trial.subject.subject_id)
    s = trial.subject
    c3d.add_parameter("PROCESSING", "Bodymass", [float(s.mass_kg)])
    c3d.add_parameter("PROCESSING", "Height", [float(s.height_m * 1000)])
    d = body_dims(s)
    leg_mm = (d.ankle_h + d.shank + d.thigh) * 1000
    c3d.add_parameter("PROCESSING", "LLegLength", [leg_mm])
    c3d.add_parameter("PROCESSING", "RLegLength", [leg_mm])
    c3d.add_parameter("SUBJECTS", "NAMES", [s.subject_id])
    c3d.write(str(path))
    return path


def write_trc(trial: SyntheticTrial, path: str | Path, *, source: str = "markers") -> Path:
    """Write markers (``source="markers"``) or joint centres (``"joints"``) as an OpenSim .trc file in mm."""
    validate_type(path, "path-like", "path")
    if source not in ("markers", "joints"):
        raise InputError(f"invalid source {source!r}", field="source", expected="'markers' or 'joints'")
    path = Path(path)
    data = ({k: trial.markers[k] for k in trial.markers.channels} if source == "markers"
            else dict(trial.joints))
    names = list(data)
    n = trial.time_s.size
    rate = trial.marker_rate_hz
    lines = [f"PathFileType\t4\t(X/Y/Z)\t{path.name}",
             "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\tOrigDataStartFrame\tOrigNumFrames",
             f"{rate:g}\t{rate:g}\t{n}\t{len(names)}\tmm\t{rate:g}\t1\t{n}",
             "Frame#\tTime\t" + "\t\t\t".join(names) + "\t\t",
             "\t\t" + "\t".join(f"X{i + 1}\tY{i + 1}\tZ{i + 1}" for i in range(len(names))),
             ""]
    block = np.concatenate([data[k] * 1000.0 for k in names], axis=1)
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
        for i in range(n):
            vals = "\t".join("" if not np.isfinite(v) else f"{v:.5f}" for v in block[i])
            fh.write(f"{i + 1}\t{trial.time_s[i]:.6f}\t{vals}\n")
    return path
