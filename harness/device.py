"""Device cost of a study's candidates on this host (``device_runners.host``), joined to the candidates."""
from __future__ import annotations

from pathlib import Path

from candidates.video import iter_frames
from device_runners.host import run_host
from ground_truth.kernel import NotAvailableError, StancebenchError

#: Candidate kind -> host runtime that times its model.
HOST_RUNTIMES = {"mediapipe": "mediapipe", "tflite": "litert", "coreml": "coreml"}


def device_records(candidates: list[dict], videos: list[Path] | None = None, *, runs: int = 30, warmup: int = 3,
                   threads: int = 1) -> tuple[list[dict], str]:
    """Host device-runner records for each candidate's model, tagged with the candidate's name.

    Records are joined to candidates by model sha256 (several candidates may share one model file: each gets
    its own record, measured with its own runtime). A MediaPipe graph candidate is timed as the whole graph on
    a real frame of the study's first video; TFLite candidates as their landmark model in the LiteRT
    interpreter. Returns ``(records, status)``; a candidate that cannot be measured here is skipped with its
    reason in ``status``.
    """
    frame = None
    notes = []
    records: list[dict] = []
    for cand in candidates:
        path = cand.get("model_path")
        if not path or not cand.get("model_sha256"):
            notes.append(f"{cand['name']}: no model file to measure")
            continue
        runtime = HOST_RUNTIMES.get(cand.get("kind"))
        if runtime is None:
            notes.append(f"{cand['name']}: candidate kind {cand.get('kind')!r} has no host runner")
            continue
        try:
            if runtime == "mediapipe" and frame is None:
                frame = first_frame(videos or [])
            recs = run_host(path, runtime=runtime, threads=threads, runs=runs, warmup=warmup,
                            frame=frame if runtime == "mediapipe" else None)
        except StancebenchError as exc:      # one model that cannot be measured must not stop the others
            notes.append(f"{cand['name']}: not available: {type(exc).__name__}: {exc}")
            continue
        for rec in recs:
            d = rec.to_dict()
            d["candidate"] = cand["name"]
            d.setdefault("model_sha256", cand["model_sha256"])
            records.append(d)
    return records, "ok" if not notes else "; ".join(notes)


def device_records_isolated(candidates: list[dict], videos: list[Path] | None = None, *,
                            log_path: str | Path | None = None) -> tuple[list[dict], str]:
    """:func:`device_records` in a worker process: a model runtime that crashes while being timed (LiteRT,
    MediaPipe: native code) costs the device section, named in the status, not the study whose trials are done.
    """
    from .workers import WorkerPool

    pool = WorkerPool(_timed_in_worker, workers=1, crashed=_timing_crashed, log_path=log_path,
                      task_name="device timing")
    task = {"candidates": candidates, "videos": [str(v) for v in videos or []]}
    return pool.run([task], [[0]])[0]


def _timed_in_worker(task: dict, memo: dict) -> tuple[list[dict], str]:
    return device_records(task["candidates"], [Path(v) for v in task["videos"]])


def _timing_crashed(task: dict, reason: str) -> tuple[list[dict], str]:
    return [], f"not measured: the {reason}"


def first_frame(videos: list[Path]):
    """A real frame with a person for the MediaPipe graph timing (the middle of the first video's first 15)."""
    if not videos:
        raise NotAvailableError("no video in the study to take a frame from")
    frames = [f for _, f in iter_frames(videos[0], max_frames=15)]
    return frames[len(frames) // 2]
