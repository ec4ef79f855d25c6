"""Agreement statistics between a candidate measurement and a reference (gold standard).

Differences are always **candidate − reference** (positive bias: the candidate reads high). Every function
returns a tidy dataclass or DataFrame with CI bounds in separate fields; none rounds its numbers.

>>> from harness.agreement import bland_altman, icc, ccc, kappa, krippendorff_alpha
"""
from .bland_altman import (BlandAltmanResult, RegressionLoA, bland_altman, bland_altman_regression,
                           bland_altman_replicates)
from .bootstrap import BootstrapResult, bootstrap_ci, bootstrap_icc
from .ccc import CCCResult, ccc
from .censoring import CensoringReport, censored_at, handle_censored
from .equivalence import ComparisonResult, TOSTResult, compare_errors, tost_paired
from .icc import ICC_TYPES, SHROUT_FLEISS, icc, icc_table, icc_values, sem_mdc
from .interpret import (KOO_LI_2016, KRIPPENDORFF_2004, LANDIS_KOCH_1977, NOT_INTERPRETABLE, alpha_reading_fields,
                        icc_reading_fields, kappa_reading_fields, koo_li, koo_li_category, krippendorff_reading,
                        landis_koch)
from .kappa import KappaResult, cohen_kappa, fleiss_kappa, kappa
from .krippendorff import AlphaResult, krippendorff_alpha
from .krippendorff_core import alpha_from_reliability_matrix, coincidence_matrix
from .sample_size import SampleSizeResult, design_effect, with_replicates
from .sample_size_icc import icc_ci_width, icc_sample_size
from .sample_size_loa import loa_ci_width, loa_power_lu, loa_precision_sample_size, loa_sample_size_lu
from .summary import agreement_summary

__all__ = [
    "bland_altman", "bland_altman_regression", "bland_altman_replicates", "BlandAltmanResult", "RegressionLoA",
    "icc", "icc_table", "icc_values", "sem_mdc", "ICC_TYPES", "SHROUT_FLEISS",
    "ccc", "CCCResult", "kappa", "cohen_kappa", "fleiss_kappa", "KappaResult", "landis_koch",
    "bootstrap_ci", "bootstrap_icc", "BootstrapResult", "tost_paired", "TOSTResult", "compare_errors",
    "ComparisonResult", "censored_at", "handle_censored", "CensoringReport", "koo_li", "koo_li_category",
    "icc_reading_fields", "kappa_reading_fields", "KOO_LI_2016", "LANDIS_KOCH_1977", "NOT_INTERPRETABLE",
    "agreement_summary", "krippendorff_alpha", "alpha_from_reliability_matrix", "coincidence_matrix", "AlphaResult",
    "krippendorff_reading", "alpha_reading_fields", "KRIPPENDORFF_2004",
    "SampleSizeResult", "icc_sample_size", "icc_ci_width", "loa_sample_size_lu", "loa_power_lu",
    "loa_precision_sample_size", "loa_ci_width", "design_effect", "with_replicates",
]
