"""Intraclass correlation coefficients (the six McGraw & Wong forms), their F-based CIs, SEM and MDC.

Vectorised over a leading batch axis so that the subject bootstrap runs without a Python loop.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ground_truth.kernel import InputError, check_option, validate_type

from ._checks import check_confidence, check_magnitude, distinct_columns, normalise_ids

ICC_TYPES = ("ICC(1,1)", "ICC(A,1)", "ICC(C,1)", "ICC(1,k)", "ICC(A,k)", "ICC(C,k)")
#: Shrout & Fleiss (1979) names of the McGraw & Wong (1996) forms.
SHROUT_FLEISS = {"ICC(1,1)": "ICC1", "ICC(A,1)": "ICC2", "ICC(C,1)": "ICC3",
                 "ICC(1,k)": "ICC1k", "ICC(A,k)": "ICC2k", "ICC(C,k)": "ICC3k"}
DESCRIPTIONS = {
    "ICC(1,1)": "one-way random effects, absolute agreement, single rater",
    "ICC(A,1)": "two-way random effects, absolute agreement, single rater",
    "ICC(C,1)": "two-way mixed effects, consistency, single rater",
    "ICC(1,k)": "one-way random effects, absolute agreement, mean of k raters",
    "ICC(A,k)": "two-way random effects, absolute agreement, mean of k raters",
    "ICC(C,k)": "two-way mixed effects, consistency, mean of k raters",
}


def _unit_scaled(y: np.ndarray) -> tuple[np.ndarray, float]:
    """``y / s`` and ``s``, a power of two that brings the largest |rating| into [0.5, 1).

    Every ICC, F statistic and CI is a ratio of mean squares, so it does not change with the unit; dividing by a
    power of two is exact, and it keeps squared deviations of ratings like 1e-300 from underflowing to 0 (which
    read as "no residual variance") and those of very large ratings from overflowing.
    """
    y = np.asarray(y, dtype=float)
    biggest = float(np.max(np.abs(y))) if y.size else 0.0
    if not np.isfinite(biggest) or biggest == 0.0:
        return y, 1.0
    s = float(np.ldexp(1.0, int(np.frexp(biggest)[1])))
    return y / s, s


def mean_squares(y: np.ndarray) -> dict[str, np.ndarray]:
    """Two-way ANOVA mean squares of ratings ``y`` of shape (..., n_targets, k_raters), no missing values."""
    n, k = y.shape[-2], y.shape[-1]
    grand = y.mean(axis=(-2, -1), keepdims=True)
    dev = y - grand
    row = dev.mean(axis=-1)            # target effects
    col = dev.mean(axis=-2)            # rater effects
    ss_total = np.einsum("...ij,...ij->...", dev, dev)
    ss_b = k * np.einsum("...i,...i->...", row, row)
    ss_j = n * np.einsum("...j,...j->...", col, col)
    ss_e = ss_total - ss_b - ss_j
    return {"msb": ss_b / (n - 1), "msj": ss_j / (k - 1), "mse": ss_e / ((n - 1) * (k - 1)),
            "msw": (ss_j + ss_e) / (n * (k - 1)), "n": n, "k": k}


def icc_values(y: np.ndarray) -> dict[str, np.ndarray]:
    """The six ICC point estimates of ratings ``y`` (..., n, k); batched over leading axes."""
    ms = mean_squares(_unit_scaled(y)[0])
    msb, msj, mse, msw, n, k = ms["msb"], ms["msj"], ms["mse"], ms["msw"], ms["n"], ms["k"]
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "ICC(1,1)": (msb - msw) / (msb + (k - 1) * msw),
            "ICC(A,1)": (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n),
            "ICC(C,1)": (msb - mse) / (msb + (k - 1) * mse),
            "ICC(1,k)": (msb - msw) / msb,
            "ICC(A,k)": (msb - mse) / (msb + (msj - mse) / n),
            "ICC(C,k)": (msb - mse) / msb,
        }


def icc_table(y: np.ndarray, confidence: float = 0.95) -> pd.DataFrame:
    """ICC table (six rows) of a complete (n_targets, k_raters) matrix; see :func:`icc`."""
    y, _ = _unit_scaled(np.asarray(y, dtype=float))
    ms = mean_squares(y)
    msb, msj, mse, msw, n, k = (np.float64(ms[key]) if key not in ("n", "k") else ms[key]
                                for key in ("msb", "msj", "mse", "msw", "n", "k"))
    est = {key: float(v) for key, v in icc_values(y).items()}
    note = ""
    if mse <= 1e-13 * max(msb, 1e-300) or msw <= 1e-13 * max(msb, 1e-300):
        note = ("residual mean square is 0 (raters differ only by constants): F is infinite and the F-based CIs "
                "are undefined (NaN)")
    with np.errstate(divide="ignore", invalid="ignore"):
        return _icc_rows(msb, msj, mse, msw, n, k, est, confidence, note)


def _icc_rows(msb, msj, mse, msw, n, k, est, confidence, note):
    alpha = 1.0 - confidence
    f1 = msb / msw
    df1, df1w, df2e = n - 1, n * (k - 1), (n - 1) * (k - 1)
    f3 = msb / mse
    p1, p3 = stats.f.sf(f1, df1, df1w), stats.f.sf(f3, df1, df2e)
    # One-way and consistency forms: exact F intervals (McGraw & Wong 1996, Table 7).
    f1l = f1 / stats.f.ppf(1 - alpha / 2, df1, df1w)
    f1u = f1 * stats.f.ppf(1 - alpha / 2, df1w, df1)
    f3l = f3 / stats.f.ppf(1 - alpha / 2, df1, df2e)
    f3u = f3 * stats.f.ppf(1 - alpha / 2, df2e, df1)
    # Absolute agreement: Satterthwaite-type approximate df (McGraw & Wong 1996, Table 7, case 2A).
    icc2 = est["ICC(A,1)"]
    fj = msj / mse
    vn = df2e * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    vd = df1 * k ** 2 * icc2 ** 2 * fj ** 2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    v = vn / vd
    f2u = stats.f.ppf(1 - alpha / 2, n - 1, v)
    f2l = stats.f.ppf(1 - alpha / 2, v, n - 1)
    l2 = n * (msb - f2u * mse) / (f2u * (k * msj + (k * n - k - n) * mse) + n * msb)
    u2 = n * (f2l * msb - mse) / (k * msj + (k * n - k - n) * mse + n * f2l * msb)
    ci = {
        "ICC(1,1)": ((f1l - 1) / (f1l + k - 1), (f1u - 1) / (f1u + k - 1)),
        "ICC(A,1)": (l2, u2),
        "ICC(C,1)": ((f3l - 1) / (f3l + k - 1), (f3u - 1) / (f3u + k - 1)),
        "ICC(1,k)": (1 - 1 / f1l, 1 - 1 / f1u),
        "ICC(A,k)": (l2 * k / (1 + l2 * (k - 1)), u2 * k / (1 + u2 * (k - 1))),
        "ICC(C,k)": (1 - 1 / f3l, 1 - 1 / f3u),
    }
    rows = []
    for t in ICC_TYPES:
        one_way = t.startswith("ICC(1")
        rows.append({"type": t, "shrout_fleiss": SHROUT_FLEISS[t], "description": DESCRIPTIONS[t],
                     "icc": est[t], "ci_low": float(ci[t][0]), "ci_high": float(ci[t][1]),
                     "f": f1 if one_way else f3, "df1": df1, "df2": df1w if one_way else df2e,
                     "p": float(p1 if one_way else p3), "confidence": confidence, "n_targets": n, "k_raters": k,
                     "note": note})
    out = pd.DataFrame(rows)
    if note:
        out[["ci_low", "ci_high"]] = np.nan
    else:
        # anything else that is not a number must say why (it would be a silent null in JSON)
        cols = ["icc", "ci_low", "ci_high", "f", "p"]
        bad = [f"{c} of {t}" for t, row in zip(out["type"], out[cols].to_numpy(dtype=float))
               for c, v in zip(cols, row) if not np.isfinite(v)]
        if bad:
            out["note"] = (f"{', '.join(bad)} could not be computed (not a finite number in float64 for "
                           f"{n} targets x {k} raters)")
    return out


def ratings_matrix(data: pd.DataFrame, targets: str, raters: str, ratings: str, *,
                   nan_policy: str = "raise") -> tuple[np.ndarray, str]:
    """Pivot long ratings to a complete (n_targets, k_raters) float matrix, with clear errors.

    Returns the matrix and a note (e.g. how many targets were dropped for missing ratings).
    """
    validate_type(data, pd.DataFrame, "data")
    check_option("nan_policy", nan_policy, ("raise", "omit"))
    distinct_columns({"targets": targets, "raters": raters, "ratings": ratings})
    for col in (targets, raters, ratings):
        if col not in data.columns:
            raise InputError(f"no column named {col!r}", field=col, expected=f"one of {list(data.columns)}")
    try:
        values = pd.to_numeric(data[ratings], errors="raise")
    except (TypeError, ValueError) as exc:
        raise InputError(f"ratings are not numbers ({exc})", field=ratings) from None
    # ids typed by value, as kappa labels are: ' 1', '1' and 1.0 name one target (or rater)
    frame = pd.DataFrame({"t": pd.Series(normalise_ids(list(data[targets])), dtype=object),
                          "r": pd.Series(normalise_ids(list(data[raters])), dtype=object),
                          "y": values.to_numpy(dtype=float)})
    for col, key in ((targets, "t"), (raters, "r")):
        if frame[key].isna().any():
            raise InputError(f"{int(frame[key].isna().sum())} row(s) have no id (first at index "
                             f"{int(np.flatnonzero(frame[key].isna().to_numpy())[0])})", field=col,
                             expected="an id on every row")
    if np.isinf(frame["y"].to_numpy()).any():
        raise InputError("ratings contain infinite values", field=ratings, expected="finite numbers")
    n_raters = frame["r"].nunique(dropna=True)
    if n_raters < 2:
        raise InputError(f"the rater column has {n_raters} level(s)", field=raters,
                         expected="at least 2 raters (methods) per target")
    dup = frame.duplicated(["t", "r"])
    if dup.any():
        raise InputError(f"{int(dup.sum())} duplicated (target, rater) pair(s), e.g. target "
                         f"{frame.loc[dup, 't'].iloc[0]!r}", field=targets,
                         expected="one rating per target and rater (average replicates first)")
    wide = frame.pivot(index="t", columns="r", values="y")
    bad = wide.isna().any(axis=1)
    note = ""
    if bad.any():
        if nan_policy == "raise":
            raise InputError(f"{int(bad.sum())} target(s) have missing ratings (e.g. {wide.index[bad][0]!r})",
                             field=ratings, expected="a rating by every rater for every target, or "
                                                     "nan_policy='omit'")
        note = f"{int(bad.sum())} target(s) with missing ratings excluded"
        wide = wide.loc[~bad]
    return wide.to_numpy(dtype=float), note


def _check_matrix(y: np.ndarray) -> None:
    if y.ndim != 2:
        raise InputError(f"ratings matrix has {y.ndim} dimension(s)", field="ratings",
                         expected="a 2-D (targets x raters) matrix")
    n, k = y.shape
    if k < 2:
        raise InputError(f"only {k} rater(s)", field="raters", expected="at least 2 raters")
    if n < 3:
        raise InputError(f"only {n} complete target(s)", field="targets", expected="at least 3 targets")
    if not np.all(np.isfinite(y)):
        raise InputError("ratings matrix contains NaN or infinite values", field="ratings",
                         expected="complete finite ratings")
    check_magnitude(y, "ratings", n=y.size)
    if np.ptp(y) == 0:
        raise InputError(f"all {y.size} ratings are identical ({y.flat[0]!r}): between- and within-target "
                         f"variances are 0 and the ICC is undefined", field="ratings",
                         expected="ratings that vary between targets")


def icc(data: pd.DataFrame, targets: str, raters: str, ratings: str, *, confidence: float = 0.95,
        nan_policy: str = "raise") -> pd.DataFrame:
    """Intraclass correlation: the six McGraw & Wong (1996) forms with F tests and F-based CIs.

    Parameters
    ----------
    data : DataFrame
        Long format, one row per (target, rater) rating (as pingouin.intraclass_corr).
    targets, raters, ratings : str
        Columns: the subjects/trials rated, the raters or methods, the numeric rating.
    confidence : float
        CI level (any level in (0, 1); 0.95 by default).
    nan_policy : {'raise', 'omit'}
        Targets with a missing rating raise an error, or are dropped (counted in ``note``).

    Returns
    -------
    DataFrame
        Six rows: ``type`` (McGraw & Wong name), ``shrout_fleiss`` (ICC1 ... ICC3k), ``description``, ``icc``,
        ``ci_low``, ``ci_high``, ``f``, ``df1``, ``df2``, ``p``, ``confidence``, ``n_targets``, ``k_raters``,
        ``note``. Nothing is rounded.

    Notes
    -----
    For candidate-versus-reference agreement the relevant form is ICC(A,1) (two-way, absolute agreement,
    single measurement): a constant offset lowers it, unlike ICC(C,1). Interpret the CI, not the point
    estimate, with :func:`harness.agreement.koo_li` (Koo & Li 2016; the boundaries, e.g. 0.90 exactly
    reads good, are in :mod:`harness.agreement.interpret`). Values equal pingouin.intraclass_corr (which
    rounds CIs to 2 decimals by default). References: Shrout PE, Fleiss JL (1979) Psychol Bull 86:420-428;
    McGraw KO, Wong SP (1996) Psychol Methods 1:30-46; Koo TK, Li MY (2016) J Chiropr Med 15:155-163.
    """
    confidence = check_confidence(confidence)
    y, note = ratings_matrix(data, targets, raters, ratings, nan_policy=nan_policy)
    _check_matrix(y)
    out = icc_table(y, confidence)
    out["note"] = "; ".join(x for x in (note, out["note"][0]) if x)
    return out


def sem_mdc(data: pd.DataFrame, targets: str, raters: str, ratings: str, *, icc_type: str = "ICC(A,1)",
            confidence: float = 0.95) -> dict:
    """Standard error of measurement and minimal detectable change (Weir 2005).

    ``sem = sqrt(MS_error)`` of the two-way ANOVA (Weir 2005 recommends it over SD·sqrt(1 − ICC), which
    depends on the sample's spread; both are returned) and ``mdc = z·sqrt(2)·sem`` with z the normal quantile
    of ``confidence`` (MDC95: 1.96·√2·SEM, about 2.77·SEM). Units are those of the ratings.

    Also returned: ``f_raters``/``p_raters``, the F test of systematic differences between raters (trials),
    which Weir recommends checking before choosing an ICC form.

    Reference: Weir JP (2005) J Strength Cond Res 19:231-240.
    """
    check_option("icc_type", icc_type, ICC_TYPES)
    confidence = check_confidence(confidence)
    y, note = ratings_matrix(data, targets, raters, ratings)
    _check_matrix(y)
    value = float(icc_values(y)[icc_type])
    y_unit, scale = _unit_scaled(y)
    ms = mean_squares(y_unit)
    sem = float(np.sqrt(ms["mse"]) * scale)
    sd_all = float(y_unit.std(ddof=1) * scale)
    sem_icc = float(sd_all * np.sqrt(max(1.0 - value, 0.0)))
    z = stats.norm.ppf(0.5 + confidence / 2)
    # Weir 2005: test for systematic differences between raters/trials (learning, fatigue) before choosing
    # between consistency and agreement forms.
    n, k = y.shape
    f_r = float(ms["msj"] / ms["mse"]) if ms["mse"] > 0 else float("inf")
    df_r = (k - 1, (n - 1) * (k - 1))
    return {"f_raters": f_r, "df_raters": df_r, "p_raters": float(stats.f.sf(f_r, *df_r)), "sem": sem,
            "sem_formula": "sqrt(MS_error)", "sem_icc": sem_icc,
            "sem_icc_formula": f"SD * sqrt(1 - {icc_type})", "icc_type": icc_type, "icc": value,
            "mdc": float(z * np.sqrt(2) * sem), "mdc_formula": f"{z:.4g} * sqrt(2) * sem",
            "confidence": confidence, "note": note}
