"""Bland-Altman limits of agreement: classic, log/ratio and percentage (``classic``), regression-based
(``regression``) and replicated designs (``replicates``).

All differences are **candidate − reference** (a positive bias means the candidate reads high).
"""
from .classic import DIFFERENCE_CONVENTION, LOA_CI_METHODS, SCALES, BlandAltmanResult, bland_altman
from .regression import RegressionLoA, bland_altman_regression
from .replicates import bland_altman_replicates

__all__ = ["BlandAltmanResult", "DIFFERENCE_CONVENTION", "LOA_CI_METHODS", "RegressionLoA", "SCALES",
           "bland_altman", "bland_altman_regression", "bland_altman_replicates"]
