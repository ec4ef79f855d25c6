"""Single-leg-stance events (foot lift, touch-down, stance-foot hop/move) and time-to-failure.

Events come from force plates (one plate under each foot) or from foot markers/keypoints; both return
:class:`ground_truth.Event` lists so the two sources can be compared. :func:`time_to_failure` applies the
clinical stopping rules to them.

Clinical stopping rules for timed single-leg stance (e.g. Springer et al. 2007, J Geriatr Phys Ther 30:8;
Bohannon et al. 1984, Phys Ther 64:1067): the timing starts when the foot leaves the floor and stops
when (1) the lifted foot touches the floor, (2) the stance foot moves (shifts or hops), or (3) the maximum
duration is reached; in case (3), and when the recording ends first, the time is *censored* (the subject did
not fail) and flagged as such.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .kernel import Event, InputError, as_float_array, check_option, validate_type
from .filters import lowpass_bridged


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop (exclusive) indices of the True runs of a boolean array."""
    d = np.diff(np.r_[0, mask.astype(np.int8), 0])
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def _debounced(mask: np.ndarray, min_len: int) -> np.ndarray:
    """Drop True runs and False runs shorter than ``min_len`` samples (False runs first: fill short gaps)."""
    m = mask.copy()
    s, e = _runs(~m)
    for a, b in zip(s, e):
        if b - a < min_len and a > 0 and b < m.size:
            m[a:b] = True
    s, e = _runs(m)
    for a, b in zip(s, e):
        if b - a < min_len:
            m[a:b] = False
    return m


def plate_events(time, fz_stance, fz_lifted, *, threshold_n: float = 20.0, min_duration_s: float = 0.05,
                 lifted_side: str = "", source: str = "force plates") -> list[Event]:
    """Foot lift, touch-down and stance-foot unloading from the vertical force under each foot.

    Parameters
    ----------
    time : array (n,)
        Seconds.
    fz_stance, fz_lifted : array (n,)
        Vertical ground reaction force (N, positive up) on the stance-foot plate and on the lifted-foot plate.
    threshold_n : float
        A plate is loaded at or above this force (default 20 N, the readers' COP threshold).
    min_duration_s : float
        Loaded/unloaded states shorter than this are ignored (debouncing noise and brief taps).
    lifted_side : str
        Context written into the events ("Left"/"Right").

    Returns
    -------
    list of Event
        ``foot_lift``: first sample at which the lifted-foot plate becomes unloaded while the stance plate is
        loaded; ``touch_down``: first sample after that at which the lifted-foot plate is loaded again;
        ``stance_unloaded``: the stance plate unloaded (a hop or a step off) during the single-leg period.

    Notes
    -----
    Threshold crossings lag the true contact change by the time the force takes to cross ``threshold_n``
    (a few ms for a landing, up to tens of ms for a slow unloading); state this bias when comparing sources.
    """
    t = as_float_array(time, "time", ndim=1)
    fs_ = as_float_array(fz_stance, "fz_stance", ndim=1)
    fl = as_float_array(fz_lifted, "fz_lifted", ndim=1)
    if not (t.size == fs_.size == fl.size):
        raise InputError(f"time, fz_stance, fz_lifted have {t.size}, {fs_.size}, {fl.size} samples",
                         field="fz_lifted", expected="the same clock for all three")
    if t.size < 3:
        return []
    dt = float(np.median(np.diff(t)))
    k = max(1, int(round(min_duration_s / dt)))
    lifted_loaded = _debounced(np.nan_to_num(fl, nan=0.0) >= threshold_n, k)
    stance_loaded = _debounced(np.nan_to_num(fs_, nan=0.0) >= threshold_n, k)
    events: list[Event] = []
    off = np.flatnonzero(lifted_loaded[:-1] & ~lifted_loaded[1:] & stance_loaded[1:]) + 1
    if off.size == 0:
        return events
    i_lift = int(off[0])
    events.append(Event("foot_lift", float(t[i_lift]), lifted_side, f"{source}: lifted-foot plate < {threshold_n} N"))
    on = np.flatnonzero(~lifted_loaded[i_lift:-1] & lifted_loaded[i_lift + 1:]) + i_lift + 1
    end = int(on[0]) if on.size else t.size
    if on.size:
        events.append(Event("touch_down", float(t[end]), lifted_side,
                            f"{source}: lifted-foot plate >= {threshold_n} N"))
    un = np.flatnonzero(~stance_loaded[i_lift:end])
    if un.size:
        events.append(Event("stance_unloaded", float(t[i_lift + un[0]]), "",
                            f"{source}: stance plate < {threshold_n} N (hop or step)"))
    return sorted(events, key=lambda e: e.time)


def plate_events_from_recording(recording, *, stance_plate: int | None = None, lifted_plate: int | None = None,
                                threshold_n: float | None = None, min_duration_s: float = 0.05) -> list[Event]:
    """:func:`plate_events` on a two-plate :class:`~ground_truth.Recording` (plates guessed when not given).

    The stance plate is the one loaded for the larger share of the recording; the other is the lifted-foot plate.
    """
    from .recording import Recording
    validate_type(recording, Recording, "recording")
    if len(recording.plates) < 2:
        raise InputError(f"has {len(recording.plates)} force plate(s)", file=recording.path, field="plates",
                         expected="one plate under each foot (2 plates) for plate-based foot events")
    v = recording.vertical_axis
    fz = [p.force[:, v] for p in recording.plates]
    thr = recording.plates[0].threshold_n if threshold_n is None else threshold_n
    if stance_plate is None:
        share = [float(np.mean(np.nan_to_num(f) >= thr)) for f in fz]
        stance_plate = int(np.argmax(share))
    if lifted_plate is None:
        loaded_any = [i for i in range(len(fz)) if i != stance_plate and np.nanmax(fz[i]) >= thr]
        if not loaded_any:
            raise InputError("no plate other than the stance plate is ever loaded", file=recording.path,
                             field="plates", expected="the lifted foot standing on its own plate before lift")
        lifted_plate = loaded_any[0]
    return plate_events(recording.plates[stance_plate].signals.time, fz[stance_plate], fz[lifted_plate],
                        threshold_n=thr, min_duration_s=min_duration_s,
                        source=f"force plates {stance_plate} (stance) / {lifted_plate} (lifted)")


def _rowwise(func, a: np.ndarray) -> np.ndarray:
    """``func(a, axis=1)`` (a NaN-ignoring reduction), NaN without a warning for rows with no finite value."""
    out = np.full(a.shape[0], np.nan)
    ok = np.isfinite(a).any(axis=1)
    out[ok] = func(a[ok], axis=1)
    return out


def _forward_filled(state: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``state`` with each invalid sample replaced by the last valid one (a gap cannot change a contact)."""
    idx = np.maximum.accumulate(np.where(valid, np.arange(valid.size), 0))
    out = state[idx]
    out[: int(np.argmax(valid))] = False
    return out


def _edge_end(rel: np.ndarray, i: int, step: int, floor: float) -> int:
    """Walk from ``i`` by ``step`` while the signal keeps falling and is above ``floor`` (NaN samples skipped).

    Returns where the walk stopped: the first sample at or below ``floor``, or the last one of the monotone
    stretch (the foot of a rising edge walked backwards, of a falling edge walked forwards).
    """
    j = i
    while rel[j] > floor:
        k = j + step
        while 0 <= k < rel.size and not np.isfinite(rel[k]):
            k += step
        if not (0 <= k < rel.size and rel[k] < rel[j]):
            break
        j = k
    return j


def marker_events(time, lifted_foot, stance_foot=None, *, up_axis: int = 2, lift_threshold_m: float = 0.02,
                  onset_m: float = 0.003, move_threshold_m: float = 0.03, baseline_s: float = 0.5,
                  min_duration_s: float = 0.1, lowpass_hz: float | None = 6.0, lifted_side: str = "",
                  source: str = "foot markers") -> list[Event]:
    """Foot lift, touch-down and stance-foot movement from foot marker (or keypoint) trajectories.

    Parameters
    ----------
    time : array (n,)
    lifted_foot : array (n, 3) or (n, k, 3)
        The lifted foot's points (e.g. heel and toe markers). The foot height is the lowest of its points.
    stance_foot : array (n, 3) or (n, k, 3), optional
        The stance foot's points; its horizontal displacement from its baseline or a rise above
        ``move_threshold_m`` (any of its points) gives a ``stance_foot_moved`` event. Frames where it is also
        up (a jump, e.g. a hop for clock alignment before the test) do not count as a foot lift.
    up_axis : int
        Vertical axis of the positions.
    lift_threshold_m : float
        The foot is up while its lowest point is more than this above its standing baseline.
    onset_m : float
        Floor of the edge refinement: lift onset is taken back along the rising edge to the first sample above
        baseline + ``onset_m`` (touch-down forward to the first sample back within it), so the events mark the
        contact change rather than a threshold crossing.
    baseline_s : float
        The standing height is the median over the first ``baseline_s`` seconds (both feet down).
    min_duration_s : float
        Up and down states shorter than this are ignored (single-frame jitter of keypoints, marker spikes).
    lowpass_hz : float or None
        The foot height is low-passed first (zero-phase Butterworth, :func:`~ground_truth.filters.lowpass_bridged`;
        6 Hz is the usual cut-off for marker trajectories of slow movements, Winter 2009, *Biomechanics and Motor
        Control of Human Movement*, 4th ed., ch. 3). Not applied when the sampling rate is below 2.5 times the
        cut-off; ``None`` switches it off.
    lifted_side, source : str
        Context written into the events.

    Returns
    -------
    list of Event
        ``foot_lift``, ``touch_down``, ``stance_foot_moved`` (when found).

    Notes
    -----
    The lifted period is a hysteresis on the height above baseline. It starts with the first time the foot
    stays above half the height at which it is held (the median height of the longest up period) for
    ``min_duration_s``, so a rise of a few centimetres before the real lift (a weight shift, or keypoints that
    drift while the foot is still down) does not start the timing; it ends when the height stays below
    ``lift_threshold_m`` for ``min_duration_s``, so a lowered but still lifted foot is not a touch-down. Each
    event is then refined along its edge: lift back to the start of the rise, touch-down forward to the end
    of the fall (:func:`_edge_end`), never further than the last monotone sample, so a plateau before the rise
    does not drag the lift earlier.
    Samples without a position (marker gaps, frames without a person) keep the state they interrupt: a gap
    is never a touch-down.
    """
    t = as_float_array(time, "time", ndim=1)
    validate_type(min_duration_s, "numeric", "min_duration_s")

    def lowest(points, name):
        p = as_float_array(points, name)
        if p.ndim == 2:
            p = p[:, None, :]
        if p.ndim != 3 or p.shape[0] != t.size or p.shape[2] <= up_axis:
            raise InputError(f"has shape {p.shape}", field=name, expected=f"({t.size}, 3) or ({t.size}, k, 3)")
        return p

    lf = lowest(lifted_foot, "lifted_foot")
    h = _rowwise(np.nanmin, lf[:, :, up_axis])
    dt = float(np.median(np.diff(t))) if t.size > 1 else np.inf
    if lowpass_hz is not None and 1.0 / dt > 2.5 * lowpass_hz:
        h = lowpass_bridged(h, 1.0 / dt, lowpass_hz)
    base_n = max(1, int(np.searchsorted(t, t[0] + baseline_s)))
    base = np.nanmedian(h[:base_n]) if np.isfinite(h[:base_n]).any() else np.nan
    if not np.isfinite(base):
        raise InputError("the lifted foot has no valid samples in the baseline period", field="lifted_foot")
    rel = h - base
    events: list[Event] = []
    valid = np.isfinite(rel)
    up = rel > lift_threshold_m
    sf = None
    if stance_foot is not None:
        sf = lowest(stance_foot, "stance_foot")
        s_h = _rowwise(np.nanmin, sf[:, :, up_axis])
        s_rise = s_h - np.nanmedian(s_h[:base_n])
        # both feet up is a jump (e.g. a hop for clock alignment), not a foot lift
        up &= ~(s_rise > lift_threshold_m)
    n_min = max(1, int(round(min_duration_s / dt)))
    up = _debounced(_forward_filled(up, valid), n_min)
    starts, stops = _runs(up)
    if starts.size == 0:
        return events
    longest = int(np.argmax(stops - starts))
    half = max(lift_threshold_m, 0.5 * float(np.nanmedian(rel[starts[longest]:stops[longest]])))
    high = up & _debounced(_forward_filled(rel > half, valid), n_min)
    if not high.any():
        return events
    first_high = int(np.argmax(high))
    r = int(np.searchsorted(starts, first_high, side="right")) - 1     # the up period that holds it
    a, b = int(starts[r]), int(stops[r])
    above = a + np.flatnonzero(high[a:b])
    j = _edge_end(rel, int(above[0]), -1, onset_m)
    if not rel[j] > onset_m:                 # the last sample still down: the lift is the next one
        j += 1 + int(np.argmax(valid[j + 1:]))
    events.append(Event("foot_lift", float(t[j]), lifted_side, f"{source}: foot {onset_m * 1000:.0f} mm up"))
    if b < t.size:
        k = _edge_end(rel, int(above[-1]), +1, onset_m)
        events.append(Event("touch_down", float(t[k]), lifted_side,
                            f"{source}: foot back within {onset_m * 1000:.0f} mm of the floor"))
    if sf is not None:
        # the largest horizontal displacement of any stance-foot point from its standing baseline
        bl = np.nanmedian(sf[:base_n], axis=0)                       # (k, 3)
        d = np.delete(sf - bl[None], up_axis, axis=2)
        horiz = _rowwise(np.nanmax, np.linalg.norm(d, axis=2))
        moved = np.flatnonzero(((horiz > move_threshold_m) | (s_rise > move_threshold_m)) & (np.arange(t.size) >= j))
        if moved.size:
            events.append(Event("stance_foot_moved", float(t[moved[0]]), "",
                                f"{source}: stance foot moved > {move_threshold_m * 1000:.0f} mm"))
    return sorted(events, key=lambda e: e.time)


@dataclass(frozen=True)
class TimeToFailure:
    """Time-to-failure of one single-leg-stance trial.

    ``value_s`` is the time from foot lift to the first stopping event (or to the censoring time);
    ``censored`` is True when no failure was observed (maximum duration reached, or the recording ended);
    ``reason`` names what stopped the timing, ``rule`` the rule set, ``source`` where the events came from.
    """

    value_s: float
    censored: bool
    reason: str
    rule: str
    source: str

    def to_dict(self) -> dict:
        return {"value_s": self.value_s, "censored": self.censored, "reason": self.reason, "rule": self.rule,
                "source": self.source}


def time_to_failure(events, *, max_duration_s: float = 30.0, recording_end_s: float | None = None,
                    rules=("touch_down", "stance_moved"), source: str = "") -> TimeToFailure:
    """Time-to-failure of a single-leg-stance trial from its events, with the clinical stopping rules.

    Parameters
    ----------
    events : list of Event
        Must contain ``foot_lift``; may contain ``touch_down``, ``stance_unloaded``, ``stance_foot_moved``.
    max_duration_s : float
        The protocol's maximum (30 s is common): reaching it is a censored, non-failed trial.
    recording_end_s : float, optional
        End of the recording; if reached first the time is censored with reason ``"recording_ended"``.
    rules : iterable of {"touch_down", "stance_moved"}
        Which failures count: the lifted foot touching down, and/or the stance foot moving/hopping
        (``stance_unloaded`` or ``stance_foot_moved`` events).
    source : str
        Where the events came from, copied into the result.

    Returns
    -------
    TimeToFailure

    Notes
    -----
    A touch-down at or after ``max_duration_s`` is the end of the test, not a failure: the result is
    ``censored=True`` with ``reason="max_duration"`` and ``value_s = max_duration_s``.
    """
    validate_type(max_duration_s, "numeric", "max_duration_s")
    rules = tuple(rules)
    for r in rules:
        check_option("rules", r, ("touch_down", "stance_moved"))
    lifts = [e for e in events if e.name == "foot_lift"]
    if not lifts:
        raise InputError("no foot_lift event", field="events", expected="a foot_lift event to start the timing")
    t0 = lifts[0].time
    stop_names = set()
    if "touch_down" in rules:
        stop_names.add("touch_down")
    if "stance_moved" in rules:
        stop_names |= {"stance_unloaded", "stance_foot_moved"}
    stops = sorted((e for e in events if e.name in stop_names and e.time > t0), key=lambda e: e.time)
    rule = "+".join(rules) + f", max {max_duration_s:g} s"
    if stops and stops[0].time - t0 < max_duration_s:
        first = stops[0]
        reason = "touch_down" if first.name == "touch_down" else "stance_foot_moved"
        return TimeToFailure(float(first.time - t0), False, reason, rule, source or first.source)
    if recording_end_s is not None and recording_end_s - t0 < max_duration_s and not stops:
        return TimeToFailure(float(recording_end_s - t0), True, "recording_ended", rule, source)
    return TimeToFailure(float(max_duration_s), True, "max_duration", rule, source)
