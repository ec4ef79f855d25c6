"""Study manifests: the TOML file that describes a validation study (subjects, trials, candidates, settings).

``load_manifest(path)`` reads and validates a manifest up front, so that a study never fails an hour in on a
typo: every problem is reported at once in one :class:`~ground_truth.kernel.errors.ManifestError` whose message names
the manifest file, the field (``trials[3].video``) and what was expected. Every file the manifest names (gold
standard, video, calibration, truth, marker map, protocol, candidate manifest or model) must be a readable,
non-empty regular file, judged from ``stat`` alone: a directory, a FIFO or a device named like a data file is
refused here instead of blocking or crashing the study later. See ``docs/manifest.md`` for the format and a
worked example.

Relative file paths in a manifest are resolved against a *data root*: ``--data-root`` on the command line,
else the ``STANCEBENCH_DATA_ROOT`` environment variable, else ``[study] data_root`` in the manifest (itself
relative to the manifest's folder), else the manifest's folder.
"""
from .load import load_manifest
from .model import (ALIGNMENT_SIGNALS, DATA_ROOT_ENV, STANCE_LEGS, TRIAL_KINDS, CandidateSpec, Settings, StudyManifest,
                    Subject, Trial)
from .parse import (candidate_unavailable_reason, known_protocols, parse_manifest, protocol_conditions,
                    resolve_data_root)

__all__ = ["ALIGNMENT_SIGNALS", "DATA_ROOT_ENV", "STANCE_LEGS", "TRIAL_KINDS", "CandidateSpec", "Settings",
           "StudyManifest", "Subject", "Trial", "candidate_unavailable_reason", "known_protocols", "load_manifest",
           "parse_manifest", "protocol_conditions", "resolve_data_root"]
