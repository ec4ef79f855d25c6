"""The KPI registry: every score a protocol reports, with its unit, kind, plain-language meaning and source.

Names here are the keys used in ``results.json`` (``trials[].kpis[].kpi``, ``agreement[].kpi``). The plain
descriptions are written for clinical readers of the report; the ``definition`` says exactly how the number is
computed and ``citation`` where that definition comes from.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from ground_truth.kernel import InputError, check_option, lookup, validate_type

#: Kinds of KPI: a number on a continuous scale, a label from a fixed set, or a duration that may be cut off by
#: the end of the trial (right-censored: "stood for at least 45 s").
KPI_KINDS = ("continuous", "categorical", "censored")

PRIETO_1996 = ("Prieto TE, Myklebust JB, Hoffmann RG, Lovett EG, Myklebust BM. Measures of postural steadiness: "
               "differences between healthy young and elderly adults. IEEE Trans Biomed Eng. 1996;43(9):956-966.")
DUARTE_2010 = ("Duarte M, Freitas SMSF. Revision of posturography based on force plate for balance evaluation. "
               "Rev Bras Fisioter. 2010;14(3):183-192.")
WINTER_1995 = ("Winter DA. Human balance and posture control during standing and walking. Gait Posture. "
               "1995;3(4):193-214.")
SPRINGER_2007 = ("Springer BA, Marin R, Cyhan T, Roberts H, Gill NW. Normative values for the unipedal stance "
                 "test with eyes open and closed. J Geriatr Phys Ther. 2007;30(1):8-15.")
HORAK_NASHNER_1986 = ("Horak FB, Nashner LM. Central programming of postural movements: adaptation to altered "
                      "support-surface configurations. J Neurophysiol. 1986;55(6):1369-1381.")
WILLSON_DAVIS_2008 = ("Willson JD, Davis IS. Utility of the frontal plane projection angle in females with "
                      "patellofemoral pain. J Orthop Sports Phys Ther. 2008;38(10):606-615.")
PLISKY_2009 = ("Plisky PJ, Gorman PP, Butler RJ, Kiesel KB, Underwood FB, Elkins B. The reliability of an "
               "instrumented device for measuring components of the star excursion balance test. "
               "N Am J Sports Phys Ther. 2009;4(2):92-99.")


@dataclass(frozen=True)
class KPI:
    """One key performance indicator (a clinical score).

    Parameters
    ----------
    name : str
        Key used in results (snake_case).
    unit : str
        Unit of the reported value ("" for labels).
    kind : {"continuous", "categorical", "censored"}
        How agreement is measured: Bland-Altman/ICC/CCC for continuous, kappa and a confusion matrix for
        categorical, Bland-Altman on the uncensored pairs plus a censoring count for censored.
    description : str
        What the number means, in plain language for clinical readers.
    definition : str
        How it is computed, precisely enough to re-implement.
    citation : str
        Where the definition comes from.
    labels : tuple of str
        Allowed labels of a categorical KPI (empty otherwise).
    """

    name: str
    unit: str
    kind: str
    description: str
    definition: str
    citation: str
    labels: tuple[str, ...] = ()

    def __post_init__(self):
        validate_type(self.name, str, "name")
        check_option("kind", self.kind, KPI_KINDS)
        if self.kind == "categorical" and not self.labels:
            raise InputError(f"categorical KPI {self.name!r} needs its labels", field="labels")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["labels"] = list(self.labels)
        return d


def _sway(signal: str, long: str, source: str) -> list[KPI]:
    """The five families of sway measures (Prieto et al. 1996) for the COP or the COM."""

    def rms(axis: str, plain: str, direction: str) -> KPI:
        return KPI(f"{signal}_rms_{axis}", "cm", "continuous",
                   f"Typical {plain} ({direction}) distance of the {long} from its mean position.",
                   f"Root mean square of the mean-removed {direction} {source} displacement.", PRIETO_1996)

    return [
        KPI(f"{signal}_path_length", "cm", "continuous",
            f"Total distance the {long} travelled during the trial. Longer paths mean more corrective movement "
            f"(less steady).",
            f"Sum of the Euclidean distances between successive horizontal {source} positions (ML, AP), after "
            f"low-pass filtering (state cut-off and rate).", PRIETO_1996),
        KPI(f"{signal}_mean_velocity", "cm/s", "continuous",
            f"Average speed of the {long}: path length divided by trial duration.",
            f"{signal.upper()} path length / duration of the analysed window.", PRIETO_1996),
        KPI(f"{signal}_area_95_ellipse", "cm²", "continuous",
            f"Size of the area that holds 95% of the {long} positions. Larger areas mean wider sway.",
            f"Area of the 95% confidence ellipse of the horizontal {source} positions (Prieto et al. 1996): "
            f"2π·F(0.95; 2, n−2)·sqrt(s_AP²·s_ML² − s_APML²), with the AP and ML variances and covariance; "
            f"other conventions (e.g. chi-square prediction ellipse) are named in the results' method.",
            f"{PRIETO_1996} {DUARTE_2010}"),
        rms("ml", "side-to-side", "medio-lateral"),
        rms("ap", "front-to-back", "antero-posterior"),
        KPI(f"{signal}_mean_frequency", "Hz", "continuous",
            f"How many back-and-forth sway cycles per second the {long} makes on average.",
            f"Prieto's mean frequency: path length / (2π · mean distance from the mean position · duration).",
            PRIETO_1996),
    ]


def _reach(direction: str, how_far: str, limb_length: str = "") -> KPI:
    """One Y-Balance reach direction (Plisky et al. 2009), normalised to limb length."""
    return KPI(f"ybt_{direction}_reach", "%LL", "continuous",
               f"How far {how_far}, as a percentage of leg length.",
               f"Maximal {direction} reach distance / limb length{limb_length} × 100.", PLISKY_2009)


_KPIS: tuple[KPI, ...] = (
    *_sway("cop", "centre of pressure (the point under the foot where the body's weight acts)",
           "force-plate centre-of-pressure"),
    *_sway("com", "body's centre of mass", "whole-body centre-of-mass"),
    KPI("time_to_failure", "s", "censored",
        "How long the person kept their balance before a stopping rule ended the trial. A trial that reached "
        "the maximum duration is 'censored': we only know the person could stand at least that long.",
        "Time from the start event (foot lift) to the first stopping-rule event (foot touch-down, stance foot "
        "moves, hands leave hips, eyes open in an eyes-closed trial), or the maximum duration if none occurred "
        "(then censored=true).", SPRINGER_2007),
    KPI("strategy_label", "", "categorical",
        "Which joints do most of the balancing work: 'ankle' (the body sways as one piece over the ankle), "
        "'hip' (the trunk and hips move to correct), or 'mixed'.",
        "hip_fraction = RMS(hip angle) / (RMS(hip angle) + RMS(ankle angle)) of the detrended, low-pass "
        "filtered angles in the single-leg window: 'ankle' below 0.4, 'hip' above 0.6, 'mixed' in between "
        "(stancebench's thresholds: there is no published universal cut-off; ground_truth.strategy). Reference "
        "from marker joint angles, candidate from keypoint angles.",
        f"{HORAK_NASHNER_1986} Creath R, Kiemel T, Horak F, Peterka R, Jeka J. A unified view of quiet and "
        f"perturbed stance: simultaneous co-existing excitable modes. Neurosci Lett. 2005;377(2):75-80.",
        labels=("ankle", "hip", "mixed")),
    KPI("knee_frontal_excursion", "deg", "continuous",
        "How far the stance knee moves inward or outward (valgus/varus) during the trial, in degrees. Large "
        "inward movement is a sign of poor knee control.",
        "Range (max − min) of the frontal-plane projection angle between thigh (hip→knee) and shank "
        "(knee→ankle) of the stance leg, after a 6 Hz zero-phase low-pass (ground_truth.angles.angle_excursion; "
        "the range of an unfiltered angle grows with its noise).", WILLSON_DAVIS_2008),
    _reach("anterior", "forward the free foot reached while standing on the other leg",
           " (ASIS to medial malleolus)"),
    _reach("posteromedial", "backward and across the body the free foot reached"),
    _reach("posterolateral", "backward and to the outside the free foot reached"),
    KPI("ybt_composite", "%LL", "continuous",
        "Overall Y-Balance score: the three reaches together, relative to leg length. Higher is better.",
        "(anterior + posteromedial + posterolateral reach) / (3 × limb length) × 100.", PLISKY_2009),
)

KPIS: dict[str, KPI] = {k.name: k for k in _KPIS}


def get_kpi(name: str) -> KPI:
    """The registered KPI called ``name``; InputError listing the known names otherwise."""
    return lookup(KPIS, name, "KPI", "kpi")


def list_kpis() -> list[str]:
    """Names of all registered KPIs, in registry order."""
    return list(KPIS)
