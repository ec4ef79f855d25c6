"""Candidate pose backbones: MediaPipe graph, BlazePose .tflite via LiteRT, manifest-declared .tflite,
Core ML, imported keypoints. Start with :func:`get_candidate` and :func:`run_many`."""
from .base import Candidate, CandidateIdentity, FrameSession, get_candidate, mediapipe_model_path, run_many

__all__ = ["Candidate", "CandidateIdentity", "FrameSession", "get_candidate", "mediapipe_model_path", "run_many"]
