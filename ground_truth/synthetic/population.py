"""A synthetic population for known-truth studies: each subject's parameters drawn from published distributions.

``draw_population(n_subjects, seed=..., conditions=..., duration_s=...)`` gives one :class:`SubjectParameters`
per subject: sex, age, height and mass, and per balance condition the sway amplitude and frequency, the
hip/ankle strategy mix, the knee's frontal-plane motion and the time to failure. Its
:meth:`~SubjectParameters.simulation_kwargs` are the arguments of
:func:`~ground_truth.synthetic.simulate_single_leg_stance` for one trial, and :meth:`~SubjectParameters.to_dict`
is the JSON-ready record of the truth that a study stores with its results.

Distributions and their sources (``SOURCES`` holds the references; docs/synthetic.md has the same table):

===========================  ================================================================================
parameter                    distribution (source)
===========================  ================================================================================
sex                          female or male with probability 1/2 (this generator's assumption)
age (years)                  uniform on [20, 80) (this generator's assumption: the adult age groups that the
                             height, mass and time-to-failure sources all tabulate)
height (m)                   by sex and 10-year age group, the quantile function through the published 5th to
                             95th percentiles of NHANES August 2021-August 2023, Fryar et al. 2025, Table 7
                             (``NHANES_HEIGHT_CM``)
mass (kg)                    BMI x height^2, BMI drawn like height from Fryar et al. 2025, Table 10
                             (``NHANES_BMI``), independently of height; the resulting mass matches Table 3
                             (tests/test_population.py)
COP sway amplitude ratio     log-normal per condition, the subject's resultant COP RMS relative to young
                             adults in that condition: mean log ratio of the age group (<60 / >=60 years) and
                             pooled within-group log-SD from the 200 BDS trials (Santos & Duarte 2016), with a
                             compound-symmetric correlation across conditions also from BDS (``BDS_SWAY``)
sway frequency ratio         the same for the COP mean frequency (``BDS_SWAY``); the simulator applies it as a
                             time scale of its ankle mode, so the COM's mean frequency follows it
strategy mix (hip fraction)  logit-normal, median 0.45, logit-SD 0.6, shifted +0.15 (eyes closed) and +0.3
                             (foam) on the logit scale, clipped to [0.15, 0.75]: this generator's assumption
                             (no published distribution of this indicator exists; the direction of the shifts
                             follows Horak & Nashner 1986: more hip strategy on a compliant or short support)
knee valgus baseline (deg)   normal, mean 3, SD 2: this generator's assumption (3 deg is the simulator's
                             former fixed value)
knee valgus excursion (deg)  log-normal, median 3 deg, log-SD 0.45 (90 % between 1.4 and 6.3 deg) eyes open on
                             a firm surface, times sqrt(condition factor) in the other conditions: this
                             generator's assumption. No published distribution of the knee's frontal-plane
                             range in quiet single-leg stance was found; it is kept below the frontal-plane
                             projection angle of healthy adults in the deeper single-leg squat, 8.4 +/- 5.1
                             deg (Herrington 2014, abstract), the task the angle comes from (Willson & Davis
                             2008).
eyes-closed time to failure  log-normal whose mean is the eyes-closed best-of-3 mean of the subject's sex and
(s)                          age group in Springer et al. 2007 (``SPRINGER_EC_BEST_OF_3_S``), log-SD 0.8 (this
                             generator's assumption); on foam half of it (assumption). Eyes-open trials do not
                             fail before the protocol's maximum (assumption). A time at or past ``duration_s``
                             is censored: ``fail_at_s`` is None and the trial ends at the maximum.
===========================  ================================================================================

How the BDS table becomes simulator inputs: the simulator's ``CONDITIONS`` factors carry the single-leg
condition effect (this generator's assumption, see :mod:`~ground_truth.synthetic.simulate`); the BDS trials are
quiet *bipedal* stance, so they give each subject's sway *relative to young adults in the same condition*
(between-subject spread, the age effect and how consistent a person is across conditions), which is assumed to
carry over to single-leg stance. The simulator's ``sway_scale`` multiplies the sway angles; the COP follows
the inverted pendulum (COP - COM = -h/g COM''), so a subject whose sway is faster by a factor ``s`` has a COP
larger by about ``(1 + KAPPA s^2) / (1 + KAPPA)`` for the same angles. ``sway_scale`` divides that out, so that the
COP amplitude ratio is the drawn one.

Each subject's draw depends on the seed and the subject's index only (``numpy.random.SeedSequence.spawn``):
adding subjects leaves the first ones unchanged, and the same seed gives the same population on every machine.
The draw always uses the frozen ``BDS_SWAY`` table (never the files, which a user's machine may not have);
:func:`summarize_bds` recomputes it from ``../shared/data/cop_bds`` and ``benchmarks/bds_population_table.py``
prints it for this module.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..kernel import InputError, NotAvailableError, check_option, validate_type
from .body import Subject
from .simulate import CONDITIONS

#: References of every distribution (key -> citation), also in docs/synthetic.md.
SOURCES = {
    "fryar2025": ("Fryar CD, Gu Q, Afful J, Carroll MD, Ogden CL. Anthropometric reference data for children and "
                  "adults: United States, August 2021-August 2023. Vital Health Stat 3. 2025;(50):1-28. "
                  "doi:10.15620/cdc/174595. Table 7 (height, cm, adults), Table 10 (BMI, adults), Table 3 (weight, "
                  "kg, adults; used to check the drawn mass)."),
    "santos_duarte2016": ("Santos DA, Duarte M. A public data set of human balance evaluations. PeerJ. 2016;4:e2648. "
                          "doi:10.7717/peerj.2648. Trials BDS00001-BDS00200 (17 subjects) with BDSinfoCOP.txt; "
                          "sway summarised by summarize_bds()."),
    "springer2007": ("Springer BA, Marin R, Cyhan T, Roberts H, Gill NW. Normative values for the unipedal stance "
                     "test with eyes open and closed. J Geriatr Phys Ther. 2007;30(1):8-15. Eyes-closed best-of-3 "
                     "means by sex and age group (45-s maximum, arms crossed)."),
    "horak_nashner1986": ("Horak FB, Nashner LM. Central programming of postural movements: adaptation to altered "
                          "support-surface configurations. J Neurophysiol. 1986;55(6):1369-1381."),
    "herrington2014": ("Herrington L. Knee valgus angle during single leg squat and landing in patellofemoral pain "
                       "patients and controls. Knee. 2014;21(2):514-517 (controls' FPPA in the single-leg squat: "
                       "8.4 +/- 5.1 deg, abstract)."),
    "willson_davis2008": ("Willson JD, Davis IS. Utility of the frontal plane projection angle in females with "
                          "patellofemoral pain. J Orthop Sports Phys Ther. 2008;38(10):606-615 (the FPPA, the "
                          "knee_frontal_excursion KPI's angle)."),
}

#: Percentiles tabulated by Fryar et al. 2025 (Tables 3, 7, 10).
NHANES_PERCENTILES = (5, 10, 15, 25, 50, 75, 85, 90, 95)
#: Height (cm) of adults by sex and age group: (mean, percentiles at NHANES_PERCENTILES). Fryar et al. 2025,
#: Table 7, NHANES August 2021-August 2023.
NHANES_HEIGHT_CM = {
    ("male", "20-29"): (176.3, (162.0, 167.7, 169.3, 171.3, 176.1, 181.0, 184.7, 185.9, 188.1)),
    ("male", "30-39"): (176.1, (163.6, 166.6, 168.0, 171.3, 176.4, 180.9, 183.4, 185.1, 187.1)),
    ("male", "40-49"): (176.4, (162.3, 166.9, 169.5, 171.1, 176.2, 182.6, 185.0, 186.8, 189.9)),
    ("male", "50-59"): (174.3, (163.0, 164.7, 167.2, 169.0, 174.5, 179.0, 181.3, 183.6, 185.6)),
    ("male", "60-69"): (174.7, (161.8, 165.2, 167.0, 169.7, 175.0, 179.8, 182.5, 184.1, 186.6)),
    ("male", "70-79"): (172.4, (159.5, 162.6, 164.6, 167.5, 172.7, 176.9, 179.8, 181.6, 184.1)),
    ("female", "20-29"): (163.5, (153.2, 155.1, 156.1, 158.4, 163.3, 168.2, 170.8, 171.9, 174.6)),
    ("female", "30-39"): (162.5, (150.1, 152.8, 154.8, 158.2, 162.8, 167.4, 169.5, 170.8, 172.9)),
    ("female", "40-49"): (161.7, (149.8, 152.3, 153.7, 157.2, 162.0, 166.3, 169.0, 170.4, 172.1)),
    ("female", "50-59"): (161.2, (150.4, 152.6, 154.4, 156.4, 160.8, 166.2, 168.4, 170.4, 172.4)),
    ("female", "60-69"): (160.5, (149.6, 151.6, 153.4, 155.6, 160.4, 165.1, 167.6, 169.4, 171.2)),
    ("female", "70-79"): (158.3, (148.6, 150.7, 152.2, 154.4, 157.9, 162.3, 164.4, 166.2, 168.2)),
}
#: Body mass index (kg/m^2) of adults by sex and age group: (mean, percentiles). Fryar et al. 2025, Table 10.
NHANES_BMI = {
    ("male", "20-29"): (27.8, (18.9, 19.9, 21.6, 23.3, 27.0, 31.1, 34.2, 36.1, 39.6)),
    ("male", "30-39"): (29.5, (21.2, 22.7, 23.3, 24.9, 27.8, 33.0, 35.6, 38.0, 42.5)),
    ("male", "40-49"): (30.5, (22.2, 23.3, 24.1, 25.7, 28.9, 33.5, 35.8, 39.2, 45.0)),
    ("male", "50-59"): (30.2, (21.6, 23.0, 24.1, 25.5, 29.0, 33.3, 36.6, 38.9, 44.6)),
    ("male", "60-69"): (29.2, (21.2, 22.7, 23.9, 25.2, 28.3, 32.1, 34.1, 36.0, 39.9)),
    ("male", "70-79"): (29.4, (21.6, 22.9, 23.9, 25.6, 28.8, 32.3, 34.6, 36.5, 39.2)),
    ("female", "20-29"): (28.0, (18.6, 19.9, 21.0, 22.2, 25.5, 31.6, 36.6, 39.7, 45.6)),
    ("female", "30-39"): (30.5, (19.7, 21.3, 22.3, 24.2, 28.6, 35.2, 40.4, 42.1, 47.4)),
    ("female", "40-49"): (30.7, (19.7, 21.9, 23.0, 24.6, 28.5, 35.1, 38.8, 41.0, 45.6)),
    ("female", "50-59"): (31.4, (20.8, 22.3, 23.4, 24.9, 30.0, 36.5, 40.2, 42.4, 45.9)),
    ("female", "60-69"): (30.1, (20.0, 22.0, 23.1, 24.8, 28.8, 34.5, 37.9, 40.0, 42.5)),
    ("female", "70-79"): (29.5, (20.7, 22.0, 23.2, 24.7, 28.0, 33.4, 36.5, 38.3, 42.2)),
}
#: Eyes-closed unipedal stance time (s), mean of each subject's best of 3 trials, by sex and age group:
#: Springer et al. 2007 (n = 549, 45-s maximum). The paper's best-of-3 means as quoted by secondary sources (the
#: 18-39 eyes-closed 13.1 s also by the Shirley Ryan AbilityLab Rehabilitation Measures summary); the paper's SDs
#: could not be checked, so the spread (TTF_LOG_SD) is this generator's assumption.
SPRINGER_EC_BEST_OF_3_S = {
    ("female", "18-39"): 13.1, ("male", "18-39"): 16.9,
    ("female", "40-49"): 13.5, ("male", "40-49"): 12.0,
    ("female", "50-59"): 7.9, ("male", "50-59"): 8.6,
    ("female", "60-69"): 3.6, ("male", "60-69"): 5.1,
    ("female", "70-79"): 3.7, ("male", "70-79"): 2.6,
    ("female", "80+"): 2.1, ("male", "80+"): 1.8,
}

#: Ages drawn (years): uniform on [AGE_RANGE[0], AGE_RANGE[1]).
AGE_RANGE = (20.0, 80.0)
#: BDS age groups: Santos & Duarte 2016 split young (< 60 years) and older adults.
BDS_OLDER_FROM_YEARS = 60.0
#: Log-SD of the eyes-closed time to failure (this generator's assumption; coefficient of variation ~0.95).
TTF_LOG_SD = 0.8
#: Eyes-closed time to failure on foam relative to a firm surface (this generator's assumption).
TTF_FOAM_FACTOR = 0.5
#: The simulator's shortest time to failure (s): the fall that ends the trial takes 0.8 s.
MIN_FAIL_S = 0.8
#: Strategy mix (this generator's assumption): logit-normal median, logit-SD, per-condition logit shifts, limits.
HIP_FRACTION_MEDIAN = 0.45
HIP_FRACTION_LOGIT_SD = 0.6
HIP_FRACTION_SHIFT = {"eyes_closed": 0.15, "foam": 0.3}
HIP_FRACTION_LIMITS = (0.15, 0.75)
#: Knee (this generator's assumption): baseline valgus mean and SD (deg); excursion median (deg, eyes open
#: firm) and log-SD; excursion grows with the square root of the condition factor.
KNEE_VALGUS_MEAN_SD = (3.0, 2.0)
KNEE_EXCURSION_MEDIAN_LOGSD = (3.0, 0.45)
#: Inverted-pendulum gain of the COP over the COM for a sway time-scaled by s: (1 + KAPPA s^2) / (1 + KAPPA).
#: KAPPA ~ (2 pi f)^2 h / g with the single-leg sway's mean frequency f ~ 0.2-0.25 Hz and COM height h ~ 0.95 m;
#: 0.25 is what the simulator shows (COP/COM RMS ratio 1.07, 1.31 and 1.76 at sway_frequency_scale 0.6, 1 and
#: 1.6, mean of 8 seeds, 20-s trials; measured when this module was written).
KAPPA = 0.25

#: Frozen summary of the 200 BDS trials (Santos & Duarte 2016), printed by benchmarks/bds_population_table.py
#: from summarize_bds(): per condition and age group the number of subjects and trials, the geometric mean over
#: subjects of each subject's geometric-mean resultant COP RMS (mm) and COP mean frequency (Hz), and the SD of
#: their logs; pooled within-group log-SDs; the mean within-group correlation between conditions of the
#: subjects' log values. Metrics: ground_truth.sway "bds2016" (the data set's own convention, no filtering).
BDS_SWAY = {"groups": {"young": {"eyes_open_firm": {"n_subjects": 14,
                                         "n_trials": 42,
                                         "gm_rms_mm": 4.861,
                                         "log_sd_rms": 0.3762,
                                         "gm_mean_freq_hz": 0.2297,
                                         "log_sd_mean_freq": 0.3405},
                      "eyes_open_foam": {"n_subjects": 15,
                                         "n_trials": 44,
                                         "gm_rms_mm": 11.2,
                                         "log_sd_rms": 0.2933,
                                         "gm_mean_freq_hz": 0.2882,
                                         "log_sd_mean_freq": 0.3485},
                      "eyes_closed_firm": {"n_subjects": 15,
                                           "n_trials": 45,
                                           "gm_rms_mm": 5.165,
                                           "log_sd_rms": 0.4274,
                                           "gm_mean_freq_hz": 0.2386,
                                           "log_sd_mean_freq": 0.3398},
                      "eyes_closed_foam": {"n_subjects": 15,
                                           "n_trials": 45,
                                           "gm_rms_mm": 12.8,
                                           "log_sd_rms": 0.2832,
                                           "gm_mean_freq_hz": 0.3354,
                                           "log_sd_mean_freq": 0.2671}},
            "older": {"eyes_open_firm": {"n_subjects": 2,
                                         "n_trials": 6,
                                         "gm_rms_mm": 10.4,
                                         "log_sd_rms": 0.4902,
                                         "gm_mean_freq_hz": 0.3232,
                                         "log_sd_mean_freq": 0.284},
                      "eyes_open_foam": {"n_subjects": 2,
                                         "n_trials": 6,
                                         "gm_rms_mm": 18.62,
                                         "log_sd_rms": 0.06972,
                                         "gm_mean_freq_hz": 0.2913,
                                         "log_sd_mean_freq": 0.2948},
                      "eyes_closed_firm": {"n_subjects": 2,
                                           "n_trials": 6,
                                           "gm_rms_mm": 10.44,
                                           "log_sd_rms": 0.2591,
                                           "gm_mean_freq_hz": 0.2984,
                                           "log_sd_mean_freq": 0.4737},
                      "eyes_closed_foam": {"n_subjects": 2,
                                           "n_trials": 6,
                                           "gm_rms_mm": 26.57,
                                           "log_sd_rms": 0.1978,
                                           "gm_mean_freq_hz": 0.2832,
                                           "log_sd_mean_freq": 0.2875}}},
 "pooled_log_sd_rms": {"eyes_open_firm": 0.3855,
                       "eyes_open_foam": 0.2839,
                       "eyes_closed_firm": 0.4183,
                       "eyes_closed_foam": 0.2783},
 "rho_rms": 0.8054,
 "pooled_log_sd_mean_freq": {"eyes_open_firm": 0.3368,
                             "eyes_open_foam": 0.3452,
                             "eyes_closed_firm": 0.3503,
                             "eyes_closed_foam": 0.2685},
 "rho_mean_freq": 0.7352,
 "n_trials": 200,
 "n_subjects": 17}


@dataclass
class SubjectParameters:
    """The drawn true parameters of one synthetic subject (see the module docstring for the distributions).

    Per-condition values are dicts keyed by condition name (``CONDITIONS``).
    """

    subject_id: str
    sex: str
    age_years: float
    height_m: float
    mass_kg: float
    bmi: float
    duration_s: float
    conditions: tuple
    cop_amplitude_ratio: dict = field(default_factory=dict)
    sway_frequency_scale: dict = field(default_factory=dict)
    sway_scale: dict = field(default_factory=dict)
    hip_fraction: dict = field(default_factory=dict)
    knee_valgus_deg: float = 3.0
    knee_valgus_excursion_deg: dict = field(default_factory=dict)
    ec_time_to_failure_s: float = float("inf")
    time_to_failure_s: dict = field(default_factory=dict)
    fail_at_s: dict = field(default_factory=dict)

    @property
    def age_group(self) -> str:
        """The BDS age group: ``"young"`` (< 60 years) or ``"older"``."""
        return "older" if self.age_years >= BDS_OLDER_FROM_YEARS else "young"

    def subject(self) -> Subject:
        """The anthropometry as a :class:`~ground_truth.synthetic.Subject`."""
        return Subject(subject_id=self.subject_id, height_m=self.height_m, mass_kg=self.mass_kg, sex=self.sex)

    def simulation_kwargs(self, condition: str) -> dict[str, Any]:
        """Keyword arguments of :func:`~ground_truth.synthetic.simulate_single_leg_stance` for one trial in
        ``condition``: the subject, its sway, strategy, knee and failure (add ``stance_leg``, ``seed`` and the
        recording options). The subject would keep the foot up for 300 s; the protocol's maximum
        (``duration_s``) ends a trial that does not fail first."""
        check_option("condition", condition, self.conditions)
        return {"subject": self.subject(), "condition": condition, "duration_s": 300.0,
                "max_duration_s": self.duration_s, "fail_at_s": self.fail_at_s[condition],
                "sway_scale": self.sway_scale[condition],
                "sway_frequency_scale": self.sway_frequency_scale[condition],
                "hip_fraction": self.hip_fraction[condition], "knee_valgus_deg": self.knee_valgus_deg,
                "knee_valgus_excursion_deg": self.knee_valgus_excursion_deg[condition]}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (infinite or censored times as None)."""
        def num(v):
            return None if v is None or not math.isfinite(v) else float(v)
        return {"subject_id": self.subject_id, "sex": self.sex, "age_years": self.age_years,
                "age_group": self.age_group, "height_m": self.height_m, "mass_kg": self.mass_kg, "bmi": self.bmi,
                "duration_s": self.duration_s, "conditions": list(self.conditions),
                "cop_amplitude_ratio": dict(self.cop_amplitude_ratio),
                "sway_frequency_scale": dict(self.sway_frequency_scale), "sway_scale": dict(self.sway_scale),
                "hip_fraction": dict(self.hip_fraction), "knee_valgus_deg": self.knee_valgus_deg,
                "knee_valgus_excursion_deg": dict(self.knee_valgus_excursion_deg),
                "ec_time_to_failure_s": num(self.ec_time_to_failure_s),
                "time_to_failure_s": {k: num(v) for k, v in self.time_to_failure_s.items()},
                "fail_at_s": {k: num(v) for k, v in self.fail_at_s.items()},
                "sources": sorted(SOURCES)}


def draw_population(n_subjects: int, *, seed: int, conditions=tuple(CONDITIONS), duration_s: float = 30.0,
                    id_prefix: str = "S") -> list[SubjectParameters]:
    """Draw ``n_subjects`` synthetic subjects from the published distributions of the module docstring.

    Parameters
    ----------
    n_subjects : int
        Number of subjects (1..100000).
    seed : int
        Seeds the draw; subject ``i`` depends on ``seed`` and ``i`` only.
    conditions : sequence of str
        Conditions the subjects are tested in (keys of ``CONDITIONS``).
    duration_s : float
        The protocol's maximum single-leg time (s): a time to failure at or beyond it is censored.
    id_prefix : str
        Subject ids are ``f"{id_prefix}{i + 1:02d}"``.

    Returns
    -------
    list of SubjectParameters

    Notes
    -----
    Sources: Fryar et al. 2025 (NHANES 2021-2023, Tables 7 and 10), Santos & Duarte 2016 (BDS), Springer et al.
    2007; see ``SOURCES`` and the module docstring for what is an assumption of this generator.
    """
    validate_type(n_subjects, int, "n_subjects")
    if not 1 <= n_subjects <= 100000:
        raise InputError(f"n_subjects={n_subjects} outside 1..100000", field="n_subjects")
    validate_type(seed, int, "seed")
    if seed < 0:
        raise InputError(f"seed={seed} is negative", field="seed", expected="a non-negative integer")
    conditions = tuple(conditions)
    if not conditions:
        raise InputError("no conditions", field="conditions", expected=f"some of {list(CONDITIONS)}")
    for c in conditions:
        check_option("condition", c, CONDITIONS)
    validate_type(duration_s, "numeric", "duration_s")
    if not 0.5 <= duration_s <= 300:
        raise InputError(f"duration_s={duration_s} outside 0.5..300 s", field="duration_s")
    validate_type(id_prefix, str, "id_prefix")
    children = np.random.SeedSequence(seed).spawn(n_subjects)
    return [_draw_one(np.random.default_rng(ss), f"{id_prefix}{i + 1:02d}", conditions, float(duration_s))
            for i, ss in enumerate(children)]


def _draw_one(rng: np.random.Generator, sid: str, conditions: tuple, duration_s: float) -> SubjectParameters:
    # Fixed order of draws (so one parameter's rule can change without reshuffling the others' random numbers):
    # sex, age, height, BMI, sway (amplitude then frequency, one normal per condition of CONDITIONS plus the
    # shared factor), strategy, knee baseline, knee excursion, time to failure.
    sex = "female" if rng.random() < 0.5 else "male"
    age = float(rng.uniform(*AGE_RANGE))
    decade = _decade(age)
    height_cm = _from_percentiles(rng.standard_normal(), NHANES_HEIGHT_CM[(sex, decade)][1])
    bmi = _from_percentiles(rng.standard_normal(), NHANES_BMI[(sex, decade)][1])
    height_m = round(height_cm / 100.0, 4)
    mass = round(bmi * height_m ** 2, 2)
    group = "older" if age >= BDS_OLDER_FROM_YEARS else "young"
    all_conds = tuple(CONDITIONS)
    amp = _correlated_log_ratios(rng, group, "rms")
    freq = _correlated_log_ratios(rng, group, "mean_freq")
    z_strategy = rng.standard_normal()
    valgus = float(KNEE_VALGUS_MEAN_SD[0] + KNEE_VALGUS_MEAN_SD[1] * rng.standard_normal())
    excursion0 = float(KNEE_EXCURSION_MEDIAN_LOGSD[0] * math.exp(KNEE_EXCURSION_MEDIAN_LOGSD[1]
                                                                 * rng.standard_normal()))
    springer = SPRINGER_EC_BEST_OF_3_S[(sex, _springer_group(age))]
    # log-normal with that mean: median = mean / exp(sigma^2 / 2)
    ec_ttf = float(springer * math.exp(TTF_LOG_SD * rng.standard_normal() - TTF_LOG_SD ** 2 / 2))
    p = SubjectParameters(subject_id=sid, sex=sex, age_years=round(age, 2), height_m=height_m, mass_kg=mass,
                          bmi=round(float(bmi), 3), duration_s=duration_s, conditions=conditions,
                          knee_valgus_deg=round(valgus, 3), ec_time_to_failure_s=round(ec_ttf, 3))
    lo, hi = HIP_FRACTION_LIMITS
    for c in all_conds:
        if c not in conditions:
            continue
        ratio = float(math.exp(amp[c]))
        s = float(math.exp(freq[c]))
        p.cop_amplitude_ratio[c] = round(ratio, 4)
        p.sway_frequency_scale[c] = round(s, 4)
        # the COP of a faster sway is larger for the same angles (inverted pendulum): divide that out
        p.sway_scale[c] = round(ratio * (1 + KAPPA) / (1 + KAPPA * s ** 2), 4)
        logit = (math.log(HIP_FRACTION_MEDIAN / (1 - HIP_FRACTION_MEDIAN)) + HIP_FRACTION_LOGIT_SD * z_strategy
                 + HIP_FRACTION_SHIFT["eyes_closed"] * c.startswith("eyes_closed")
                 + HIP_FRACTION_SHIFT["foam"] * c.endswith("foam"))
        p.hip_fraction[c] = round(min(hi, max(lo, 1 / (1 + math.exp(-logit)))), 4)
        p.knee_valgus_excursion_deg[c] = round(excursion0 * math.sqrt(CONDITIONS[c]), 3)
        if c.startswith("eyes_closed"):
            ttf = ec_ttf * (TTF_FOAM_FACTOR if c.endswith("foam") else 1.0)
            ttf = max(MIN_FAIL_S, ttf)
            p.time_to_failure_s[c] = round(ttf, 3)
            p.fail_at_s[c] = round(ttf, 3) if ttf < duration_s else None
        else:
            p.time_to_failure_s[c] = float("inf")
            p.fail_at_s[c] = None
    return p


def _decade(age: float) -> str:
    lo = int(min(max(age, 20.0), 79.999) // 10 * 10)
    return f"{lo}-{lo + 9}"


def _springer_group(age: float) -> str:
    if age < 40:
        return "18-39"
    if age >= 80:
        return "80+"
    lo = int(age // 10 * 10)
    return f"{lo}-{lo + 9}"


#: Standard-normal scores of NHANES_PERCENTILES.
_Z = np.array([-1.6448536, -1.2815516, -1.0364334, -0.6744898, 0.0, 0.6744898, 1.0364334, 1.2815516, 1.6448536])


def _from_percentiles(z: float, values) -> float:
    """The quantile function through the published percentiles, at the standard-normal score ``z``.

    Linear between tabulated percentiles in the normal-score scale; beyond the 5th and 95th percentiles the
    outermost segment's slope continues, up to |z| = 3 (so the 0.13 % tails are not extrapolated further).
    """
    v = np.asarray(values, float)
    z = float(np.clip(z, -3.0, 3.0))
    if z < _Z[0]:
        return float(v[0] + (z - _Z[0]) * (v[1] - v[0]) / (_Z[1] - _Z[0]))
    if z > _Z[-1]:
        return float(v[-1] + (z - _Z[-1]) * (v[-1] - v[-2]) / (_Z[-1] - _Z[-2]))
    return float(np.interp(z, _Z, v))


def _correlated_log_ratios(rng: np.random.Generator, group: str, metric: str) -> dict[str, float]:
    """Log of the subject's sway metric relative to young adults, per condition (all of ``CONDITIONS``).

    Compound symmetry: ``z_c = sqrt(rho) u + sqrt(1 - rho) e_c``, so each condition has the pooled
    within-group log-SD and any two conditions correlate by the BDS ``rho``.
    """
    rho = min(max(BDS_SWAY[f"rho_{metric}"], 0.0), 1.0)
    key_gm = "gm_rms_mm" if metric == "rms" else "gm_mean_freq_hz"
    u = rng.standard_normal()
    e = rng.standard_normal(len(CONDITIONS))
    out = {}
    for c, ec in zip(CONDITIONS, e):
        z = math.sqrt(rho) * u + math.sqrt(1 - rho) * ec
        young = BDS_SWAY["groups"]["young"][c][key_gm]
        own = BDS_SWAY["groups"][group][c][key_gm]
        out[c] = math.log(own / young) + BDS_SWAY[f"pooled_log_sd_{metric}"][c] * z
    return out


# -- the BDS summary ----------------------------------------------------------------------------------------
_BDS_CONDITION = {("Open", "Firm"): "eyes_open_firm", ("Open", "Foam"): "eyes_open_foam",
                  ("Closed", "Firm"): "eyes_closed_firm", ("Closed", "Foam"): "eyes_closed_foam"}


def summarize_bds(folder: str | Path) -> dict[str, Any]:
    """The ``BDS_SWAY`` table recomputed from the BDS trials in ``folder`` (``../shared/data/cop_bds``).

    Per trial: resultant COP RMS ``sqrt(rms_ap^2 + rms_ml^2)`` (mm) and COP mean frequency (Hz) of the
    :mod:`ground_truth.sway` ``bds2016`` convention (Santos & Duarte 2016: the whole 60-s trial, no
    filtering). Per subject and condition the geometric mean over its trials; per age group (``AgeGroup`` of
    ``BDSinfoCOP_trials001-200.tsv``: "Young" < 60 years, "Old") and condition the geometric mean and log-SD
    over subjects; the log-SD pooled within the age groups; and ``rho``: the mean, over pairs of conditions, of
    the correlation of the subjects' deviations from their group's mean log (pairs with both conditions).

    Raises
    ------
    NotAvailableError
        ``folder`` has no ``BDSinfoCOP_trials001-200.tsv``.
    """
    import pandas as pd

    from ..readers import read_recording
    from ..sway import sway_metrics

    folder = Path(folder)
    info_path = folder / "BDSinfoCOP_trials001-200.tsv"
    if not info_path.exists():
        raise NotAvailableError(f"no BDS metadata at {info_path}: the trials of Santos & Duarte 2016 "
                                f"(../shared/data/cop_bds) are not on this machine")
    info = pd.read_csv(info_path, sep="\t")
    rows = []
    for r in info.itertuples(index=False):
        rec = read_recording(folder / f"{r.Trial}.txt")
        _, cop = rec.horizontal_cop(0)
        m = sway_metrics(cop, rec.plate(0).fs, "bds2016").metrics
        rows.append({"subject": int(r.Subject), "group": "older" if r.AgeGroup == "Old" else "young",
                     "condition": _BDS_CONDITION[(r.Vision, r.Surface)],
                     "log_rms": math.log(10.0 * math.hypot(m["rms_ap_cm"], m["rms_ml_cm"])),
                     "log_mean_freq": math.log(m["mean_frequency_hz"])})
    trials = pd.DataFrame(rows)
    subj = trials.groupby(["subject", "group", "condition"], as_index=False).agg(
        log_rms=("log_rms", "mean"), log_mean_freq=("log_mean_freq", "mean"), n_trials=("log_rms", "size"))
    conds = list(CONDITIONS)
    groups: dict[str, dict] = {}
    for (g, c), d in subj.groupby(["group", "condition"]):
        groups.setdefault(g, {})[c] = {
            "n_subjects": len(d), "n_trials": int(d["n_trials"].sum()),
            "gm_rms_mm": _r(math.exp(d["log_rms"].mean())), "log_sd_rms": _r(float(d["log_rms"].std(ddof=1))),
            "gm_mean_freq_hz": _r(math.exp(d["log_mean_freq"].mean())),
            "log_sd_mean_freq": _r(float(d["log_mean_freq"].std(ddof=1)))}
    out: dict[str, Any] = {"groups": {g: {c: groups[g][c] for c in conds} for g in ("young", "older")}}
    for metric in ("rms", "mean_freq"):
        col = f"log_{metric}"
        dev = subj.assign(dev=subj[col] - subj.groupby(["group", "condition"])[col].transform("mean"))
        pooled = {}
        for c in conds:
            d = dev[dev["condition"] == c]
            dof = len(d) - d["group"].nunique()
            pooled[c] = _r(math.sqrt(float((d["dev"] ** 2).sum()) / dof))
        out[f"pooled_log_sd_{metric}"] = pooled
        wide = dev.pivot_table(index="subject", columns="condition", values="dev")
        cors = [float(wide[[a, b]].dropna().corr().iloc[0, 1]) for i, a in enumerate(conds) for b in conds[i + 1:]]
        out[f"rho_{metric}"] = _r(float(np.mean(cors)))
    out["n_trials"] = len(trials)
    out["n_subjects"] = int(trials["subject"].nunique())
    return out


def _r(x: float) -> float:
    """Four significant digits: the frozen table's precision."""
    return float(f"{x:.4g}")
