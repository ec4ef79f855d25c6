"""``stancebench annotations import``: read a CVAT, COCO or Labelbox keypoint export and say what it holds."""
from __future__ import annotations

HELP = "Read a CVAT, COCO person-keypoints or Labelbox export and print what it holds."
_FORMATS = ("auto", "cvat-images", "cvat-video", "coco", "labelbox")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "import", help=HELP,
        description=HELP + " Prints the annotators, images/frames, persons, keypoints and the counts of visible, "
        "occluded, not-labelled and outside points, the keypoint names with no counterpart in the schema, and what "
        "the importer had to decide (notes). Bad input exits 2 with one line naming the file and the element or "
        "key. See docs/annotations.md.",
        epilog="Example: stancebench annotations import person_keypoints_val.json --mapping crowdpose "
               "--out points.csv")
    p.add_argument("file", metavar="FILE", help="the export: CVAT XML 1.1, COCO person-keypoints JSON, Labelbox "
                                                "JSON/NDJSON")
    p.add_argument("--format", choices=_FORMATS, default="auto",
                   help="the export's format (default auto: told from the content)")
    p.add_argument("--mapping", metavar="MAP.toml",
                   help="keypoint mapping file (TOML), or a shipped one by name: coco17, crowdpose, posetrack18 "
                        "(default: names matched to COCO-17 or BlazePose-33 by spelling)")
    p.add_argument("--annotator", metavar="NAME", help="the rater's name when the file names none")
    p.add_argument("--video", metavar="VIDEO", help="the labelled video: frame times from its timestamps")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--out", metavar="POINTS.csv", help="write the tidy points table (one row per point)")
    p.set_defaults(func=run)


def _print_summary(s: dict, out_path) -> None:
    schema = f" (names mapped to {s['schema']})" if s["schema"] else " (names as in the file)"
    print(f"file          {s['file']}")
    print(f"format        {s['format']}{schema}")
    print(f"annotators    {len(s['annotators'])}: {', '.join(s['annotators']) or '(none)'}")
    print(f"items         {s['items']} ({s['frames']} with a frame number, {s['images']} without)")
    tracks = f", {s['tracks']} track(s)" if s.get("tracks") is not None else ""
    print(f"persons       {s['persons']}{tracks}")
    print(f"keypoints     {len(s['keypoints'])}: {', '.join(s['keypoints']) or '(none)'}")
    print(f"points        {s['points']}: {s['visible']} visible, {s['occluded']} occluded, {s['not_labelled']} "
          f"not labelled, {s['outside']} outside; {s['interpolated']} interpolated")
    print(f"tags          {s['tags']}")
    unmapped = ", ".join(f"{k} ({n})" for k, n in s["unmapped"].items())
    print(f"unmapped      {unmapped or '(none)'}")
    for note in s["notes"]:
        print(f"note: {note}")
    if out_path is not None:
        print(f"points table  {out_path}")


def run(args) -> int:
    from candidates.annotations.read import read_annotations
    from ground_truth.kernel import InputError, check_output_path, write_text_atomic
    from harness.agreement._io import dumps

    if args.annotator is not None and not args.annotator.strip():
        raise InputError("--annotator is empty", field="--annotator", expected="a rater's name")
    # refused before reading, not after
    out_path = check_output_path(args.out, field="--out", suffixes=(".csv",)) if args.out else None
    aset = read_annotations(args.file, args.format, mapping=args.mapping, annotator=args.annotator,
                            video=args.video)
    if out_path is not None:
        write_text_atomic(out_path, aset.points.to_csv(index=False), field="--out")
    summary = aset.summary()
    if args.json:
        if out_path is not None:
            summary["points_csv"] = str(out_path)
        print(dumps(summary))
    else:
        _print_summary(summary, out_path)
    return 0
