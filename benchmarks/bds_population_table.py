"""Print the frozen BDS sway table of ``ground_truth.synthetic.population`` (``BDS_SWAY``) from the real trials.

    python benchmarks/bds_population_table.py [FOLDER]     # default ../shared/data/cop_bds
    python benchmarks/bds_population_table.py --check      # exit 1 if the committed table differs

The population generator draws from the committed table, never from the files (a user's machine has no
``../shared``, and the same seed must give the same population everywhere); this script is how that table was
made, and ``--check`` (also tests/test_population.py) shows it is still what the files give. Santos DA, Duarte M
(2016) A public data set of human balance evaluations. PeerJ 4:e2648.
"""
from __future__ import annotations

import argparse
import pprint
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "cop_bds"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", nargs="?", default=str(DATA), help="folder of the BDS trials and BDSinfoCOP tsv")
    ap.add_argument("--check", action="store_true", help="compare with the committed table instead of printing")
    args = ap.parse_args(argv)
    from ground_truth.synthetic.population import BDS_SWAY, summarize_bds

    t0 = time.perf_counter()
    table = summarize_bds(args.folder)
    took = time.perf_counter() - t0
    if args.check:
        same = table == BDS_SWAY
        print(f"{'same as' if same else 'DIFFERS from'} the committed BDS_SWAY ({took:.1f} s)")
        if not same:
            print(pprint.pformat(table, width=110, sort_dicts=False))
        return 0 if same else 1
    print(f"# {table['n_trials']} trials, {table['n_subjects']} subjects, {took:.1f} s", file=sys.stderr)
    # double quotes, as in the module (no key or value holds a quote)
    print("BDS_SWAY = " + pprint.pformat(table, width=110, sort_dicts=False).replace("'", '"'))
    return 0


if __name__ == "__main__":
    sys.exit(main())
