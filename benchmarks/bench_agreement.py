"""Benchmark: ICC and the subject bootstrap of ICC against pingouin, in one process.

Targets (issue 4): ICC on 2000 subjects x 3 raters at least 20x faster than pingouin.intraclass_corr with
identical values; 2000 subject-bootstrap resamples of ICC on 2000 x 3 in under 2 s.

Run: python benchmarks/bench_agreement.py
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pingouin as pg

from _timing import best_of
from harness.agreement import bootstrap_icc, icc


def main() -> None:
    rng = np.random.default_rng(0)
    n, k = 2000, 3
    y = rng.normal(size=(n, 1)) + 0.5 * rng.normal(size=(n, k)) + np.array([0.0, 0.1, -0.2])
    data = pd.DataFrame(y).rename_axis("subject").reset_index().melt(id_vars="subject", var_name="rater",
                                                                     value_name="score")
    pg.options["round.column.CI95"] = None  # compare unrounded values
    t_ours, ours = best_of(lambda: icc(data, "subject", "rater", "score"))
    t_pg, ref = best_of(lambda: pg.intraclass_corr(data=data, targets="subject", raters="rater", ratings="score"),
                        repeat=1)  # pingouin takes seconds here
    ci = np.vstack(ref["CI95"].to_numpy())
    diff = max(np.max(np.abs(ours["icc"].to_numpy() - ref["ICC"].to_numpy())),
               np.max(np.abs(ours[["ci_low", "ci_high"]].to_numpy() - ci)))
    print(f"ICC {n}x{k}: stancebench {t_ours * 1e3:.2f} ms, pingouin {t_pg * 1e3:.2f} ms, "
          f"ratio {t_pg / t_ours:.1f}x (target >= 20x); max |difference| {diff:.2e}")
    # the numeric core alone (matrix in, as used inside the bootstrap)
    from harness.agreement import icc_table
    t_core, _ = best_of(lambda: icc_table(y))
    print(f"ICC core on the {n}x{k} matrix: {t_core * 1e3:.2f} ms, ratio to pingouin {t_pg / t_core:.0f}x")

    t_boot, res = best_of(lambda: bootstrap_icc(y, icc_type="ICC(A,1)", n_resamples=2000, seed=0), repeat=3)
    # peer: a Python loop of per-resample ICC calls (our own core), timed on 50 resamples and scaled
    idx = rng.integers(0, n, size=(50, n))
    t0 = time.perf_counter()
    for b in range(50):
        icc_table(y[idx[b]])
    t_loop = (time.perf_counter() - t0) / 50 * 2000
    print(f"bootstrap ICC(A,1), 2000 resamples of {n}x{k}: {t_boot:.3f} s (target < 2 s); "
          f"per-resample loop would take {t_loop:.2f} s (ratio {t_loop / t_boot:.1f}x); "
          f"CI [{res.ci_low:.4f}, {res.ci_high:.4f}]")


if __name__ == "__main__":
    main()
