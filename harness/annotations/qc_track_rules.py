"""The labelling QC rules that judge persons along their tracks (consecutive labelled frames of one annotator's
person id; :mod:`.qc_persons` builds them) and the frames against the video; the rules on single persons are in
:mod:`.qc_person_rules`, and :func:`harness.annotations.qc.run_qc` runs both.

The rule kinds (parameters and defaults in :data:`harness.annotations.guideline.KINDS`)
-----------------------------------------------------------------------------------
left-right-swap-temporal
    For a step from frame i to j and a pair (L, R) labelled and at least ``min_separation`` person sizes apart in
    both frames, the displacement of the kept assignment ``|L_j - L_i| + |R_j - R_i|`` is compared with that of the
    exchanged one ``|L_j - R_i| + |R_j - L_i|`` (the nearest-neighbour assignment cost of tracking). The step
    exchanges the pair when the exchanged cost is below ``max_ratio`` × the kept one. Along a chain of such steps
    each frame gets a parity (number of exchanges since the chain's first frame, mod 2); the frames whose parity
    is in the minority are the swapped ones (a tie is read in favour of the chain's first frame). One swapped
    frame in the middle of a track is one finding. Unit: a pair-frame of a chain.
bone-length
    For each bone (default :data:`candidates.skeletons.BONES`) and track with at least ``min_frames`` frames
    where the bone is labelled, ``|L - median(L)| / median(L) > max_change`` is a finding. Limit: foreshortening
    changes 2-D lengths (a knee raised toward the camera), so the threshold is generous. Unit: a bone-frame.
frames-beyond-video
    an item with a frame number ``>= frame_count`` (or below 0); past the last frame the export declares
    (``use_export_range``: CVAT's ``stop_frame`` when the file holds one task, ``meta["tasks"]``); or, when a video
    was given, whose frame has no time on the video's clock (:func:`candidates.annotations.frames.
    attach_video_times`, ``meta["video"]``). Unit: a labelled (annotator, frame).
sudden-jump
    a keypoint's displacement over a step above ``k`` × the median displacement of that keypoint over the
    track's steps (at least ``min_steps`` of them) and above ``min_px``. Unit: a keypoint step.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .guideline import QCRule
from .qc_persons import Outcome, Persons, finding, fmt


def _frame_name(ps: Persons, i: int) -> str:
    """How a message names person ``i``'s frame (or item, for a still image)."""
    f = ps.frame[i]
    return f"item {ps.keys.at[i, 'item']}" if math.isnan(f) else f"frame {int(f)}"



def _chains(steps: np.ndarray, decidable: np.ndarray) -> list[list[int]]:
    """Runs of consecutive decidable steps (indices into ``steps``) that link frame to frame."""
    chains: list[list[int]] = []
    for s in np.flatnonzero(decidable):
        if chains and steps[chains[-1][-1], 1] == steps[s, 0]:
            chains[-1].append(int(s))
        else:
            chains.append([int(s)])
    return chains


def _track_steps(rule: QCRule, ps: Persons, out: Outcome):
    """The steps a track rule compares (at most ``max_gap`` frames apart), or None, with the reason in ``out``'s
    notes, when no track has two labelled frames; items of one track sharing a frame number are counted."""
    steps = ps.steps_within(rule.params["max_gap"])
    if ps.same_frame:
        out.notes.append(f"{ps.file}: {ps.same_frame} pair(s) of items of one track share a frame number (items "
                         f"from different videos?); not compared")
    if not len(steps):
        out.notes.append(f"{ps.file}: no track has two labelled frames to compare")
        return None
    return steps


def _swap_temporal(rule: QCRule, ps: Persons) -> Outcome:
    out = Outcome()
    steps = _track_steps(rule, ps, out)
    if steps is None:
        return out
    min_sep, max_ratio = rule.params["min_separation"], rule.params["max_ratio"]
    i, j = steps[:, 0], steps[:, 1]
    for b in rule.params["pairs"]:
        lx, ly, lok = ps.xy(f"left_{b}")
        rx, ry, rok = ps.xy(f"right_{b}")
        apart = lok & rok & (np.hypot(lx - rx, ly - ry) >= min_sep * ps.size)
        decidable = apart[i] & apart[j]
        keep = np.hypot(lx[j] - lx[i], ly[j] - ly[i]) + np.hypot(rx[j] - rx[i], ry[j] - ry[i])
        swap = np.hypot(lx[j] - rx[i], ly[j] - ry[i]) + np.hypot(rx[j] - lx[i], ry[j] - ly[i])
        exchanged = decidable & (swap < max_ratio * keep)
        for chain in _chains(steps, decidable):
            frames = [int(steps[chain[0], 0])] + [int(steps[s, 1]) for s in chain]
            parity = np.concatenate([[0], np.cumsum(exchanged[chain]) % 2])
            out.examined += len(frames)
            ones = int(parity.sum())
            right = 1 if ones > len(parity) - ones else 0 if ones < len(parity) - ones else parity[0]
            wrong = parity != right
            if not wrong.any():
                continue
            # describe each run of swapped frames by the exchange that starts it (or ends it, at a chain's start)
            edges = np.flatnonzero(np.diff(np.concatenate([[0], wrong.astype(int), [0]])))
            for start, stop in zip(edges[::2], edges[1::2]):
                s = chain[start - 1] if start > 0 else chain[stop - 1]
                ratio = swap[s] / keep[s] if keep[s] > 0 else 0.0
                f0, f1 = _frame_name(ps, frames[start]), _frame_name(ps, frames[stop - 1])
                c0, c1 = _frame_name(ps, frames[0]), _frame_name(ps, frames[-1])
                text = (f"left_{b} and right_{b} exchanged in {f0}" + (f" to {f1}" if stop - start > 1 else "") +
                        f" relative to the other {len(frames) - int(wrong.sum())} frame(s) of {c0} to {c1} of this "
                        f"track: from {_frame_name(ps, steps[s, 0])} to {_frame_name(ps, steps[s, 1])} the exchanged "
                        f"assignment moves {fmt(swap[s])} px, the kept one {fmt(keep[s])} px (ratio {fmt(ratio)} "
                        f"< {fmt(max_ratio)})")
                for f in frames[start:stop]:
                    out.findings.append(finding(ps, f, f"left_{b}", text, ratio))
    return out



def _bone_length(rule: QCRule, ps: Persons) -> Outcome:
    out = Outcome()
    tracks = ps.tracks
    if not tracks:
        out.notes.append(f"{ps.file}: no item has a frame number (still images): no tracks")
        return out
    minv, max_change, min_frames = rule.params["min_visibility"], rule.params["max_change"], rule.params["min_frames"]
    bones = [(a, b) for a, b in rule.params["bones"] if a in ps.col and b in ps.col]
    if not bones:
        out.notes.append(f"{ps.file}: none of the bones' keypoints occurs (names not mapped to a schema?)")
        return out
    examined = False
    for a, b in bones:
        ka, kb = ps.col[a], ps.col[b]
        ok = ps.labelled[:, ka] & ps.labelled[:, kb] & (ps.v[:, ka] >= minv) & (ps.v[:, kb] >= minv)
        length = np.hypot(ps.x[:, ka] - ps.x[:, kb], ps.y[:, ka] - ps.y[:, kb])
        for track in tracks:
            idx = track[ok[track]]
            if len(idx) < min_frames:
                continue
            med = float(np.median(length[idx]))
            if med <= 0:
                continue
            examined = True
            out.examined += len(idx)
            rel = np.abs(length[idx] - med) / med
            for i, r in zip(idx[rel > max_change], rel[rel > max_change]):
                out.findings.append(finding(
                    ps, i, f"{a}-{b}", f"bone {a}-{b} is {fmt(length[i])} px, {fmt(100 * r)}% away from the "
                    f"track's median {fmt(med)} px (more than {fmt(100 * max_change)}%)", r))
    if not examined:
        out.notes.append(f"{ps.file}: no track has a bone labelled in {min_frames} frames or more")
    return out



def _beyond_video(rule: QCRule, ps: Persons) -> Outcome:
    out = Outcome()
    count = rule.params["frame_count"]
    stop = ps.stop_frame if rule.params["use_export_range"] else None
    if count is None and ps.video is None and stop is None:
        out.notes.append(f"{ps.file}: no video given, no frame_count in the rule and no last frame declared in the "
                         f"export: nothing to compare frames with")
        return out
    rows = np.flatnonzero(np.isfinite(ps.frame))
    if not len(rows):
        out.notes.append(f"{ps.file}: no item has a frame number")
        return out
    # one unit per (annotator, item): the persons of one labelled frame share its verdict
    first = ps.keys.iloc[rows].astype({"annotator": str, "item": str}).drop_duplicates(["annotator", "item"]).index
    out.examined = len(first)
    for i in first:
        f = int(ps.frame[i])
        why = []
        if count is not None and not 0 <= f < count:
            why.append(f"frame {f} is outside the {count} frames (0 to {count - 1}) the guideline declares")
        if stop is not None and f > stop:
            why.append(f"frame {f} is past the last frame {stop} the export declares (stop_frame)")
        if ps.video is not None and not np.isfinite(ps.keys.at[i, "time_s"]):
            why.append(f"frame {f} has no time in the video {ps.video} (beyond its last frame)")
        if why:
            out.findings.append(finding(ps, i, "", "; ".join(why), f) | {"person": ""})
    return out


def _jumps(rule: QCRule, ps: Persons) -> Outcome:
    out = Outcome()
    steps = _track_steps(rule, ps, out)
    if steps is None:
        return out
    k_times, min_px, min_steps = rule.params["k"], rule.params["min_px"], rule.params["min_steps"]
    i, j = steps[:, 0], steps[:, 1]
    track = pd.Series(ps.keys["annotator"].astype(str).to_numpy()[i] + "\x00" +
                      ps.keys["person"].astype(str).to_numpy()[i])
    for k, name in enumerate(ps.names):
        ok = ps.labelled[i, k] & ps.labelled[j, k]
        disp = np.hypot(ps.x[j, k] - ps.x[i, k], ps.y[j, k] - ps.y[i, k])
        frame = pd.DataFrame({"track": track[ok].to_numpy(), "disp": disp[ok]})
        if frame.empty:
            continue
        grouped = frame.groupby("track")["disp"]
        med = grouped.transform("median").to_numpy()
        n = grouped.transform("size").to_numpy()
        enough = n >= min_steps
        out.examined += int(np.count_nonzero(enough))
        jump = enough & (frame["disp"].to_numpy() > k_times * med) & (frame["disp"].to_numpy() > min_px)
        for s, d, m in zip(np.flatnonzero(ok)[jump], frame["disp"].to_numpy()[jump], med[jump]):
            out.findings.append(finding(
                ps, j[s], name, f"{name} moves {fmt(d)} px from {_frame_name(ps, i[s])} to {_frame_name(ps, j[s])}: "
                f"more than {fmt(k_times)} × the track's median step {fmt(m)} px and more than {fmt(min_px)} px", d))
    return out


#: The rules of this module by kind (:data:`harness.annotations.guideline.KINDS`).
CHECKS = {"left-right-swap-temporal": _swap_temporal, "bone-length": _bone_length,
          "frames-beyond-video": _beyond_video, "sudden-jump": _jumps}

__all__ = ["CHECKS"]
