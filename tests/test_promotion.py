"""Channels and promotion (issue 13, items 2-3): ``stancebench promote``, the promotion log, ``history compare``
and a gate judged against a channel's stored model.

Results are built as a study builds them: hand-made trial rows (8 subjects, one trial each, com_path_length in
cm) whose agreement sections come from the study's own ``harness.aggregate.agreement_sections``, judged by the
real gates, written by the real writer and recorded in a real SQLite store in ``tmp_path``. The candidate − gold
differences are chosen so that the expected numbers follow by hand:

- model-a: differences 1, 2, 1, 2, ... (bias 1.5 cm, SD of differences sqrt(2/7), MAE 1.5)
- model-b: differences 0.5, 1, 0.5, 1, ... (bias 0.75 cm, SD sqrt(2/7)/2, MAE 0.75)
- model-c: differences 0.5, -0.5, ... (bias 0, MAE 0.5): per subject |c| − |b| is 0 or −0.5
- model-d: differences 2, 2, 2.5, 2.5, ... (MAE 2.25): per subject |d| − |b| is 1.5, 1, 2 or 1.5
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import sqlite3
import types

import pytest

from ground_truth.kernel import InputError
from harness.cli import main

REF = [30.0, 42.0, 35.5, 51.0, 28.0, 46.5, 39.0, 33.0]
DIFFS = {"model-a": [1.0, 2.0] * 4, "model-b": [0.5, 1.0] * 4, "model-c": [0.5, -0.5] * 4,
         "model-d": [2.0, 2.0, 2.5, 2.5] * 2}
P90 = {"model-a": 12.0, "model-b": 11.0, "model-c": 9.0, "model-d": 9.5}
# strategy labels: the reference alternates; model-b calls subject 1's "ankle" a "hip" (Cohen's kappa by hand:
# p_o = 7/8, p_e = (4 x 3 + 4 x 5) / 64 = 1/2, kappa = 0.75); every other model agrees on every subject (kappa 1)
REF_LABELS = ["ankle", "hip"] * 4
LABELS = {"model-b": ["hip"] + REF_LABELS[1:]}

POLICY = """
[policy]
name = "release"
[[rule]]
id = "bias"
metric = "agreement.bias"
abs = true
kpi = "com_path_length"
op = "<="
threshold = 1.0
[[rule]]
id = "loa-advisory"
metric = "agreement.loa_upper"
kpi = "com_path_length"
op = "<="
threshold = 0.1
severity = "advisory"
"""

NONINF = """
[policy]
name = "not worse than production"
baseline = "channel:production"
[[rule]]
id = "mae-noninferior"
mode = "non-inferiority"
kpi = "com_path_length"
where = {{ metric = "mae" }}
margin = {margin}
[[rule]]
id = "bias"
metric = "agreement.bias"
abs = true
kpi = "com_path_length"
op = "<="
threshold = 1.0
"""


def sha(name: str) -> str:
    return hashlib.sha256(f"model file of {name}".encode()).hexdigest()


def build_results(manifest, names, *, study="promotion study") -> dict:
    """A results dict as a study makes it, for ``names`` on the trials of ``manifest`` (a real file)."""
    from harness.aggregate import agreement_sections
    from harness.manifest.model import Settings
    from harness.results import SCHEMA_VERSION

    settings = Settings(bootstrap=200, seed=0)
    trials = []
    for name in names:
        for i, (ref, d) in enumerate(zip(REF, DIFFS[name])):
            trials.append({"trial_id": f"S{i + 1:02d}-1", "subject": f"S{i + 1:02d}", "protocol": "single_leg_stance",
                           "condition": "eyes_open_firm", "candidate": name, "status": "ok", "reason": None,
                           "kind": "paired", "detection_rate": 1.0, "alignment": None,
                           "kpis": [{"kpi": "com_path_length", "unit": "cm", "reference": ref, "candidate": ref + d,
                                     "censored": False},
                                    {"kpi": "strategy_label", "unit": "", "reference": REF_LABELS[i],
                                     "candidate": LABELS.get(name, REF_LABELS)[i], "censored": False}]})
    fake_manifest = types.SimpleNamespace(settings=settings, baseline=None, protocol_defs={})
    res = {"schema_version": SCHEMA_VERSION,
           "study": {"name": study, "kind": "manifest", "manifest": str(manifest), "seed": 0,
                     "created_utc": "2026-01-01T00:00:00+00:00", "settings": {"bootstrap": 200, "seed": 0,
                                                                              "confidence": 0.95}},
           "provenance": {"files": [], "licences": []},
           "candidates": [{"name": n, "kind": "imported", "model_sha256": sha(n), "model_bytes": 1000 + i,
                           "precision": "fp32", "runtime": "test", "baseline": False} for i, n in enumerate(names)],
           "subjects": [], "trials": trials,
           "device": [{"candidate": n, "device": {"model": "Pixel 8", "platform": "android"},
                       "runtime": {"name": "litert"}, "latency": {"p50_ms": P90[n] - 1, "p90_ms": P90[n]},
                       "model": {"sha256": sha(n), "bytes": 1000}} for n in names],
           "gates": []}
    res.update(agreement_sections(trials, fake_manifest))
    return res


def record(store, tmp_path, results: dict, policy_text: str | None, tag: str, *, label=None) -> str:
    """Judge (when a policy is given), write with the real writer, read back and record; the run id."""
    from harness.gates import evaluate_policy, policy_from_dict
    from harness.results import read_results_json, write_results
    import tomllib

    if policy_text is not None:
        results["gates"] = [v.to_dict() for v in evaluate_policy(results, policy_from_dict(tomllib.loads(policy_text)))]
    paths = write_results(results, tmp_path / tag)
    return store.record_run(read_results_json(paths["results"]), command="validate", results_path=paths["results"],
                            label=label)


@pytest.fixture
def manifest(tmp_path):
    p = tmp_path / "study.toml"
    p.write_text("[study]\nname = 'promotion study'\n", encoding="utf-8")
    return p


@pytest.fixture
def store(tmp_path):
    from harness.store import open_store
    s = open_store(tmp_path / "store.db")
    yield s
    s.close()


@pytest.fixture
def cli(monkeypatch):
    """``harness.cli.main`` with ``promote`` registered (until cli.py lists it)."""
    import harness.cli
    from harness.commands import promote
    if promote not in harness.cli.COMMAND_MODULES:
        monkeypatch.setattr(harness.cli, "COMMAND_MODULES", (*harness.cli.COMMAND_MODULES, promote))
    return main


def n_promotions(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM promotions").fetchone()[0]


def history(argv: list[str]) -> int:
    """``history`` options of this module on a parser of their own (as history.py adds them)."""
    from harness.commands.history_compare import add_channel_option, add_compare_parser, run_channel
    p = argparse.ArgumentParser(prog="history")
    p.add_argument("--store")
    p.add_argument("--json", action="store_true")
    p.add_argument("--csv", action="store_true")
    add_channel_option(p)
    sub = p.add_subparsers(dest="history_command")
    add_compare_parser(sub)
    args = p.parse_args(argv)
    return args.func(args) if getattr(args, "func", None) else run_channel(args)


# ---------------------------------------------------------------------------------------------------- promote
def test_promote_refuses_a_blocked_candidate_and_records_nothing(store, tmp_path, manifest, cli, capsys):
    run = record(store, tmp_path, build_results(manifest, ["model-a", "model-b"]), POLICY, "r1")
    rc = cli(["promote", "model-a", "--run", run, "--channel", "production", "--reason", "try", "--store",
              str(store.path)])
    out = capsys.readouterr().out
    assert rc == 1
    assert "refused: model-a" in out and "nothing recorded" in out
    # the stored verdict: |bias| 1.5 cm against 1 cm; the advisory LoA failure is not listed (it never blocks)
    assert "|bias| of com_path_length 1.5 cm ≤ 1 cm: fail" in out and "actual 1.5, threshold 1" in out
    assert "loa-advisory" not in out
    assert n_promotions(store.path) == 0


def test_promote_a_passing_candidate_is_logged_and_listed(store, tmp_path, manifest, cli, capsys, monkeypatch):
    run = record(store, tmp_path, build_results(manifest, ["model-a", "model-b"]), POLICY, "r1", label="v1.2")
    monkeypatch.setenv("USER", "release-manager")
    rc = cli(["promote", "model-b", "--run", run[:8], "--channel", "production", "--reason", "passes release",
              "--store", str(store.path), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["promoted"] is True
    assert doc["model_sha256"] == sha("model-b") and doc["run_id"] == run and doc["promoted_by"] == "release-manager"
    assert doc["evidence"]["n_verdicts"] == 2 and doc["evidence"]["n_pass"] == 1   # the advisory failed
    assert n_promotions(store.path) == 1
    rc = cli(["promote", "model-b", "--run", run, "--channel", "staging", "--reason", "second", "--by", "alice",
              "--store", str(store.path)])
    assert rc == 0 and "to channel staging" in capsys.readouterr().out
    assert history(["--store", str(store.path), "--channel", "production"]) == 0
    out = capsys.readouterr().out
    assert "channel production: 1 promotion(s)" in out and "model-b" in out and "by release-manager" in out
    assert "why: passes release" in out and f"evidence: run {run}" in out and "label v1.2" in out
    assert history(["--store", str(store.path), "--channel", "staging", "--json"]) == 0
    log = json.loads(capsys.readouterr().out)["promotions"]
    assert [(p["candidate"], p["promoted_by"], p["run_id"]) for p in log] == [("model-b", "alice", run)]
    assert history(["--store", str(store.path), "--channel", "production", "--csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("promotion_id,time_utc,channel,candidate,model_sha256,run_id") and len(lines) == 2


@pytest.mark.parametrize("argv, message", [
    (["model-b", "--run", "ffffffffffff"], "no run"),
    (["model-x", "--run", "RUN"], "has no candidate 'model-x'"),
    (["model-b", "--run", "RUN", "--reason", "  "], "a promotion needs a reason"),
    (["model-b", "--run", "RUN", "--sha256", "0123456789abcdef"], "not 0123456789abcdef"),
    (["model-b", "--run", "UNJUDGED"], "has no gate verdicts for 'model-b'"),
])
def test_promote_bad_input_exits_2_and_records_nothing(store, tmp_path, manifest, cli, capsys, argv, message):
    run = record(store, tmp_path, build_results(manifest, ["model-a", "model-b"]), POLICY, "r1")
    unjudged = record(store, tmp_path, build_results(manifest, ["model-b"]), None, "r2")
    argv = [{"RUN": run, "UNJUDGED": unjudged}.get(a, a) for a in argv]
    if "--reason" not in argv:
        argv += ["--reason", "ok"]
    rc = cli(["promote", *argv, "--channel", "production", "--store", str(store.path)])
    err = capsys.readouterr().err
    assert rc == 2 and message in err, err
    assert n_promotions(store.path) == 0
    if "UNJUDGED" in argv or unjudged in argv:
        assert "stancebench gate" in err


def test_promote_the_right_model_by_sha_prefix(store, tmp_path, manifest):
    from harness.store.promotion import channel_model, promote
    run = record(store, tmp_path, build_results(manifest, ["model-b"]), POLICY, "r1")
    rec = promote(store, "model-b", run=run, channel="channel:production", reason="ok", by="me",
                  model_sha256=sha("model-b")[:10].upper())
    assert rec["channel"] == "production" and channel_model(store, "production")["promotion_id"] == rec["promotion_id"]
    with pytest.raises(InputError, match="not a channel name"):
        promote(store, "model-b", run=run, channel="prod uction", reason="ok")


# ---------------------------------------------------------------------------------------------------- compare
def test_compare_two_runs_gives_hand_checkable_differences(store, tmp_path, manifest, capsys):
    from harness.store.compare import compare_runs
    ra = record(store, tmp_path, build_results(manifest, ["model-a"]), None, "a")
    res_b = build_results(manifest, ["model-b", "model-c"])
    # the same candidate name, another model: B's "model-a" is model-b's numbers under model-a's name
    for section in ("trials", "agreement", "device"):
        for r in res_b[section]:
            r["candidate"] = {"model-b": "model-a"}.get(r["candidate"], r["candidate"])
    res_b["candidates"][0]["name"] = "model-a"
    rb = record(store, tmp_path, res_b, None, "b")
    doc = compare_runs(store, ra, rb)
    assert doc["same_study"] is True
    assert doc["candidates"]["model-a"] == {"presence": "both", "model_sha256_a": sha("model-a"),
                                            "model_sha256_b": sha("model-b"), "model_changed": True}
    assert doc["candidates"]["model-c"]["presence"] == "added"
    rows = {(r["candidate"], r["quantity"]): r for r in doc["rows"] if r["condition"] in ("all", None)}
    sd = math.sqrt(2 / 7)   # differences 1, 2, 1, 2, ...: mean 1.5, squared deviations 8 × 0.25 over 7
    expect = {"bias": (1.5, 0.75, -0.75, "changed"), "abs_bias": (1.5, 0.75, -0.75, "better"),
              "loa_width": (2 * 1.96 * sd, 1.96 * sd, -1.96 * sd, "better"), "n": (8, 8, 0, "same"),
              "p90_ms": (12.0, 11.0, -1.0, "better")}
    for q, (a, b, diff, word) in expect.items():
        r = rows[("model-a", q)]
        assert (r["a"], r["b"], r["diff"]) == pytest.approx((a, b, diff), rel=1e-9), q
        assert r["change"] == word, q
    icc = rows[("model-a", "icc_ci_low")]
    assert icc["better"] == "higher" and icc["diff"] == pytest.approx(icc["b"] - icc["a"])
    assert icc["change"] == ("better" if icc["b"] > icc["a"] else "worse")
    assert rows[("model-c", "abs_bias")]["change"] == "added" and rows[("model-c", "abs_bias")]["a"] is None
    assert rows[("model-a", "p90_ms")]["device"] == "Pixel 8, litert"
    # a run against itself: every quantity is the same
    assert {r["change"] for r in compare_runs(store, ra, ra)["rows"]} == {"same"}
    assert history(["--store", str(store.path), "compare", ra, rb]) == 0
    out = capsys.readouterr().out
    assert "candidate model-a: model sha256 differs" in out and "candidate model-c: added in B" in out
    assert "|bias|" in out and "B−A     -0.75 cm  (lower is better): better" in out
    assert history(["--store", str(store.path), "compare", ra, rb, "--csv"]) == 0
    csv_lines = capsys.readouterr().out.splitlines()
    assert csv_lines[0].startswith("section,candidate,protocol,kpi,condition,device,quantity")
    assert history(["--store", str(store.path), "compare", ra[:6], "latest", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["run_b"]["run_id"] == rb


def test_same_means_equal_to_four_significant_digits():
    from harness.store.compare import change_word
    assert change_word("loa_width", 2.0951, 2.09514) == "same"
    assert change_word("loa_width", 2.095, 2.096) == "worse"
    assert change_word("icc_ci_low", 0.5, 0.51) == "better"
    assert change_word("bias", 0.5, -0.5) == "changed"
    assert change_word("abs_bias", None, 0.5) == "n/a"


# ------------------------------------------------------------------------------------------ gate vs channel
def _promote_b(store, tmp_path, manifest) -> str:
    from harness.store.promotion import promote
    run = record(store, tmp_path, build_results(manifest, ["model-a", "model-b"]), POLICY, "evidence")
    promote(store, "model-b", run=run, channel="production", reason="best so far", by="me")
    return run


def test_gate_judges_non_inferiority_against_the_stored_production_model(store, tmp_path, manifest):
    from harness.gates import evaluate_policy, exit_code, policy_from_dict, summarize
    from harness.store.baseline import gate_with_baseline, with_channel_baseline
    import tomllib

    evidence = _promote_b(store, tmp_path, manifest)
    new = build_results(manifest, ["model-c", "model-d"])
    before = json.dumps(new, sort_keys=True, default=str)
    judged = with_channel_baseline(new, store, "production")
    assert json.dumps(new, sort_keys=True, default=str) == before    # the results given are not changed
    info = judged["channel_baseline"]
    assert (info["run_id"], info["stored_candidate"], info["evidence_run"]) == (evidence, "model-b", True)
    cmp = {r["candidate"]: r for r in judged["comparisons"] if r["baseline"] == "channel:production"}
    # MAE(model-c) − MAE(model-b) = 0.5 − 0.75; MAE(model-d) − MAE(model-b) = 2.25 − 0.75
    assert cmp["model-c"]["diff"] == pytest.approx(-0.25) and cmp["model-d"]["diff"] == pytest.approx(1.5)
    # the paired per-subject differences lie in [−0.5, 0] (c) and [1, 2] (d): so do the bootstrap bounds
    assert -0.5 <= cmp["model-c"]["diff_ci_high"] <= 0 and 1 <= cmp["model-d"]["diff_ci_low"]
    policy = policy_from_dict(tomllib.loads(NONINF.format(margin=0.5)))
    verdicts = evaluate_policy(judged, policy)
    by = {(v.rule_id, v.candidate): v for v in verdicts}
    assert by[("mae-noninferior", "model-c")].status == "pass"
    assert by[("mae-noninferior", "model-d")].status == "fail" and by[("mae-noninferior", "model-d")].blocks
    assert "vs channel:production" in by[("mae-noninferior", "model-c")].message
    # the stored baseline is the yardstick, not a release candidate: no verdict of its own
    assert "channel:production" not in summarize(verdicts)["candidates"] and exit_code(verdicts) == 1
    # relative rules on the stored agreement and device rows: 9 ms / 11 ms; |0| − |0.75| cm
    relative = policy_from_dict({"policy": {"baseline": "channel:production"}, "rule": [
        {"id": "p90", "metric": "device.latency.p90_ms", "mode": "ratio", "op": "<=", "threshold": 1.0},
        {"id": "bias", "metric": "agreement.bias", "abs": True, "kpi": "com_path_length", "mode": "difference",
         "op": "<=", "threshold": 0.0}]})
    rel = {(v.rule_id, v.candidate): v for v in evaluate_policy(judged, relative)}
    # kappa of the stored model, from its stored trial rows (the store keeps no categorical rows): 0.75 by hand
    kappa = {r["candidate"]: r["kappa"] for r in judged["categorical"] if r["kpi"] == "strategy_label"}
    assert kappa["channel:production"] == pytest.approx(0.75) and kappa["model-c"] == pytest.approx(1.0)
    on_kappa = policy_from_dict({"policy": {"baseline": "channel:production"}, "rule": [
        {"id": "kappa", "metric": "categorical.kappa", "kpi": "strategy_label", "mode": "difference", "op": ">=",
         "threshold": 0.0}]})
    rk = {v.candidate: v for v in evaluate_policy(judged, on_kappa)}
    assert rk["model-c"].status == "pass" and rk["model-c"].actual == pytest.approx(0.25)
    assert rel[("p90", "model-c")].actual == pytest.approx(9 / 11) and rel[("p90", "model-c")].status == "pass"
    assert rel[("bias", "model-c")].actual == pytest.approx(-0.75, abs=1e-12)
    assert rel[("bias", "model-d")].actual == pytest.approx(2.25 - 0.75)
    # --baseline production on a policy that names no baseline: the same judgement
    plain = policy_from_dict(tomllib.loads(NONINF.format(margin=0.5).replace('baseline = "channel:production"\n',
                                                                             "")))
    res2, pol2, info2 = gate_with_baseline(new, plain, option="production", store_path=store.path)
    assert info2["run_id"] == evidence and pol2.rules[0].baseline == "channel:production"
    assert [v.status for v in evaluate_policy(res2, pol2)] == [v.status for v in verdicts]
    # without the store step the gates say where the baseline comes from, and block
    bare = {(v.rule_id, v.candidate): v for v in evaluate_policy(new, policy)}
    assert bare[("mae-noninferior", "model-c")].status == "not-evaluable"
    assert "results store" in bare[("mae-noninferior", "model-c")].reason


def test_gate_baseline_refuses_without_promotion_or_on_another_manifest(store, tmp_path, manifest):
    from ground_truth.kernel import StancebenchError
    from harness.gates import policy_from_dict
    from harness.store import StoreError
    from harness.store.baseline import gate_with_baseline, with_channel_baseline
    import tomllib

    new = build_results(manifest, ["model-c"])
    with pytest.raises(StoreError, match="channel 'production' has no promotion"):
        with_channel_baseline(new, store, "production")
    _promote_b(store, tmp_path, manifest)
    other = tmp_path / "other.toml"
    other.write_text("[study]\nname = 'another study'\n", encoding="utf-8")
    elsewhere = build_results(other, ["model-c"])
    with pytest.raises(StoreError, match="no run of that model on this study") as exc:
        with_channel_baseline(elsewhere, store, "production")
    assert isinstance(exc.value, StancebenchError)   # the CLI's exit 2
    # a later run of the production model on that other manifest serves (the evidence run does not)
    later = record(store, tmp_path, build_results(other, ["model-b", "model-d"]), None, "other-run")
    assert with_channel_baseline(elsewhere, store, "production")["channel_baseline"]["run_id"] == later
    policy = policy_from_dict(tomllib.loads(POLICY))
    with pytest.raises(StoreError, match="no results store here"):
        gate_with_baseline(new, policy, option="production", store_path=tmp_path / "absent.db")
    # no channel named anywhere: nothing changes and no store is opened
    assert gate_with_baseline(new, policy, store_path=tmp_path / "absent.db") == (new, policy, None)


def test_channel_of_reads_policies_and_options():
    from ground_truth.kernel import ManifestError
    from harness.gates import policy_from_dict
    from harness.store.promotion import channel_of
    import tomllib

    assert channel_of("channel:production") == "production" and channel_of("mediapipe-full") is None
    assert channel_of(policy_from_dict(tomllib.loads(NONINF.format(margin=1)))) == "production"
    assert channel_of(policy_from_dict(tomllib.loads(POLICY))) is None
    two = NONINF.format(margin=1) + '\n[[rule]]\nid = "x"\nmode = "non-inferiority"\nkpi = "k"\nmargin = 1\n' \
                                    'baseline = "channel:staging"\n'
    with pytest.raises(ManifestError, match="2 channels"):
        channel_of(policy_from_dict(tomllib.loads(two)))
