"""Candidate pose backbones: MediaPipe graph, BlazePose .tflite via LiteRT, manifest-declared .tflite,
Core ML, imported keypoints. Start with :func:`get_candidate` and :func:`run_many`."""
from os import PathLike
from typing import Any

from .base import Candidate, CandidateIdentity, FrameSession, mediapipe_model_path, run_many
from .base import get_candidate as _get_candidate


def get_candidate(name_or_path: str | PathLike, **params: Any) -> Candidate:
    # The BlazePose lite/full/heavy names and their variants (blazepose_tflite.NAMED_CANDIDATES) need the models
    # folder of candidates.models; every other name goes to base.get_candidate.
    from .blazepose_tflite import NAMED_CANDIDATES, named_candidate
    if str(name_or_path) in NAMED_CANDIDATES:
        return named_candidate(str(name_or_path), **params)
    return _get_candidate(name_or_path, **params)


get_candidate.__doc__ = (_get_candidate.__doc__ or "") + """
    Notes
    -----
    Also ``"blazepose-lite-tflite"``, ``"blazepose-heavy-tflite"`` and the ``-fp16`` / ``-int8`` variants of
    those and of ``"blazepose-tflite"`` (:data:`candidates.backbones.blazepose_tflite.NAMED_CANDIDATES`): the
    models of :mod:`candidates.models` (``stancebench models install``) in the BlazePose TFLite pipeline.
    """

__all__ = ["Candidate", "CandidateIdentity", "FrameSession", "get_candidate", "mediapipe_model_path", "run_many"]
