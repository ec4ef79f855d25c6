"""Run a validation study: every trial × candidate, then agreement, device cost, gates, results and report.

``run_study(manifest, out_dir)`` is what ``stancebench validate`` and ``stancebench demo`` call. Work is split
into one task per trial × candidate (a reference-only trial is one task without a candidate) and run in a pool
of processes, one per core by default; a progress bar goes to stderr. A task that fails is recorded with its
status and reason (``"failed"``: something broke; ``"refused"``: the data did not allow an honest number,
e.g. no reliable alignment peak) and the study goes on. A part of the project that is not available on this
machine is recorded as ``"not available: <reason>"`` in the results, never a crash.
"""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing as mp
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ground_truth.kernel import StancebenchError, file_sha256, jsonable, strict_mode
from reports import build_report

from . import gates
from .aggregate import agreement_sections
from .composite import ybt_composite_rows
from .device import device_records
from .manifest import StudyManifest
from .pipeline import TrialOutcome, empty_row, run_trial
from .pipeline.candidate import candidate_identity
from .progress import Progress

from .results import SCHEMA_VERSION, software_versions, utc_now, write_results


def default_cache_dir() -> Path:
    """Where candidate inference results are cached (``STANCEBENCH_CACHE`` or ~/.cache/stancebench)."""
    env = os.environ.get("STANCEBENCH_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "stancebench"


#: Native libraries' log output (MediaPipe, LiteRT, TFLite's XNNPACK notice, absl) goes here, beside the results.
NATIVE_LOG = "native-stderr.log"


@contextlib.contextmanager
def native_stderr_to(path: str | os.PathLike | None):
    """Send file descriptor 2 to ``path`` for the duration (C++ libraries write there, not to sys.stderr)."""
    if path is None:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(fd, 2)
        os.close(fd)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _say(progress: bool, text: str) -> None:
    if progress:
        print(text, file=sys.stderr, flush=True)


def _tasks(manifest: StudyManifest, strict: bool = False) -> list[dict]:
    subjects = {s.id: asdict(s) for s in manifest.subjects}
    tasks = []
    for trial in manifest.trials:
        cands = [None] if trial.kind == "reference-only" else list(manifest.candidates)
        for spec in cands:
            tasks.append({"trial": asdict(trial), "subject": subjects[trial.subject],
                          "candidate": None if spec is None else asdict(spec),
                          "settings": asdict(manifest.settings),
                          # a spawned worker does not know the study's own protocols: carry the definition
                          "protocol_def": manifest.protocol_defs.get(trial.protocol), "strict": strict})
    return tasks


def _worker_init(threads: int, log_path: str | None) -> None:
    # Each worker process runs single-threaded numerics so that N processes use N cores, not N².
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(threads))
    if log_path:
        # MediaPipe and LiteRT print INFO/WARNING lines from C++ straight to file descriptor 2; in workers they
        # go to a log file beside the results so that stderr keeps only the progress bar and real errors.
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 2)
        os.close(fd)


def run_tasks(tasks: list[dict], *, workers: int, progress: bool = True, label: str = "trials",
              log_path: str | os.PathLike | None = None) -> list[TrialOutcome]:
    """Run tasks in a process pool (in-process when ``workers == 1``), keeping the input order.

    Worker processes send their native libraries' log output to ``log_path`` (when given)."""
    out: list[TrialOutcome | None] = [None] * len(tasks)
    bar = Progress(len(tasks), label, enabled=progress)
    try:
        if workers <= 1 or len(tasks) <= 1:
            references: dict = {}
            for i, task in enumerate(tasks):
                if i and task["trial"]["id"] != tasks[i - 1]["trial"]["id"]:
                    references.clear()      # one trial's gold standard at a time in memory
                out[i] = run_trial(task, references=references)
                _tick(bar, out[i])
        else:
            # spawn, not fork: MediaPipe and the TFLite runtime hold threads and must not be forked.
            ctx = mp.get_context("spawn")
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # inherited by the spawned workers
            os.environ.setdefault("GLOG_minloglevel", "2")
            with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init,
                                        initargs=(1, None if log_path is None else str(log_path))) as pool:
                futures = {pool.submit(run_trial_batch, [tasks[i] for i in batch]): batch
                           for batch in _batches_by_trial(tasks)}
                for fut in cf.as_completed(futures):
                    batch = futures[fut]
                    try:
                        outcomes = fut.result()
                    except cf.process.BrokenProcessPool as exc:    # the worker process died (a native crash)
                        outcomes = []
                        for i in batch:
                            row = empty_row(tasks[i])
                            row["status"], row["reason"] = "failed", f"worker process failed: {exc}"
                            row["error_type"] = type(exc).__name__
                            outcomes.append(TrialOutcome(row))
                    for i, res in zip(batch, outcomes):
                        out[i] = res
                        _tick(bar, res)
    finally:
        bar.close()
    return out  # type: ignore[return-value]


def _batches_by_trial(tasks: list[dict]) -> list[list[int]]:
    """Task indices grouped by trial: one worker runs every candidate of a trial in manifest order, so a video
    that several candidates read (one camera and triangulated views of one backbone, a control degrading that
    backbone's keypoints) is inferred once and read from the cache by the others, never inferred twice at the
    same time in two workers."""
    groups: dict[str, list[int]] = {}
    for i, task in enumerate(tasks):
        groups.setdefault(task["trial"]["id"], []).append(i)
    return list(groups.values())


def run_trial_batch(tasks: list[dict]) -> list[TrialOutcome]:
    """:func:`run_trial` on each task in order (one worker's share: the candidates of one trial, which read one
    gold-standard side)."""
    references: dict = {}
    return [run_trial(task, references=references) for task in tasks]


def _tick(bar: Progress, res: TrialOutcome) -> None:
    row = res.row
    bar.update(note=f"{row['trial_id']} {row.get('candidate') or '(reference only)'}: {row['status']}",
               failed=row["status"] != "ok")


def _candidate_identity(spec, rows: list[dict]) -> dict:
    """Identity of a candidate for results: from the first track that ran, else from the backbone itself.

    ``control`` ("positive", "negative" or None) and ``view`` (a camera name, "first" or "triangulated") are the
    manifest's (results schema 3): the gates judge a control's expectation from it, and the report labels it.
    """
    ident = {"name": spec.name, "baseline": spec.baseline, "manifest": spec.manifest, "params": spec.params}
    for r in rows:
        if r.get("candidate") == spec.name and r.get("candidate_identity"):
            ident.update({k: v for k, v in r["candidate_identity"].items() if k not in ("name",)})
            break
    else:
        try:
            ident.update(candidate_identity(asdict(spec)))
        except StancebenchError as exc:
            ident["status"] = f"not available: {exc}"
    # the manifest decides what a candidate is for; a track's identity does not override it
    ident.update(control=spec.control, view=spec.view)
    return ident


def run_study(manifest: StudyManifest, out_dir: str | os.PathLike, *, policy: str | os.PathLike | None = None,
              workers: int | None = None, progress: bool = True, kind: str = "manifest",
              device: bool = True, report: bool = True, extra: dict | None = None,
              strict: bool | None = None) -> dict:
    """Run a whole study and write ``results.json``, the CSV tables and ``report.html`` into ``out_dir``.

    Parameters
    ----------
    manifest : StudyManifest
        From :func:`harness.manifest.load_manifest`.
    out_dir : path-like
        Output folder (created).
    policy : path-like, optional
        Gate policy TOML; without one no gates are evaluated (``gates`` is empty).
    workers : int, optional
        Processes; default ``settings.workers`` or one per core.
    progress : bool
        Draw the progress bar on stderr.
    kind : {"manifest", "synthetic-demo"}
        Recorded in ``study.kind``.
    device : bool
        Run the host device runner on each candidate's model file.
    report : bool
        Build ``report.html`` (needs the ``reports`` package).
    extra : dict, optional
        Extra top-level sections merged into the results (e.g. the synthetic round-trip self-check).
    strict : bool, optional
        Re-raise an unexpected exception in a trial instead of recording it (default: ``STANCEBENCH_STRICT``).

    Returns
    -------
    dict
        The results (also written as ``results.json``); ``results["exit_code"]`` follows the gates
        (0 pass, 1 a blocking gate failed).
    """
    if policy is not None:
        # a bad policy is bad input: say so before the study runs, not after it
        gates.load_policy(policy)
    if strict is None:
        strict = strict_mode()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    settings = manifest.settings
    if settings.cache_dir is None:
        settings.cache_dir = default_cache_dir()
    n_workers = workers or settings.workers or os.cpu_count() or 1
    tasks = _tasks(manifest, strict)
    n_workers = max(1, min(n_workers, len(tasks)))
    timings: dict[str, float] = {}
    t = time.perf_counter()
    done = run_tasks(tasks, workers=n_workers, progress=progress, log_path=out / NATIVE_LOG)
    timings["trials_s"] = time.perf_counter() - t
    rows = [d.row for d in done]
    # subject-level scores made of several trials (the Y-Balance composite), as derived rows
    rows += ybt_composite_rows(rows)
    figures = {"trials": {f"{d.row['trial_id']}|{d.row.get('candidate')}": d.figures
                          for d in done if d.figures}}

    results: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "study": {"name": manifest.name, "kind": kind, "manifest": manifest.path, "seed": settings.seed,
                  "created_utc": utc_now(), "software": software_versions(), "data_root": manifest.data_root,
                  "workers": n_workers, "settings": asdict(settings),
                  "own_protocols": manifest.protocol_defs},
        "provenance": {"files": _provenance_files(manifest), "licences": list(manifest.licences),
                       "manifest": manifest.to_dict()},
        "candidates": [_candidate_identity(c, rows) for c in manifest.candidates],
        "subjects": [{"subject": s.id, "height_m": s.height_m, "mass_kg": s.mass_kg,
                      "leg_length_m": s.leg_length_m, "sex": s.sex} for s in manifest.subjects],
        "trials": rows,
    }
    t = time.perf_counter()
    results.update(agreement_sections(rows, manifest))
    timings["agreement_s"] = time.perf_counter() - t
    if extra:
        results.update(extra)

    t = time.perf_counter()
    videos = [t.video[0] for t in manifest.trials if t.video]
    if device:
        _say(progress, f"device: timing {len(results['candidates'])} candidate model(s) on this host ...")
        with native_stderr_to(out / NATIVE_LOG):
            results["device"], results["device_status"] = device_records(results["candidates"], videos)
    else:
        results["device"], results["device_status"] = [], "not run (--no-device)"
    timings["device_s"] = time.perf_counter() - t

    results["gates"], results["gates_status"], exit_code = _gates(results, policy)
    results["exit_code"] = exit_code
    results["figures_data"] = figures
    timings["total_s"] = time.perf_counter() - t_start
    results["timings"] = timings
    paths = write_results(results, out)
    results["paths"] = {k: str(v) for k, v in paths.items()}
    if report:
        t = time.perf_counter()
        _say(progress, "report: writing report.html ...")
        with native_stderr_to(out / NATIVE_LOG):
            results["report_status"] = _report(results, out / "report.html")
        timings["report_s"] = time.perf_counter() - t
        timings["total_s"] = time.perf_counter() - t_start
        if results["report_status"] == "ok":
            results["paths"]["report"] = str(out / "report.html")
        write_results(results, out)  # again, with the report status and final timings
    return results


def _gates(results: dict, policy) -> tuple[list[dict], str, int]:
    """Verdicts of a gate policy on the results; ``(gates, status, exit_code)`` (exit 1: a blocking gate failed)."""
    if policy is None:
        return [], "no policy given: no gates evaluated", 0
    pol = gates.load_policy(policy)
    verdicts = gates.evaluate_policy(jsonable({k: v for k, v in results.items() if k != "figures_data"}), pol)
    summary = gates.summarize(verdicts)
    status = (f"policy '{pol.name}' ({pol.source}): " +
              ", ".join(f"{k} {v}" for k, v in summary.items() if isinstance(v, (int, float, str))))
    return [v.to_dict() for v in verdicts], status, int(gates.exit_code(verdicts))


def _report(results: dict, out_path: Path) -> str:
    """Build report.html; returns "ok" or why it is missing (results.json stands without it)."""
    data = jsonable(results)
    try:
        build_report(data, out_path, figures_data=data.get("figures_data"))
    except StancebenchError as exc:
        return f"failed: the report could not be built ({type(exc).__name__}: {exc})"
    return "ok"


def _provenance_files(manifest: StudyManifest) -> list[dict]:
    seen, files = set(), []
    for trial in manifest.trials:
        for role, paths in (("gold-standard", trial.gold_standard), ("video", trial.video),
                            ("calibration", [trial.camera] if trial.camera else []),
                            ("truth", [t for t in trial.truth if t])):
            for p in paths:
                if p in seen:
                    continue
                seen.add(p)
                files.append({"path": str(p), "sha256": file_sha256(p), "role": role, "bytes": p.stat().st_size})
    for c in manifest.candidates:
        if c.manifest and c.manifest not in seen:
            files.append({"path": str(c.manifest), "sha256": file_sha256(c.manifest), "role": "model"})
    return files


def summary_lines(results: dict, *, max_failed: int = 8) -> list[str]:
    """A short human summary of a finished study (printed by ``demo`` and ``validate``)."""
    import numpy as np

    rows = results.get("trials", [])
    ok = sum(r["status"] == "ok" for r in rows)
    lines = [f"study '{results['study']['name']}': {len(rows)} trial x candidate runs, {ok} ok, "
             f"{len(rows) - ok} failed/refused ({results.get('timings', {}).get('total_s', float('nan')):.1f} s)"]
    bad = [r for r in rows if r["status"] != "ok"]
    for r in bad[:max_failed]:
        lines.append(f"  {r['status']}: {r['trial_id']} / {r.get('candidate') or '-'}: {r['reason']}")
    if len(bad) > max_failed:
        lines.append(f"  ... and {len(bad) - max_failed} more (trials.csv)")
    errs = [abs(r["alignment"]["offset_error_s"]) for r in rows
            if r.get("alignment") and r["alignment"].get("offset_error_s") is not None]
    if errs:
        lines.append(f"clock alignment vs known offsets: {len(errs)} trials, |error| median "
                     f"{1000 * float(np.median(errs)):.1f} ms, max {1000 * max(errs):.1f} ms")
    agree = [a for a in results.get("agreement", []) if a.get("condition") == "all" and a.get("icc") is not None]
    if agree:
        lines.append("agreement, all conditions (candidate - reference):")
    for a in agree:
        lines.append(f"  {a['candidate']:<22} {a['kpi']:<23} n={a['n']:<3} bias {a['bias']:+.3g} {a['unit']}, "
                     f"LoA [{a['loa_lower']:.3g}, {a['loa_upper']:.3g}], ICC(A,1) {a['icc']:.2f} "
                     f"[{a['icc_ci_low']:.2f}, {a['icc_ci_high']:.2f}]")
    for c in results.get("categorical", []):
        if c.get("kappa") is not None:
            ci = (f"[{c['kappa_ci_low']:.2f}, {c['kappa_ci_high']:.2f}]"
                  if c.get("kappa_ci_low") is not None and c.get("kappa_ci_high") is not None
                  else f"(no interval: {c.get('note') or 'not computable'})")
            lines.append(f"  {c['candidate']:<22} {c['kpi']:<23} n={c['n']:<3} kappa {c['kappa']:.2f} {ci}")
    gates = results.get("gates", [])
    if gates:
        lines.append("gates:")
        for cand in dict.fromkeys(g.get("candidate") for g in gates):
            mine = [g for g in gates if g.get("candidate") == cand]
            if any(g.get("control") for g in mine):
                continue        # controls are judged by their expectation: print_outputs' "controls:" lines
            blocks = [g for g in mine if g.get("blocks")]
            counts = {}
            for g in mine:
                counts[g["status"]] = counts.get(g["status"], 0) + 1
            lines.append(f"  {cand}: {'BLOCKED' if blocks else 'not blocked'} (verdicts: "
                         + ", ".join(f"{v} {k}" for k, v in counts.items())
                         + ("; every fail is advisory" if counts.get("fail") and not blocks else "") + ")")
            for g in blocks:
                lines.append(f"    blocking: {g.get('message')}")
    if results.get("gates_status") and not gates:
        lines.append(f"gates: {results['gates_status']}")
    return lines
