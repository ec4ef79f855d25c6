"""Seeded simulation of one single-leg-stance trial with known truth.

How the numbers are made (so that every output is consistent with every other):

1. Posture angles are generated as smooth random processes (zero-phase Butterworth-filtered Gaussian noise):
   an *ankle mode* (the whole body leans about the stance ankle, 0.08-0.35 Hz), a *hip mode* (the legs lean
   one way while the trunk counter-rotates about the hip, 0.4-1.2 Hz, Horak & Nashner 1986; Creath et al.
   2005) and small fast corrections (1-4 Hz), plus the deterministic phases of the trial: bipedal stance, an optional
   knee-dip for clock alignment, weight shift, foot lift, the single-leg period, an optional loss of balance
   (exponential fall of the inverted pendulum towards the lifted side) and touch-down, recovery.
2. The full-body skeleton follows from the posture (``body.build_joints``) at the analog rate.
3. The COM is the de Leva (1996) segmental COM of that skeleton (``anthropometry.whole_body_com``).
4. The ground reaction force is ``m (COM_ddot + g)`` and the COP follows from the moment balance about the
   COM, including the rate of change of the segments' angular momentum (slender-rod segments with de Leva
   radii of gyration). Without the angular-momentum term this is the inverted-pendulum relation
   ``COP = COM - COM_z / (g + COM_z_ddot) * COM_h_ddot``.
5. The load is shared between the two plates from the COP's position between the feet while both feet are
   down, and goes entirely to the stance plate while the other foot is lifted.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import signal

from ..anthropometry import (body_segments, de_leva_parameters, segment_coms, segment_parameter_key,
                             whole_body_com)
from ..kernel import Event, InputError, TimeSeries, check_option, validate_type
from .body import Pose, Subject, body_dims, build_joints, segment_frames

G = 9.81

#: Conditions and the factor applied to the single-leg sway amplitudes (eyes-open firm = 1). Closing the eyes
#: and standing on foam both increase single-leg sway and corrective motion (e.g. Riemann et al. 2003, Arch
#: Phys Med Rehabil 84:90, firm vs foam); the factors themselves are this generator's assumption.
CONDITIONS = {"eyes_open_firm": 1.0, "eyes_open_foam": 1.6, "eyes_closed_firm": 2.0, "eyes_closed_foam": 3.0}

STRATEGIES = ("ankle", "hip", "mixed")

#: SD (deg) of fast (1-4 Hz) corrective lean of the stance leg.
FAST_SD = 0.002
#: Stance knee flexion at rest (deg): keeps both knees off the straight-leg singularity.
KNEE_FLEX_DEG = 8.0
#: Extra stance-knee flexion at the farthest point of a Y-Balance reach (the person squats to reach), degrees.
REACH_SQUAT_DEG = 45.0
#: Band (Hz) of the ankle-mode sway (2nd-order zero-phase band-pass of white noise).
ANKLE_BAND = (0.08, 0.35)
#: Band (Hz) of the hip mode (trunk counter-rotation).
HIP_BAND = (0.4, 1.2)

#: Hip fraction (see ground_truth.strategy) that each strategy's steady single-leg period is scaled to.
STRATEGY_TARGETS = {"ankle": 0.25, "mixed": 0.50, "hip": 0.70}

#: Per strategy, eyes-open firm (scaled by the condition factor): SD (deg) of the stance-leg lean in the ankle
#: mode, SD of the hip-mode leg lean (rescaled to STRATEGY_TARGETS), trunk counter-rotation gain of the hip
#: mode, SD of independent trunk motion.
_STRATEGY_MODES = {
    "ankle": (0.30, 0.02, 3.5, 0.015),
    "mixed": (0.24, 0.08, 3.5, 0.05),
    "hip": (0.13, 0.20, 3.5, 0.05),
}


@dataclass
class PlateLayout:
    """Two plates side by side under the feet (plate 0 under the right foot, plate 1 under the left)."""

    centres: np.ndarray = field(default_factory=lambda: np.array([[0.05, -0.2, 0.0], [0.05, 0.2, 0.0]]))
    size_x: float = 0.5
    size_y: float = 0.4
    origin_mm: np.ndarray = field(default_factory=lambda: np.array([[1.0, -0.5, -40.0], [-0.6, 0.8, -40.0]]))


@dataclass
class SyntheticTrial:
    """One simulated single-leg-stance trial with its truth.

    Attributes
    ----------
    subject : Subject
    condition, stance_leg, strategy : str
    time_s : ndarray (n,)
        Marker clock, s.
    joints : dict of str to ndarray (n, 3)
        Joint centres and BlazePose-33 landmarks in metres, lab frame z up (x anterior, y left).
    markers : TimeSeries
        Plug-in-Gait-like marker set (m) with noise, on ``time_s``.
    plates : list of TimeSeries
        Per plate at the analog rate: ``force`` (ground reaction on the subject, N), ``moment`` (about the
        plate's sensor origin, N*m), ``cop`` (m, NaN where unloaded), ``free_moment`` (N*m), lab frame, noisy.
    layout : PlateLayout
    truth : dict
        ``cop`` (analog rate, net, noise-free), ``cop_plates`` (list), ``force`` (net), ``com`` (marker rate),
        ``com_analog``, ``events`` (list of Event), ``time_to_failure_s``, ``censored``, ``censor_reason``,
        ``strategy`` (the parameter, or the label of ``hip_fraction``), ``strategy_fraction`` (hip share of
        angular motion over the steady single-leg period, :mod:`ground_truth.strategy`) and its
        ``strategy_label`` (equal to ``strategy`` unless the single-leg period is shorter than ~3 s or a
        ``hip_fraction`` target is out of reach), ``angles`` (dict of (n,) deg arrays on the marker clock:
        ``knee_frontal``, ``hip_sagittal``, ``hip_frontal``, ``ankle_sagittal``,
        ``ankle_frontal``, all of the stance leg), ``stance_plate``; the subject-level inputs ``sway_scale``,
        ``sway_frequency_scale`` (None = 1), ``hip_fraction_target``, ``knee_valgus_deg``,
        ``knee_valgus_excursion_deg`` (None = not set) and ``knee_frontal_excursion_deg``: the range of
        ``angles["knee_frontal"]`` from foot lift to touch-down, at most ``max_duration_s`` (the KPI's value).
    params : dict
        Every argument of the simulation, for provenance.
    """

    subject: Subject
    condition: str
    stance_leg: str
    strategy: str
    time_s: np.ndarray
    analog_time_s: np.ndarray
    joints: dict
    markers: TimeSeries
    plates: list
    layout: PlateLayout
    truth: dict
    params: dict

    @property
    def marker_rate_hz(self) -> float:
        return self.params["marker_rate_hz"]

    @property
    def analog_rate_hz(self) -> float:
        return self.params["analog_rate_hz"]

    @property
    def events(self) -> list[Event]:
        return list(self.truth["events"])

    def to_recording(self):
        """The trial as a :class:`~ground_truth.Recording` (what reading its C3D gives, without the file)."""
        from ..recording import ForcePlate, Recording
        from .writers import plate_corners_mm
        corners = plate_corners_mm(self)
        plates = [ForcePlate(index=i, signals=ts.copy(), type=2, corners=corners[:, :, i].T / 1000,
                             origin=np.asarray(self.layout.origin_mm[i]) / 1000, name=f"FP{i + 1}")
                  for i, ts in enumerate(self.plates)]
        return Recording(f"synthetic:{self.subject.subject_id}", markers=self.markers.copy(), plates=plates,
                         events=list(self.truth["events"]), vertical_axis=2,
                         meta={"format": "synthetic", "params": {k: v for k, v in self.params.items()
                                                                 if k != "subject"}})


def _smooth_step(t, t0, t1):
    """Minimum-jerk step from 0 (t <= t0) to 1 (t >= t1)."""
    if t1 <= t0:
        return (t >= t0).astype(float)
    s = np.clip((t - t0) / (t1 - t0), 0.0, 1.0)
    return s ** 3 * (10 - 15 * s + 6 * s ** 2)


def _band_noise(rng, n, fs, lo, hi, order=4):
    """Unit-SD zero-phase band-limited Gaussian noise (``lo`` = 0 means low-pass)."""
    pad = int(5 * fs)
    x = rng.standard_normal(n + 2 * pad)
    if lo > 0:
        sos = signal.butter(order, [lo, hi], btype="bandpass", fs=fs, output="sos")
    else:
        sos = signal.butter(order, hi, btype="lowpass", fs=fs, output="sos")
    y = signal.sosfiltfilt(sos, x)[pad:pad + n]
    return (y - y.mean()) / (y.std() + 1e-300)


def simulate_single_leg_stance(subject: Subject | None = None, *, condition: str = "eyes_open_firm",
                               stance_leg: str = "right", duration_s: float = 30.0,
                               max_duration_s: float = 30.0, fail_at_s: float | None = None,
                               strategy: str = "ankle", seed: int = 0, marker_rate_hz: int = 100,
                               analog_rate_hz: int = 1000, sync: str | None = "knee_dip",
                               marker_noise_m: float = 0.0005, force_noise: bool = True,
                               marker_gaps: int = 0, failure: str = "touch_down",
                               reach: tuple[str, float] | None = None, sway_scale: float | None = None,
                               sway_frequency_scale: float | None = None, hip_fraction: float | None = None,
                               knee_valgus_deg: float | None = None,
                               knee_valgus_excursion_deg: float | None = None) -> SyntheticTrial:
    """Simulate one single-leg-stance trial with known COM, COP, GRF, events, angles and strategy.

    Parameters
    ----------
    subject : Subject, optional
        Anthropometry (default ``Subject()``: 1.75 m, 70 kg, male).
    condition : {"eyes_open_firm", "eyes_open_foam", "eyes_closed_firm", "eyes_closed_foam"}
        Scales the single-leg sway amplitudes (see ``CONDITIONS``).
    stance_leg : {"right", "left"}
    duration_s : float
        How long the subject would keep the foot up if nothing stopped them (s, from foot lift).
    max_duration_s : float
        The protocol's maximum; reaching it ends the test: the foot is put down and the trial is censored.
    failure : {"touch_down", "stance_pivot"}
        What ends the test at ``fail_at_s``: the lifted foot touching down after a loss of balance, or the
        stance foot turning toe-out by 30 deg about the ankle's vertical axis in 0.2 s (a "stance foot moved"
        failure, event ``stance_foot_moved``; the lifted foot comes down calmly 1 s later).
    fail_at_s : float, optional
        Loss of balance: the lifted foot touches down this many seconds after foot lift (an uncensored
        time-to-failure), unless ``duration_s`` or ``max_duration_s`` come first.
    strategy : {"ankle", "hip", "mixed"}
        Balance strategy (relative amount of hip-mode trunk counter-rotation).
    seed : int
        Seeds every random component: the same arguments give the same trial, bit for bit.
    marker_rate_hz, analog_rate_hz : int
        Sampling rates; the analog rate must be an integer multiple of the marker rate.
    sync : {"knee_dip", None}
        A quick bilateral knee bend 1 s after the start (a vertical-force and marker signature for clock
        alignment; feet stay flat, so the force-plate physics stays valid).
    marker_gaps : int
        Number of marker gaps to insert (each 0.05-0.3 s on a random marker, NaN as a reader gives them), so
        that gap handling downstream can be tested; the truth stays complete.
    marker_noise_m : float
        SD of white noise on every marker coordinate (m). Joints and truth stay noise-free.
    reach : (direction, fraction), optional
        A Y-Balance reach instead of a timed stance: 0.5 s after the foot lift the free foot reaches along the
        ``direction`` line ("anterior", "posteromedial", "posterolateral"; ``ground_truth.reach`` geometry)
        until its ankle is ``fraction`` × leg length from the stance toes (3 cm above the floor), holds 0.3 s
        and returns, while the stance knee bends up to 45° and the legs lean to keep the COM over the stance
        foot; the foot lands back at its start 0.5 s after the return (a controlled end: ``censor_reason``
        "reach_done"). A target the free leg cannot reach is brought in until it can. ``truth["reach"]`` holds
        the reach distance of the most distal free-foot point (heel or toe) along the line (``ground_truth.reach``
        definition), its time, and the leg length (hip to ankle joint centre) that normalises it.
    force_noise : bool
        Add white noise to the plate channels (0.5 N horizontal, 1 N vertical, 0.03 N*m moments).
    sway_scale : float, optional
        This subject's sway amplitude relative to the population in this condition: multiplies the condition
        factor of ``CONDITIONS`` (every sway mode, so COP and COM sway scale with it). ``None`` = 1.
    sway_frequency_scale : float, optional
        Multiplies the band edges (Hz) of the ankle mode (``ANKLE_BAND``), the slow whole-body sway, so the COM's
        mean frequency rises nearly in proportion (x1.53 for 1.5, x0.71 for 0.7: geometric mean of 8 seeds,
        20-s trials); the hip mode, the 1-4 Hz corrections and the trunk keep their bands. The COP of a faster
        sway is also larger for the same angles (COP - COM = -h/g COM''). ``None`` = 1.
    hip_fraction : float, optional
        A continuous strategy mix in 0.05..0.75 (above ~0.76 the hip mode this needs makes the body swing
        wildly): the hip fraction (:mod:`ground_truth.strategy`) that the steady
        single-leg period is scaled to, instead of ``STRATEGY_TARGETS[strategy]``; the mode amplitudes are
        interpolated between those of the three strategies (:func:`strategy_modes`). ``strategy`` is then only
        recorded in ``params`` and ``truth["strategy"]`` is the label of the target. A target below what the
        ankle mode alone gives is not reached (``truth["strategy_fraction"]`` is what the trial has).
    knee_valgus_deg : float, optional
        Baseline stance-knee frontal-plane angle in single-leg stance (deg, valgus +; half of it while both feet
        are down). ``None`` = 3 deg.
    knee_valgus_excursion_deg : float, optional
        Range (max - min, deg) of the stance knee's frontal-plane angle over the single-leg period (foot lift to
        touch-down, at most ``max_duration_s``: the harness's analysis window), the ``knee_frontal_excursion``
        KPI of the truth angles. On top of the usual small fluctuation (SD 0.15 deg times the sway amplitude)
        the knee drifts steadily into valgus over that period, by the amount that gives the truth this range. A
        range smaller than the lift transient of the baseline plus that fluctuation is not reached
        (``truth["knee_frontal_excursion_deg"]`` is the range the trial has). ``None``: no drift.

    Returns
    -------
    SyntheticTrial

    Notes
    -----
    Timeline: 1 s quiet bipedal stance, the knee dip (1.0-1.8 s), weight shift from 1.9 s, foot lift at 3.5 s
    (``foot_lift`` event: the lifted foot leaves its plate), the single-leg period, then either touch-down
    (``touch_down`` event; at ``fail_at_s`` after a 0.8-s fall, or 0.4 s after ``max_duration_s`` when the
    examiner stops the test) and 2 s of bipedal recovery, or the end of the recording with the foot still up
    (censored, ``recording_ended``).
    Eyes-open firm amplitudes give a single-leg COP SD of roughly 4-8 mm per axis and a mean COP speed of a few
    cm/s (measured values are in docs/ground-truth-signals.md).
    """
    subject = Subject() if subject is None else subject
    validate_type(subject, Subject, "subject")
    check_option("condition", condition, CONDITIONS)
    check_option("stance_leg", stance_leg, ("right", "left"))
    check_option("strategy", strategy, STRATEGIES)
    check_option("sync", sync, ("knee_dip", None))
    check_option("failure", failure, ("touch_down", "stance_pivot"))
    if reach is not None:
        from ..reach import DIRECTIONS as REACH_DIRECTIONS
        if not (isinstance(reach, (tuple, list)) and len(reach) == 2):
            raise InputError(f"is {reach!r}", field="reach", expected="(direction, fraction of leg length)")
        check_option("reach direction", reach[0], REACH_DIRECTIONS)
        validate_type(reach[1], "numeric", "reach fraction")
        if not 0.1 <= reach[1] <= 1.2:
            raise InputError(f"reach fraction {reach[1]} outside 0.1..1.2", field="reach",
                             expected="a reach of 10-120 % of leg length")
        if fail_at_s is not None:
            raise InputError("a reach trial has no loss of balance", field="fail_at_s", expected="None with reach")
    for name, val in (("duration_s", duration_s), ("max_duration_s", max_duration_s)):
        validate_type(val, "numeric", name)
        if not 0.5 <= val <= 300:
            raise InputError(f"{name}={val} outside 0.5..300 s", field=name)
    if fail_at_s is not None:
        validate_type(fail_at_s, "numeric", "fail_at_s")
        if not 0.8 <= fail_at_s <= 300:
            raise InputError(f"fail_at_s={fail_at_s} outside 0.8..300 s", field="fail_at_s",
                             expected="at least 0.8 s after foot lift (the fall takes 0.8 s)")
    validate_type(seed, int, "seed")
    for name, val, lo, hi, what in (
            ("sway_scale", sway_scale, 0.05, 20.0, "a positive amplitude factor (1 = population median)"),
            ("sway_frequency_scale", sway_frequency_scale, 0.2, 5.0, "a positive frequency factor"),
            ("hip_fraction", hip_fraction, 0.05, 0.75, "a hip fraction between 0.05 and 0.75"),
            ("knee_valgus_deg", knee_valgus_deg, -20.0, 30.0, "a knee frontal-plane angle in degrees"),
            ("knee_valgus_excursion_deg", knee_valgus_excursion_deg, 0.0, 30.0, "a range in degrees")):
        if val is not None:
            validate_type(val, "numeric", name)
            if not lo <= val <= hi:
                raise InputError(f"{name}={val} outside {lo:g}..{hi:g}", field=name, expected=what)
    if analog_rate_hz % marker_rate_hz:
        raise InputError(f"analog rate {analog_rate_hz} Hz is not a multiple of marker rate {marker_rate_hz} Hz",
                         field="analog_rate_hz", expected="an integer multiple of marker_rate_hz")
    params = dict(subject=subject, condition=condition, stance_leg=stance_leg, duration_s=float(duration_s),
                  max_duration_s=float(max_duration_s), fail_at_s=fail_at_s, strategy=strategy, seed=seed,
                  marker_rate_hz=marker_rate_hz, analog_rate_hz=analog_rate_hz, sync=sync,
                  marker_noise_m=marker_noise_m, force_noise=force_noise, marker_gaps=marker_gaps,
                  failure=failure, reach=None if reach is None else (str(reach[0]), float(reach[1])),
                  sway_scale=_opt_float(sway_scale), sway_frequency_scale=_opt_float(sway_frequency_scale),
                  hip_fraction=_opt_float(hip_fraction), knee_valgus_deg=_opt_float(knee_valgus_deg),
                  knee_valgus_excursion_deg=_opt_float(knee_valgus_excursion_deg))
    rng = np.random.default_rng(seed)
    dims = body_dims(subject)
    layout = PlateLayout()
    m_side = 1.0 if stance_leg == "right" else -1.0          # +y is medial for the right stance leg
    free_side = "left" if stance_leg == "right" else "right"

    # -- timeline ------------------------------------------------------------------------------------------
    t_dip, t_ws0, t_lift = 1.0, 1.9, 3.5
    stance_time = min(duration_s, max_duration_s)
    # a Y-Balance reach: out 0.5-2.0 s after the lift, held 0.3 s, back by 3.8 s, down at 4.3 s
    REACH_OUT, REACH_HOLD, REACH_BACK, REACH_LAND = (0.5, 2.0), 0.3, 1.5, 0.5
    if reach is not None:
        stance_time = REACH_OUT[1] + REACH_HOLD + REACH_BACK + REACH_LAND
        reason, censored, touch = "reach_done", True, True
    elif fail_at_s is not None and fail_at_s <= stance_time:
        stance_time, censored, touch = float(fail_at_s), False, True
        reason = "touch_down" if failure == "touch_down" else "stance_foot_moved"
    elif max_duration_s <= duration_s:
        reason, censored, touch = "max_duration", True, True
    else:
        reason, censored, touch = "recording_ended", True, False
    # at the maximum duration the examiner says stop and the foot comes down afterwards (0.4 s descent)
    t_fail = t_lift + stance_time
    t_td = t_fail + {"max_duration": 0.4, "stance_foot_moved": 1.0}.get(reason, 0.0)
    t_end = t_td + 2.0 if touch else t_td
    ratio = analog_rate_hz // marker_rate_hz
    n_m = int(round(t_end * marker_rate_hz)) + 1
    n_a = n_m * ratio
    ta = np.arange(n_a) / analog_rate_hz
    tm = ta[::ratio]
    failing = reason == "touch_down"        # a loss of balance: the body falls towards the lifted side

    # -- stance geometry -----------------------------------------------------------------------------------
    y_st = -m_side * dims.hip_width / 2
    y_fr = m_side * dims.hip_width / 2
    stance_ankle = np.array([0.0, y_st, dims.ankle_h])
    free_ground = np.array([0.0, y_fr, dims.ankle_h])
    # after a loss of balance the foot lands a little forward and towards the midline (under the falling body)
    land = free_ground + np.array([0.03, -m_side * 0.02, 0.0]) if failing else free_ground.copy()

    # -- random sway components ---------------------------------------------------------------------------
    amp = CONDITIONS[condition] if sway_scale is None else CONDITIONS[condition] * float(sway_scale)
    a_sd, h_sd, gain, tr_sd = _STRATEGY_MODES[strategy] if hip_fraction is None else strategy_modes(hip_fraction)
    d2r = np.pi / 180
    ank_band, hip_band = ANKLE_BAND, HIP_BAND
    if sway_frequency_scale is not None:
        fsc = float(sway_frequency_scale)
        ank_band = tuple(f * fsc for f in ANKLE_BAND)
    ank = {ax: _band_noise(rng, n_a, analog_rate_hz, ank_band[0], ank_band[1], 2) for ax in ("ap", "ml")}
    hipm = {ax: _band_noise(rng, n_a, analog_rate_hz, hip_band[0], hip_band[1], 2) for ax in ("ap", "ml")}
    fast = {ax: _band_noise(rng, n_a, analog_rate_hz, 1.0, 4.0) for ax in ("ap", "ml")}
    trunk = {ax: _band_noise(rng, n_a, analog_rate_hz, 0.05, 0.8, 2) for ax in ("ap", "ml")}
    valg_noise = _band_noise(rng, n_a, analog_rate_hz, 0.05, 1.0)
    kflex_noise = _band_noise(rng, n_a, analog_rate_hz, 0.05, 1.0)
    # sway envelope: bipedal stance sways less (0.4 of single-leg amplitude)
    single = _smooth_step(ta, t_lift - 0.3, t_lift + 0.5) * (1 - _smooth_step(ta, t_td, t_td + 0.8) * touch)
    env = (0.4 + 0.6 * single) * amp
    axis_gain = {"ap": 1.0, "ml": 1.3}   # the narrow single-foot base lets the body sway as much ML as AP
    hip_leg = {ax: h_sd * d2r * env * hipm[ax] for ax in ("ap", "ml")}
    leg_sway = {ax: (a_sd * axis_gain[ax] * d2r * env * ank[ax] + hip_leg[ax]
                     + FAST_SD * d2r * env * fast[ax]) for ax in ("ap", "ml")}
    hip_angle = {ax: -gain * hip_leg[ax] + tr_sd * d2r * env * trunk[ax] for ax in ("ap", "ml")}

    # -- knee: baseline flexion 5 deg, knee dip, valgus baseline 3 deg moving with ML sway ------------------
    knee_flex = np.full(n_a, KNEE_FLEX_DEG * d2r) + 0.1 * d2r * kflex_noise
    valg0 = 3.0 if knee_valgus_deg is None else float(knee_valgus_deg)
    valg_env = 0.5 + 0.5 * single
    valgus = (valg0 + 0.15 * amp * valg_noise) * d2r * valg_env
    if knee_valgus_excursion_deg is not None:
        # The knee drifts steadily into valgus over the single-leg period (as the stance hip's abductors tire);
        # the drift's size is solved so that the truth angle's range over the KPI's window (foot lift to
        # touch-down, at most the protocol maximum: harness.pipeline.window) is the requested excursion. A
        # linear drift is removed by the strategy indicator's detrending, so the knee's excursion and the
        # hip/ankle strategy stay independent parameters (a fluctuating valgus would add the same motion to
        # the hip and the ankle frontal angles and pull every hip fraction towards 0.5).
        t_kpi = min(t_td if touch else ta[-1], t_lift + max_duration_s)
        drift = np.clip((ta - t_lift) / max(t_kpi - t_lift, 1e-9), 0.0, 1.0) * single
        kpi_m = (tm >= t_lift) & (tm <= t_kpi)
        gain_v = _valgus_gain(valgus[::ratio][kpi_m] / d2r, drift[::ratio][kpi_m], float(knee_valgus_excursion_deg))
        valgus = valgus + gain_v * d2r * drift

    # Scale the hip mode so that the steady single-leg period shows the strategy's target hip fraction
    # (short trials would otherwise drift across the label thresholds by chance).
    # steady single-leg period: after the lift transient, before any fall (shorter margins for short trials)
    s0, s1 = t_lift + 1.0, t_fail - (1.0 if failing else 0.0)
    if s1 - s0 < 0.5:
        s0, s1 = t_lift + 0.4, t_fail - (0.8 if failing else 0.0)
    steady_a = (ta >= s0) & (ta <= s1)
    if steady_a.sum() > 50:
        from ..strategy import hip_ankle_fraction

        def frac_for(k):
            ls = {ax: leg_sway[ax][steady_a] + (k - 1) * hip_leg[ax][steady_a] for ax in ("ap", "ml")}
            ha = {ax: hip_angle[ax][steady_a] - gain * (k - 1) * hip_leg[ax][steady_a] for ax in ("ap", "ml")}
            kf, vg = knee_flex[steady_a] / 2, valgus[steady_a] / 2
            return hip_ankle_fraction(ha["ap"] + kf, ls["ap"] + kf, m_side * ha["ml"] + vg, m_side * ls["ml"] + vg)

        target = STRATEGY_TARGETS[strategy] if hip_fraction is None else float(hip_fraction)
        lo_k, hi_k = 0.0, 30.0
        if frac_for(lo_k) < target:
            for _ in range(40):
                mid = 0.5 * (lo_k + hi_k)
                lo_k, hi_k = (mid, hi_k) if frac_for(mid) < target else (lo_k, mid)
        k = 0.5 * (lo_k + hi_k) if frac_for(0.0) < target else 0.0
        for ax in ("ap", "ml"):
            leg_sway[ax] = leg_sway[ax] + (k - 1) * hip_leg[ax]
            hip_angle[ax] = hip_angle[ax] - gain * (k - 1) * hip_leg[ax]

    # -- free foot path ------------------------------------------------------------------------------------
    lift_s = _smooth_step(ta, t_lift, t_lift + 0.4)
    down_s = _smooth_step(ta, t_td - 0.4, t_td) if touch else np.zeros(n_a)

    # in contact the free foot rises onto its forefoot (heel off, pivoting about the toe) as the weight moves
    # to the stance leg, which keeps the free knee bent; in the air it hangs plantar-flexed
    heel_rise = 20 * d2r

    def toe_pivot(toe, p):
        """Ankle position (n, 3) with the toe tip fixed at ``toe`` and the foot pitched ``p`` (toe down +)."""
        tx, tz = 0.78 * dims.foot, 0.02 * dims.scale - dims.ankle_h
        return toe + np.column_stack([-(tx * np.cos(p) + tz * np.sin(p)), np.zeros(p.size),
                                      -(-tx * np.sin(p) + tz * np.cos(p))])

    toe_ground = free_ground + np.array([0.78 * dims.foot, 0.0, 0.02 * dims.scale - dims.ankle_h])
    toe_land = land + np.array([0.78 * dims.foot, 0.0, 0.02 * dims.scale - dims.ankle_h])

    def free_path(hold, w_shift):
        p_contact = heel_rise * w_shift
        before = toe_pivot(toe_ground, p_contact)
        path = before + lift_s[:, None] * (hold - before)
        pitch = p_contact + lift_s * (hold_pitch * d2r - p_contact)
        if reach is not None:
            path = path + reach_s[:, None] * (reach_target - hold)
            pitch = pitch * (1 - reach_s)
        if touch:
            after = toe_pivot(toe_land, p_contact)
            path = path + down_s[:, None] * (after - path)
            pitch = pitch + down_s * (p_contact - pitch)
        return path, pitch

    # -- baseline lean: COM over mid-feet (bipedal) and over the stance ankle (single leg) ------------------
    def com_of(leg_ap, leg_ml, hold_ankle, lifted, knee_deg=KNEE_FLEX_DEG, pitch_deg=25.0):
        k = leg_ap.size
        if lifted:
            fa, fp = np.tile(hold_ankle, (k, 1)), np.full(k, pitch_deg * d2r)
        else:
            fa, fp = np.tile(free_ground, (k, 1)), np.zeros(k)
        pose = Pose(leg_ap, leg_ml, np.full(k, knee_deg * d2r), np.full(k, 3 * d2r), -leg_ap, -leg_ml, fa, fp)
        return whole_body_com(build_joints(dims, pose, stance_leg, stance_ankle), subject.sex)

    def solve(target_xy, hold_ankle, lifted, **kw):
        x = np.zeros(2)
        for _ in range(4):
            c0 = com_of(np.array([x[0]]), np.array([x[1]]), hold_ankle, lifted, **kw)[0, :2]
            jac = np.empty((2, 2))
            for i in range(2):
                dx = np.zeros(2)
                dx[i] = 1e-4
                jac[:, i] = (com_of(np.array([x[0] + dx[0]]), np.array([x[1] + dx[1]]), hold_ankle,
                                    lifted, **kw)[0, :2] - c0) / 1e-4
            x = x - np.linalg.solve(jac, c0 - target_xy)
        return x

    ahead = 0.04 * dims.scale     # quiet-stance COM lies ~4 cm in front of the ankles
    bip = solve(np.array([ahead, 0.0]), free_ground, False)
    # lifted foot: knee flexed, foot ~15 cm off the floor and behind, hanging from the free hip
    hold_rel = np.array([-0.22 * dims.scale, 0.0, dims.ankle_h + 0.15 * dims.scale])
    hold_pitch = 25.0
    if reach is not None:     # a Y-Balance reach starts with the foot held just off the floor beside the other
        hold_rel, hold_pitch = np.array([0.0, 0.0, dims.ankle_h + 0.05 * dims.scale]), 5.0
    hold = free_ground * np.array([1, 1, 0]) + hold_rel
    one = solve(np.array([ahead, y_st]), hold, True, pitch_deg=hold_pitch)
    reach_s = np.zeros(n_a)
    if reach is not None:
        from ..reach import reach_direction
        t_out = t_lift + np.array(REACH_OUT)
        t_back = t_out[1] + REACH_HOLD
        reach_s = _smooth_step(ta, *t_out) * (1 - _smooth_step(ta, t_back, t_back + REACH_BACK))
        u = reach_direction(reach[0], stance_leg, [1.0, 0.0])
        toe_st = stance_ankle[:2] + np.array([0.78 * dims.foot, 0.0])
        leg_len = dims.thigh + dims.shank
        # the free hip at full squat (leaning as at the start): the target ankle must stay within reach of it
        frac = float(reach[1])
        for _ in range(30):
            target = np.r_[toe_st + frac * leg_len * u, dims.ankle_h + 0.03]
            lean = solve(np.array([ahead, y_st]), target, True, knee_deg=KNEE_FLEX_DEG + REACH_SQUAT_DEG,
                         pitch_deg=0.0)
            pose1 = Pose(np.array([lean[0]]), np.array([lean[1]]),
                         np.array([(KNEE_FLEX_DEG + REACH_SQUAT_DEG) * d2r]), np.array([3 * d2r]),
                         -np.array([lean[0]]), -np.array([lean[1]]), target[None], np.zeros(1))
            hip_f = build_joints(dims, pose1, stance_leg, stance_ankle)[f"{free_side}_hip"][0]
            if np.linalg.norm(target - hip_f) <= 0.97 * leg_len:
                break
            frac *= 0.97
        reach_target, reach_lean, reach_frac_used = target, lean, frac
    w_shift = _smooth_step(ta, t_ws0, t_lift) * (1 - (_smooth_step(ta, t_td + 0.1, t_td + 1.6) if touch else 0))

    # -- clock-alignment knee dip -------------------------------------------------------------------------
    # Knee flexion lowers the COM; the legs lean back by the amount (solved on this body) that keeps the COM
    # above the same point, so the movement is vertical and the COP stays inside the feet.
    dip_lean = np.zeros(n_a)
    sync_events = []
    if sync == "knee_dip":
        extra_grid, lean_grid = _flex_lookup(dims, bip, stance_leg, stance_ankle, free_ground, subject.sex)
        dip = np.clip((ta - t_dip) / 0.8, 0, 1)
        extra = 28 * d2r * np.sin(np.pi * dip) ** 4     # zero velocity and acceleration at both ends
        from scipy.interpolate import CubicSpline
        dip_lean = CubicSpline(extra_grid, lean_grid)(extra)
        knee_flex = knee_flex + extra
        sync_events.append(Event("sync", t_dip + 0.4, "General", "synthetic: knee dip, lowest point"))
    base_ap = bip[0] + w_shift * (one[0] - bip[0])
    base_ml = bip[1] + w_shift * (one[1] - bip[1])
    if reach is not None:   # squat and lean with the reach, keeping the COM over the stance foot
        knee_flex = knee_flex + REACH_SQUAT_DEG * d2r * reach_s
        base_ap = base_ap + reach_s * (reach_lean[0] - one[0])
        base_ml = base_ml + reach_s * (reach_lean[1] - one[1])

    # loss of balance: the pendulum falls towards the lifted side over the last 0.8 s (COP pinned under the
    # foot, so the lean grows like cosh(omega t), omega = sqrt(g / COM height))
    fall = np.zeros(n_a)
    if failing:
        omega = 0.9 * np.sqrt(G / 0.95)
        t_fall, peak, t_catch = 0.8, 3.0 * d2r, 0.25
        tau = np.clip(ta - (t_td - t_fall), 0, t_fall)
        k = peak / (np.cosh(omega * t_fall) - 1)
        fall = k * (np.cosh(omega * tau) - 1)
        # the landed foot catches the body: the lean velocity decays with a 0.25 s time constant
        v_td = k * omega * np.sinh(omega * t_fall)
        after = np.clip(ta - t_td, 0, None)
        fall = fall + v_td * t_catch * (1 - np.exp(-after / t_catch))
        fall = m_side * fall * (1 - _smooth_step(ta, t_td + 0.3, t_td + 1.4))

    free_ankle, pitch = free_path(hold, w_shift)
    pose = Pose(leg_ap=base_ap + leg_sway["ap"] + dip_lean, leg_ml=base_ml + leg_sway["ml"] + fall, knee_flex=knee_flex,
                # the trunk stays upright over the leaning leg (hip angles cancel the baseline lean); while both
                # feet are down the pelvis stays level (the legs sway as a parallelogram in the frontal plane)
                valgus=valgus, hip_ap=hip_angle["ap"] - base_ap,
                hip_ml=single * hip_angle["ml"] - base_ml - (1 - single) * leg_sway["ml"], free_ankle=free_ankle,
                free_pitch=pitch,
                stance_yaw=(30 * d2r * _smooth_step(ta, t_fail, t_fail + 0.2)
                            if reason == "stance_foot_moved" else None))
    joints_a = build_joints(dims, pose, stance_leg, stance_ankle)

    # -- dynamics ------------------------------------------------------------------------------------------
    com_a = whole_body_com(joints_a, subject.sex)
    dt = 1.0 / analog_rate_hz
    acc = np.gradient(np.gradient(com_a, dt, axis=0), dt, axis=0)
    hdot = _angular_momentum_rate(joints_a, com_a, subject, dt)
    mass = subject.mass_kg
    force = mass * (acc + np.array([0, 0, G]))
    cz = com_a[:, 2]
    cop = np.zeros_like(com_a)
    cop[:, 0] = com_a[:, 0] + (-cz * force[:, 0] - hdot[:, 1]) / force[:, 2]
    cop[:, 1] = com_a[:, 1] + (hdot[:, 0] - cz * force[:, 1]) / force[:, 2]
    tz = hdot[:, 2] - ((cop[:, 0] - com_a[:, 0]) * force[:, 1] - (cop[:, 1] - com_a[:, 1]) * force[:, 0])

    # -- share between plates ------------------------------------------------------------------------------
    # Load share of the free foot: set by where the COP lies between the feet, but the foot keeps at least 12 %
    # of body weight until 0.1 s before it leaves (it unloads over those last 0.1 s, as at toe-off; the stance
    # foot's own COP moves laterally to compensate, by at most ~2.5 cm) and takes at least 10 % within 40 ms
    # of landing.
    contact = np.where(ta < t_lift, 1.0, 0.0)
    floor = 0.12 * _smooth_step(ta, t_lift - 0.7, t_lift - 0.5) * (1 - _smooth_step(ta, t_lift - 0.1, t_lift))
    if touch:
        contact = np.where(ta >= t_td, 1.0, contact)
        floor = np.where(ta >= t_td, 0.10 * _smooth_step(ta, t_td, t_td + 0.04)
                         * (1 - _smooth_step(ta, t_td + 0.3, t_td + 0.6)), floor)
    free_xy_y = np.where(ta >= t_td, land[1], free_ground[1]) if touch else np.full(n_a, free_ground[1])
    w_raw = np.clip((cop[:, 1] - y_st) / (free_xy_y - y_st), 0, 1)
    w_free = np.maximum(w_raw, floor) * contact
    cop_free = np.column_stack([cop[:, 0], free_xy_y, np.zeros(n_a)])
    with np.errstate(invalid="ignore", divide="ignore"):
        cop_st = (cop - w_free[:, None] * cop_free) / (1 - w_free)[:, None]
    cop_st[:, 2] = 0.0
    st_idx, fr_idx = (0, 1) if stance_leg == "right" else (1, 0)
    shares = {st_idx: (1 - w_free, cop_st), fr_idx: (w_free, cop_free)}
    plates, truth_cop_plates, truth_force_plates = [], [None, None], [None, None]
    for i in (0, 1):
        w, cp = shares[i]
        f_i = force * w[:, None]
        tz_i = tz * w
        truth_force_plates[i] = f_i
        on = w > 0
        truth_cop_plates[i] = np.where(on[:, None], cp, np.nan)
        plates.append((f_i, np.where(on[:, None], cp, layout.centres[i]), tz_i))

    noisy = []
    for i, (f_i, cp, tz_i) in enumerate(plates):
        origin_lab = layout.centres[i] - _plate_to_lab(layout.origin_mm[i] / 1000)   # sensor origin, lab
        r = cp - origin_lab
        moment = np.cross(r, f_i) + np.column_stack([np.zeros(n_a), np.zeros(n_a), tz_i])
        f_n, m_n = f_i.copy(), moment.copy()
        if force_noise:
            f_n += rng.normal(0, 1, f_n.shape) * np.array([0.5, 0.5, 1.0])
            m_n += rng.normal(0, 0.03, m_n.shape)
        noisy.append((f_n, m_n, origin_lab))

    # -- events and truth ----------------------------------------------------------------------------------
    fctx = free_side.capitalize()
    events = []
    events += sync_events
    events.append(Event("foot_lift", t_lift, fctx, "synthetic: free foot leaves the plate"))
    if reason == "stance_foot_moved":
        events.append(Event("stance_foot_moved", t_fail, stance_leg.capitalize(),
                            "synthetic: stance foot starts turning toe-out"))
    if touch:
        why = {"max_duration": " (end of test)", "touch_down": " (loss of balance)",
               "stance_foot_moved": " (after the stance foot moved)", "reach_done": " (end of the reach)"}[reason]
        events.append(Event("touch_down", t_td, fctx, "synthetic: free foot lands" + why))
    sl = slice(None, None, ratio)
    joints = {k: v[sl].copy() for k, v in joints_a.items()}
    pose_m = Pose(*(getattr(pose, f)[sl] for f in ("leg_ap", "leg_ml", "knee_flex", "valgus", "hip_ap", "hip_ml",
                                                   "free_ankle", "free_pitch")))
    r2d = 180 / np.pi
    strategy_name = strategy if hip_fraction is None else _label(float(hip_fraction))
    angles = {
        "knee_frontal": pose_m.valgus * r2d,
        # trunk relative to thigh; the thigh leans back by half the knee flexion relative to the leg line
        "hip_sagittal": (pose_m.hip_ap + pose_m.knee_flex / 2) * r2d,
        "hip_frontal": (m_side * pose_m.hip_ml + pose_m.valgus / 2) * r2d,
        "ankle_sagittal": (pose_m.leg_ap + pose_m.knee_flex / 2) * r2d,
        "ankle_frontal": (m_side * pose_m.leg_ml + pose_m.valgus / 2) * r2d,
    }
    truth = {
        "com": com_a[sl].copy(), "com_analog": com_a, "cop": cop, "force": force, "free_moment": tz,
        "cop_plates": truth_cop_plates, "force_plates": truth_force_plates,
        "events": events, "time_to_failure_s": stance_time, "censored": censored, "censor_reason": reason,
        "strategy": strategy_name, "angles": angles, "stance_plate": st_idx, "stance_leg": stance_leg,
        "single_leg_window_s": (t_lift, t_td),
        # the subject-level inputs (None = the generator's defaults) and the knee excursion they give
        "sway_scale": params["sway_scale"], "sway_frequency_scale": params["sway_frequency_scale"],
        "hip_fraction_target": (STRATEGY_TARGETS[strategy] if hip_fraction is None else float(hip_fraction)),
        "knee_valgus_deg": valg0, "knee_valgus_excursion_deg": params["knee_valgus_excursion_deg"],
        "knee_frontal_excursion_deg": _excursion(tm, angles["knee_frontal"], t_lift,
                                                 min(t_td if touch else tm[-1], t_lift + max_duration_s)),
    }
    if reach is not None:
        from ..reach import reach_distance
        st_, fr_ = stance_leg, free_side
        r = reach_distance(tm, joints[f"{st_}_heel"], joints[f"{st_}_foot_index"],
                           np.stack([joints[f"{fr_}_{p}"] for p in ("heel", "foot_index")], axis=1),
                           direction=reach[0], stance_leg=stance_leg, window=(t_lift, t_td),
                           source="synthetic joints")
        truth["reach"] = {"direction": reach[0], "distance_m": r.distance_m, "time_s": r.time_s,
                          "leg_length_m": leg_len, "normalised_pct": 100.0 * r.distance_m / leg_len,
                          "ankle_target_fraction": float(reach[1]), "ankle_target_fraction_used": reach_frac_used,
                          "definition": r.method + "; leg length = hip to ankle joint centre"}
    trial = SyntheticTrial(subject=subject, condition=condition, stance_leg=stance_leg, strategy=strategy_name,
                           time_s=tm, analog_time_s=ta, joints=joints, markers=None, plates=[], layout=layout,
                           truth=truth, params=params)
    from .markers import place_markers
    trial.markers = place_markers(trial, dims, segment_frames(dims, pose_m), rng)
    if marker_gaps:
        validate_type(marker_gaps, int, "marker_gaps")
        names = trial.markers.channels
        gaps = []
        for _ in range(marker_gaps):
            name = names[int(rng.integers(len(names)))]
            length = int(rng.integers(int(0.05 * marker_rate_hz), int(0.3 * marker_rate_hz) + 1))
            start = int(rng.integers(0, max(1, tm.size - length)))
            trial.markers.data[name][start:start + length] = np.nan
            gaps.append({"marker": name, "start_s": float(tm[start]), "n_samples": length})
        trial.markers.meta["gaps"] = gaps
    trial.plates = [_plate_series(ta, f_n, m_n, o, tz_noise_free=plates[i][2], index=i)
                    for i, (f_n, m_n, o) in enumerate(noisy)]
    # the strategy indicator of the truth angles over the steady single-leg period (NaN if it is too short)
    steady = (tm >= s0) & (tm <= s1)
    trial.truth["strategy_fraction"] = _hip_fraction({k: v[steady] for k, v in angles.items()})
    from ..strategy import ANKLE_BELOW, HIP_ABOVE
    f = trial.truth["strategy_fraction"]
    trial.truth["strategy_label"] = ("undetermined" if not np.isfinite(f) else "ankle" if f < ANKLE_BELOW
                                     else "hip" if f > HIP_ABOVE else "mixed")
    return trial


def strategy_modes(hip_fraction: float) -> tuple[float, float, float, float]:
    """Mode amplitudes of a continuous strategy mix: ``_STRATEGY_MODES`` interpolated linearly in the target hip
    fraction between the three strategies' targets (``STRATEGY_TARGETS``), held constant beyond them."""
    names = sorted(STRATEGY_TARGETS, key=STRATEGY_TARGETS.get)
    xs = [STRATEGY_TARGETS[n] for n in names]
    return tuple(float(np.interp(hip_fraction, xs, [_STRATEGY_MODES[n][i] for n in names])) for i in range(4))


def _label(fraction: float) -> str:
    """The :mod:`ground_truth.strategy` label of a hip fraction."""
    from ..strategy import ANKLE_BELOW, HIP_ABOVE
    return "ankle" if fraction < ANKLE_BELOW else "hip" if fraction > HIP_ABOVE else "mixed"


def _opt_float(v):
    return None if v is None else float(v)


def _excursion(t: np.ndarray, angle_deg: np.ndarray, lo: float, hi: float) -> float:
    """Range (max - min) of an angle over ``lo <= t <= hi`` (NaN with fewer than two samples)."""
    a = angle_deg[(t >= lo) & (t <= hi)]
    return float(np.ptp(a)) if a.size > 1 else float("nan")


def _valgus_gain(base: np.ndarray, mod: np.ndarray, excursion: float) -> float:
    """The gain ``g >= 0`` for which ``ptp(base + g * mod)`` equals ``excursion`` (deg).

    ``ptp`` is convex in ``g``; it is scanned over a grid up to a gain that surely overshoots, then refined by
    bisection on the increasing branch. A range below the smallest reachable one gives that one's gain.
    """
    if base.size < 2 or excursion <= 0:
        return 0.0
    spread = float(np.ptp(mod))
    if spread == 0:
        return 0.0
    g_hi = (excursion + np.ptp(base)) / spread * 1.05 + 1e-9
    grid = np.linspace(0.0, g_hi, 65)
    r = np.ptp(base[None, :] + grid[:, None] * mod[None, :], axis=1)
    i0 = int(np.argmin(r))
    if r[i0] >= excursion:
        return float(grid[i0])
    j = i0 + int(np.argmax(r[i0:] >= excursion))      # first grid gain past the target on the rising branch
    lo, hi = grid[j - 1], grid[j]
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if np.ptp(base + mid * mod) < excursion else (lo, mid)
    return float(0.5 * (lo + hi))


def _flex_lookup(dims, bip, stance_leg, stance_ankle, free_ground, sex, n=41, max_extra_deg=40.0):
    """Extra knee flexion grid and the leg lean that keeps the COM's horizontal position.

    Posture of the quiet bipedal baseline (sway-free); the free foot stays flat on the floor (two-link IK).
    """
    d2r = np.pi / 180
    extra = np.linspace(0.0, max_extra_deg, n) * d2r

    def com(lean):
        pose = Pose(bip[0] + lean, np.full(n, bip[1]), KNEE_FLEX_DEG * d2r + extra, np.full(n, 1.5 * d2r),
                    np.full(n, -bip[0]), np.full(n, -bip[1]), np.tile(free_ground, (n, 1)), np.zeros(n))
        return whole_body_com(build_joints(dims, pose, stance_leg, stance_ankle), sex)

    lean = np.zeros(n)
    x0 = com(lean)[0, 0]
    for _ in range(4):
        c = com(lean)[:, 0]
        slope = (com(lean + 1e-5)[:, 0] - c) / 1e-5
        lean = lean - (c - x0) / slope
    return extra, lean


def _plate_series(ta, force, moment, origin_lab, tz_noise_free, index, threshold=20.0):
    """Per-plate TimeSeries with the COP computed from the (noisy) force and moment, as a reader would."""
    dz = -origin_lab[2]                    # plate surface (z = 0) above the sensor origin
    with np.errstate(invalid="ignore", divide="ignore"):
        dx = (dz * force[:, 0] - moment[:, 1]) / force[:, 2]
        dy = (moment[:, 0] + dz * force[:, 1]) / force[:, 2]
    cop = np.column_stack([origin_lab[0] + dx, origin_lab[1] + dy, np.zeros(dx.size)])
    loaded = force[:, 2] >= threshold
    cop[~loaded] = np.nan
    zeros = np.zeros(ta.size)
    return TimeSeries(ta, {"force": force, "moment": moment, "cop": cop,
                           "free_moment": np.column_stack([zeros, zeros, tz_noise_free]), "loaded": loaded},
                      {"force": "N", "moment": "N*m", "cop": "m", "free_moment": "N*m", "loaded": "bool"},
                      meta={"plate": index, "method": "synthetic inverse dynamics (noisy channels)",
                            "origin_lab_m": np.asarray(origin_lab).tolist()})


def _plate_to_lab(v: np.ndarray) -> np.ndarray:
    """Plate frame (x = lab x, y = -lab y, z down) to lab frame, for vectors (AMTI-style plate axes)."""
    return np.asarray(v) * np.array([1.0, -1.0, -1.0])


def _angular_momentum_rate(joints, com, subject, dt):
    """Rate of change of whole-body angular momentum about the COM (N*m), slender-rod segments."""
    par = de_leva_parameters(subject.sex)
    coms = segment_coms(joints, subject.sex)
    from ..anthropometry import derive_joints
    jd = derive_joints(joints)
    h = np.zeros_like(com)
    vc = np.gradient(com, dt, axis=0)
    for seg in body_segments(subject.sex):
        mi = seg.mass_fraction * subject.mass_kg
        r = coms[seg.name] - com
        v = np.gradient(coms[seg.name], dt, axis=0) - vc
        h += mi * np.cross(r, v)
        prox, dist, _ = seg.definitions[0]
        if prox == dist:
            continue
        axis = jd[dist] - jd[prox]
        length = np.linalg.norm(axis, axis=1, keepdims=True)
        u = axis / length
        p = par[segment_parameter_key(seg)]
        rg = 0.5 * (p.r_sagittal + p.r_transverse) * length[:, 0]
        omega = np.cross(u, np.gradient(u, dt, axis=0))
        h += (mi * rg ** 2)[:, None] * omega
    return np.gradient(h, dt, axis=0)


def _hip_fraction(angles: dict) -> float:
    from ..strategy import hip_ankle_fraction
    return hip_ankle_fraction(angles["hip_sagittal"], angles["ankle_sagittal"], angles["hip_frontal"],
                              angles["ankle_frontal"])
