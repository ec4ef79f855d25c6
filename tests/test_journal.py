"""The results journal (harness.journal): exact round trip of an outcome, keys that follow the inputs, atomic
entries, and what is not journaled. A killed study resumed from its journal is tested end to end, with real
processes, in tests/test_dask_study.py."""
from __future__ import annotations

import json
import math
import struct

import numpy as np
import pytest

from harness.journal import Journal, decode, encode, task_keys
from harness.pipeline import TrialOutcome


def _bits(x: float) -> bytes:
    return struct.pack("<d", x)


def test_outcome_round_trips_bit_for_bit(tmp_path):
    rng = np.random.default_rng(0)
    row = {"trial_id": "T1", "candidate": "c", "status": "ok", "nan": float("nan"), "neg_zero": -0.0,
           "inf": float("-inf"), "tiny": 5e-324, "third": 1 / 3, "big": 2 ** 70, "flag": True, "none": None,
           "np_scalar": np.float32(0.1), "np_int": np.int64(-7), "window_s": (0.5, 2.5),
           "kpis": [{"kpi": "sway", "reference": 1.0000000000000002, "candidate": float("nan")}],
           "by_index": {3: "three", (1, 2): "pair"}}
    figures = {"stabilogram": {"t": rng.normal(size=50), "y32": rng.normal(size=(5, 3)).astype(np.float32),
                               "mask": np.array([True, False, True]),
                               "ints": np.arange(6, dtype=np.int16).reshape(2, 3),
                               "nan_arr": np.array([np.nan, -0.0, np.inf]),
                               "fortran": np.asfortranarray(rng.normal(size=(3, 4)))}}
    j = Journal(tmp_path)
    assert j.write("k1", TrialOutcome(row, figures))
    # the entry is plain JSON on disk (readable by other tools); what comes back is the same objects
    json.loads((tmp_path / "journal" / "k1.json").read_text())
    back = Journal(tmp_path).read("k1")
    r, f = back.row, back.figures
    assert math.isnan(r["nan"]) and _bits(r["neg_zero"]) == _bits(-0.0) and r["inf"] == float("-inf")
    assert _bits(r["tiny"]) == _bits(5e-324) and _bits(r["third"]) == _bits(1 / 3) and r["big"] == 2 ** 70
    assert type(r["np_scalar"]) is np.float32 and r["np_scalar"] == np.float32(0.1)
    assert type(r["np_int"]) is np.int64 and r["window_s"] == (0.5, 2.5)
    assert _bits(r["kpis"][0]["reference"]) == _bits(1.0000000000000002) and math.isnan(r["kpis"][0]["candidate"])
    assert r["by_index"] == {3: "three", (1, 2): "pair"} and r["flag"] is True and r["none"] is None
    for name, arr in figures["stabilogram"].items():
        got = f["stabilogram"][name]
        assert got.dtype == arr.dtype and got.shape == arr.shape, name
        assert got.tobytes() == np.ascontiguousarray(arr).tobytes(), name     # bit-identical, NaN included
    assert [p.name for p in (tmp_path / "journal").iterdir()] == ["k1.json"]   # no temporary file left


def test_a_value_the_journal_cannot_store_is_a_type_error(tmp_path):
    with pytest.raises(TypeError, match="set"):
        encode({"a": {1, 2}})
    with pytest.raises(TypeError, match="object"):
        encode(np.array([{}, 1], dtype=object))
    assert decode(encode({"__nd__": 1})) == {"__nd__": 1}     # a row key that looks like a tag stays a key


def test_rows_whose_worker_died_are_not_journaled_and_bad_entries_are_recomputed(tmp_path):
    j = Journal(tmp_path)
    died = {"trial_id": "T", "status": "failed", "error_type": "WorkerProcessDied", "reason": "SIGKILL"}
    assert not j.write("dead", TrialOutcome(died)) and j.keys() == set()
    refused = {"trial_id": "T", "status": "refused", "reason": "no alignment peak"}
    assert j.write("refused", TrialOutcome(refused)) and j.read("refused").row == refused
    (j.root / "cut.json").write_text('{"format": 1, "key": "cut", "outc')
    (j.root / "other.json").write_text(json.dumps({"format": 1, "key": "not-other", "outcome": {}}))
    assert j.read_many(["cut", "other", "refused", "absent"]).keys() == {"refused"}
    assert len(j.unreadable) == 2 and "cut.json" in j.unreadable[0]
    (j.root / ".x.json.123.tmp").write_text("half")      # what a writer killed mid-write leaves
    assert j.clear() == 3 and list(j.root.iterdir()) == []


def _task(tmp_path, **changes):
    video = tmp_path / "v.mp4"
    if not video.exists():
        video.write_bytes(b"video bytes")
    task = {"trial": {"id": "T1", "subject": "S01", "protocol": "single_leg_stance", "condition": "eyes_open_firm",
                      "stance_leg": "right", "kind": "candidate-only", "gold_standard": [], "video": [video],
                      "camera": None, "truth": [], "annotations": None, "marker_map": None},
            "subject": {"id": "S01", "height_m": 1.7}, "candidate": None,
            "settings": {"seed": 0, "bootstrap": 100, "workers": 2, "cache_dir": "/a"},
            "protocol_def": None, "strict": False}
    for k, v in changes.items():
        task[k] = v
    return task


def test_keys_follow_inputs_settings_and_protocol_not_runtime_options(tmp_path):
    base = task_keys([_task(tmp_path)])[0]
    assert task_keys([_task(tmp_path)])[0] == base          # stable
    # how a study runs (workers, cache folder, strict) does not change what it computes
    same = _task(tmp_path, settings={"seed": 0, "bootstrap": 100, "workers": 7, "cache_dir": "/b"}, strict=True)
    assert task_keys([same])[0] == base
    assert task_keys([_task(tmp_path, settings={"seed": 1, "bootstrap": 100})])[0] != base
    assert task_keys([_task(tmp_path, protocol_def={"name": "lab"})])[0] != base
    assert task_keys([_task(tmp_path, subject={"id": "S01", "height_m": 1.8})])[0] != base
    # the video's bytes, not its name: the same path with other content is another task
    (tmp_path / "v.mp4").write_bytes(b"other video bytes")
    assert task_keys([_task(tmp_path)])[0] != base


def test_a_run_without_resume_clears_the_journal_and_says_so(tmp_path, capsys):
    from harness.study_engine import run_study_tasks
    j = Journal(tmp_path)
    for key in ("a", "b"):
        j.write(key, TrialOutcome({"trial_id": key, "status": "ok"}))
    outcomes, engine, notes = run_study_tasks([], tmp_path, resume=True, progress=False)
    assert j.keys() == {"a", "b"} and engine["from_journal"] == 0 and "0 of 0" in notes[-1]
    run_study_tasks([], tmp_path, resume=False, progress=False)
    assert "journal: removed 2 entries of an earlier run" in capsys.readouterr().err and j.keys() == set()
