"""Candidates: pose backbones run on video or imported keypoints, their keypoint tracks, and the KPIs estimated from keypoints."""
