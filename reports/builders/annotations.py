"""Human annotations as a 2-D reference: how the candidates' keypoints compare with human raters, how well the
raters agree with each other, and what the labelling QC found (results ``annotations``, docs/results-schema.md).

Verdict first: one sentence per candidate says at how many keypoints its error is within the raters' own spread
and where it is furthest outside it; then the model-against-raters table, the scores per keypoint, the
inter-rater reliability per keypoint and the QC findings per rule. Words ("within the raters' own spread") come
from the results (``model_vs_raters[].reading``, worded by harness.annotations.reference), not from here.
"""
from __future__ import annotations

import numpy as np

from harness.results import AnnotationsSection, StudyResults
from harness.results.annotations import REFERENCE_ALL, REFERENCE_OTHERS

from ..language import number
from ..sections import NotMeasured, Paragraph, Section, Table
from .inputs import shown

TITLE = "Annotations: candidates against human raters"

#: keypoint_irr's per-keypoint columns shown when present, in this order, with their headings.
_IRR_COLUMNS = (("trial_id", "trial"), ("keypoint", "keypoint"), ("n_units", "persons compared"),
                ("mean_distance", "mean distance (× person scale)"), ("mean_distance_ci_low", "95% CI low"),
                ("mean_distance_ci_high", "95% CI high"), ("pck", "PCK"), ("pck_ci_low", "95% CI low"),
                ("pck_ci_high", "95% CI high"), ("sigma", "OKS constant (raters)"), ("icc_x", "ICC x"),
                ("icc_y", "ICC y"))


def _ratio(x) -> str:
    return "n/a" if x is None else f"{x:.2f}×"


def _verdict(sec: AnnotationsSection, cand: str, label: str) -> str:
    """Where the candidate's error stands against the raters' own spread, in one or two sentences."""
    rows = [r for r in sec.model_vs_raters if r.candidate == cand and r.ratio is not None]
    own = sec.scores_of(cand, reference=REFERENCE_ALL)
    n_trials = max((r.n_trials for r in own), default=0)
    n_frames = max((r.n_frames for r in own), default=0)
    raters = sec.raters
    basis = (f"Against the consensus of {len(raters)} rater(s) on {n_trials} trial(s) (up to {n_frames} annotated "
             f"frame(s) per keypoint)")
    if not rows:
        why = next((r.note for r in sec.model_vs_raters if r.candidate == cand and r.note), None)
        return (f"{label}: {basis}, its error could not be compared with the raters' own spread"
                f"{': ' + why if why else ' (fewer than two raters labelled the same frames)'}.")
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.reading or "not judged"] = counts.get(r.reading or "not judged", 0) + 1
    parts = ", ".join(f"{n} keypoint(s) {reading}" for reading, n in counts.items())
    worst = max(rows, key=lambda r: r.ratio)
    ci = (f" (95% CI {_ratio(worst.ratio_ci_low)} to {_ratio(worst.ratio_ci_high)})"
          if worst.ratio_ci_low is not None and worst.ratio_ci_high is not None else "")
    return (f"{label}: {basis}, its keypoint error is: {parts}. Largest: at the {worst.keypoint.replace('_', ' ')} "
            f"its error is {_ratio(worst.ratio)} the raters' own spread{ci} "
            f"({number(worst.candidate_error_pct_height)}% against {number(worst.raters_error_pct_height)}% of the "
            f"person's height).")


def _model_vs_raters_table(sec: AnnotationsSection, cand: str, label: str) -> Table | None:
    rows = [r for r in sec.model_vs_raters if r.candidate == cand]
    if not rows:
        return None
    return Table(["keypoint", "trials", "candidate error (% height)", "raters' own spread (% height)",
                  "ratio", "95% CI low", "95% CI high", "reading"],
                 [[r.keypoint, r.n_trials, number(r.candidate_error_pct_height),
                   number(r.raters_error_pct_height), _ratio(r.ratio), _ratio(r.ratio_ci_low),
                   _ratio(r.ratio_ci_high), r.reading or r.note or "n/a"] for r in rows],
                 caption=f"{label} against the raters: each scored against the consensus of the other raters")


def _scores_table(sec: AnnotationsSection, source: str, label: str, reference: str) -> Table | None:
    rows = sec.scores_of(source, reference=reference)
    if not rows:
        return None
    thr = f"PCK@{number(sec.pck_threshold)}" if sec.pck_threshold is not None else "PCK"
    return Table(["keypoint", "trials", "frames", thr, "95% CI low", "95% CI high", "OKS", "95% CI low",
                  "95% CI high", "error (px)", "95% CI low", "95% CI high", "error (% height)", "95% CI low",
                  "95% CI high"],
                 [[r.keypoint, r.n_trials, r.n_frames, number(r.pck, 2), number(r.pck_ci_low, 2),
                   number(r.pck_ci_high, 2), number(r.oks, 2), number(r.oks_ci_low, 2), number(r.oks_ci_high, 2),
                   number(r.error_px), number(r.error_px_ci_low), number(r.error_px_ci_high),
                   number(r.error_pct_height), number(r.error_pct_height_ci_low), number(r.error_pct_height_ci_high)]
                  for r in rows],
                 caption=f"{label} against the {reference}")


def _irr_table(sec: AnnotationsSection) -> Table | None:
    """One trial: its per-keypoint statistics with their CIs. Several trials: per keypoint the median over the
    trials and their range (every trial's row with its CIs is in results.json, ``annotations.irr``)."""
    rows = [r for r in sec.irr if isinstance(r, dict)]
    if not rows:
        return None
    trials = list(dict.fromkeys(r.get("trial_id") for r in rows))
    if len(trials) == 1:
        cols = [(k, h) for k, h in _IRR_COLUMNS if k != "trial_id" and any(k in r for r in rows)]
        return Table([h for _, h in cols],
                     [[number(r.get(k), 3) if isinstance(r.get(k), float) else r.get(k) for k, _ in cols]
                      for r in rows],
                     caption=f"Inter-rater reliability per keypoint, trial {trials[0]} (each rater against the "
                             f"consensus of the others)")
    stats = [(k, h) for k, h in (("mean_distance", "mean distance (× person scale)"), ("pck", "PCK"),
                                 ("sigma", "OKS constant (raters)"), ("icc_x", "ICC x"), ("icc_y", "ICC y"))
             if any(k in r for r in rows)]
    body = []
    for kp in dict.fromkeys(r.get("keypoint") for r in rows):
        mine = [r for r in rows if r.get("keypoint") == kp]
        line = [kp, len(mine)]
        for k, _ in stats:
            v = np.array([r[k] for r in mine if isinstance(r.get(k), (int, float))], float)
            line += ([number(float(np.median(v)), 3), f"{number(float(v.min()), 3)} to {number(float(v.max()), 3)}"]
                     if v.size else ["n/a", "n/a"])
        body.append(line)
    cols = ["keypoint", "trials"] + [c for _, h in stats for c in (f"{h}, median", "range over trials")]
    return Table(cols, body, caption=f"Inter-rater reliability per keypoint over {len(trials)} trials (each rater "
                                     f"against the consensus of the others; per trial with CIs in results.json)")


def _qc_blocks(sec: AnnotationsSection) -> list:
    qc = sec.qc
    if not qc:
        return [NotMeasured("no labelling guideline was named (settings.annotation_guideline), so the annotations "
                            "were not checked against one", what="labelling QC")]
    out = []
    if qc.get("status") not in (None, "ok"):
        out.append(NotMeasured(str(qc.get("status")), what="labelling QC"))
    rules = [r for r in qc.get("rules") or [] if isinstance(r, dict)]
    if qc.get("summary"):
        out.append(Paragraph(str(qc["summary"])))
    if rules:
        out.append(Table(["rule", "what it checks", "severity", "findings", "trials failing", "verdict"],
                         [[r.get("rule_id"), r.get("description") or "", r.get("severity"), r.get("n_findings"),
                           r.get("n_trials_failed"), r.get("status")] for r in rules],
                         caption=f"Labelling QC against the guideline {qc.get('guideline') or ''}".rstrip()))
    return out


def annotations_section(results: StudyResults) -> Section:
    """The annotation section; the caller shows it only when the results have an ``annotations`` section."""
    sec = Section("annotations", TITLE)
    ann = results.annotations
    if ann is None:
        sec.blocks.append(NotMeasured("this study named no human annotations as a 2-D reference"))
        return sec
    cands = ann.candidates
    for cand in cands:
        sec.blocks.append(Paragraph(_verdict(ann, cand, shown(results, cand) or cand)))
    if not cands:
        sec.blocks.append(NotMeasured("no candidate was scored against the annotations: "
                                      + ("; ".join(f"{t.get('trial_id')} / {t.get('candidate')}: {t.get('reason')}"
                                                   for t in ann.trials if t.get("reason"))
                                         or "no 2-D candidate analysed an annotated video")))
    sec.blocks.append(Paragraph(
        "How to read this: each rater is compared with the consensus of the other raters, which measures how far "
        "two careful humans disagree (the raters' own spread). A candidate scored the same way is as good as a "
        "rater when the ratio of its error to that spread is about 1; the reading uses the 95% confidence interval "
        "of the ratio (a bootstrap over trials). Errors are in pixels and in % of the person's height in the "
        "image; PCK is the share of keypoints closer than the threshold (a fraction of the person scale, the square "
        "root of the area of the box around the person's keypoints), OKS the COCO keypoint similarity (1 = exact).",
        css="note"))
    for cand in cands:
        label = shown(results, cand) or cand
        table = _model_vs_raters_table(ann, cand, label)
        if table is not None:
            sec.blocks.append(table)
    for cand in cands:
        table = _scores_table(ann, cand, shown(results, cand) or cand, REFERENCE_ALL)
        if table is not None:
            sec.blocks.append(table)
    for rater in ann.raters:
        table = _scores_table(ann, rater, f"rater {rater}", REFERENCE_OTHERS)
        if table is not None:
            sec.blocks.append(table)
    irr = _irr_table(ann)
    if irr is not None:
        sec.blocks.append(irr)
    for status in ann.irr_status:
        if isinstance(status, dict) and status.get("status") != "ok":
            sec.blocks.append(NotMeasured(str(status.get("reason") or status.get("status")),
                                          what=f"inter-rater reliability, trial {status.get('trial_id')}"))
    sec.blocks += _qc_blocks(ann)
    not_scored = [t for t in ann.trials if t.get("status") != "ok"]
    if not_scored:
        sec.blocks.append(Table(["trial", "candidate", "status", "why"],
                                [[t.get("trial_id"), shown(results, t.get("candidate")), t.get("status"),
                                  t.get("reason")] for t in not_scored],
                                caption="Trial × candidate runs not scored against the annotations"))
    method = "; ".join(x for x in (ann.consensus_method, ann.person_height_method, ann.matching, ann.bootstrap) if x)
    if method:
        sec.blocks.append(Paragraph(f"Method: {method}.", css="note"))
    for note in ann.notes:
        sec.blocks.append(Paragraph(f"Note: {note}", css="note"))
    return sec
