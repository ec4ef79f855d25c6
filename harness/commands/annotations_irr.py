"""``stancebench annotations irr``: inter-rater reliability of keypoint annotations of the same images or frames."""
from __future__ import annotations

HELP = "Inter-rater reliability of keypoint annotations: agreement per keypoint and per rater, alpha of tags."
_FORMATS = ("auto", "cvat-images", "cvat-video", "coco", "labelbox")
#: keypoint_irr's arguments that are options of this command (errors about them name the option)
_OPTIONS = {"pck_threshold": "--pck", "flag_below": "--flag-below", "n_resamples": "--resamples",
            "confidence": "--confidence", "tag_level": "--tag-level"}


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "irr", help=HELP,
        description=HELP + " Each FILE holds one rater's labels (or one file holds several annotators); items are "
        "matched by image name or frame number and persons across raters by OKS (whole tracks in a video). Per "
        "keypoint: the OKS constant sigma estimated from the raters (as COCO derived its sigmas), the mean distance "
        "to the other raters' consensus in units of person size, PCK, mean keypoint similarity, ICC(A,1) of x and "
        "of y. Per rater: distance, PCK, OKS (estimated and COCO sigmas), drift over the labelling order, persons "
        "missed or unmatched; raters whose PCK is below --flag-below are flagged. Krippendorff's alpha of each "
        "categorical tag. CIs: bootstrap resampling items. Exit codes: 0 done (flagged raters are reported, not "
        "an error), 2 bad input or fewer than two annotators on common items. See docs/annotations.md.",
        epilog="Example: stancebench annotations irr rater_a.xml rater_b.xml rater_c.xml --pck 0.1 --json")
    p.add_argument("files", nargs="+", metavar="FILE", help="annotation exports (CVAT XML, COCO JSON, Labelbox), "
                                                            "one per rater or one with several annotators")
    p.add_argument("--format", choices=_FORMATS, default="auto",
                   help="format of every FILE (default auto: told from each file's content)")
    p.add_argument("--mapping", metavar="M",
                   help="keypoint mapping: a TOML file or the name of a shipped one (default: names by spelling)")
    p.add_argument("--pck", type=float, default=0.1, metavar="T",
                   help="PCK threshold as a fraction of the person scale (default 0.1)")
    p.add_argument("--flag-below", type=float, default=0.8, metavar="X",
                   help="flag raters whose PCK against the others' consensus is below X (default 0.8)")
    p.add_argument("--resamples", type=int, default=2000, metavar="N",
                   help="bootstrap resamples (default 2000; 0 for no CIs)")
    p.add_argument("--seed", type=int, default=0, metavar="S",
                   help="random seed of the bootstrap (default 0: the same CIs on every run)")
    p.add_argument("--confidence", type=float, default=0.95, help="CI level (default 0.95)")
    p.add_argument("--tracks", choices=("auto", "yes", "no"), default="auto",
                   help="match persons as whole tracks (yes), per item (no), or tracks when every item is a "
                        "video frame and person ids recur across frames (auto, default)")
    p.add_argument("--tag-level", choices=("nominal", "ordinal", "interval", "ratio"), default="nominal",
                   help="level of measurement of the tags for Krippendorff's alpha (default nominal)")
    p.add_argument("--json", action="store_true", help="print the tables and summary as JSON")
    p.set_defaults(func=run)


def _num(v, fmt: str = ".3f") -> str:
    import math

    return "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, fmt)


def _ci(row, col: str, fmt: str = ".3f") -> str:
    return f"{_num(row[col], fmt)} [{_num(row[col + '_ci_low'], fmt)}, {_num(row[col + '_ci_high'], fmt)}]"


def _print(res, files) -> None:
    s = res.summary
    pct = int(round(s["confidence"] * 100))
    print(f"files         {len(files)}: {', '.join(map(str, files))}")
    print(f"annotators    {s['n_annotators']}: {', '.join(s['annotators'])}")
    print(f"items         {s['n_items']} labelled by two or more annotators; persons compared "
          f"{s.get('n_units', 0)}{' (matched as tracks)' if s['tracks'] else ''}")
    print(f"scale         {s['reference']}")
    if "oks" in s:
        print(f"pooled        OKS {_ci(s, 'oks')}, PCK@{s['pck_threshold']:g} {_ci(s, 'pck')}, mean distance "
              f"{_ci(s, 'mean_distance', '.4f')} (x person scale); {pct}% CIs, {s['n_resamples']} resamples of items")
    if len(res.keypoints):
        print("\nper keypoint (sigma estimated from the raters; distance in units of person scale)")
        w = max(8, *(len(k) for k in res.keypoints["keypoint"]))
        print(f"  {'keypoint':{w}} {'n':>4}  {'sigma':24} {'coco':>5}  {'distance':26} {'PCK':23} {'ICC x':23} "
              f"{'ICC y':23}")
        for _, r in res.keypoints.iterrows():
            print(f"  {r['keypoint']:{w}} {r['n_units']:>4}  {_ci(r, 'sigma', '.4f'):24} {_num(r['coco_sigma']):>5}  "
                  f"{_ci(r, 'mean_distance', '.4f'):26} {_ci(r, 'pck'):23} {_ci(r, 'icc_x'):23} {_ci(r, 'icc_y'):23}")
    if len(res.raters):
        print("\nper rater (against the consensus of the other raters)")
        w = max(9, *(len(a) for a in res.raters["annotator"]))
        print(f"  {'annotator':{w}} {'persons':>7} {'missed':>6} {'unmatched':>9}  {'PCK':23} {'OKS':23} "
              f"{'drift':26} flag")
        for _, r in res.raters.iterrows():
            flag = "FLAGGED: " + r["flag_reason"] if r["flagged"] else ""
            print(f"  {r['annotator']:{w}} {r['n_persons']:>7} {r['missed_persons']:>6} {r['unmatched_persons']:>9}  "
                  f"{_ci(r, 'pck'):23} {_ci(r, 'oks'):23} {_ci(r, 'drift', '.4f'):26} {flag}")
    if len(res.tags):
        print("\ntags (Krippendorff's alpha)")
        w = max(3, *(len(t) for t in res.tags["tag"]))
        for _, r in res.tags.iterrows():
            print(f"  {r['tag']:{w}} {r['level']:8} units {r['n_units']:>5}  alpha {_ci(r, 'alpha')}"
                  f"{'  (' + r['note'] + ')' if r['note'] else ''}")
    for note in res.notes:
        print(f"note: {note}")


def run(args) -> int:
    from pathlib import Path

    from candidates.annotations.read import read_annotations
    from ground_truth.kernel import InputError, check_input_file
    from harness.agreement._io import dumps
    from harness.annotations.irr import keypoint_irr

    seen: dict = {}
    for f in args.files:
        key = Path(check_input_file(f, what="annotation file")).resolve()
        if key in seen:
            raise InputError(f"{f} is given twice (also as {seen[key]})", field="FILE",
                             expected="each rater's file once (a file compared with itself agrees perfectly)")
        seen[key] = f
    sets = [read_annotations(f, args.format, mapping=args.mapping) for f in args.files]
    tracks = {"auto": None, "yes": True, "no": False}[args.tracks]
    try:
        res = keypoint_irr(sets, pck_threshold=args.pck, confidence=args.confidence, n_resamples=args.resamples,
                           seed=args.seed, flag_below=args.flag_below, tracks=tracks, tag_level=args.tag_level)
    except InputError as exc:
        if exc.field in _OPTIONS:
            raise InputError(exc.reason, field=_OPTIONS[exc.field], expected=exc.expected) from None
        if exc.file is None and exc.field == "annotators":
            raise InputError(exc.reason, file=", ".join(map(str, args.files)), field=exc.field,
                             expected=exc.expected) from None
        raise
    if args.json:
        out = {"files": [str(f) for f in args.files], **res.to_dict()}
        print(dumps(out))
    else:
        _print(res, args.files)
    return 0
