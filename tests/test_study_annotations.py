"""A study whose trials name human annotations as a 2-D reference (issue 12, item 6): candidates scored against
the raters' consensus, each rater against the consensus of the others, the inter-rater reliability and the
labelling QC of each trial, the results' ``annotations`` section and the report's section.

The raters are made from the renderer's exact 2-D truth plus known noise, so every expected number is derived
here from the noise planted (never read from the code under test):

- each rater adds independent Gaussian noise of SD ``SIGMA`` px to each coordinate of each keypoint. A rater
  against the consensus of the two others (their median = their mean) errs by ``e_r - (e_a + e_b) / 2`` per
  coordinate, SD ``SIGMA * sqrt(1 + 1/2)``; the distance is Rayleigh-distributed, with mean ``SD * sqrt(pi/2)``.
- the candidates are the positive control (``render-truth``: the truth plus white noise of SD ``jitter_px`` per
  coordinate, tests/test_controls.py). Against the same leave-one-out consensus a candidate errs with SD
  ``sqrt(J**2 + SIGMA**2 / 2)``, so ``J = SIGMA`` gives exactly the raters' spread (ratio 1) and ``J = 3 SIGMA``
  a ratio ``sqrt(9 + 1/2) / sqrt(3/2) = 2.517``.
"""
from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import numpy as np
import pytest

from candidates.skeletons import COCO17, convert_keypoints
from harness.cli import main

SIGMA = 3.0            # px per coordinate, every rater
J_GOOD, J_BAD = SIGMA, 3 * SIGMA
STEP = 3               # every third frame is annotated
N_TRIALS = 3           # trials with readable annotations (a fourth has a broken file)
RATERS = ("rater_a", "rater_b", "rater_c")


def _truth_coco(truth):
    xy = convert_keypoints(truth.keypoints[..., :2], truth.schema, "coco17")
    conf = convert_keypoints(truth.confidence[..., None], truth.schema, "coco17")[..., 0]
    return xy, (conf == 1) & np.isfinite(xy).all(-1)


def _noisy(truth, frames, rng):
    xy, ok = _truth_coco(truth)
    return [(f, xy[f] + rng.normal(0.0, SIGMA, xy[f].shape), ok[f]) for f in frames]


def write_coco(path: Path, truth, labelled, annotator: str, extra_frames=()) -> None:
    """A COCO person-keypoints file: one image per frame (``frame_NNNNNN.png``), one person, v = 2 where the truth
    has the keypoint in the image; ``area`` the truth keypoints' box (w x h)."""
    xy_truth, _ = _truth_coco(truth)
    images, anns = [], []
    rows = list(labelled) + [(f, labelled[0][1], labelled[0][2]) for f in extra_frames]
    for i, (f, xy, ok) in enumerate(rows):
        images.append({"id": i + 1, "file_name": f"frame_{f:06d}.png", "width": truth.image_width,
                       "height": truth.image_height})
        kp = []
        for k in range(len(COCO17)):
            kp += [float(xy[k, 0]), float(xy[k, 1]), 2] if ok[k] else [0, 0, 0]
        box = xy_truth[min(f, len(xy_truth) - 1)]
        w, h = np.ptp(box[:, 0]), np.ptp(box[:, 1])
        anns.append({"id": i + 1, "image_id": i + 1, "category_id": 1, "iscrowd": 0, "keypoints": kp,
                     "num_keypoints": int(sum(ok)), "area": float(w * h), "annotator": annotator,
                     "bbox": [float(box[:, 0].min()), float(box[:, 1].min()), float(w), float(h)]})
    path.write_text(json.dumps({"images": images, "annotations": anns, "categories": [
        {"id": 1, "name": "person", "keypoints": list(COCO17), "skeleton": []}]}))


def write_cvat_images(path: Path, truth, labelled, annotator: str) -> None:
    """The same as a "CVAT for images 1.1" export: one <skeleton> per image with one <points> per keypoint
    (coordinates with 2 decimals, as CVAT writes them: a rounding error of at most 0.005 px)."""
    out = ['<?xml version="1.0" encoding="utf-8"?>', "<annotations>", "<version>1.1</version>",
           f"<meta><task><name>sway</name><mode>annotation</mode><owner><username>{annotator}</username></owner>"
           f"</task></meta>"]
    for i, (f, xy, ok) in enumerate(labelled):
        out.append(f'<image id="{i}" name="frame_{f:06d}.png" width="{truth.image_width}" '
                   f'height="{truth.image_height}"><skeleton label="person" occluded="0" z_order="0">')
        out += [f'<points label="{name}" outside="0" occluded="0" points="{xy[k, 0]:.2f},{xy[k, 1]:.2f}"></points>'
                for k, name in enumerate(COCO17) if ok[k]]
        out.append("</skeleton></image>")
    path.write_text("\n".join(out + ["</annotations>"]))


GUIDELINE = """
[guideline]
name = "test guideline"

[[rule]]
id = "all-present"
kind = "required-keypoints"
keypoints = ["left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"]
severity = "blocking"

[[rule]]
id = "frames-in-video"
kind = "frames-beyond-video"
severity = "blocking"
"""

TRIAL = """
[[trials]]
id = "{tid}"
subject = "S01"
protocol = "single_leg_stance"
condition = "eyes_open_firm"
kind = "candidate-only"
video = "sway.mp4"
"""


def _manifest(root: Path, name: str, *, annotations: bool, candidates=("good", "bad"), trials=None) -> Path:
    trials = trials or [f"T{i}" for i in range(N_TRIALS + 1)]
    text = textwrap.dedent(f"""
        [study]
        name = "{name}"
        [settings]
        workers = 1
        bootstrap = 100
        """)
    if annotations:
        text += 'annotation_pck = 0.05\nannotation_guideline = "guide.toml"\n'
    text += '[[subjects]]\nid = "S01"\nheight_m = 1.75\nmass_kg = 70.0\n'
    for tid in trials:
        text += TRIAL.format(tid=tid)
        if annotations:
            files = ["t3_rater_a.json", "t3_broken.json"] if tid == "T3" else \
                [f"{tid.lower()}_{r}.{'xml' if r == 'rater_b' else 'json'}" for r in RATERS]
            text += f"annotations = {json.dumps(files)}\n"
    jitter = {"good": J_GOOD, "bad": J_BAD}
    for c in candidates:
        text += (f'[[candidates]]\nname = "{c}"\nbackbone = "render-truth"\n'
                 f'params = {{ jitter_px = {jitter[c]}, jitter_tau_s = 0.0 }}\n')
    path = root / f"{name}.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory):
    """A 1.5-s render (46 frames at 30 fps), three trials of it with three raters each (two COCO files and one
    CVAT for images file; rater_c also labels frame 9999, beyond the video) and a fourth trial whose second
    annotation file is not JSON."""
    from candidates.render import PinholeCamera, RenderOptions, pendulum_stance_motion, read_truth_json, render_video
    root = tmp_path_factory.mktemp("annotated_study")
    motion = pendulum_stance_motion(1.5, 100.0, seed=3)
    cam = PinholeCamera.look_at([3.0, 0.0, 1.0], [0.0, 0.0, 0.95], fx=400, width=288, height=512, fps=30.0)
    res = render_video(motion, cam, root / "sway.mp4", options=RenderOptions(noise_sigma=2.0))
    truth = read_truth_json(res.truth_path).track
    frames = list(range(0, truth.n_frames, STEP))
    for t in range(N_TRIALS):
        for r, name in enumerate(RATERS):
            labelled = _noisy(truth, frames, np.random.default_rng(100 * t + r))
            if name == "rater_b":
                write_cvat_images(root / f"t{t}_{name}.xml", truth, labelled, name)
            else:
                write_coco(root / f"t{t}_{name}.json", truth, labelled, name,
                           extra_frames=(9999,) if name == "rater_c" else ())
    write_coco(root / "t3_rater_a.json", truth, _noisy(truth, frames, np.random.default_rng(7)), "rater_a")
    (root / "t3_broken.json").write_text('{"images": [')
    (root / "guide.toml").write_text(GUIDELINE)
    return root, truth, frames


@pytest.fixture(scope="module")
def annotated(study_dir, tmp_path_factory):
    root, _, _ = study_dir
    out = tmp_path_factory.mktemp("annotated_out")
    rc = main(["validate", str(_manifest(root, "annotated", annotations=True)), "--out", str(out), "--no-progress",
               "--no-device"])
    assert rc == 0
    return out, json.loads((out / "results.json").read_text())


def _rayleigh_mean(sd: float) -> float:
    return sd * math.sqrt(math.pi / 2)


def test_raters_and_candidates_recover_the_planted_noise(annotated):
    _, res = annotated
    ann = res["annotations"]
    scores = ann["scores"]
    raters = [r for r in scores if r["kind"] == "rater"]
    assert {r["source"] for r in raters} == set(RATERS)
    # 3 raters x 17 keypoints x 16 frames x 3 trials = 2448 distances; the Rayleigh mean's relative SE is
    # sqrt((4 - pi) / pi) / sqrt(2448) = 1.1 %: 5 % is more than four SEs
    expected = _rayleigh_mean(SIGMA * math.sqrt(1.5))          # 4.605 px
    n = sum(r["n_scored"] for r in raters)
    assert n == 3 * 17 * 16 * N_TRIALS
    pooled = sum(r["error_px"] * r["n_scored"] for r in raters) / n
    assert pooled == pytest.approx(expected, rel=0.05)
    # the candidates' jitter is one draw shared by the three trials (seeded by the video): 16 x 17 distances,
    # relative SE 2.2 %, so 10 % for the candidates
    for cand, jitter in (("good", J_GOOD), ("bad", J_BAD)):
        rows = [r for r in scores if r["source"] == cand and r["reference"] == "consensus of the other raters"]
        got = sum(r["error_px"] * r["n_scored"] for r in rows) / sum(r["n_scored"] for r in rows)
        assert got == pytest.approx(_rayleigh_mean(math.sqrt(jitter ** 2 + SIGMA ** 2 / 2)), rel=0.10), cand
    # error in % of the person's height: the same distances over one length per frame (about 215 px here)
    for r in raters:
        assert 100 * r["error_px"] / r["error_pct_height"] == pytest.approx(ann_height(res), rel=0.05)
    # CIs from the trial bootstrap bracket the estimate
    assert all(r["error_px_ci_low"] <= r["error_px"] <= r["error_px_ci_high"] for r in scores)


def ann_height(res) -> float:
    heights = [r["annotation_scores"]["person_height_px"] for r in res["trials"]
               if (r.get("annotation_scores") or {}).get("status") == "ok"]
    return float(np.median(heights))


def test_pck_and_oks_follow_the_noise(annotated, study_dir):
    _, truth, frames = study_dir
    _, res = annotated
    raters = [r for r in res["annotations"]["scores"] if r["kind"] == "rater"]
    # PCK: d < 0.05 s, s = sqrt(w h) of the person's keypoint box (taken from the truth here: the consensus box
    # differs by a few px of ~100). For a Rayleigh distance of scale tau: P = 1 - exp(-(0.05 s)^2 / (2 tau^2)).
    # OKS of a keypoint: E[exp(-d^2 / (2 s^2 k^2))] = 1 / (1 + tau^2 / (s^2 k^2)), k = 2 COCO sigma
    # (d^2 / tau^2 is chi-square with 2 degrees of freedom).
    xy, ok = _truth_coco(truth)
    s = np.array([math.sqrt(np.ptp(xy[f][ok[f], 0]) * np.ptp(xy[f][ok[f], 1])) for f in frames])
    tau2 = 1.5 * SIGMA ** 2
    p_expected = float(np.mean(1 - np.exp(-(0.05 * s) ** 2 / (2 * tau2))))
    n = sum(r["n_frames"] for r in raters)
    p_got = sum(r["pck"] * r["n_frames"] for r in raters) / n
    # binomial SE sqrt(p (1 - p) / 2448) = 0.009 (fewer independent: the three comparisons of a frame share noise)
    assert p_got == pytest.approx(p_expected, abs=0.04)
    sig = {"nose": .026, "left_knee": .087, "left_hip": .107}      # cocoeval.py kpt_oks_sigmas
    for kp, sigma in sig.items():
        expected = float(np.mean(1 / (1 + tau2 / (s ** 2 * (2 * sigma) ** 2))))
        rows = [r for r in raters if r["keypoint"] == kp]
        got = sum(r["oks"] * r["n_frames"] for r in rows) / sum(r["n_frames"] for r in rows)
        assert got == pytest.approx(expected, abs=0.04), kp


def test_model_against_the_raters_spread(annotated):
    _, res = annotated
    mvr = res["annotations"]["model_vs_raters"]
    good = [r for r in mvr if r["candidate"] == "good"]
    bad = [r for r in mvr if r["candidate"] == "bad"]
    assert len(good) == len(bad) == 17
    # ratio of mean errors over the keypoints: 1 for J = SIGMA, sqrt(9.5 / 1.5) = 2.517 for J = 3 SIGMA
    ratio = lambda rows: (sum(r["candidate_error_pct_height"] for r in rows)
                          / sum(r["raters_error_pct_height"] for r in rows))
    assert ratio(good) == pytest.approx(1.0, abs=0.1)
    assert ratio(bad) == pytest.approx(math.sqrt(9.5 / 1.5), rel=0.1)
    assert all(r["reading"] == "larger than the raters' own spread" and r["ratio_ci_low"] > 1 for r in bad)
    # most of the good candidate's keypoints are within the raters' spread (17 intervals from 3 trials each)
    assert sum(r["reading"] == "within the raters' own spread" for r in good) >= 10


def test_frames_matching_irr_qc_and_a_broken_file(annotated):
    out, res = annotated
    rows = {(r["trial_id"], r["candidate"]): r for r in res["trials"]}
    for t in range(N_TRIALS):
        sc = rows[(f"T{t}", "good")]["annotation_scores"]
        # 16 frames of the video (0, 3, ..., 45) plus rater_c's frame 9999 beyond its 46 frames
        assert sc["status"] == "ok" and sc["raters"] == list(RATERS)
        assert (sc["n_annotated_frames"], sc["n_matched_frames"], sc["n_unmatched_frames"]) == (17, 16, 1)
        assert sc["match_tolerance_s"] == pytest.approx(0.5 / 30, rel=1e-3)
    # a file that is not JSON fails the annotations of its trial only: its KPIs are computed as usual
    broken = rows[("T3", "good")]
    assert broken["status"] == "ok" and broken["kpis"]
    assert broken["annotation_scores"]["status"] == "failed"
    assert "t3_broken.json" in broken["annotation_scores"]["reason"]
    assert any("t3_broken.json" in n for n in broken["notes"])
    ann = res["annotations"]
    status = {s["trial_id"]: s for s in ann["irr_status"]}
    assert status["T3"]["status"] == "failed" and all(status[f"T{t}"]["status"] == "ok" for t in range(N_TRIALS))
    assert {r["trial_id"] for r in ann["irr"]} == {"T0", "T1", "T2"} and len(ann["irr"]) == 17 * N_TRIALS
    # QC: rater_c's frame 9999 is beyond the video in each readable trial (3 findings); every person has the
    # six lower-body keypoints
    qc = {r["rule_id"]: r for r in ann["qc"]["rules"]}
    assert qc["frames-in-video"]["n_findings"] == N_TRIALS and qc["frames-in-video"]["status"] == "fail"
    assert qc["frames-in-video"]["n_trials_with_findings"] == N_TRIALS
    assert qc["all-present"]["n_findings"] == 0 and qc["all-present"]["status"] == "pass"
    assert (out / "annotations.csv").is_file()


def test_annotation_files_are_in_the_provenance(annotated):
    _, res = annotated
    roles = {}
    for f in res["provenance"]["files"]:
        roles.setdefault(f["role"], set()).add(Path(f["path"]).name)
    # every rater file of trial T0 is an input of the study, hashed like its videos
    assert roles["annotation"] >= {f"t0_{r}.{'xml' if r == 'rater_b' else 'json'}" for r in RATERS}
    assert all(f["sha256"] for f in res["provenance"]["files"] if f["role"] == "annotation")


def test_report_shows_the_annotation_section(annotated):
    out, _ = annotated
    html = (out / "report.html").read_text()
    assert '<section id="annotations">' in html and "<script" not in html.lower()
    section = html[html.index('<section id="annotations">'):]
    section = section[:section.index("</section>")]
    for text in ("bad: Against the consensus of 3 rater(s)", "the raters&#39; own spread", "frames-in-video",
                 "Inter-rater reliability per keypoint", "95% CI low", "95% CI high"):
        assert text in section, text


def test_a_study_without_annotations_is_unchanged(study_dir, annotated, tmp_path):
    root, _, _ = study_dir
    _, with_ann = annotated
    out = tmp_path / "plain"
    rc = main(["validate", str(_manifest(root, "plain", annotations=False, candidates=("good",), trials=["T0"])),
               "--out", str(out), "--no-progress", "--no-device"])
    assert rc == 0
    text = (out / "results.json").read_text()
    assert "annotation" not in text.lower()
    assert not (out / "annotations.csv").exists()
    assert "annotations" not in (out / "report.html").read_text().lower()
    res = json.loads(text)
    plain, annotated_row = res["trials"][0], next(r for r in with_ann["trials"]
                                                  if (r["trial_id"], r["candidate"]) == ("T0", "good"))
    assert set(annotated_row) - set(plain) == {"annotation_scores"}
    assert set(with_ann) - set(res) == {"annotations"}
    # the annotation stage changes nothing else of a trial
    assert plain["kpis"] == annotated_row["kpis"]


def test_bad_annotation_path_is_named_by_check(study_dir, tmp_path, capsys):
    root, _, _ = study_dir
    manifest = _manifest(root, "badpath", annotations=True, trials=["T0"])
    manifest.write_text(manifest.read_text().replace('"t0_rater_b.xml"', '"labels/missing.json"'))
    rc = main(["validate", str(manifest), "--out", str(tmp_path / "o"), "--check"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "badpath.toml" in err and "trials[0] (id 'T0').annotations[1]" in err and "missing.json" in err


def test_manifest_annotation_fields_are_checked(study_dir):
    from ground_truth.kernel import ManifestError
    from harness.manifest import load_manifest
    root, _, _ = study_dir
    manifest = _manifest(root, "fields", annotations=True, trials=["T0"])
    body = manifest.read_text()
    m = load_manifest(manifest, check_candidates=False)
    ref = m.trials[0].annotations
    assert ref.video == 0 and ref.format == "auto" and ref.pck == 0.05 and len(ref.files) == 3
    assert m.annotation_settings.guideline == root / "guide.toml"
    bad = body.replace("annotation_pck = 0.05", "annotation_pck = 2").replace(
        'annotations = [', 'annotations_video = 4\nannotations_format = "xls"\nannotations = [')
    (root / "fields_bad.toml").write_text(bad + '\n[[trials]]\nid = "T9"\nsubject = "S01"\nprotocol = '
                                          '"single_leg_stance"\ncondition = "eyes_open_firm"\nkind = '
                                          '"candidate-only"\nvideo = "sway.mp4"\nannotations_mapping = "x.toml"\n')
    (root / "guide_bad.toml").write_text(GUIDELINE.replace('severity = "blocking"\n', 'severity = "sometimes"\n', 1))
    bad_guide = body.replace('"guide.toml"', '"guide_bad.toml"')
    (root / "fields_guide.toml").write_text(bad_guide)
    with pytest.raises(ManifestError) as err:
        load_manifest(root / "fields_bad.toml", check_candidates=False)
    msg = str(err.value)
    for fld in ("settings.annotation_pck", "trials[0] (id 'T0').annotations_video",
                "trials[0] (id 'T0').annotations_format", "trials[1] (id 'T9').annotations_mapping"):
        assert fld in msg, (fld, msg)
    with pytest.raises(ManifestError, match=r"annotation_guideline.*all-present.*severity"):
        load_manifest(root / "fields_guide.toml", check_candidates=False)


def test_triangulated_and_other_view_candidates_are_skipped(study_dir):
    from harness.pipeline.annotation_scores import score_annotations
    from harness.pipeline.sides import CandidateSide
    root, _, _ = study_dir
    trial = {"id": "T0", "video": [root / "sway.mp4", root / "side.mp4"],
             "annotations": {"files": [root / "t0_rater_a.json"], "format": "auto", "mapping": None, "video": 0,
                             "camera_name": "front", "pck": 0.1}}
    tri = score_annotations(trial, CandidateSide("candidate", triangulated=True), None)
    assert tri.status == "skipped" and "triangulated" in tri.reason
    other = score_annotations(trial, CandidateSide("candidate"), 1)
    assert other.status == "skipped" and "front" in other.reason and "video 2" in other.reason


def test_frames_match_within_half_a_frame_interval():
    from harness.pipeline.annotation_scores import match_frames
    frames = np.array([0.0, 1 / 30, 2 / 30, 3 / 30])
    # tolerance = half the median interval = 1/60 s; 0.045 s is 11.7 ms from frame 1, 0.07 s 3.3 ms from frame 2;
    # 0.2 s is 100 ms past the last frame; NaN (a frame beyond the video) never matches
    idx, tol = match_frames(np.array([0.0, 0.045, 0.07, 0.2, np.nan]), frames)
    assert tol == pytest.approx(1 / 60)
    assert idx.tolist() == [0, 1, 2, -1, -1]
