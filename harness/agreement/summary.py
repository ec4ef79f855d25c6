"""One call that produces a results-schema "agreement" record for a candidate KPI."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ground_truth.kernel import InputError

from ._checks import paired_arrays
from .bland_altman import bland_altman, bland_altman_replicates
from .bootstrap import bootstrap_ci
from .ccc import ccc
from .censoring import handle_censored
from .icc import icc_table
from .interpret import icc_reading_fields


def agreement_summary(reference, candidate, *, subjects=None, reference_censored=None, candidate_censored=None,
                      multiplier: float = 1.96, confidence: float = 0.95, loa_ci: str = "approximate",
                      icc_type: str = "ICC(A,1)", n_resamples: int = 2000, seed=0) -> dict:
    """Bland-Altman, ICC, CCC and MAE of one KPI, as a flat dict with the names of docs/results-schema.md.

    Parameters
    ----------
    reference, candidate : array-like (n,)
        One value per trial; differences are candidate − reference.
    subjects : array-like (n,), optional
        Subject of each trial. With several trials per subject the limits use Bland & Altman (2007) for
        replicates whose true value varies (MOVER CIs unless ``loa_ci='approximate'``) and the MAE CI is a
        subject-clustered bootstrap; ICC and CCC treat each trial as a target.
    reference_censored, candidate_censored : array-like of bool, optional
        Values censored at the trial's maximum (see :mod:`harness.agreement.censoring`): such pairs are
        excluded and counted in ``n_censored`` with a ``note``.

    Returns
    -------
    dict
        ``n``, ``n_subjects``, ``bias``, ``bias_ci_low``, ..., ``loa_upper_ci_high``, ``multiplier``,
        ``icc_type``, ``icc``, ``icc_ci_low``, ``icc_ci_high``, ``icc_reading`` (Koo & Li on the CI, from
        :mod:`harness.agreement.interpret`) with ``icc_reading_source`` and ``icc_reading_scale``,
        ``icc_interpretation`` (= ``icc_reading``, schema v1),
        ``ccc``, ``ccc_ci_low``, ``ccc_ci_high``, ``mae``, ``mae_ci_low``, ``mae_ci_high``, ``n_censored``,
        ``ba_method``, ``note``.
    """
    ref = np.asarray(reference, dtype=float)
    cand = np.asarray(candidate, dtype=float)
    if ref.shape != cand.shape or ref.ndim != 1:
        raise InputError(f"reference has shape {ref.shape} but candidate {cand.shape}", field="candidate",
                         expected="two 1-D arrays of the same length")
    subj = np.arange(ref.size) if subjects is None else np.asarray(subjects)
    if subj.shape != ref.shape:
        raise InputError(f"subjects has {subj.size} labels for {ref.size} values", field="subjects",
                         expected="one subject per value")
    keep, report = handle_censored(ref, cand, reference_censored=reference_censored,
                                   candidate_censored=candidate_censored)
    notes = [report.note] if report.note else []
    finite = np.isfinite(ref) & np.isfinite(cand)
    if (keep & ~finite).any():
        notes.append(f"{int((keep & ~finite).sum())} pair(s) with a missing value excluded")
    keep &= finite
    ref, cand, subj = ref[keep], cand[keep], subj[keep]
    paired_arrays(ref, cand, min_n=3)
    n_subjects = int(pd.Series(subj).nunique())
    replicated = n_subjects < ref.size
    if replicated:
        frame = pd.DataFrame({"s": subj, "r": ref, "c": cand})
        ba = bland_altman_replicates(frame, subject="s", reference="r", candidate="c", method="ba2007",
                                     multiplier=multiplier, confidence=confidence,
                                     loa_ci="mover" if loa_ci != "approximate" else "approximate")
    else:
        ba = bland_altman(ref, cand, multiplier=multiplier, confidence=confidence, loa_ci=loa_ci)
    if ba.note:
        notes.append(ba.note)
    out = {key: getattr(ba, key) for key in (
        "bias", "bias_ci_low", "bias_ci_high", "sd", "multiplier", "loa_lower", "loa_lower_ci_low",
        "loa_lower_ci_high", "loa_upper", "loa_upper_ci_low", "loa_upper_ci_high")}
    out.update(n=int(ref.size), n_subjects=n_subjects, ba_method=ba.method, loa_ci_method=ba.loa_ci_method)
    tab = icc_table(np.column_stack([ref, cand]), confidence).set_index("type").loc[icc_type]
    out.update(icc_type=icc_type, icc=float(tab["icc"]), icc_ci_low=float(tab["ci_low"]),
               icc_ci_high=float(tab["ci_high"]), **icc_reading_fields(float(tab["ci_low"]), float(tab["ci_high"])))
    # schema v1 field, kept for its readers: the same words as icc_reading
    out["icc_interpretation"] = out["icc_reading"]
    try:
        c = ccc(ref, cand, confidence=confidence)
        out.update(ccc=c.ccc, ccc_ci_low=c.ccc_ci_low, ccc_ci_high=c.ccc_ci_high)
    except InputError as exc:
        out.update(ccc=float("nan"), ccc_ci_low=float("nan"), ccc_ci_high=float("nan"))
        notes.append(f"CCC undefined: {exc.reason}")
    err = np.abs(cand - ref)
    if n_subjects >= 3:
        boot = bootstrap_ci(np.mean, err, clusters=subj, n_resamples=n_resamples, confidence=confidence, seed=seed)
        out.update(mae=float(err.mean()), mae_ci_low=boot.ci_low, mae_ci_high=boot.ci_high)
    else:
        out.update(mae=float(err.mean()), mae_ci_low=float("nan"), mae_ci_high=float("nan"))
        notes.append("MAE CI needs at least 3 subjects")
    out.update(n_censored=report.n_censored, confidence=confidence,
               convention="difference = candidate - reference", note="; ".join(notes))
    return out
