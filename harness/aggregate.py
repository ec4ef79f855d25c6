"""Agreement sections of ``results.json`` from the paired KPI rows of a study.

Per candidate × KPI × protocol × condition (``"all"`` pools the conditions of one protocol; protocols are never
pooled): Bland-Altman bias and limits with CIs
(replicates method of Bland & Altman 2007 with MOVER CIs when subjects contribute several trials, the classic
1986/1999 method otherwise), ICC(A,1) with its F-based CI and the Koo & Li (2016) reading of that CI, Lin's
CCC with CI, and the mean absolute error with a subject-clustered bootstrap CI. Censored KPIs
(time-to-failure) are analysed on the pairs where neither side was censored; the censored pairs are counted
(``n_censored``) and the note says how often the two sides agreed on censoring. Categorical KPIs (strategy
label) get Cohen's kappa and a confusion matrix. Each non-baseline candidate is compared with the baseline
on the same trials (difference in MAE, paired subject-clustered bootstrap).

All statistics come from :mod:`harness.agreement`; a statistic that is missing or refuses the data (too few
pairs, no spread) leaves its fields null and says why in ``note``.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ground_truth.kernel import InputError, StancebenchError, record_unexpected

MIN_PAIRS = 3


PAIR_COLUMNS = ["trial_id", "subject", "protocol", "condition", "candidate", "kpi", "unit", "reference",
                "candidate_value", "censored_reference", "censored_candidate"]


def pair_records(rows: list[dict]) -> list[dict]:
    """The paired KPI values: one record per trial × candidate × KPI of an ok, paired trial (columns
    :data:`PAIR_COLUMNS`). This is the one definition of a pair: the agreement statistics are computed on it and
    it is written as ``results["pairs"]`` for the report (docs/results-schema.md)."""
    recs = []
    for r in rows:
        if r.get("status") != "ok" or r.get("kind", "paired") != "paired" or not r.get("candidate"):
            continue
        for k in r.get("kpis", []):
            recs.append({"trial_id": r["trial_id"], "subject": r["subject"],
                         "protocol": r.get("protocol", ""), "condition": r["condition"],
                         "candidate": r["candidate"], "kpi": k["kpi"], "unit": k.get("unit", ""),
                         "reference": k.get("reference"), "candidate_value": k.get("candidate"),
                         "censored_reference": bool(k.get("censored_reference", k.get("censored", False))),
                         "censored_candidate": bool(k.get("censored_candidate", k.get("censored", False)))})
    return recs


def paired_table(rows: list[dict]) -> pd.DataFrame:
    """:func:`pair_records` as a long table (one row per trial × candidate × KPI)."""
    return pd.DataFrame.from_records(pair_records(rows), columns=PAIR_COLUMNS)


def kpi_sections(rows: list[dict], own_protocols: dict | None = None, *,
                 names: tuple[str, ...] | list[str] = ()) -> dict[str, list[dict]]:
    """The ``kpis`` and ``protocols`` sections: what the report needs to know about the study's KPIs and
    protocols, so that it never asks the ``protocols`` registry itself (docs/results-schema.md).

    Parameters
    ----------
    rows : list of dict
        The study's trial rows (``trials[]``).
    own_protocols : dict, optional
        The study's own protocol definitions by name (``study.own_protocols``); they take precedence over the
        built-in protocols of the same name.
    names : sequence of str, optional
        Further KPIs to describe (e.g. of agreement rows built without trial rows).
    """
    from protocols import get_kpi, get_protocol, protocol_from_dict

    own = own_protocols or {}
    protocols, kpi_names, reported_by, by_design = [], [], {}, {}
    for name in sorted({r.get("protocol") for r in rows if r.get("protocol")}):
        try:
            proto, source = (protocol_from_dict(own[name]), "study") if name in own else (get_protocol(name),
                                                                                          "built-in")
        except InputError as exc:   # ManifestError too: an unknown name or a broken own definition
            protocols.append({"name": name, "known": False, "source": "unknown", "reason": str(exc)})
            continue
        measurements = [{"kpi": m.kpi, "unit": m.unit, "reference": m.reference, "candidate": m.candidate,
                         "not_measured_reason": m.not_measured_reason} for m in proto.kpis]
        protocols.append({"name": name, "known": True, "source": source, "reason": "", "title": proto.title,
                          "description": proto.description, "citation": proto.citation,
                          "max_duration_s": proto.max_duration_s, "conditions": proto.condition_names,
                          "stopping_rules": [{"name": x.name, "description": x.description}
                                             for x in proto.stopping_rules],
                          "kpis": measurements})
        for m in proto.kpis:
            kpi_names.append(m.kpi)
            reported_by.setdefault(m.kpi, []).append(name)
            if m.candidate is None:
                by_design.setdefault(m.kpi, m.not_measured_reason)
    units = {}
    for r in rows:
        for k in r.get("kpis") or []:
            kpi_names.append(k["kpi"])
            units.setdefault(k["kpi"], k.get("unit") or "")
    kpis = []
    for name in dict.fromkeys([*kpi_names, *names]):
        try:
            info = dict(get_kpi(name).to_dict(), registered=True)
        except InputError:   # a name outside the registry (e.g. an imported table's own score)
            info = {"name": name, "unit": units.get(name, ""), "kind": "continuous", "description": "",
                    "definition": "", "citation": "", "labels": [], "registered": False}
        kpis.append(dict(info, protocols=reported_by.get(name, []), not_measured_reason=by_design.get(name, "")))
    return {"kpis": kpis, "protocols": protocols}


def _kpi_kind(name: str) -> tuple[str, tuple]:
    from protocols import get_kpi
    try:
        k = get_kpi(name)
    except InputError:  # a KPI outside the registry (e.g. a lab's own score): treated as continuous
        return "continuous", ()
    return k.kind, tuple(k.labels)


def _f(x) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _continuous_row(sub: pd.DataFrame, base: dict, settings, kind: str) -> dict:
    """One ``agreement[]`` row through :func:`harness.agreement.agreement_summary`."""
    from harness.agreement import agreement_summary
    from harness.agreement.bland_altman.exact_pair import loa_ci_name

    row = dict(base)
    ref = pd.to_numeric(sub["reference"], errors="coerce").to_numpy(float)
    cand = pd.to_numeric(sub["candidate_value"], errors="coerce").to_numpy(float)
    censored = kind == "censored"
    rc = sub["censored_reference"].to_numpy(bool) if censored else None
    cc = sub["censored_candidate"].to_numpy(bool) if censored else None
    n_cens = int((rc | cc).sum()) if censored else 0
    usable = np.isfinite(ref) & np.isfinite(cand) & (~(rc | cc) if censored else True)
    row.update(n=int(usable.sum()), n_subjects=int(sub.loc[usable, "subject"].nunique()), n_censored=n_cens)
    if row["n"] < MIN_PAIRS:
        row["note"] = (f"too few complete pairs for agreement statistics (n={row['n']}, need {MIN_PAIRS}"
                       + (f"; {n_cens} censored pair(s) excluded" if n_cens else "") + ")")
        return row
    subjects = sub["subject"].to_numpy()
    pre = ""
    if row["n_subjects"] < MIN_PAIRS <= row["n"]:
        # Replicate-aware limits and the clustered bootstrap need >= 3 subjects. With fewer, each trial is taken
        # as its own unit and the note says so: the CIs then ignore within-subject correlation (too narrow).
        subjects = None
        pre = (f"only {row['n_subjects']} subject(s): trials treated as independent units (classic limits; CIs "
               f"ignore within-subject correlation and are too narrow)")
    try:
        res = agreement_summary(ref, cand, subjects=subjects, reference_censored=rc,
                                candidate_censored=cc, multiplier=settings.loa_multiplier,
                                # one trial per subject: Carkeet's (2015) exact CIs of the two limits as a pair,
                                # the use he recommends and the reading of the report ("the range could be as
                                # wide as": the outer band holds >= 95 % of differences with the stated
                                # confidence). With replicates agreement_summary turns any non-approximate choice
                                # into MOVER (Zou 2013).
                                confidence=settings.confidence, loa_ci="exact-pair",
                                n_resamples=max(settings.bootstrap, 100), seed=settings.seed)
    except StancebenchError as exc:
        row["note"] = "; ".join(x for x in (pre, f"agreement statistics refused: {exc}") if x)
        return row
    row.update({k: (_f(v) if isinstance(v, (float, np.floating)) else v) for k, v in res.items()
                if k not in ("n_subjects",)})
    # the method of the limits' CIs in words, next to its key (docs/agreement.md, "CIs of the limits")
    row["loa_ci_name"] = loa_ci_name(row.get("loa_ci_method", ""))
    row["note"] = "; ".join(x for x in (pre, res.get("note", "")) if x)
    return row


def _categorical_row(sub: pd.DataFrame, base: dict, labels: tuple, settings) -> dict:
    """One ``categorical[]`` row: Cohen's kappa and the confusion matrix (rows reference, columns candidate)."""
    from harness.agreement import cohen_kappa

    row = dict(base)
    ref = [None if (v is None or v != v) else v for v in sub["reference"].tolist()]
    cand = [None if (v is None or v != v) else v for v in sub["candidate_value"].tolist()]
    n = sum(a is not None and b is not None for a, b in zip(ref, cand))
    row.update(labels=list(labels), n=n, weights="none", confusion=None, kappa=None, kappa_ci_low=None,
               kappa_ci_high=None, confusion_axes="rows = reference, columns = candidate")
    if n < MIN_PAIRS:
        row["note"] = f"too few labelled pairs for kappa (n={n}, need {MIN_PAIRS})"
        return row
    try:
        res = cohen_kappa(ref, cand, labels=list(labels) or None, confidence=settings.confidence)
    except StancebenchError as exc:
        # e.g. a single label on both sides: kappa is undefined, but the confusion matrix is still shown
        labs = list(labels) or sorted({*filter(None, ref), *filter(None, cand)})
        idx = {l: i for i, l in enumerate(labs)}
        conf = np.zeros((len(labs), len(labs)), int)
        for a, b in zip(ref, cand):
            if a in idx and b in idx:
                conf[idx[a], idx[b]] += 1
        row.update(labels=labs, confusion=conf.tolist(), note=f"kappa refused: {exc}")
        return row
    d = res.to_dict()
    row.update(labels=d["labels"], confusion=d["confusion"], kappa=_f(d["kappa"]), kappa_ci_low=_f(d["ci_low"]),
               kappa_ci_high=_f(d["ci_high"]), kappa_z=_f(d["z"]), kappa_p=_f(d["p"]),
               p_observed=_f(d["p_observed"]), n=int(d["n"]), note=d.get("note", ""))
    return row


def _comparisons(table: pd.DataFrame, baseline: str, settings) -> list[dict]:
    out = []
    if table.empty:
        return out
    for (protocol, kpi, cand), sub in table.groupby(["protocol", "kpi", "candidate"], sort=False):
        if cand == baseline or _kpi_kind(kpi)[0] == "categorical":
            continue
        base = table[(table["protocol"] == protocol) & (table["kpi"] == kpi) & (table["candidate"] == baseline)]
        m = sub.merge(base[["trial_id", "candidate_value"]], on="trial_id", suffixes=("", "_baseline"))
        if _kpi_kind(kpi)[0] == "censored":
            m = m[~(m["censored_reference"] | m["censored_candidate"])]
        ref = pd.to_numeric(m["reference"], errors="coerce").to_numpy(float)
        c = pd.to_numeric(m["candidate_value"], errors="coerce").to_numpy(float)
        b = pd.to_numeric(m["candidate_value_baseline"], errors="coerce").to_numpy(float)
        ok = np.isfinite(ref) & np.isfinite(c) & np.isfinite(b)
        row = {"candidate": cand, "baseline": baseline, "kpi": kpi, "protocol": protocol, "unit": sub["unit"].iloc[0],
               "metric": "mae",
               "n": int(ok.sum()), "n_subjects": int(m.loc[ok, "subject"].nunique()),
               "method": "paired subject-clustered bootstrap", "diff": None, "diff_ci_low": None,
               "diff_ci_high": None, "note": ""}
        if ok.sum() < MIN_PAIRS:
            row["note"] = f"too few trials with both candidates (n={int(ok.sum())})"
            out.append(row)
            continue
        from harness.agreement import compare_errors
        try:
            res = compare_errors(ref[ok], c[ok], b[ok], subjects=m.loc[ok, "subject"].to_numpy(), metric="mae",
                                 confidence=settings.confidence, n_resamples=max(settings.bootstrap, 100),
                                 seed=settings.seed)
            d = res.to_dict()
            row.update(diff=_f(d["diff"]), diff_ci_low=_f(d["diff_ci_low"]), diff_ci_high=_f(d["diff_ci_high"]),
                       candidate_mae=_f(d["candidate_value"]), baseline_mae=_f(d["baseline_value"]),
                       confidence_one_sided=d["confidence"], note=d.get("note", ""))
        except StancebenchError as exc:
            row["note"] = f"comparison refused: {exc}"
        out.append(row)
    return out


def agreement_sections(rows: list[dict], manifest) -> dict[str, Any]:
    """The ``agreement``, ``categorical`` and ``comparisons`` sections, and what the report reads beside them:
    ``pairs`` (:func:`pair_records`), ``kpis`` and ``protocols`` (:func:`kpi_sections`); docs/results-schema.md."""
    settings = manifest.settings
    pairs = pair_records(rows)
    table = pd.DataFrame.from_records(pairs, columns=PAIR_COLUMNS)
    agreement, categorical = _statistics(table, settings)
    baseline = manifest.baseline.name if manifest.baseline else None
    comparisons = _comparisons(table, baseline, settings) if baseline else []
    return {"agreement": agreement, "categorical": categorical, "comparisons": comparisons,
            # what the report reads instead of re-deriving it: the pairs behind the statistics, KPI metadata
            "pairs": pairs,
            **kpi_sections(rows, getattr(manifest, "protocol_defs", None))}


def categorical_rows(rows: list[dict], settings) -> list[dict]:
    """The ``categorical`` rows (kappa, confusion matrix, reading) of trial rows alone, as a study computes them:
    e.g. a stored run's trials standing for a release channel's model (:mod:`harness.store.baseline`)."""
    table = pd.DataFrame.from_records(pair_records(rows), columns=PAIR_COLUMNS)
    return _statistics(table, settings, continuous=False)[1]


def _statistics(table: pd.DataFrame, settings, *, continuous: bool = True) -> tuple[list[dict], list[dict]]:
    """``(agreement, categorical)`` rows of a pairs table, per protocol × condition × candidate × KPI, each with
    its reading (``continuous=False``: the categorical rows only)."""
    agreement, categorical = [], []
    groups = []
    # Never pooled across protocols: a KPI of one name (COM path in single-leg stance and in mCTSIB) measures
    # different tasks. "all" pools the conditions of one protocol.
    for protocol in dict.fromkeys(table["protocol"]):
        mine = table[table["protocol"] == protocol]
        conditions = sorted(mine["condition"].unique())
        groups += [(protocol, "all", mine)] + ([(protocol, c, mine[mine["condition"] == c]) for c in conditions]
                                               if len(conditions) > 1 else [])
    for protocol, cond, part in groups:
        for (cand, kpi), sub in part.groupby(["candidate", "kpi"], sort=False):
            kind, labels = _kpi_kind(kpi)
            if kind != "categorical" and not continuous:
                continue
            base = {"candidate": cand, "kpi": kpi, "protocol": protocol, "condition": cond,
                    "unit": sub["unit"].iloc[0], "kpi_kind": kind}
            try:
                if kind == "categorical":
                    # categorical rows have no condition field (docs/results-schema.md): pooled
                    if cond == "all":
                        categorical.append(_categorical_row(sub, base, labels, settings))
                else:
                    agreement.append(_continuous_row(sub, base, settings, kind))
            except Exception as exc:  # noqa: BLE001 - a bug in one KPI's statistics must not sink the others
                err = record_unexpected(exc)
                (categorical if kind == "categorical" else agreement).append(
                    dict(base, n=int(len(sub)), note=f"failed: {err['message']}", error_type=err["error_type"],
                         traceback=err["traceback"]))
    # Every row carries its reading, worded by the one vocabulary (harness.agreement.interpret): the report may
    # not import harness, so it prints these fields instead of holding thresholds of its own.
    from harness.agreement import icc_reading_fields, kappa_reading_fields
    for row in agreement:
        row.update(icc_reading_fields(row.get("icc_ci_low"), row.get("icc_ci_high")))
    for row in categorical:
        row.update(kappa_reading_fields(row.get("kappa")))
    return agreement, categorical
