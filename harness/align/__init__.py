"""Time alignment of a candidate (video) clock to the reference (gold-standard) clock.

Convention: ``t_ref = t_cand + offset_s + drift · t_cand`` (``drift = drift_ppm · 1e-6``). The candidate's
samples keep their real, possibly irregular, timestamps throughout: nothing assumes a constant frame rate.

Methods
-------
* :func:`estimate_offset` (``estimate``) — normalised cross-correlation of one physical signal both sides
  observe (e.g. body mass × (vertical COM acceleration + g) from video against vertical GRF, both low-passed; or
  a vertical velocity against markers), bounded lag search, then a continuous refinement of the lag against the
  reference interpolated at the candidate's actual frame times; optional clock drift from windowed
  correlation and a line fit. Quality figures: peak correlation, lag uncertainty, residual. A trial without a
  reliable peak (nearly static, unrelated signals, ambiguous or edge peak) is flagged, with the reason.
* :func:`align_by_events` (``events``) — from event times seen on both sides (a hop, heel raise or foot lift,
  found e.g. by :func:`detect_onset`).
* :func:`com_vertical_force`, :func:`vertical_velocity`, :func:`motion_energy` (``signals``) — the signals to
  correlate, derived from kinematics.
* :func:`resample_to` (from :mod:`ground_truth.grid`) — the gold standard resampled onto the video's actual
  frame times (NaN outside its coverage and across gaps).

The clock model itself (:class:`AlignmentResult`, :func:`to_reference_time`, :func:`to_candidate_time`) is in
``clock``.
"""
from ground_truth.grid import resample_to
from ground_truth.kernel import AlignmentError

from .clock import AlignmentResult, to_candidate_time, to_reference_time
from .estimate import estimate_offset
from .events import align_by_events, detect_onset
from .signals import com_vertical_force, motion_energy, vertical_velocity

__all__ = ["AlignmentResult", "estimate_offset", "align_by_events", "detect_onset", "resample_to",
           "to_reference_time", "to_candidate_time", "com_vertical_force", "vertical_velocity", "motion_energy",
           "AlignmentError"]
