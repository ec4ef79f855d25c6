"""``stancebench annotations``: human keypoint labels (CVAT, COCO, Labelbox): import, QC against a labelling
guideline, inter-rater reliability."""
from __future__ import annotations

from . import annotations_import, annotations_irr, annotations_qc

HELP = "Human keypoint annotations (CVAT, COCO, Labelbox): import, check against a guideline, inter-rater reliability."

#: The subcommands of ``stancebench annotations``, in the order ``--help`` lists them.
SUBCOMMAND_MODULES = (annotations_import, annotations_qc, annotations_irr)


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("annotations", help=HELP, description=HELP + " See docs/annotations.md.")
    sub = p.add_subparsers(dest="annotations_command", metavar="SUBCOMMAND", required=True)
    for module in SUBCOMMAND_MODULES:
        module.add_parser(sub)
