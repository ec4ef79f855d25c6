"""Run a validation study: every trial × candidate, then agreement, device cost, gates, results and report.

``run_study(manifest, out_dir)`` is what ``stancebench validate`` and ``stancebench demo`` call. Work is split
into one task per trial × candidate (a reference-only trial is one task without a candidate) and run in worker
processes (:mod:`harness.workers`), one per core by default; a progress bar goes to stderr. A task that fails is
recorded with its status and reason (``"failed"``: something broke, including a native crash that killed its
worker process; ``"refused"``: the data did not allow an honest number, e.g. no reliable alignment peak) and the
study goes on; how the study ran (workers that died, inference-cache writes that failed) is in ``study.notes``.
A part of the project that is not available on this machine is recorded as ``"not available: <reason>"`` in the
results, never a crash. Each finished task is journaled in ``out_dir/journal`` as it finishes, so ``resume=True``
computes only what a killed run left; ``client=`` runs the tasks on a Dask cluster (:mod:`harness.study_engine`,
docs/scale.md).
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from candidates.cache import default_cache_dir
from ground_truth.kernel import (InputError, OutputError, StancebenchError, check_input_file, file_sha256,
                                 jsonable, make_output_dir, strict_mode)
from reports import build_report

from . import gates
from .aggregate import agreement_sections
from .annotations.reference import annotation_section
from .backbones_table import backbone_comparison
from .composite import ybt_composite_rows
from .device import device_records_isolated
from .manifest import StudyManifest
from .manifest.model import trial_input_files
from .pipeline.candidate import candidate_identity
from .precision_table import precision_section
from .journal import task_keys
from .study_engine import run_study_tasks
from .trial_tasks import run_trial_batch  # noqa: F401 - kept importable from here

from .results import SCHEMA_VERSION, software_versions, utc_now, write_results


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
        cands = ([None] if trial.kind == "reference-only"
                 else [c for c in manifest.candidates if c.runs_on(trial.id)])
        for spec in cands:
            tasks.append({"trial": asdict(trial), "subject": subjects[trial.subject],
                          "candidate": None if spec is None else asdict(spec),
                          "settings": asdict(manifest.settings),
                          # a spawned worker does not know the study's own protocols: carry the definition
                          "protocol_def": manifest.protocol_defs.get(trial.protocol), "strict": strict})
    return tasks


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
    ident.update(control=spec.control, view=spec.view, trials=spec.trials, frame_step=spec.frame_step)
    return ident


def run_study(manifest: StudyManifest, out_dir: str | os.PathLike, *, policy: str | os.PathLike | None = None,
              workers: int | None = None, progress: bool = True, kind: str = "manifest",
              device: bool = True, report: bool = True, extra: dict | None = None,
              strict: bool | None = None, client=None, resume: bool = False) -> dict:
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
    client : distributed.Client, optional
        Run the trial x candidate tasks on this Dask cluster (:mod:`harness.dask_engine`; every worker must see
        the manifest's paths) instead of local worker processes.
    resume : bool
        Keep the journal of an earlier run in ``out_dir`` (``out_dir/journal``, :mod:`harness.journal`) and
        compute only the tasks it does not hold; without it an existing journal is cleared first.

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
    # a folder that cannot hold the results is bad input: said now, not after an hour of trials
    out = make_output_dir(out_dir, field="out_dir")
    # hashed before the trials run: the manifest results.json (and the results store) name is the one that ran,
    # even if the file is edited during a long study
    manifest_sha256 = _manifest_sha256(manifest)
    t_start = time.perf_counter()
    settings = manifest.settings
    if settings.cache_dir is None:
        settings.cache_dir = default_cache_dir()
    n_workers = workers or settings.workers or os.cpu_count() or 1
    tasks = _tasks(manifest, strict)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    with native_stderr_to(out / NATIVE_LOG):
        # a candidate's identity (for the journal keys) may load its model: the runtime's log lines go to the log
        keys = task_keys(tasks)
    done, engine, engine_notes = run_study_tasks(tasks, out, keys=keys, resume=resume, client=client,
                                                 workers=n_workers, progress=progress, log_path=out / NATIVE_LOG,
                                                 data_root=manifest.data_root)
    deaths = engine.pop("deaths", [])
    n_workers = engine["workers"]
    timings["trials_s"] = time.perf_counter() - t
    rows = [d.row for d in done]
    notes = engine_notes + _study_notes(rows, deaths, out / NATIVE_LOG)
    # subject-level scores made of several trials (the Y-Balance composite), as derived rows
    rows += ybt_composite_rows(rows)
    figures = {"trials": {f"{d.row['trial_id']}|{d.row.get('candidate')}": d.figures
                          for d in done if d.figures}}

    results: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "study": {"name": manifest.name, "kind": kind, "manifest": manifest.path,
                  "manifest_sha256": manifest_sha256, "seed": settings.seed,
                  "created_utc": utc_now(), "software": software_versions(), "data_root": manifest.data_root,
                  "workers": n_workers, "engine": engine, "settings": asdict(settings),
                  "own_protocols": manifest.protocol_defs, "notes": notes},
        "provenance": {"files": _provenance_files(manifest), "licences": list(manifest.licences),
                       "manifest": manifest.to_dict()},
        "candidates": [_candidate_identity(c, rows) for c in manifest.candidates],
        "subjects": [{"subject": s.id, "height_m": s.height_m, "mass_kg": s.mass_kg,
                      "leg_length_m": s.leg_length_m, "sex": s.sex} for s in manifest.subjects],
        "trials": rows,
    }
    t = time.perf_counter()
    results.update(agreement_sections(rows, manifest))
    # human annotations as a 2-D reference: only a study whose manifest names them gets the section
    annotations = annotation_section(manifest, rows)
    if annotations is not None:
        results["annotations"] = annotations
    timings["agreement_s"] = time.perf_counter() - t
    if extra:
        results.update(extra)

    t = time.perf_counter()
    videos = [t.video[0] for t in manifest.trials if t.video]
    if device:
        _say(progress, f"device: timing {len(results['candidates'])} candidate model(s) on this host ...")
        # in a worker process: trials that finished must not be lost to a model runtime crashing while timed
        results["device"], results["device_status"] = device_records_isolated(results["candidates"], videos,
                                                                              log_path=out / NATIVE_LOG)
    else:
        results["device"], results["device_status"] = [], "not run (--no-device)"
    timings["device_s"] = time.perf_counter() - t

    results["gates"], results["gates_status"], exit_code = _gates(results, policy)
    results["exit_code"] = exit_code
    # cost against agreement, after the gates: its sentence names the smallest candidate they let through
    results["backbones"] = backbone_comparison(jsonable({k: results.get(k) for k in
                                                         ("candidates", "device", "agreement", "gates")}))
    # how precise the agreement statistics are, and how many subjects the manifest's targets would need
    precision = precision_section(jsonable({k: results.get(k) for k in ("candidates", "agreement")}),
                                  icc_width=manifest.settings.precision_icc_width,
                                  loa_half_width_sd=manifest.settings.precision_loa_half_width_sd)
    if precision is not None:
        results["precision"] = precision
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
    """Build report.html; returns "ok" or why it is missing (results.json stands without it).

    A report that cannot be written (a full disk) raises OutputError: the outputs are incomplete, which is the
    user's to fix, not a property of the results."""
    data = jsonable(results)
    try:
        build_report(data, out_path, figures_data=data.get("figures_data"))
    except OutputError:
        raise
    except StancebenchError as exc:
        return f"failed: the report could not be built ({type(exc).__name__}: {exc})"
    return "ok"


def _study_notes(rows: list[dict], deaths: list[str], log_path: Path) -> list[str]:
    """What the study must say about how it ran: worker processes that died, cache writes that failed."""
    notes = []
    if deaths:
        crashed = [r for r in rows if r.get("error_type") == "WorkerProcessDied"]
        how = "; ".join(f"{deaths.count(d)} {d}" for d in dict.fromkeys(deaths))
        notes.append(f"worker processes: {how}; {len(crashed)} trial x candidate run(s) failed with them: "
                     + ", ".join(f"{r['trial_id']} / {r.get('candidate') or '-'}" for r in crashed[:8])
                     + (" ..." if len(crashed) > 8 else "") + f" (a native crash's Python stack is in {log_path})")
    n_cache = sum(int(r.get("cache_write_failures") or 0) for r in rows)
    if n_cache:
        first = next(n for r in rows for n in r.get("notes", []) if n.startswith("inference cache:"))
        notes.append(f"inference cache: {n_cache} track(s) could not be stored in "
                     f"{sum(bool(r.get('cache_write_failures')) for r in rows)} run(s); results are complete, the "
                     f"next run infers them again. First: {first.removeprefix('inference cache: ')}")
    return notes


def _manifest_sha256(manifest: StudyManifest) -> str | None:
    """The manifest file's sha256 (None for a manifest built in code, or one removed since it was read)."""
    if manifest.path is None:
        return None
    try:
        return file_sha256(manifest.path)
    except OSError:
        return None


def _provenance_files(manifest: StudyManifest) -> list[dict]:
    """Every input file with its role, size and SHA-256; a file that cannot be hashed (removed since the
    manifest was checked, a Core ML package folder) keeps ``sha256`` null and says why."""
    seen, files = set(), []
    for trial in manifest.trials:
        for role, p in trial_input_files(asdict(trial)):
            if p in seen:
                continue
            seen.add(p)
            files.append(_provenance_entry(p, role))
    for c in manifest.candidates:
        if c.manifest and c.manifest not in seen:
            entry = _provenance_entry(c.manifest, "model")
            entry.pop("bytes", None)
            files.append(entry)
    return files


def _provenance_entry(path: Path, role: str) -> dict:
    try:
        check_input_file(path, what=f"{role} file")
        return {"path": str(path), "sha256": file_sha256(path), "role": role, "bytes": path.stat().st_size}
    except (InputError, OSError) as exc:
        # the results are still written; the missing fingerprint is named, not invented
        return {"path": str(path), "sha256": None, "role": role, "bytes": None,
                "note": f"not hashed: {getattr(exc, 'reason', None) or exc}"}


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
    for note in results.get("study", {}).get("notes") or []:
        lines.append(f"note: {note}")
    backbones = results.get("backbones")
    if isinstance(backbones, dict) and backbones.get("sentence"):
        lines.append(f"backbones: {backbones['sentence']}")
    return lines
