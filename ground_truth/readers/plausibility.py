"""Plausibility of values as the readers read them: what no instrument or person produces becomes NaN with a
note, and what only looks odd (an isolated one-sample spike) is named in a note and left as read.

The bounds per quantity are :data:`ground_truth.kernel.BOUNDS`; this module applies them to the shapes the
readers hold (a plate's force, moment and COP sampled together; markers as (n, 3) vectors) and adds two checks
the table cannot express: a COP off its plate, and isolated spikes (a flipped bit in one stored float).
"""
from __future__ import annotations

import numpy as np

from ..kernel import BOUNDS, mask_implausible

#: An isolated spike deviates from the mean of its two neighbours by more than this many robust standard
#: deviations of that deviation over the channel (10: on ~100 real recordings of this repository's data
#: -- C3D from 12 vendors, BMClab BDS/PDS, Motive, OpenSim -- no sample reaches it; 5 flags real markers).
SPIKE_FACTOR = 10.0
#: ... and by more than this, in SI units, so that the quantisation steps of a flat (unloaded, gap-free)
#: channel, whose robust deviation is ~0, are never spikes. Measured on the same real data: forces and moments
#: give no spike above 20 N and 10 N*m (5 N and 2 N*m flag a few real samples); a COP computed near the loading
#: threshold jumps by centimetres (Kistler, c3d.org sample10), and model outputs stored as points (sample09
#: ankle moments) by 2 cm, hence 5 cm for both.
SPIKE_FLOOR = {"force_n": 20.0, "moment_nm": 10.0, "cop_m": 0.05, "position_m": 0.05}
#: A COP further outside its plate's corners than this many times the plate's longer edge is not a COP. Why so
#: wide: real plates put the COP well off their edges at low load -- up to 35 cm at 20-30 N during heel strike
#: and 7 cm at 116 N (c3d.org sample10 "a" pair, a 51 x 46 cm plate), 27 cm on a 91-cm plate (others_Gait) --
#: and those samples are as the instrument measured them; a corrupted origin, calibration or channel puts it
#: metres away. One plate length masks none of the ~40 real plates here.
COP_OFF_PLATE_MARGIN_EDGES = 1.0


def isolated_spikes(values, floor: float, factor: float = SPIKE_FACTOR) -> np.ndarray:
    """Boolean mask (same shape as ``values``, (n,) or (n, k)) of isolated one-sample spikes per column.

    A sample ``i`` is a spike when ``|x[i] - (x[i-1] + x[i+1]) / 2|`` exceeds both ``factor`` robust standard
    deviations (1.4826 x MAD over the column) of that quantity and ``floor``, while its two neighbours agree
    with each other (``|x[i+1] - x[i-1]|`` less than half that deviation): a step, a ramp or a peak several
    samples wide is not a spike. Samples next to a NaN are never spikes. Costs a few array passes.
    """
    x = np.asarray(values, dtype=float)
    flat = x.ndim == 1
    x2 = x[:, None] if flat else x.reshape(x.shape[0], -1)
    out = np.zeros(x2.shape, dtype=bool)
    if x2.shape[0] >= 3:
        with np.errstate(invalid="ignore", over="ignore"):
            dev = np.abs(x2[1:-1] - 0.5 * (x2[:-2] + x2[2:]))
            span = np.abs(x2[2:] - x2[:-2])
        finite = np.isfinite(dev)
        if finite.all():
            sigma = 1.4826 * np.median(dev, axis=0)
        else:     # the median of each column's finite values, all columns in one sort
            ranked = np.sort(np.where(finite, dev, np.inf), axis=0)
            k = finite.sum(axis=0)
            cols = np.arange(dev.shape[1])
            with np.errstate(invalid="ignore"):
                sigma = 1.4826 * 0.5 * (ranked[np.maximum((k - 1) // 2, 0), cols] + ranked[np.maximum(k // 2, 0), cols])
            sigma[k == 0] = np.nan
        threshold = np.maximum(factor * sigma, floor)      # NaN sigma (no finite value): nothing is a spike
        with np.errstate(invalid="ignore"):
            out[1:-1] = (dev > threshold) & (span < 0.5 * dev)
    return out[:, 0] if flat else out.reshape(x.shape)


def note_spikes(values, quantity: str, *, what: str, notes: list[str], components: str = "xyz") -> int:
    """Count isolated spikes of ``values`` ((n,) or (n, k)) and name them in ``notes``; the data are not changed.

    Returns the number of spikes.
    """
    v = np.asarray(values, dtype=float)
    spikes = isolated_spikes(v, SPIKE_FLOOR[quantity])
    n = int(spikes.sum())
    if n:
        if v.ndim == 2:
            per = spikes.sum(axis=0)
            where = ", ".join(f"{components[j] if j < len(components) else j}: {int(c)}"
                              for j, c in enumerate(per) if c)
            first = int(np.flatnonzero(spikes.any(axis=1))[0])
        else:
            where = ""
            first = int(np.flatnonzero(spikes)[0])
        unit = BOUNDS[quantity].unit
        notes.append(f"{what}: {n} isolated single-sample spike(s){f' ({where})' if where else ''}, first at "
                     f"sample {first}: each differs from the mean of its two neighbours by more than "
                     f"{SPIKE_FACTOR:g} robust SD and {SPIKE_FLOOR[quantity]:g} {unit} (a corrupted value?); "
                     f"kept as read")
    return n


def note_vector_spikes(xyz: np.ndarray, names: list[str], quantity: str, *, what: str, notes: list[str]) -> int:
    """Isolated spikes of (n, m, 3) vectors (markers) in one pass, named in one note (up to five names)."""
    n, m = xyz.shape[0], xyz.shape[1]
    spikes = isolated_spikes(xyz.reshape(n, m * 3), SPIKE_FLOOR[quantity]).reshape(n, m, 3).any(axis=2)
    total = int(spikes.sum())
    if total:
        notes.append(f"{what}: {total} isolated single-sample spike(s) ({_most_counted(spikes, names)}): "
                     f"each coordinate differs from the mean of its two "
                     f"neighbours by more than {SPIKE_FACTOR:g} robust SD and {SPIKE_FLOOR[quantity]:g} "
                     f"{BOUNDS[quantity].unit} (a corrupted value?); kept as read")
    return total


def mask_rows(values, quantity: str, *, what: str, notes: list[str]) -> np.ndarray:
    """``mask_implausible`` of an (n, k) array of vectors (a COP, a point of application), then the whole
    vector NaN where one of its components was masked: half a position is no position."""
    v = mask_implausible(values, quantity, what=what, notes=notes)
    if v.ndim == 2:
        before = np.isnan(np.asarray(values, dtype=float)).all(axis=1)
        v[np.isnan(v).any(axis=1) & ~before] = np.nan
    return v


def mask_together(arrays: dict[str, np.ndarray], quantities: dict[str, str], *, what: str,
                  notes: list[str]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Mask implausible values of signals sampled together, then the whole sample in every signal.

    ``arrays`` maps a signal name to an (n,) or (n, k) array; ``quantities`` maps it to a :data:`BOUNDS`
    quantity. Each signal's non-finite and out-of-bounds values are counted in a note (``mask_implausible``);
    a sample with any such value, or a NaN already, is then NaN in every signal (a force sample that cannot be
    trusted makes that sample's moment and COP meaningless too), which a second note says when it changed
    anything.

    Returns the masked copies and the (n,) mask of samples NaN in every signal because of that.
    """
    out = {}
    bad = None
    for name, values in arrays.items():
        masked = mask_implausible(values, quantities[name], what=f"{what} {name}", notes=notes)
        rows = np.isnan(masked).reshape(masked.shape[0], -1).any(axis=1)
        bad = rows if bad is None else bad | rows
        out[name] = masked
    if bad is None:
        return out, np.zeros(0, dtype=bool)
    changed = int(sum(np.count_nonzero(~np.isnan(v[bad])) for v in out.values()))
    if changed:
        for values in out.values():
            values[bad] = np.nan
        notes.append(f"{what}: the {int(bad.sum())} sample(s) with a missing or implausible value are NaN in every "
                     f"one of its signals ({', '.join(out)})")
    return out, bad


def mask_vectors(xyz: np.ndarray, names: list[str], quantity: str, *, what: str,
                 notes: list[str]) -> np.ndarray:
    """(n, m, 3) vectors (e.g. markers) with every vector holding an implausible coordinate set to NaN.

    One note counts them over all ``names`` and names up to five of them with the largest counts.
    Returns the (n, m) mask of vectors masked.
    """
    b = BOUNDS[quantity]
    was_nan = np.isnan(xyz)
    bad = (~b.contains(xyz) & ~was_nan).any(axis=2)
    if bad.any():
        values = xyz[bad]
        values = values[~b.contains(values) & ~np.isnan(values)]
        finite = values[np.isfinite(values)]
        example = f" (e.g. {finite[np.argmax(np.abs(finite))]:.4g} {b.unit})" if finite.size else ""
        notes.append(f"{what}: {int(bad.sum())} of {bad.size} position(s) set to NaN: a coordinate non-finite or "
                     f"outside {b.describe()}{example} ({b.why}); {_most_counted(bad, names)}")
        xyz[bad] = np.nan
    return bad


def off_plate(cop: np.ndarray, corners: np.ndarray,
              margin_edges: float = COP_OFF_PLATE_MARGIN_EDGES) -> tuple[np.ndarray, float] | None:
    """(mask, margin in m): COP samples further outside the plate with ``corners`` (4, 3, same frame) than
    ``margin_edges`` times the plate's longer edge.

    The corners are taken in order around the plate. Returns None when they do not form a parallelogram
    (within 1 cm), where inside and outside cannot be told. NaN samples are not off the plate.
    """
    c = np.asarray(corners, dtype=float)
    if c.shape != (4, 3) or not np.isfinite(c).all() or np.linalg.norm(c[0] + c[2] - c[1] - c[3]) > 0.01:
        return None
    e1, e2 = c[1] - c[0], c[3] - c[0]
    l1, l2 = float(np.linalg.norm(e1)), float(np.linalg.norm(e2))
    if l1 == 0 or l2 == 0:
        return None
    margin = margin_edges * max(l1, l2)
    r = np.asarray(cop, dtype=float) - c[0]
    s, t = r @ e1 / l1 ** 2, r @ e2 / l2 ** 2
    with np.errstate(invalid="ignore"):
        out_s = np.maximum(np.maximum(-s, s - 1.0), 0.0) * l1
        out_t = np.maximum(np.maximum(-t, t - 1.0), 0.0) * l2
        return np.hypot(out_s, out_t) > margin, margin


def _most_counted(flags: np.ndarray, names) -> str:
    """'A: 3, B: 2 and 4 more': the (up to five) names of the columns of ``flags`` (n, m) flagged most often."""
    counts = flags.sum(axis=0)
    order = np.argsort(-counts)
    named = [f"{names[j]}: {int(counts[j])}" for j in order[:5] if counts[j]]
    more = int(np.count_nonzero(counts)) - len(named)
    return ", ".join(named) + (f" and {more} more" if more > 0 else "")
