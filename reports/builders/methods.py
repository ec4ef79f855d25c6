"""How the numbers were made and from what: methods and conventions with their citations (with the KPI
definitions and protocols used), provenance (study, software, input files, candidates, manifest) and data
licences."""
from __future__ import annotations

import json

from harness.results import StudyResults

from ..language import number, reading_methods
from ..sections import MethodsSection, NotMeasured, Preformatted, Section, Table
from .inputs import record, study_protocols

_METHODS = [
    ("Differences", "All differences are candidate − reference, in the KPI's unit.", ""),
    ("Bland-Altman limits of agreement", "Bias = mean difference; limits = bias ± multiplier × SD of the "
     "differences (multiplier as given per row, 1.96 unless stated); confidence intervals of bias and limits: "
     "for one trial per subject Carkeet's exact bounds for the two limits as a pair (the outer band holds at "
     "least 95% of differences with 97.5% confidence), with repeated trials per subject the MOVER intervals of "
     "the replicate method (each row names its method in loa_ci_name).",
     "Bland JM, Altman DG. Statistical methods for assessing agreement between two methods of clinical "
     "measurement. Lancet. 1986;327(8476):307-310. Bland JM, Altman DG. Measuring agreement in method comparison "
     "studies. Stat Methods Med Res. 1999;8(2):135-160. Carkeet A. Exact parametric confidence intervals for "
     "Bland-Altman limits of agreement. Optom Vis Sci. 2015;92(3):e71-e80. Zou GY. Confidence interval estimation "
     "for the Bland-Altman limits of agreement with multiple observations per individual. Stat Methods Med Res. "
     "2013;22(6):630-642."),
    ("Intraclass correlation", "ICC(A,1): two-way model, absolute agreement, single measurement, with its 95% CI.",
     "McGraw KO, Wong SP. Forming inferences about some intraclass correlation coefficients. Psychol Methods. "
     "1996;1(1):30-46."),
    ("Concordance correlation", "Lin's CCC with its confidence interval.",
     "Lin LI. A concordance correlation coefficient to evaluate reproducibility. Biometrics. 1989;45(1):255-268."),
    ("Categorical agreement", "Cohen's kappa (unweighted unless stated) with confusion matrix.",
     "Cohen J. A coefficient of agreement for nominal scales. Educ Psychol Meas. 1960;20(1):37-46."),
    ("Non-inferiority against a baseline", "Difference of an error measure (e.g. MAE) candidate − baseline on the "
     "same trials, with a paired bootstrap that resamples subjects (all trials of a subject together); "
     "non-inferior when the upper 95% bound stays below the margin δ.",
     "Field CA, Welsh AH. Bootstrapping clustered data. J R Stat Soc B. 2007;69(3):369-390. Walker E, Nowacki AS. "
     "Understanding equivalence and noninferiority testing. J Gen Intern Med. 2011;26(2):192-196."),
    ("Censoring", "Time-to-failure at the maximum duration is right-censored; censored pairs are counted and "
     "excluded from the limits of agreement.",
     "Springer BA, Marin R, Cyhan T, Roberts H, Gill NW. Normative values for the unipedal stance test with eyes "
     "open and closed. J Geriatr Phys Ther. 2007;30(1):8-15."),
    ("Device latency", "Per-inference latency in ms after warm-up runs, every run kept; percentiles nearest-rank; "
     "repeated trials should agree within 5% (MLPerf Mobile); memory in MB = 10^6 bytes; Android batterystats "
     "charge is a modelled estimate, not measured energy; energy per assessment = one 60-s trial at 30 fps.",
     "Reddi VJ, Kanter D, Mattson P, et al. MLPerf Mobile inference benchmark: an industry-standard open-source "
     "machine learning benchmark for on-device AI. Proc Mach Learn Syst. 2022;4:352-369. Hyndman RJ, Fan Y. "
     "Sample quantiles in statistical packages. Am Stat. 1996;50(4):361-365."),
    ("Colours", "Okabe-Ito colour-universal-design palette; lines also differ in style.",
     "Okabe M, Ito K. Color Universal Design (CUD): how to make figures and presentations that are friendly to "
     "colorblind people. 2008. https://jfly.uni-koeln.de/color/"),
]


def methods_section(results: StudyResults) -> MethodsSection:
    sec = MethodsSection("methods", "Methods and conventions")
    # the interpretation scales come from the rows (worded in harness.agreement.interpret), after their statistic
    rows = {key: [record(r) for r in getattr(results, key)] for key in ("agreement", "categorical")}
    readings = {"Intraclass correlation": reading_methods(rows["agreement"], "icc", "ICC interpretation"),
                "Categorical agreement": reading_methods(rows["categorical"], "kappa", "Kappa interpretation")}
    sec.entries = []
    for entry in _METHODS:
        sec.entries += [entry] + readings.get(entry[0], [])
    kpis = list(dict.fromkeys([r.kpi for r in results.agreement] + [c.kpi for c in results.categorical]))
    for k in kpis:
        info = results.kpi(k)
        if info is not None and info.registered:
            sec.entries.append((f"KPI {k} [{info.unit or 'label'}]", info.definition, info.citation))
        elif info is None:
            sec.entries.append((f"KPI {k}", "no definition of this KPI in these results", ""))
        else:
            sec.entries.append((f"KPI {k}", "not a KPI of the stancebench registry; see the study's own "
                                "definition", ""))
    for p, proto in study_protocols(results).items():
        if proto is None:
            sec.entries.append((f"Protocol {p}", "not a built-in protocol, and its definition is not in the "
                                "results", ""))
            continue
        rules = "; ".join(str(r.get("description", "")) for r in proto.stopping_rules)
        sec.entries.append((f"Protocol {proto.title}", f"{proto.description} Stopping rules: {rules}.",
                            proto.citation))
    methods = sorted({t.alignment["method"] for t in results.trials
                      if isinstance(t.alignment, dict) and t.alignment.get("method")})
    if methods:
        sec.entries.append(("Clock alignment", "t_ref = t_video + offset (+ drift·t_video), estimated per trial by "
                            "normalised cross-correlation of a signal both sides observe with sub-sample "
                            "refinement, or from matched events; unreliable estimates refuse the trial. Methods "
                            "used: " + "; ".join(methods) + ".",
                            "Knapp CH, Carter GC. The generalized correlation method for estimation of time delay. "
                            "IEEE Trans Acoust Speech Signal Process. 1976;24(4):320-327."))
    return sec


def _fields_table(records: list[dict], columns: dict[str, str], caption: str,
                  missing: NotMeasured) -> Table | NotMeasured:
    """A table of the records' fields (column title -> field, "" where a record lacks it), or ``missing`` when
    there are no records."""
    if not records:
        return missing
    return Table(list(columns), [[r.get(f, "") for f in columns.values()] for r in records], caption=caption)


def provenance_section(results: StudyResults) -> Section:
    sec = Section("provenance", "Provenance")
    study = results.study
    rows = [[k, str(getattr(study, k)) if getattr(study, k) is not None else "n/a"]
            for k in ("name", "kind", "manifest", "seed", "created_utc")]
    rows.append(["results schema_version", str(results.schema_version if results.schema_version is not None
                                               else "n/a")])
    sec.blocks.append(Table(["item", "value"], rows, caption="Study"))
    sw = study.software or {}
    if sw:
        sec.blocks.append(Table(["software", "version"], [[k, str(v)] for k, v in sw.items()],
                                caption="Software versions"))
    else:
        sec.blocks.append(NotMeasured("software versions were not recorded", what="software"))
    sec.blocks.append(_fields_table(results.provenance.files, {"role": "role", "file": "path", "sha256": "sha256"},
                                    "Input files and their SHA-256",
                                    NotMeasured("no input files recorded", what="files")))
    cands = results.candidates
    if cands:
        sec.blocks.append(Table(["candidate", "kind", "precision", "runtime", "model bytes", "model sha256",
                                 "baseline", "control", "view"],
                                [[c.name, c.kind, c.precision, c.runtime, number(c.model_bytes), c.model_sha256 or "",
                                  "yes" if c.baseline else "", f"{c.control} control" if c.is_control else "",
                                  c.view or ""] for c in cands], caption="Candidates"))
    manifest = results.provenance.manifest
    if manifest:
        sec.blocks.append(Preformatted("Study manifest as run", json.dumps(manifest, indent=2, default=str)))
    return sec


def licences_section(results: StudyResults) -> Section:
    sec = Section("licences", "Data licences")
    sec.blocks.append(_fields_table(results.provenance.licences,
                                    {"data": "data", "licence": "licence", "source": "source"},
                                    "Third-party data used in this study",
                                    NotMeasured("the results list no third-party data (none used, or not recorded)")))
    return sec
