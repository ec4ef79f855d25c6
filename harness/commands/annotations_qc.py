"""``stancebench annotations qc``: check keypoint annotation exports against a labelling guideline; exit 1 when a
blocking rule fails (the gates' semantics, see docs/gates.md)."""
from __future__ import annotations

HELP = "Check annotation exports against a labelling guideline; exit 1 when a blocking rule fails."

_MARK = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "not-evaluable": "N/E"}


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "qc", help=HELP, description=HELP + " Each rule of the guideline (TOML: required keypoints, visibility, "
        "left/right swaps by geometry and over time, bone-length changes, points outside the image, duplicate "
        "persons, frames beyond the video, sudden jumps) gives one verdict, findings against the tolerated count "
        "or fraction; the first findings of each rule are listed by file, frame, annotator and keypoint. Exit "
        "codes: 0 no blocking rule failed, 1 a blocking rule failed, erred or had nothing to examine (unless it "
        "allows that), 2 bad input (unreadable file, invalid guideline: the message names the file, the rule id "
        "and the key). See docs/annotations.md.")
    p.add_argument("files", nargs="+", metavar="FILE", help="annotation exports (CVAT XML, COCO JSON, Labelbox)")
    p.add_argument("--guideline", metavar="GUIDE.toml",
                   help="labelling guideline (TOML); default: the sample guideline shipped with stancebench")
    p.add_argument("--format", default="auto", metavar="F",
                   help="format of every FILE: auto (default: told from each file's content), cvat-images, "
                   "cvat-video, coco or labelbox")
    p.add_argument("--mapping", metavar="M",
                   help="keypoint mapping: a TOML file or the name of a shipped one (default: names by spelling)")
    p.add_argument("--video", metavar="V", help="the labelled video: frame times, and frames beyond its end")
    p.add_argument("--json", action="store_true", help="print the verdicts and all findings as JSON")
    p.add_argument("--findings", metavar="OUT.csv", help="write every finding to a CSV file")
    p.add_argument("--junit", metavar="OUT.xml", help="write the verdicts as JUnit XML for CI systems")
    p.add_argument("--show", type=int, default=3, metavar="N", help="findings listed per rule (default 3)")
    p.set_defaults(func=run)


def _line(v) -> str:
    tag = "blocking" if v.severity == "blocking" else "advisory"
    return f"[{_MARK[v.status]:>5}] {tag:8} {v.rule_id}: {v.message}{' BLOCKS' if v.blocks else ''}"


def _where(row) -> str:
    frame = "" if row["frame"] is None else f" frame {row['frame']}"
    item = f" item {row['item']}" if row["frame"] is None or not str(row["item"]).startswith("frame:") else ""
    person = f" person {row['person']}" if row["person"] else ""
    return f"{row['file']}{frame}{item} annotator {row['annotator']}{person}"


def run(args) -> int:
    import json
    import sys

    from candidates.annotations.read import read_annotations
    from ground_truth.kernel import InputError, check_output_path, check_range, jsonable, write_text_atomic
    from harness.annotations.guideline import load_guideline, sample_guideline_path
    from harness.annotations.qc import run_qc
    from harness.gates import write_junit

    check_range(args.show, "--show", 0, 10_000)
    # where the outputs go is checked before anything is read or printed
    findings_out = check_output_path(args.findings, field="--findings") if args.findings else None
    junit_out = check_output_path(args.junit, field="--junit") if args.junit else None
    path = args.guideline or sample_guideline_path()
    guideline = load_guideline(path)
    if len(set(args.files)) != len(args.files):
        raise InputError("a file is given twice", field="FILE", expected="each export once (its findings would "
                         "count twice)")
    sets = [read_annotations(f, args.format, mapping=args.mapping, video=args.video) for f in args.files]
    result = run_qc(sets, guideline)
    said = f"no --guideline given: the sample guideline shipped with stancebench, {path}" \
        if args.guideline is None else str(path)
    if findings_out is not None:
        write_text_atomic(findings_out, result.findings.to_csv(index=False), field="--findings")
    if junit_out is not None:
        write_junit(result.verdicts, junit_out, policy_name=guideline.name)
    if args.json:
        if args.guideline is None:
            print(f"stancebench annotations qc: {said}", file=sys.stderr)
        print(json.dumps(jsonable(result.to_dict()), indent=2, ensure_ascii=False))
        return result.exit_code
    print(f"guideline: {guideline.name} ({said})")
    for s in sets:
        info = s.summary()
        print(f"file: {s.source} ({s.format}; {len(info['annotators'])} annotator(s), {info['items']} items, "
              f"{info['persons']} persons, {info['points']} points{', schema ' + s.schema if s.schema else ''})")
    records = result.findings_records()
    for v in result.verdicts:
        print(_line(v))
        mine = [r for r in records if r["rule_id"] == v.rule_id]
        for r in mine[:args.show]:
            print(f"    {_where(r)}{' ' + r['keypoint'] if r['keypoint'] else ''}: {r['message']}")
        if len(mine) > args.show:
            more = "--findings OUT.csv lists them all" if findings_out is None else f"all in {findings_out}"
            print(f"    ... and {len(mine) - args.show} more ({more})")
        notes = [n for n in result.notes.get(v.rule_id, []) if not (v.reason and n in v.reason)]
        for note in notes[:2]:
            print(f"    note: {note}")
        if len(notes) > 2:
            print(f"    ... and {len(notes) - 2} more note(s) (--json lists them all)")
    s = result.summary()
    print(f"{s['rules']} rules: {s['pass']} pass, {s['fail']} fail, {s['error']} error, {s['not-evaluable']} not "
          f"evaluable; {s['blocking']} blocking; {s['findings']} findings")
    if findings_out is not None:
        print(f"findings CSV: {findings_out}")
    if junit_out is not None:
        print(f"JUnit XML: {junit_out}")
    return result.exit_code
