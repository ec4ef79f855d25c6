"""Inter-rater reliability of keypoint annotations (harness.annotations.irr, keypoint_metrics) and
``stancebench annotations irr``.

The known-truth tests make raters from the renderer's exact 2-D truth (a pendulum figure projected through a
pinhole camera, no pixels drawn) plus Gaussian noise of known SD, and check that the statistics recover that
noise; every expected value is derived analytically in the test from the planted SDs.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from conftest import shared_path

from candidates.annotations.model import AnnotationSet
from candidates.render.figure import figure_landmarks
from candidates.render.motion import pendulum_stance_motion
from candidates.render.rig import phone_camera
from candidates.skeletons import COCO17
from harness.agreement.krippendorff import krippendorff_alpha
from harness.annotations.consensus import consensus, match_persons
from harness.annotations.irr import REFERENCE_AREA, keypoint_irr
from harness.annotations.keypoint_metrics import COCO17_SIGMAS, oks, pck_correct, person_scale, reference_length
from harness.cli import main

N_ITEMS = 30
#: planted noise SD per axis of a good rater, as a fraction of the person's true scale s
C = {"nose": .010, "left_eye": .010, "right_eye": .010, "left_ear": .012, "right_ear": .012,
     "left_shoulder": .020, "right_shoulder": .020, "left_elbow": .015, "right_elbow": .015,
     "left_wrist": .025, "right_wrist": .025, "left_hip": .020, "right_hip": .020, "left_knee": .015,
     "right_knee": .015, "left_ankle": .025, "right_ankle": .025}
C_K = np.array([C[k] for k in COCO17])
#: noise multiplier of each rater: three good raters and one four times as noisy
FACTOR = {"ann": 1.0, "bob": 1.0, "cat": 1.0, "dan": 4.0}


# ------------------------------------------------------------------------------------------ toy examples
def test_coco_sigmas_are_cocoeval_constants():
    # cocodataset/cocoapi PythonAPI/pycocotools/cocoeval.py, Params.setKpParams, copied by hand:
    published = np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89]) / 10
    assert list(COCO17_SIGMAS) == list(COCO17)
    np.testing.assert_allclose([COCO17_SIGMAS[k] for k in COCO17], published, rtol=0, atol=1e-15)


def test_oks_and_pck_two_person_toy_hand_computed():
    gt = np.array([[[0, 0], [30, 0], [0, 40]],
                   [[100, 100], [140, 160], [100, 160]]], dtype=float)
    vis = np.array([[2, 2, 2], [2, 1, 0]])                      # person 2's third keypoint not labelled
    dt = gt + np.array([[[3, 4], [0, 0], [6, 8]],                # distances 5, 0, 10
                        [[0, 10], [-5, 0], [100, 100]]])         # distances 10, 5, (ignored: v = 0)
    sigmas = np.array([0.10, 0.05, 0.10])                        # k = 2 sigma: k^2 = 0.04, 0.01, 0.04
    area = np.array([1000.0, 4000.0])
    # cocoeval: e = d^2 / k^2 / area / 2, OKS = mean of exp(-e) over v > 0
    # person 1: e = 25/80 = 0.3125, 0, 100/80 = 1.25; person 2: e = 100/320 = 0.3125, 25/80 = 0.3125
    p1 = (math.exp(-0.3125) + 1.0 + math.exp(-1.25)) / 3        # = 0.672707
    p2 = (math.exp(-0.3125) + math.exp(-0.3125)) / 2             # = 0.731616
    np.testing.assert_allclose(oks(gt, vis, dt, sigmas, area=area), [p1, p2], rtol=1e-12)
    assert p1 == pytest.approx(0.672707, abs=1e-6) and p2 == pytest.approx(0.731616, abs=1e-6)
    # without an area, s^2 is the labelled keypoints' box: person 1 30 x 40 = 1200, person 2 40 x 60 = 2400
    # (its third point is not labelled and does not widen the box)
    np.testing.assert_allclose(person_scale(gt, vis), [math.sqrt(1200), math.sqrt(2400)])
    q1 = (math.exp(-25 / 0.04 / 1200 / 2) + 1.0 + math.exp(-100 / 0.04 / 1200 / 2)) / 3
    q2 = (math.exp(-100 / 0.04 / 2400 / 2) + math.exp(-25 / 0.01 / 2400 / 2)) / 2
    np.testing.assert_allclose(oks(gt, vis, dt, sigmas), [q1, q2], rtol=1e-12)
    # a missing compared point where the reference is labelled scores 0: person 1 = (exp(-0.3125) + 0 + exp(-1.25))/3
    dt_missing = dt.copy()
    dt_missing[0, 1] = np.nan
    assert oks(gt, vis, dt_missing, sigmas, area=area)[0] == pytest.approx((math.exp(-0.3125) + math.exp(-1.25)) / 3)
    # PCK@0.2 of the person scale sqrt(area): thresholds 0.2 * 31.62 = 6.32 px and 0.2 * 63.25 = 12.65 px
    ref = reference_length(gt, vis, kind="scale", area=area)
    hit = pck_correct(gt, vis, dt, ref, 0.2)
    np.testing.assert_array_equal(hit[0], [1.0, 1.0, 0.0])      # 5 < 6.32, 0 < 6.32, 10 > 6.32
    np.testing.assert_array_equal(hit[1, :2], [1.0, 1.0])       # 10 < 12.65, 5 < 12.65
    assert np.isnan(hit[1, 2])                                  # not labelled: not counted
    # torso: shoulder midpoint to hip midpoint
    names = ["left_shoulder", "right_shoulder", "left_hip", "right_hip"]
    torso = np.array([[[0, 0], [40, 0], [0, 90], [40, 90]]], dtype=float)
    assert reference_length(torso, None, names, kind="torso")[0] == pytest.approx(90.0)


def _rows(annotator, item, person, pts, vis=None):
    vis = [2] * len(pts) if vis is None else vis
    return [{"annotator": annotator, "item": item, "person": person, "keypoint": f"k{k}", "x": x, "y": y,
             "visibility": v} for k, ((x, y), v) in enumerate(zip(pts, vis))]


def test_match_persons_tracks_versus_frames():
    # two persons 200 px apart; rater B names them x (= A's "1") and y (= A's "2"), and in frame 3 puts its
    # track x on person 2 and y on person 1 (an identity slip in one frame)
    shape = [(0, 0), (20, 0), (0, 60), (20, 60)]
    rows = []
    for f in range(6):
        item = f"frame:{f}"
        p1 = [(x + 3 * f, y) for x, y in shape]
        p2 = [(x + 200 + 3 * f, y) for x, y in shape]
        rows += _rows("A", item, "1", p1) + _rows("A", item, "2", p2)
        bx, by = (p2, p1) if f == 3 else (p1, p2)
        rows += _rows("B", item, "x", [(x + 1, y) for x, y in bx]) + _rows("B", item, "y", [(x, y + 1) for x, y in by])
    pts = pd.DataFrame(rows)
    tracked, rep = match_persons(pts, tracks=True)
    got = tracked[tracked["annotator"] == "B"].groupby("source_person")["person"].unique()
    assert list(got["x"]) == ["A:1"] and list(got["y"]) == ["A:2"]    # the whole track keeps its identity
    assert rep.set_index("annotator").loc["B", "persons"] == 2 and rep["unmatched"].sum() == 0
    framed, _ = match_persons(pts, tracks=False)
    f3 = framed[(framed["annotator"] == "B") & (framed["item"] == "frame:3")]
    assert set(f3.loc[f3["source_person"] == "x", "person"]) == {"A:2"}   # per frame: matched by position
    # a person only B labels (frame 0, far away) is unmatched for B and missed by A
    extra = pd.DataFrame(_rows("B", "frame:0", "z", [(x + 900, y) for x, y in shape]))
    _, rep2 = match_persons(pd.concat([pts, extra], ignore_index=True), tracks=False)
    rep2 = rep2.set_index("annotator")
    assert rep2.loc["B", "unmatched"] == 1 and rep2.loc["A", "missed"] == 1 and rep2.loc["A", "unmatched"] == 0


def test_irr_matches_video_tracks_automatically():
    shape = [(0, 0), (20, 0), (0, 60), (20, 60)]
    rng = np.random.default_rng(4)
    rows = []
    for f in range(8):
        for a in ("A", "B", "C"):
            ids = {"A": ("1", "2"), "B": ("y", "x"), "C": ("p", "q")}[a]   # B names them the other way round
            for pid, dx in zip(ids if a != "B" else ids[::-1], (0, 200)):
                pts = [(x + dx + 5 * f + rng.normal(0, 0.5), y + 9 * f + rng.normal(0, 0.5)) for x, y in shape]
                rows += _rows(a, f"frame:{f}", pid, pts)
    res = keypoint_irr(pd.DataFrame(rows), n_resamples=0)
    assert res.summary["tracks"] is True                          # every item is a frame, ids recur across them
    assert res.summary["n_units"] == 16 and res.persons["unmatched"].sum() == 0
    assert (res.persons["persons"] == 2).all()                    # two tracks per rater, not 16 per-frame persons


def test_weighted_icc_equals_icc_values_of_repeated_targets():
    from harness.agreement.icc import icc_values
    from harness.annotations.irr_stats import _icc_a1_weighted

    rng = np.random.default_rng(0)
    y = rng.normal(size=(12, 1)) * 3 + rng.normal(size=(12, 3)) + [0.0, 0.5, -0.2]
    W = rng.integers(0, 3, size=(6, 12)).astype(float)
    got = _icc_a1_weighted(y, W)
    for b in range(6):
        repeated = y[np.repeat(np.arange(12), W[b].astype(int))]       # the bootstrap resample, built out
        assert got[b] == pytest.approx(float(icc_values(repeated)["ICC(A,1)"]), rel=1e-10)


def test_consensus_median_visibility_and_counts():
    rows = (_rows("A", "img", "p", [(0, 0), (100, 100)], [2, 1])
            + _rows("B", "img", "q", [(2, 1), (102, 100)], [2, 1])
            + _rows("C", "img", "r", [(7, 2), (np.nan, np.nan)], [2, 0]))
    out = consensus(pd.DataFrame(rows)).set_index("keypoint")
    assert len(out) == 2                                         # the three raters' persons are one person
    # k0: median of x 0, 2, 7 = 2 and of y 0, 1, 2 = 1; flags 2, 2, 2
    assert (out.loc["k0", "x"], out.loc["k0", "y"], out.loc["k0", "visibility"]) == (2.0, 1.0, 2)
    # k1: only A and B placed it: median of two = mean (101, 100); flags 1, 1, 0 -> 1
    assert (out.loc["k1", "x"], out.loc["k1", "y"], out.loc["k1", "visibility"]) == (101.0, 100.0, 1)
    assert out.loc["k1", "n_raters"] == 2 and out.loc["k1", "n_annotators"] == 3


# ---------------------------------------------------------------------------------------- known truth
@pytest.fixture(scope="module")
def truth():
    """Exact 2-D keypoints (N_ITEMS images x 2 persons x 17 x 2 px) of the renderer's figure: a pendulum motion's
    landmarks (figure_landmarks, what render_video projects) placed at a different spot in each image (the
    persons move between images, as in a photo set) and projected through a phone camera (PinholeCamera.project,
    the renderer's projection, distortion included)."""
    motion = pendulum_stance_motion(duration_s=3.0, fs_hz=10.0, sway_ap_deg=3.0, sway_ml_deg=2.0, seed=3)
    landmarks, _ = figure_landmarks(motion.joints)
    cam = phone_camera((5.0, 0.0, 1.0), (0.0, 0.0, 0.9), name="wide", width=1280, height=720, focal_px=900.0)
    rng = np.random.default_rng(7)
    out = np.empty((N_ITEMS, 2, len(COCO17), 2))
    for i in range(N_ITEMS):
        for p, side in enumerate((-0.9, 0.9)):
            shift = np.array([rng.uniform(-0.8, 0.8), side + rng.uniform(-0.3, 0.3), rng.uniform(-0.4, 0.4)])
            out[i, p] = cam.project(np.stack([landmarks[k][i] for k in COCO17]) + shift)
    assert np.isfinite(out).all()
    return out


def _rater_sets(truth, names, *, seed, drift=None, skip=(), tags=False):
    """One AnnotationSet per rater: truth + N(0, (FACTOR * C_k * s)^2) per axis, person ids shuffled per image.
    ``drift``: that rater's x grows by 0.06 s from the first to the last image; ``skip``: (rater, item, person)
    not labelled."""
    rng = np.random.default_rng(seed)
    s_true = person_scale(truth)
    items = pd.DataFrame({"item": [f"img{i:03d}.jpg" for i in range(N_ITEMS)], "frame": pd.NA, "time_s": np.nan,
                          "width": 1280, "height": 720, "name": [f"img{i:03d}.jpg" for i in range(N_ITEMS)]})
    sets = []
    for name in names:
        rows, tag_rows = [], []
        for i in range(N_ITEMS):
            ids = rng.permutation(["0", "1"])
            item = f"img{i:03d}.jpg"
            for p in range(2):
                if (name, i, p) in skip:
                    continue
                noisy = truth[i, p] + rng.normal(size=(len(COCO17), 2)) * (FACTOR[name] * C_K * s_true[i, p])[:, None]
                if name == drift:
                    noisy[:, 0] += 0.06 * i / (N_ITEMS - 1) * s_true[i, p]
                rows += [{"annotator": name, "item": item, "person": ids[p], "keypoint": k, "source_keypoint": k,
                          "x": noisy[j, 0], "y": noisy[j, 1], "visibility": 2, "outside": False, "keyframe": True}
                         for j, k in enumerate(COCO17)]
                if tags:
                    tag_rows.append({"annotator": name, "item": item, "person": ids[p], "name": "side",
                                     "value": _side(name, i, p)})
            if tags:
                tag_rows.append({"annotator": name, "item": item, "person": "", "name": "phase",
                                 "value": _phase(name, i)})
        sets.append(AnnotationSet(f"{name}.json", "coco", "coco17", items, pd.DataFrame(rows),
                                  pd.DataFrame(tag_rows, columns=["annotator", "item", "person", "name", "value"])))
    return sets


def _side(name, i, p):
    right = p == 1
    return "right" if right != (name == "dan" and i % 3 == 0) else "left"     # dan swaps every third image


def _phase(name, i):
    return "abc"[(i + (name == "bob" and i in (4, 11))) % 3]                  # bob disagrees on two images


def test_known_truth_four_raters_recover_planted_noise(truth):
    skip = {("cat", 5, 1)}                                       # cat leaves one person out
    res = keypoint_irr(_rater_sets(truth, FACTOR, seed=11, skip=skip, tags=True), n_resamples=300, seed=1)
    kp = res.keypoints.set_index("keypoint").loc[list(COCO17)]
    # sigma: with independent isotropic errors of SD tau_r = f_r c_k s per axis, the unbiased variance of the
    # n raters' points, x and y summed, has expectation (n-1)/n * sum_r 2 tau_r^2 / (n-1) = 2 mean_r(tau_r^2),
    # so sigma_k = sqrt(E[d^2/s^2]) = c_k sqrt(2 mean_r f_r^2) = c_k sqrt(2 (1 + 1 + 1 + 16)/4) = 3.082 c_k
    expected = C_K * math.sqrt(2 * np.mean(np.square(list(FACTOR.values()))))
    ratio = kp["sigma"].to_numpy() / expected
    assert np.all(np.abs(ratio - 1) < 0.15), ratio
    assert abs(ratio.mean() - 1) < 0.04
    covered = (kp["sigma_ci_low"] <= expected) & (expected <= kp["sigma_ci_high"])
    # nominal 95 %; percentile intervals from 30 items run a little narrow, so most, not all, must cover
    assert covered.sum() >= 14, covered
    # the bad rater, and only it, is flagged; good raters are better on every statistic
    raters = res.raters.set_index("annotator")
    assert res.summary["flagged"] == ["dan"] and list(raters["flagged"]) == [False, False, False, True]
    good = raters.loc[["ann", "bob", "cat"]]
    assert (good["pck"] > raters.loc["dan", "pck_ci_high"]).all()
    assert (good["oks"] > raters.loc["dan", "oks_ci_high"]).all()
    assert (good["oks_coco"] > raters.loc["dan", "oks_coco"]).all()
    assert (good["mean_distance"] < raters.loc["dan", "mean_distance_ci_low"]).all()
    # keypoints with more planted noise are further from the consensus and less often within 0.1 s
    rank = pd.Series(C_K).rank().to_numpy()
    assert np.corrcoef(rank, kp["mean_distance"].rank())[0, 1] > 0.9
    assert np.corrcoef(rank, kp["pck"].rank())[0, 1] < -0.9
    # ICC(A,1) = var_between / (var_between + mean error variance) for unbiased raters; the between-target
    # variance is the true coordinates' spread over the 60 persons
    s_true = person_scale(truth).reshape(-1)
    err_var = np.mean(np.square(list(FACTOR.values()))) * (C_K[None] * s_true[:, None]) ** 2     # (60, 17)
    flat = truth.reshape(-1, len(COCO17), 2)
    for axis, col in ((0, "icc_x"), (1, "icc_y")):
        vb = flat[..., axis].var(axis=0, ddof=1)
        exp_icc = vb / (vb + err_var.mean(axis=0))
        assert (kp[col] > 0.9).all()
        np.testing.assert_allclose(kp[col], exp_icc, atol=0.02)
        assert ((kp[f"{col}_ci_low"] <= exp_icc + 0.002) & (exp_icc - 0.002 <= kp[f"{col}_ci_high"])).sum() >= 14
    assert (kp["n_icc_targets"] == 59).all()                    # the person cat skipped is not a complete target
    # matching: ids were shuffled per image, yet every person found its counterpart
    persons = res.persons.set_index("annotator")
    assert persons["unmatched"].sum() == 0 and persons.loc["cat", "missed"] == 1
    assert raters.loc["cat", "missed_persons"] == 1 and raters.loc["cat", "n_persons"] == 59
    # no drift was planted: slopes are small (the drift test's planted drift gives 0.03) and the CIs (nominal
    # 95 % each) cover 0 for most raters
    assert (raters["drift"].abs() < 0.01).all()
    assert ((raters["drift_ci_low"] < 0) & (raters["drift_ci_high"] > 0)).sum() >= 3
    # tags: alpha equals Krippendorff's alpha of the same labels laid out by the true persons (no matching)
    tags = res.tags.set_index("tag")
    side = pd.DataFrame({n: [_side(n, i, p) if (n, i, p) not in skip else None for i in range(N_ITEMS)
                             for p in range(2)] for n in FACTOR})
    phase = pd.DataFrame({n: [_phase(n, i) for i in range(N_ITEMS)] for n in FACTOR})
    for name, wide in (("side", side), ("phase", phase)):
        ref = krippendorff_alpha(wide, list(FACTOR), level="nominal", n_resamples=0)
        assert tags.loc[name, "alpha"] == pytest.approx(ref.alpha, rel=1e-12)
        assert tags.loc[name, "alpha_ci_low"] <= ref.alpha <= tags.loc[name, "alpha_ci_high"]
    assert tags.loc["phase", "n_units"] == N_ITEMS and tags.loc["side", "n_units"] == 2 * N_ITEMS


def test_known_truth_two_raters_analytic(truth):
    res = keypoint_irr(_rater_sets(truth, ["ann", "bob"], seed=12), pck_threshold=0.05, n_resamples=300, seed=2)
    kp = res.keypoints.set_index("keypoint").loc[list(COCO17)]
    # two raters with SD c s per axis: their difference is N(0, 2 c^2 s^2) per axis, so d/s is Rayleigh with
    # parameter sqrt(2) c: mean sqrt(2) c sqrt(pi/2) = c sqrt(pi); P(d/s < t) = 1 - exp(-t^2 / (4 c^2))
    exp_dist = C_K * math.sqrt(math.pi)
    exp_pck = 1 - np.exp(-0.05 ** 2 / (4 * C_K ** 2))
    ratio = kp["mean_distance"].to_numpy() / exp_dist
    assert np.all(np.abs(ratio - 1) < 0.2) and abs(ratio.mean() - 1) < 0.05
    assert ((kp["mean_distance_ci_low"] <= exp_dist) & (exp_dist <= kp["mean_distance_ci_high"])).sum() >= 14
    # PCK is a proportion of the 60 persons: within 3 binomial SDs (plus 0.02 for the estimated scale)
    assert np.all(np.abs(kp["pck"] - exp_pck) < 3 * np.sqrt(exp_pck * (1 - exp_pck) / 60) + 0.02)
    # sigma^2 = 2 c^2, so the keypoint similarity exp(-d^2/(2 s^2 (2 sigma)^2)) = exp(-chi2_2 / 8), whose mean
    # is the chi-square(2) moment generating function at -1/8: 1 / (1 + 2/8) = 0.8; OKS averages it
    assert np.all(np.abs(kp["similarity"] - 0.8) < 0.02)
    assert res.raters["oks"].to_numpy() == pytest.approx([0.8, 0.8], abs=0.01)
    assert res.raters["oks"].iloc[0] == res.raters["oks"].iloc[1]      # two raters: symmetric


def test_known_truth_drift_detected(truth):
    res = keypoint_irr(_rater_sets(truth, FACTOR, seed=13, drift="cat"), n_resamples=300, seed=3)
    raters = res.raters.set_index("annotator")
    # cat's x drifts by 0.06 s over the images: its error against the others grows from about 0.03 s (noise)
    # to about sqrt(0.03^2 + 0.06^2) = 0.067 s; the others' consensus includes cat, so they drift a little too
    assert raters.loc["cat", "drift_ci_low"] > 0.02
    assert raters.loc["cat", "drift"] > 2.5 * raters.drop("cat")["drift"].max()


# ------------------------------------------------------------------------------------------------ CLI
def _coco_file(path, truth, factor, seed, *, n_items=8):
    rng = np.random.default_rng(seed)
    s_true = person_scale(truth)
    images, anns = [], []
    for i in range(n_items):
        images.append({"id": i + 1, "file_name": f"img{i:03d}.jpg", "width": 1280, "height": 720})
        for p in range(2):
            noisy = truth[i, p] + rng.normal(size=(17, 2)) * (factor * C_K * s_true[i, p])[:, None]
            kps = [v for (x, y) in noisy for v in (round(float(x), 2), round(float(y), 2), 2)]
            x0, y0 = noisy.min(0)
            w, h = noisy.max(0) - noisy.min(0)
            anns.append({"id": 100 * i + p + 1, "image_id": i + 1, "category_id": 1, "keypoints": kps,
                         "num_keypoints": 17, "iscrowd": 0, "bbox": [float(x0), float(y0), float(w), float(h)],
                         "area": float(0.5 * w * h)})
    data = {"images": images, "annotations": anns,
            "categories": [{"id": 1, "name": "person", "keypoints": list(COCO17), "skeleton": []}]}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_cli_irr_json_and_text(truth, tmp_path, capsys):
    files = [str(_coco_file(tmp_path / f"{n}.json", truth, f, seed)) for seed, (n, f) in
             enumerate((("ann", 1.0), ("bob", 1.0), ("cat", 1.0), ("dan", 4.0)))]
    rc = main(["annotations", "irr", *files, "--json", "--resamples", "200", "--seed", "5"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert out["summary"]["annotators"] == ["ann", "bob", "cat", "dan"]     # COCO: the rater is the file stem
    assert out["summary"]["flagged"] == ["dan"] and out["summary"]["n_items"] == 8
    assert out["summary"]["reference"] == REFERENCE_AREA                    # COCO exports carry the area
    assert len(out["keypoints"]) == 17 and {"sigma_ci_low", "icc_y_ci_high"} <= set(out["keypoints"][0])
    rc = main(["annotations", "irr", *files, "--resamples", "0", "--pck", "0.15", "--flag-below", "0.9"])
    text = capsys.readouterr().out
    assert rc == 0 and "FLAGGED" in text and "PCK@0.15" in text and "left_ankle" in text


def test_cli_irr_refuses_one_annotator_and_repeated_file(truth, tmp_path, capsys):
    one = str(_coco_file(tmp_path / "ann.json", truth, 1.0, 0))
    assert main(["annotations", "irr", one]) == 2
    err = capsys.readouterr().err
    assert "1 annotator(s)" in err and "two or more annotators" in err and "ann.json" in err
    assert main(["annotations", "irr", one, one]) == 2
    assert "given twice" in capsys.readouterr().err
    other = str(_coco_file(tmp_path / "bob.json", truth, 1.0, 1))
    assert main(["annotations", "irr", one, other, "--pck", "0"]) == 2
    assert "--pck" in capsys.readouterr().err


def test_cli_irr_real_single_annotator_export(capsys):
    # a real COCO val2017 subset labelled once (README: one annotation per person): nothing to compare
    path = shared_path("annotations", "coco_keypoints", "mmpose_test_coco.json")
    assert main(["annotations", "irr", str(path)]) == 2
    assert "no item labelled by two or more" in capsys.readouterr().err
