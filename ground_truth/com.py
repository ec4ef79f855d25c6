"""Centre of mass (COM) of a standing subject, three ways, each result saying which method produced it.

* :func:`com_from_markers` - segmental model: joint centres of the marker-set mapping
  (:mod:`ground_truth.marker_mapping`) and de Leva (1996) segment parameters.
* :func:`com_from_grf_integration` - zero-point-to-zero-point double integration of the horizontal ground
  reaction force (Zatsiorsky & King 1998, J Biomech 31:161-164).
* :func:`com_from_cop_filter` - the inverted-pendulum low-pass filter of the COP (Caron, Faure & Brenière 1997,
  J Biomech 30:1169-1171).

The plate-based methods give the horizontal COM only (the vertical one is not observable from a COP); they
return it on the plate's horizontal axes with NaN where it cannot be determined.
"""
from __future__ import annotations

import numpy as np

from .anthropometry import whole_body_com
from .kernel import InputError, TimeSeries, as_float_array, check_option, validate_type
from .marker_mapping import map_markers

G = 9.81


def joint_centres_from_markers(markers, *, knee_width_m: float | None = None, ankle_width_m: float | None = None,
                               elbow_width_m: float | None = None, prefix: str = "", mapping=None
                               ) -> dict[str, np.ndarray]:
    """Joint centres (BlazePose-style names, metres) of a marker set, through its marker-set mapping.

    Parameters
    ----------
    markers : TimeSeries or dict of str to (n, 3) array
        Lab frame, z up, metres. Only names starting with ``prefix`` are used (the prefix is removed); a
        ``Subject:`` prefix is stripped in any case. A marker with no valid sample counts as absent.
    knee_width_m, ankle_width_m, elbow_width_m : float, optional
        Joint widths (marker centre to marker centre) used only when a medial marker is absent: the centre is
        then half a width medial of the lateral marker along the pelvis's medio-lateral axis. Default: the
        mapping's (Plug-in Gait measures these per subject; pass them when known).
    mapping : MarkerMapping, path or str, optional
        The marker-set mapping (:mod:`ground_truth.marker_mapping`); default the one recorded in
        ``markers.meta["marker_map"]``, else the built-in mapping the marker names match.

    Returns
    -------
    dict of str to ndarray (n, 3)
        ``left_hip``/``right_hip`` (a hip-centre marker, else the Harrington 2007 regression), ``pelvis`` (their
        midpoint), ``*_knee``, ``*_ankle``, ``*_elbow`` (medial/lateral midpoints or half a width medially),
        ``*_shoulder`` (Rab 2002), ``*_wrist``, ``*_hand_tip``, ``*_heel``, ``*_foot_index``, ``neck`` (C7),
        ``head_centre`` (head-marker centroid) and ``head_top`` where the set gives them. Joints the set cannot
        give are left out (:func:`ground_truth.marker_mapping.map_markers` says why); NaN in a marker gives NaN
        in the joints built from it.
    """
    if prefix:
        items = markers.items() if isinstance(markers, dict) else ((k, markers[k]) for k in markers.channels)
        kept = {k[len(prefix):]: v for k, v in items if k.startswith(prefix)}
        if isinstance(markers, TimeSeries):
            mapping = mapping if mapping is not None else markers.meta.get("marker_map")
        markers = kept
    widths = {"knee": knee_width_m, "ankle": ankle_width_m, "elbow": elbow_width_m}
    return map_markers(markers, mapping, **{k: v for k, v in widths.items() if v is not None}).joints


def com_from_markers(markers: TimeSeries, sex: str = "male", *, missing: str = "propagate", mapping=None,
                     **widths) -> TimeSeries:
    """Whole-body COM from markers: joint centres of the marker-set mapping + de Leva (1996).

    Parameters
    ----------
    markers : TimeSeries
        Marker trajectories in metres (lab frame, z up).
    sex : {"male", "female"}
    missing : {"propagate", "renormalise"}
        See :func:`ground_truth.anthropometry.whole_body_com`.
    mapping : MarkerMapping, path or str, optional
        See :func:`joint_centres_from_markers`.
    **widths
        ``knee_width_m``, ``ankle_width_m``, ``elbow_width_m`` for marker sets without medial markers.

    Returns
    -------
    TimeSeries
        Channel ``com`` (n, 3) m on the marker clock; ``meta["method"]`` names the method and the marker set,
        ``meta["joints"]`` how each joint was built (:meth:`~ground_truth.marker_mapping.MappedJoints.summary`).

    Raises
    ------
    InputError
        A segment of the model cannot be built (e.g. a lower-body marker set): the message names the segments
        and, for each joint they need, why the marker set cannot give it.

    Notes
    -----
    Segments run between joint centres (de Leva 1996, ``ground_truth.anthropometry``): the head from the vertex
    to C7 (or the head-marker centroid as the head COM), the trunk from the shoulder-centre midpoint to the
    hip-centre midpoint, the hand to the hand tip (else extrapolated along the forearm), the foot from heel to
    toe. Frames with a gap in a marker that a segment needs have NaN COM (default), so gaps are reported, never
    filled.
    """
    validate_type(markers, TimeSeries, "markers")
    keys = {"knee_width_m": "knee", "ankle_width_m": "ankle", "elbow_width_m": "elbow"}
    bad = set(widths) - set(keys)
    if bad:
        raise InputError(f"unknown argument(s) {', '.join(sorted(bad))}", field="widths",
                         expected=", ".join(keys))
    mapped = map_markers(markers, mapping, file=markers.meta.get("file"),
                         **{keys[k]: v for k, v in widths.items() if v is not None})
    try:
        com = whole_body_com(mapped.joints, sex, missing=missing)
    except InputError as exc:
        why = "; ".join(f"{j}: {r}" for j, r in mapped.missing.items() if not j.startswith("head_"))
        raise InputError(f"{exc.reason} (marker set '{mapped.mapping.name}': {why or 'no joint missing'})",
                         file=markers.meta.get("file"), field="markers", expected=exc.expected) from None
    return TimeSeries(markers.time.copy(), {"com": com}, {"com": "m"}, events=list(markers.events),
                      meta={"method": f"segmental model, de Leva 1996 parameters, joint centres of the "
                                      f"'{mapped.mapping.name}' marker set (Harrington 2007 hips unless the file "
                                      f"has hip-centre markers, Rab 2002 shoulders)",
                            "sex": sex, "missing": missing, "file": markers.meta.get("file"),
                            "joints": mapped.summary()})


def _lowpass(x: np.ndarray, fs: float, cutoff_hz: float | None) -> np.ndarray:
    if cutoff_hz is None:
        return x
    from scipy import signal
    if not 0 < cutoff_hz < fs / 2:
        raise InputError(f"cutoff {cutoff_hz} Hz is not below the Nyquist frequency {fs / 2} Hz",
                         field="cutoff_hz")
    sos = signal.butter(2, cutoff_hz, fs=fs, output="sos")
    return signal.sosfiltfilt(sos, x, axis=0)


def _check_xy(values, name, n=None):
    arr = as_float_array(values, name)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise InputError(f"has shape {arr.shape}", field=name, expected="(n,) or (n, k)")
    if n is not None and arr.shape[0] != n:
        raise InputError(f"has {arr.shape[0]} samples, expected {n}", field=name)
    return arr


def com_from_grf_integration(force_h, cop_h, fs: float, mass_kg: float, *, cutoff_hz: float | None = 10.0,
                             remove_offset: bool = True) -> np.ndarray:
    """Horizontal COM by zero-point-to-zero-point double integration of the horizontal GRF.

    Parameters
    ----------
    force_h : array (n,) or (n, k)
        Horizontal ground reaction force on the subject (N), one column per horizontal axis.
    cop_h : array, same shape
        COP on the same axes (m). Only its values at the zero points of ``force_h`` are used.
    fs : float
        Sampling rate (Hz).
    mass_kg : float
        Body mass (kg); e.g. mean vertical force / g over a quiet period.
    cutoff_hz : float or None
        Zero-phase 2nd-order Butterworth low-pass applied to force and COP before finding zero points (force
        noise creates spurious zero crossings). None: no filtering.
    remove_offset : bool
        Subtract the mean horizontal force of each contiguous run first. Real plates carry horizontal offsets
        of a few newtons, as large as the sway forces themselves; over a standing trial that starts and ends at
        rest the true mean is zero (the COM's net change of velocity is zero), so the mean is the offset.

    Returns
    -------
    ndarray, same shape as ``force_h``
        COM (m). NaN before the first and after the last zero point of each axis, and in NaN input.

    Notes
    -----
    Where the horizontal force is zero the COM has no horizontal acceleration and, for an inverted pendulum
    without angular acceleration, lies above the COP. Between two consecutive such instants the COM is the double
    integral of ``F/m`` with the two integration constants set so that it passes through the COP at both ends
    (Zatsiorsky & King 1998; King & Zatsiorsky 1997). Errors come from the angular-momentum term (trunk
    counter-rotation makes COP ≠ COM at zero force) and from COP noise at the zero points.
    """
    f = _check_xy(force_h, "force_h")
    c = _check_xy(cop_h, "cop_h", f.shape[0])
    if c.shape != f.shape:
        raise InputError(f"has shape {c.shape} but force_h has {f.shape}", field="cop_h")
    validate_type(fs, "numeric", "fs")
    validate_type(mass_kg, "numeric", "mass_kg")
    if mass_kg <= 0 or fs <= 0:
        raise InputError("fs and mass_kg must be positive", field="mass_kg")
    out = np.full(f.shape, np.nan)
    finite = np.all(np.isfinite(f), axis=1) & np.all(np.isfinite(c), axis=1)
    # process each contiguous finite run separately (gaps are not bridged)
    edges = np.flatnonzero(np.diff(np.r_[0, finite.astype(int), 0]))
    for start, stop in zip(edges[::2], edges[1::2]):
        if stop - start < 10:
            continue
        fr = f[start:stop] - (f[start:stop].mean(axis=0) if remove_offset else 0.0)
        fr = _lowpass(fr, fs, cutoff_hz) if stop - start > 30 else fr
        cr = _lowpass(c[start:stop], fs, cutoff_hz) if stop - start > 30 else c[start:stop]
        for k in range(f.shape[1]):
            out[start:stop, k] = _zk_axis(fr[:, k], cr[:, k], fs, mass_kg)
    return out if np.ndim(force_h) > 1 else out[:, 0]


def _zk_axis(f, cop, fs, mass):
    n = f.size
    dt = 1.0 / fs
    a = f / mass
    # zero points: the sample nearest each sign change
    s = np.signbit(a)
    idx = np.flatnonzero(s[1:] != s[:-1])
    idx = np.where(np.abs(a[idx]) <= np.abs(a[idx + 1]), idx, idx + 1)
    idx = np.unique(idx)
    out = np.full(n, np.nan)
    if idx.size < 2:
        return out
    # cumulative integrals (trapezoid) of a and of v
    c1 = np.concatenate([[0.0], np.cumsum(0.5 * (a[1:] + a[:-1]) * dt)])
    c2 = np.concatenate([[0.0], np.cumsum(0.5 * (c1[1:] + c1[:-1]) * dt)])
    seg = np.searchsorted(idx, np.arange(n), side="right") - 1      # segment of each sample
    inside = (seg >= 0) & (seg < idx.size - 1)
    i0 = idx[np.clip(seg, 0, idx.size - 2)]
    i1 = idx[np.clip(seg + 1, 1, idx.size - 1)]
    t = np.arange(n) * dt
    # double integral from i0 with zero initial velocity and position
    d = c2 - c2[i0] - c1[i0] * (t - t[i0])
    d1 = c2[i1] - c2[i0] - c1[i0] * (t[i1] - t[i0])
    v0 = (cop[i1] - cop[i0] - d1) / np.maximum(t[i1] - t[i0], dt)
    x = cop[i0] + v0 * (t - t[i0]) + d
    x[idx[-1]] = cop[idx[-1]]
    out[inside] = x[inside]
    out[idx[-1]] = cop[idx[-1]]
    return out


def com_from_cop_filter(cop_h, fs: float, com_height_m: float, *, radius_of_gyration_m: float | None = None
                        ) -> np.ndarray:
    """Horizontal COM from the COP with the inverted-pendulum low-pass filter of Caron et al. (1997).

    Parameters
    ----------
    cop_h : array (n,) or (n, k)
        COP on the horizontal axes (m), evenly sampled; NaN runs are processed separately.
    fs : float
        Sampling rate (Hz).
    com_height_m : float
        Height of the COM above the ankle (or plate surface) in metres, ~0.55 x stature.
    radius_of_gyration_m : float, optional
        Whole-body radius of gyration about the COM; the pendulum's equivalent length is
        ``h + r^2 / h`` (compound pendulum, I_ankle = m (h^2 + r^2)). Default: a point-mass pendulum (r = 0).

    Returns
    -------
    ndarray, same shape as ``cop_h``
        COM (m).

    Notes
    -----
    For a rigid inverted pendulum ``COP = COM - (I / (m g h)) COM_ddot``, so in the frequency domain
    ``COM(f) = COP(f) / (1 + (2 pi f)^2 I / (m g h))``: a low-pass filter whose corner is
    ``sqrt(m g h / I) / (2 pi)`` (about 0.5 Hz). Applied here as a zero-phase FFT filter after removing the mean
    and a linear trend (restored afterwards), with the series mirrored at both ends to limit wrap-around.
    """
    c = _check_xy(cop_h, "cop_h")
    validate_type(fs, "numeric", "fs")
    validate_type(com_height_m, "numeric", "com_height_m")
    if com_height_m <= 0:
        raise InputError("must be positive", field="com_height_m")
    h = float(com_height_m)
    length = h if radius_of_gyration_m is None else h + float(radius_of_gyration_m) ** 2 / h
    out = np.full(c.shape, np.nan)
    finite = np.all(np.isfinite(c), axis=1)
    edges = np.flatnonzero(np.diff(np.r_[0, finite.astype(int), 0]))
    for start, stop in zip(edges[::2], edges[1::2]):
        seg = c[start:stop]
        m = seg.shape[0]
        if m < 4:
            continue
        t = np.arange(m)
        trend = np.empty_like(seg)
        for k in range(seg.shape[1]):
            coef = np.polyfit(t, seg[:, k], 1)
            trend[:, k] = np.polyval(coef, t)
        x = seg - trend
        ext = np.concatenate([x[::-1], x, x[::-1]], axis=0)
        freqs = np.fft.rfftfreq(ext.shape[0], d=1.0 / fs)
        gain = 1.0 / (1.0 + (2 * np.pi * freqs) ** 2 * length / G)
        y = np.fft.irfft(np.fft.rfft(ext, axis=0) * gain[:, None], n=ext.shape[0], axis=0)
        out[start:stop] = y[m:2 * m] + trend
    return out if np.ndim(cop_h) > 1 else out[:, 0]


def com_from_plates(recording, mass_kg: float | None = None, *, method: str = "zatsiorsky_king",
                    plate="net", com_height_m: float | None = None, height_m: float | None = None,
                    cutoff_hz: float | None = 10.0) -> TimeSeries:
    """Horizontal COM of a :class:`~ground_truth.Recording` from its force plates.

    Parameters
    ----------
    recording : Recording
    mass_kg : float, optional
        Body mass; default: median total vertical force / g over loaded samples.
    method : {"zatsiorsky_king", "caron"}
    plate : int or "net"
    com_height_m : float, optional
        For ``"caron"``: COM height above the plate; default 0.55 x ``height_m`` (required then).
    height_m : float, optional
        Stature, used for the default COM height.
    cutoff_hz : float or None
        Low-pass for the Zatsiorsky-King method.

    Returns
    -------
    TimeSeries
        Channel ``com`` (n, 2) m on the recording's two horizontal axes (``meta["axes"]``), plate clock;
        ``meta["method"]`` names the method and its parameters.
    """
    from .recording import Recording

    validate_type(recording, Recording, "recording")
    check_option("method", method, ("zatsiorsky_king", "caron"))
    ts = recording.plate(plate)
    fs = ts.sampling_rate()
    a, b = recording.horizontal_axes
    v = recording.vertical_axis
    force = ts["force"]
    cop = ts["cop"][:, [a, b]]
    if mass_kg is None:
        fz = force[:, v]
        loaded = np.asarray(ts["loaded"], bool) if "loaded" in ts else fz > 20
        if not loaded.any():
            raise InputError("no loaded samples to estimate body mass", file=recording.path, field="mass_kg")
        mass_kg = float(np.median(fz[loaded]) / G)
    if method == "zatsiorsky_king":
        com = com_from_grf_integration(force[:, [a, b]], cop, fs, mass_kg, cutoff_hz=cutoff_hz)
        desc = (f"zero-point-to-zero-point double integration of horizontal GRF (Zatsiorsky & King 1998), "
                f"mass {mass_kg:.2f} kg, low-pass {cutoff_hz} Hz, horizontal force offset removed")
    else:
        if com_height_m is None:
            if height_m is None:
                raise InputError("the Caron filter needs the COM height", file=recording.path,
                                 field="com_height_m", expected="com_height_m or height_m (stature)")
            com_height_m = 0.55 * float(height_m)
        com = com_from_cop_filter(cop, fs, com_height_m)
        desc = f"inverted-pendulum COP low-pass filter (Caron et al. 1997), COM height {com_height_m:.3f} m"
    return TimeSeries(ts.time.copy(), {"com": com}, {"com": "m"}, events=list(recording.events),
                      meta={"method": desc, "axes": [a, b], "mass_kg": mass_kg, "plate": plate,
                            "file": recording.path})
