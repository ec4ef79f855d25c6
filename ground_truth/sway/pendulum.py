"""COP estimated from a COM trajectory with the inverted-pendulum relation (no force plate needed).

A camera (pose keypoints) gives a whole-body COM trajectory but no centre of pressure (COP). For a body that
sways as an inverted pendulum, the COP and the COM differ by a term proportional to the horizontal acceleration
of the COM (Winter 1995; Winter et al. 1998), so a COP can be estimated from the COM alone:

>>> from ground_truth.sway import estimate_cop_from_com
>>> est = estimate_cop_from_com(time_s, com_xyz)      # com_xyz: (n, 3) m, lab frame, z up, floor at z = 0
>>> est.cop_xy, est.method                            # (n, 2) m on the lab's x, y; how it was made

The result is an estimate and is labelled as one (``method``): it neglects the rate of change of the body's
angular momentum about its COM, which a hip strategy (trunk counter-rotation) makes large. See
docs/ground-truth-signals.md, "COP estimated from the COM".
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..com import G
from ..filters import lowpass_irregular
from ..kernel import InputError, as_float_array, validate_type

#: Default low-pass cut-off (Hz) of the COM before it is differentiated twice. The COM is the COP low-passed
#: by the body, COM(f) = COP(f) / (1 + (2 pi f)^2 h / g) (corner ~0.5 Hz for h = 1 m, Caron et al. 1997), so
#: above ~1 Hz the COM holds the COP's content divided by 5 (1 Hz), 17 (2 Hz), 65 (4 Hz): recovering it needs a
#: COM resolved far below a millimetre, while the double differentiation multiplies the COM's noise by
#: (2 pi f)^2. Measured on synthetic single-leg trials (docs/ground-truth-signals.md, "COP estimated from the
#: COM"): for the COM of the read markers (0.5 mm noise per marker) and for a 100 Hz COM with 1-2 mm of white
#: noise (a triangulated keypoint COM is no cleaner), 1 Hz is within 0.35 mm of the best cut-off, while 3 Hz
#: already multiplies the error by 2.5-5 at 1-2 mm; on the two real standing recordings with markers and plates
#: 1 Hz is the best or within 0.02 mm of it. Only a (near) noise-free COM gains from more (error 2.6 mm at
#: 1 Hz, 0.9 mm at 10 Hz): pass a higher cut-off for one.
DEFAULT_CUTOFF_HZ = 1.0
#: Default Butterworth order; run forwards and backwards, so the magnitude response is that of twice the order
#: (the same 2nd-order, zero-phase filter as :func:`ground_truth.filters.lowpass_bridged`).
DEFAULT_ORDER = 2
#: A sampling grid whose intervals all lie within this fraction of their median counts as uniform (rounding of
#: i / fs); anything else (camera frame times with jitter) goes through a uniform grid, see Notes.
UNIFORM_RTOL = 1e-6
#: Plausible mean COM height above the floor (m): outside it the vertical axis is probably not z, or the
#: frame's floor is not at z = 0 (a child's COM is ~0.5 m high, an adult's ~1 m).
HEIGHT_RANGE_M = (0.3, 2.0)

CITATION = ("Winter DA (1995) Human balance and posture control during standing and walking. Gait Posture "
            "3:193-214; Winter DA, Patla AE, Prince F, Ishac M, Gielo-Perczak K (1998) Stiffness control of "
            "balance in quiet standing. J Neurophysiol 80(3):1211-1221")

__all__ = ["DEFAULT_CUTOFF_HZ", "DEFAULT_ORDER", "COPEstimate", "estimate_cop_from_com"]


@dataclass
class COPEstimate:
    """A COP estimated from a COM trajectory (inverted-pendulum relation).

    Attributes
    ----------
    time_s : ndarray (n,)
        The input's sample times, s.
    cop_xy : ndarray (n, 2)
        Estimated COP on the lab's two horizontal axes (x, y of ``com_xyz``), metres; NaN where the COM or its
        second derivative is missing (``n_missing_out``).
    com_height_m : float
        The COM height used: ``height_m`` when given, else the mean of the low-passed COM z over the valid
        samples (the relation itself then uses z per sample, see ``height_source``).
    cutoff_hz : float
        Low-pass cut-off applied to the COM before differentiation.
    order : int
        Butterworth order (run forwards and backwards).
    method : str
        How the estimate was made: relation, sources, filter, height.
    height_source : str
        ``"com_z"`` (per-sample low-passed COM z with its vertical acceleration) or ``"given"``.
    n_missing_in : int
        Input samples with a missing (NaN) COM coordinate.
    n_missing_out : int
        Output samples with a NaN COP: the missing inputs and their neighbours within the second difference's
        reach (one sample on each side of every gap on a uniform grid, up to two on a non-uniform one).
    """

    time_s: np.ndarray
    cop_xy: np.ndarray
    com_height_m: float
    cutoff_hz: float
    order: int
    method: str
    height_source: str
    n_missing_in: int
    n_missing_out: int

    @property
    def fs_hz(self) -> float:
        """Median sampling rate of ``time_s``."""
        return 1.0 / float(np.median(np.diff(self.time_s)))


def _second_difference(x: np.ndarray, dt: float) -> np.ndarray:
    """Second derivative along axis 0 of uniformly sampled ``x``: 3-point central difference inside,
    second-order one-sided 4-point differences at the two ends. A NaN sample makes its neighbours NaN."""
    d2 = np.empty_like(x)
    d2[1:-1] = (x[2:] - 2 * x[1:-1] + x[:-2]) / dt ** 2
    d2[0] = (2 * x[0] - 5 * x[1] + 4 * x[2] - x[3]) / dt ** 2
    d2[-1] = (2 * x[-1] - 5 * x[-2] + 4 * x[-3] - x[-4]) / dt ** 2
    return d2


def _check_inputs(time_s, com_xyz, cutoff_hz, order, height_m):
    t = as_float_array(time_s, "time_s", ndim=1)
    com = as_float_array(com_xyz, "com_xyz", ndim=2)
    if com.shape[1] != 3:
        raise InputError(f"com_xyz has shape {com.shape}", field="com_xyz",
                         expected="(n, 3) COM positions in metres (x, y horizontal, z up), one row per sample")
    if t.shape[0] != com.shape[0]:
        raise InputError(f"time_s has {t.shape[0]} samples but com_xyz has {com.shape[0]}", field="time_s",
                         expected="one time per COM sample")
    if not np.all(np.isfinite(t)):
        raise InputError(f"time_s has {int(np.count_nonzero(~np.isfinite(t)))} non-finite value(s)",
                         field="time_s", expected="finite sample times in seconds")
    if np.any(np.isinf(com)):
        raise InputError(f"com_xyz is infinite at sample {int(np.flatnonzero(np.isinf(com).any(axis=1))[0])}",
                         field="com_xyz", expected="finite positions, or NaN for missing samples")
    validate_type(order, (int, np.integer), "order", "int")
    order = int(order)
    if not 1 <= order <= 8:
        raise InputError(f"order is {order}", field="order", expected="a Butterworth order from 1 to 8")
    # sosfiltfilt pads 3 * (2 * sections + 1) samples at each end and needs more than that; the filter helpers
    # leave a channel with fewer than 16 valid samples unfiltered (NaN)
    min_samples = max(16, 3 * (2 * ((order + 1) // 2) + 1) + 1)
    valid = np.all(np.isfinite(com), axis=1)
    if int(valid.sum()) < min_samples:
        raise InputError(f"com_xyz has {int(valid.sum())} valid sample(s) of {com.shape[0]}", field="com_xyz",
                         expected=f"at least {min_samples} valid samples for an order-{order} zero-phase filter")
    dt = np.diff(t)
    if np.any(dt <= 0):
        i = int(np.flatnonzero(dt <= 0)[0])
        raise InputError(f"time_s does not increase at sample {i + 1} ({t[i]!r} -> {t[i + 1]!r})",
                         field="time_s", expected="strictly increasing sample times")
    validate_type(cutoff_hz, "numeric", "cutoff_hz")
    fs = 1.0 / float(np.median(dt))
    if not (np.isfinite(cutoff_hz) and 0 < cutoff_hz < fs / 2):
        raise InputError(f"cutoff_hz is {cutoff_hz!r} Hz with samples at {fs:.4g} Hz", field="cutoff_hz",
                         expected=f"a cut-off between 0 and the Nyquist frequency {fs / 2:.4g} Hz")
    if height_m is not None:
        validate_type(height_m, "numeric", "height_m")
        if not (np.isfinite(height_m) and height_m > 0):
            raise InputError(f"height_m is {height_m!r}", field="height_m",
                             expected="the COM height above the floor in metres (positive), or None")
    return t, com, valid, fs, order


def estimate_cop_from_com(time_s, com_xyz, *, cutoff_hz: float = DEFAULT_CUTOFF_HZ, order: int = DEFAULT_ORDER,
                          height_m: float | None = None) -> COPEstimate:
    """Estimate the COP from a whole-body COM trajectory with the inverted-pendulum relation.

    Parameters
    ----------
    time_s : array (n,)
        Sample times in seconds, strictly increasing; the grid may be non-uniform (camera frame times).
    com_xyz : array (n, 3)
        Whole-body COM in metres, lab frame: x, y horizontal, z up with the floor (support surface) at z = 0.
        NaN rows are missing samples.
    cutoff_hz : float
        Cut-off of the zero-phase Butterworth low-pass applied to the COM before it is differentiated twice
        (default :data:`DEFAULT_CUTOFF_HZ`; see Notes).
    order : int
        Butterworth order, run forwards and backwards (magnitude of order ``2 * order``, no phase lag).
    height_m : float, optional
        COM height above the floor. None (default): the low-passed COM z of each sample, with its vertical
        acceleration (the exact relation below). A number: that constant height and no vertical acceleration
        (Winter's small-angle form), for a COM whose vertical coordinate is not trusted or whose frame's floor
        is not at z = 0.

    Returns
    -------
    COPEstimate
        ``cop_xy`` (n, 2) m on the lab's x, y, NaN where the COM is missing (and the neighbours the second
        difference reaches), with the height, filter, counts of missing samples and a ``method`` string.

    Raises
    ------
    InputError
        Wrong shape (``com_xyz`` not (n, 3), ``time_s`` not (n,)), non-finite or non-increasing times, too few
        valid samples for the filter, a cut-off not below the Nyquist frequency, an order outside 1-8, a
        non-positive ``height_m``, or (with ``height_m=None``) a mean COM z outside 0.3-2 m (the vertical axis
        is probably not z, or the floor is not at z = 0).

    Notes
    -----
    Moment balance about the COM of a body on the ground, with the ground reaction force ``F = m (a + g)`` at
    the COP on the floor and the rate of change of angular momentum about the COM neglected, gives for each
    horizontal axis ``COP = COM - z / (g + z'') * COM''``, with z the COM height above the floor (see
    :mod:`ground_truth.synthetic.simulate`, point 4, whose plates add the angular-momentum term). With z'' = 0
    and a constant height h this is the inverted-pendulum relation of Winter (1995) and Winter et al. (1998),
    ``COP - COM = -(I / (W h)) COM''`` with ``I = m h^2`` (a point mass; ``W = m g``), i.e.
    ``COP = COM - (h / g) COM''``: the COP-COM difference is proportional to the COM's horizontal
    acceleration.

    By default z is taken per sample (the exact form above): it costs nothing and stays right when the COM
    accelerates vertically while it moves horizontally (a squat during a reach, a fall), where a constant
    height is off by z''/g (~10 % at 1 m/s^2). In quiet single-leg stance the two forms differ by less than
    0.01 mm (measured on the synthetic trials, whose COM z varies by ~1 mm).

    Filtering: the COM is low-passed with a zero-phase Butterworth filter (``lowpass_irregular`` of
    :mod:`ground_truth.filters`, which bridges NaN gaps for filtering only) on a uniform grid, and its second
    derivative is a 3-point central difference on that grid. A non-uniform input grid is first interpolated
    onto a uniform one at its median rate, and the estimate is interpolated back to the input times (the
    second difference of samples read off a grid by interpolation would carry errors of the order of the
    acceleration itself). The double differentiation multiplies noise by (2 pi f)^2 (~630 at 4 Hz), so the
    cut-off sets the trade-off between keeping the fast corrections of the real COP (1-4 Hz) and the COM's
    noise: see :data:`DEFAULT_CUTOFF_HZ` and the measured errors in docs/ground-truth-signals.md. The
    estimate is also low-passed (the same filter applies to both terms), and the first and last ~1 /
    ``cutoff_hz`` seconds carry the filter's edge effects.

    When it fails: the relation ignores the angular momentum of the segments about the COM, so a hip strategy
    (trunk counter-rotation, Horak & Nashner 1986) moves the real COP without a matching COM acceleration, and
    anything that is not a foot on the floor (hand support on a rail, a second contact) breaks it; so do
    movements that rotate segments against each other while the COM stays put (a knee bend: 30 mm RMS error
    during the synthetic trials' knee dip). Large leans (not small angles) are still covered by the exact form
    but not by a constant height.

    References
    ----------
    Winter DA (1995) Gait Posture 3:193-214. Winter DA et al. (1998) J Neurophysiol 80:1211-1221.
    Lafond D, Duarte M, Prince F (2004) J Biomech 37:1421-1426 (the kinematic and force-plate COM methods
    compared in quiet and one-leg standing).
    """
    t, com, valid, fs, order = _check_inputs(time_s, com_xyz, cutoff_hz, order, height_m)
    n = t.size
    dt_all = np.diff(t)
    uniform = bool(np.all(np.abs(dt_all - np.median(dt_all)) <= UNIFORM_RTOL * np.median(dt_all)))
    if uniform:
        grid, on_grid = t, np.where(valid[:, None], com, np.nan)
    else:
        # uniform grid at the median rate; a grid point next to a missing input sample is missing too
        grid = t[0] + np.arange(int(np.floor((t[-1] - t[0]) * fs + 1e-9)) + 1) / fs
        on_grid = np.column_stack([np.interp(grid, t[valid], com[valid, k]) for k in range(3)])
        on_grid[np.interp(grid, t, valid.astype(float)) < 1.0] = np.nan
    dt = float(np.median(np.diff(grid)))
    smooth = lowpass_irregular(grid, on_grid, float(cutoff_hz), order=order)
    acc = _second_difference(smooth, dt)
    if height_m is None:
        z = smooth[:, 2]
        h_mean = float(np.nanmean(z))
        if not HEIGHT_RANGE_M[0] <= h_mean <= HEIGHT_RANGE_M[1]:
            raise InputError(f"the mean COM z is {h_mean:.3g} m", field="com_xyz",
                             expected=f"z up with the floor at z = 0 (a COM {HEIGHT_RANGE_M[0]}-"
                                      f"{HEIGHT_RANGE_M[1]} m above it), or pass height_m")
        factor = z / (G + acc[:, 2])
        height_source = "com_z"
        how_h = ("COM height z per sample (low-passed COM z above the floor at z = 0, mean "
                 f"{h_mean:.3f} m) with its vertical acceleration: COP = COM - z / (g + z'') * COM''")
    else:
        h_mean = float(height_m)
        factor = np.full(grid.size, h_mean / G)
        height_source = "given"
        how_h = f"constant COM height h = {h_mean:.3f} m (given): COP = COM - (h / g) * COM''"
    cop_grid = smooth[:, :2] - factor[:, None] * acc[:, :2]
    if uniform:
        cop = cop_grid
    else:
        cop = np.full((n, 2), np.nan)
        ok_grid = np.all(np.isfinite(cop_grid), axis=1)
        for k in range(2):
            cop[:, k] = np.interp(t, grid, np.where(ok_grid, cop_grid[:, k], np.nan))
    cop[~valid] = np.nan
    n_out = int(np.count_nonzero(~np.all(np.isfinite(cop), axis=1)))
    grid_note = ("uniform grid" if uniform else
                 f"non-uniform times interpolated onto a uniform {fs:.4g} Hz grid and the estimate read back")
    method = (f"COP estimated from the COM, inverted pendulum without angular momentum (Winter 1995; Winter et "
              f"al. 1998); {how_h}; COM low-passed at {float(cutoff_hz):g} Hz (order-{order} Butterworth run "
              f"forwards and backwards, zero phase, NaN gaps bridged for filtering only), COM'' by 3-point "
              f"central differences at {fs:.4g} Hz ({grid_note}); g = {G} m/s^2; "
              f"{int(np.count_nonzero(~valid))} missing COM sample(s) in, {n_out} missing COP sample(s) out")
    return COPEstimate(time_s=t.copy(), cop_xy=cop, com_height_m=h_mean, cutoff_hz=float(cutoff_hz), order=order,
                       method=method, height_source=height_source, n_missing_in=int(np.count_nonzero(~valid)),
                       n_missing_out=n_out)
