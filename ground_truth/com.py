"""Centre of mass (COM) of a standing subject, three ways, each result saying which method produced it.

* :func:`com_from_markers` - segmental model: marker-derived joint centres and de Leva (1996) segment parameters.
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

G = 9.81

#: Harrington et al. (2007, J Biomech 40:595) hip joint centre regression, ISB pelvis frame, mm.
_HARRINGTON = (-0.24, -9.9, -0.30, -10.9, 0.33, 7.3)
#: Rab et al. (2002, Gait Posture 15:113): shoulder centre 17 % of the inter-acromion distance below acromion.
_RAB = 0.17
#: Other names of the medial markers in common exports (Vicon "...in", Qualisys/OpenSim "M..." spellings).
_MEDIAL_ALIASES = {"KNM": ("KNEin", "KNEM", "MKNE", "KNE_MED"), "MED": ("ANKin", "MMAL", "ANKM", "ANK_MED"),
                   "ELM": ("ELBin", "ELBM", "MELB")}


def _unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def joint_centres_from_markers(markers, *, knee_width_m: float = 0.10, ankle_width_m: float = 0.07,
                               elbow_width_m: float = 0.07, prefix: str = "") -> dict[str, np.ndarray]:
    """Joint centres (BlazePose-style names, metres) from a Plug-in-Gait-like marker set.

    Parameters
    ----------
    markers : TimeSeries or dict of str to (n, 3) array
        Lab frame, z up, metres. Names: ``LASI RASI LPSI RPSI`` (or ``SACR``), ``LSHO RSHO``, ``LELB RELB``
        (+ medial ``LELM RELM``), ``LWRA LWRB`` ..., ``LFIN``, ``LKNE`` (+ medial ``LKNM``), ``LANK`` (+ medial
        ``LMED``), ``LHEE LTOE``, head ``LFHD RFHD LBHD RBHD``. ``prefix`` is prepended (e.g. ``"Subject:"``).
        Medial markers are also found as ``LKNEin``/``LANKin`` and similar (see ``_MEDIAL_ALIASES``); a marker
        with no valid sample in the whole recording counts as absent.
    knee_width_m, ankle_width_m, elbow_width_m : float
        Joint widths used only when the medial marker is absent: the centre is then placed half a width
        medially of the lateral marker along the pelvis's medio-lateral axis (Plug-in-Gait measures these
        widths per subject; pass them when known).

    Returns
    -------
    dict of str to ndarray (n, 3)
        ``left_hip``/``right_hip`` (Harrington 2007 regression from the four pelvis markers), ``*_shoulder``
        (Rab 2002), ``*_elbow``, ``*_wrist`` (midpoint of the two wrist markers), ``*_hand_tip`` (FIN),
        ``*_knee``, ``*_ankle`` (midpoint of lateral and medial markers), ``*_heel``, ``*_foot_index``,
        ``head_centre`` (centroid of the head markers), ``pelvis``. Joints whose markers are absent are left out;
        NaN in a marker gives NaN in the joints built from it.
    """
    if isinstance(markers, TimeSeries):
        get = {k: markers[k] for k in markers.channels}
    else:
        validate_type(markers, dict, "markers", "TimeSeries or dict of marker name to (n, 3) array")
        get = {k: np.asarray(v, float) for k, v in markers.items()}
    # a marker that is never valid in the file counts as absent (some exports keep empty medial markers)
    mk = {k[len(prefix):]: v for k, v in get.items() if k.startswith(prefix) and np.isfinite(v).any()}
    for canonical, aliases in _MEDIAL_ALIASES.items():
        for side in ("L", "R"):
            if side + canonical not in mk:
                for alias in aliases:
                    if side + alias in mk:
                        mk[side + canonical] = mk[side + alias]
                        break

    def has(*names):
        return all(n in mk for n in names)

    out: dict[str, np.ndarray] = {}
    ml = None
    if has("LASI", "RASI") and (has("LPSI", "RPSI") or has("SACR")):
        lasi, rasi = mk["LASI"], mk["RASI"]
        mid_psis = 0.5 * (mk["LPSI"] + mk["RPSI"]) if has("LPSI", "RPSI") else mk["SACR"]
        mid_asis = 0.5 * (lasi + rasi)
        z_right = _unit(rasi - lasi)                        # ISB pelvis: z to the right
        x_ap = mid_asis - mid_psis
        x_ap = _unit(x_ap - np.sum(x_ap * z_right, axis=1, keepdims=True) * z_right)
        y_up = np.cross(z_right, x_ap)
        pw = np.linalg.norm(rasi - lasi, axis=1, keepdims=True) * 1000
        pd = np.linalg.norm(mid_asis - mid_psis, axis=1, keepdims=True) * 1000
        ax, bx, ay, by, az, bz = _HARRINGTON
        for side, sgn in (("right", 1.0), ("left", -1.0)):
            off = (ax * pd + bx) * x_ap + (ay * pw + by) * y_up + sgn * (az * pw + bz) * z_right
            out[f"{side}_hip"] = mid_asis + off / 1000
        out["pelvis"] = 0.5 * (out["left_hip"] + out["right_hip"])
        ml = -z_right                                       # to the subject's left
    if has("LSHO", "RSHO") and "pelvis" in out:
        mid_acr = 0.5 * (mk["LSHO"] + mk["RSHO"])
        up = _unit(mid_acr - out["pelvis"])
        biac = np.linalg.norm(mk["LSHO"] - mk["RSHO"], axis=1, keepdims=True)
        for pre, side in (("L", "left"), ("R", "right")):
            out[f"{side}_shoulder"] = mk[pre + "SHO"] - _RAB * biac * up
    for pre, side, lat_sign in (("L", "left", 1.0), ("R", "right", -1.0)):
        lateral = None if ml is None else lat_sign * ml

        def centre(lat_name, med_name, width):
            if has(pre + lat_name, pre + med_name):
                return 0.5 * (mk[pre + lat_name] + mk[pre + med_name])
            if has(pre + lat_name) and lateral is not None:
                return mk[pre + lat_name] - 0.5 * width * lateral
            return None

        for joint, lat_name, med_name, width in (("knee", "KNE", "KNM", knee_width_m),
                                                 ("ankle", "ANK", "MED", ankle_width_m),
                                                 ("elbow", "ELB", "ELM", elbow_width_m)):
            c = centre(lat_name, med_name, width)
            if c is not None:
                out[f"{side}_{joint}"] = c
        if has(pre + "WRA", pre + "WRB"):
            out[f"{side}_wrist"] = 0.5 * (mk[pre + "WRA"] + mk[pre + "WRB"])
        if has(pre + "FIN"):
            out[f"{side}_hand_tip"] = mk[pre + "FIN"]
        if has(pre + "HEE"):
            out[f"{side}_heel"] = mk[pre + "HEE"]
        if has(pre + "TOE"):
            out[f"{side}_foot_index"] = mk[pre + "TOE"]
    heads = [n for n in ("LFHD", "RFHD", "LBHD", "RBHD") if n in mk]
    if len(heads) == 4:
        out["head_centre"] = np.mean([mk[n] for n in heads], axis=0)
    return out


def com_from_markers(markers: TimeSeries, sex: str = "male", *, missing: str = "propagate",
                     **widths) -> TimeSeries:
    """Whole-body COM from markers: joint centres (:func:`joint_centres_from_markers`) + de Leva (1996).

    Parameters
    ----------
    markers : TimeSeries
        Marker trajectories in metres (lab frame, z up).
    sex : {"male", "female"}
    missing : {"propagate", "renormalise"}
        See :func:`ground_truth.anthropometry.whole_body_com`.
    **widths
        ``knee_width_m``, ``ankle_width_m``, ``elbow_width_m`` for marker sets without medial markers.

    Returns
    -------
    TimeSeries
        Channel ``com`` (n, 3) m on the marker clock; ``meta["method"]`` names the method.

    Notes
    -----
    The head is the centroid of the four head markers (placed around the head at about the level of its COM),
    the trunk runs from the shoulder-centre midpoint to the hip-centre midpoint. Frames with a gap in a marker
    that a segment needs have NaN COM (default), so gaps are reported, never filled.
    """
    validate_type(markers, TimeSeries, "markers")
    joints = joint_centres_from_markers(markers, **widths)
    com = whole_body_com(joints, sex, missing=missing)
    return TimeSeries(markers.time.copy(), {"com": com}, {"com": "m"}, events=list(markers.events),
                      meta={"method": "segmental model, de Leva 1996 parameters, marker-derived joint centres "
                                      "(Harrington 2007 hips, Rab 2002 shoulders)",
                            "sex": sex, "missing": missing, "file": markers.meta.get("file")})


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
