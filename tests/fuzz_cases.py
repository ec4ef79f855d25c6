"""Deterministic hostile inputs for the CLI fuzz suite (tests/test_fuzz_cli.py): mutations of the real files in
../shared/data, each a case ``{"id", "argv", "file", "kind", "mutation", "intact"}``.

Every mutation is a pure function of the original bytes and a seeded generator, so a failing case id names
exactly the bytes to reproduce it (``python tests/fuzz_cases.py CASE_ID OUT`` writes them).

What is mutated, after the findings of issue 15 (what a careful tester tried):
- binary C3D: bytes set to 0x00/0xFF and bit flips in the header, the parameter section and the data section;
  IEEE floats (NaN, ±inf, 1e30) written into the data of float files and into the header's scale factor;
  truncation at a random length;
- text (BMClab BDS/PDS, Motive CSV, OpenSim .mot, agreement CSVs, device logs): numbers replaced by nan, ±inf,
  1e30, 1e300, 1e308, -1, 0, 'abc' or nothing; bytes that are not UTF-8; a header line deleted or duplicated;
  truncation mid-line; an empty file;
- MP4: truncation, a zeroed media time scale, bytes set inside the movie header;
- hand-made: directories, FIFOs, /dev/zero and missing files where a file is read, and numeric options out of
  their range (NaN, infinite, negative, zero, absurdly large).
"""
from __future__ import annotations

import json
import os
import re
import struct
import sys
from pathlib import Path

import numpy as np

HOSTILE_NUMBERS = ("nan", "inf", "-inf", "1e30", "1e300", "1e308", "-1", "0", "abc", "")

_NUMBER = re.compile(rb"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])")


# ----------------------------------------------------------------------------------------------- byte mutations
def c3d_regions(data: bytes) -> dict[str, tuple[int, int]]:
    """Byte ranges of a C3D file's header, parameter section and data section (from its header words)."""
    param_start = max(1, data[0]) * 512 - 512 if len(data) > 0 else 0
    data_block = struct.unpack("<H", data[16:18])[0] if len(data) >= 18 else 0
    data_start = (data_block - 1) * 512 if data_block > 1 else min(len(data), param_start + 512)
    end = len(data)
    param_start = min(param_start, end)
    data_start = min(max(data_start, param_start), end)
    return {"header": (0, min(512, end)), "parameters": (param_start, data_start), "data": (data_start, end)}


def set_byte(data: bytes, rng: np.random.Generator, lo: int, hi: int) -> tuple[bytes, str]:
    if hi <= lo:
        return data, "no-op (empty region)"
    pos = int(rng.integers(lo, hi))
    value = int(rng.choice([0x00, 0xFF, int(rng.integers(0, 256))]))
    out = bytearray(data)
    out[pos] = value
    return bytes(out), f"byte {pos} set to {value}"


def flip_bits(data: bytes, rng: np.random.Generator, lo: int, hi: int, n: int) -> tuple[bytes, str]:
    if hi <= lo:
        return data, "no-op (empty region)"
    out = bytearray(data)
    flips = []
    for _ in range(n):
        pos = int(rng.integers(lo, hi))
        bit = int(rng.integers(0, 8))
        out[pos] ^= 1 << bit
        flips.append(f"{pos}.{bit}")
    return bytes(out), f"bits flipped at {', '.join(flips)}"


def poke_float(data: bytes, rng: np.random.Generator, lo: int, hi: int) -> tuple[bytes, str]:
    if hi - lo < 8:
        return data, "no-op (empty region)"
    value = float(rng.choice([np.nan, np.inf, -np.inf, 1e30, -1e30]))
    pos = lo + 4 * int(rng.integers(0, (hi - lo) // 4 - 1))
    out = bytearray(data)
    out[pos:pos + 4] = struct.pack("<f", value)
    return bytes(out), f"float32 {value} written at byte {pos}"


def truncate(data: bytes, rng: np.random.Generator) -> tuple[bytes, str]:
    keep = int(len(data) * float(rng.uniform(0.05, 0.95)))
    return data[:keep], f"truncated to {keep} of {len(data)} bytes"


def mutate_c3d(data: bytes, rng: np.random.Generator, kind: str) -> tuple[bytes, str]:
    regions = c3d_regions(data)
    if kind == "truncate":
        return truncate(data, rng)
    if kind == "header-scale":
        # header words 7-8: the point scale factor as a float (C3D manual, header section)
        value = float(rng.choice([np.nan, np.inf, 0.0, 1e30]))
        out = bytearray(data)
        out[12:16] = struct.pack("<f", value)
        return bytes(out), f"header POINT scale factor set to {value}"
    region, op = kind.split(":")
    lo, hi = regions[region]
    if op == "byte":
        return set_byte(data, rng, lo, hi)
    if op == "bits":
        return flip_bits(data, rng, lo, hi, int(rng.integers(1, 9)))
    if op == "float":
        return poke_float(data, rng, lo, hi)
    raise ValueError(kind)


def mutate_text(data: bytes, rng: np.random.Generator, kind: str) -> tuple[bytes, str]:
    if kind == "empty":
        return b"", "emptied"
    if kind == "truncate":
        return truncate(data, rng)
    if kind == "non-utf8":
        pos = int(rng.integers(0, max(1, len(data))))
        return data[:pos] + b"\xff\xfe\xc3" + data[pos:], f"non-UTF-8 bytes inserted at {pos}"
    lines = data.split(b"\n")
    if kind in ("delete-line", "duplicate-line"):
        i = int(rng.integers(0, max(1, min(len(lines), 40))))
        if kind == "delete-line":
            return b"\n".join(lines[:i] + lines[i + 1:]), f"line {i + 1} deleted"
        return b"\n".join(lines[:i + 1] + [lines[i]] + lines[i + 1:]), f"line {i + 1} duplicated"
    if kind == "number":
        matches = list(_NUMBER.finditer(data))
        if not matches:
            return data, "no-op (no number)"
        # half the time a number near the top (headers: rates, counts), else anywhere
        pool = matches[:60] if rng.random() < 0.5 else matches
        m = pool[int(rng.integers(0, len(pool)))]
        value = str(rng.choice(HOSTILE_NUMBERS)).encode()
        line = data.count(b"\n", 0, m.start()) + 1
        return (data[:m.start()] + value + data[m.end():],
                f"number {m.group().decode()!r} on line {line} replaced by {value.decode()!r}")
    raise ValueError(kind)


def mutate_mp4(data: bytes, rng: np.random.Generator, kind: str) -> tuple[bytes, str]:
    if kind == "truncate":
        return truncate(data, rng)
    mdhd = data.find(b"mdhd")
    if kind == "timescale-zero" and mdhd >= 0:
        # mdhd (version 0): type, version+flags, creation, modification, then the 32-bit time scale that times
        # every frame of the (first, video) track
        pos = mdhd + 4 + 4 + 4 + 4
        out = bytearray(data)
        out[pos:pos + 4] = b"\x00\x00\x00\x00"
        return bytes(out), "media time scale (mdhd) of the first track set to 0"
    if kind == "moov-byte":
        moov = data.find(b"moov")
        if moov < 0:
            return data, "no-op (no moov)"
        return set_byte(data, rng, moov, min(len(data), moov + 4096))
    raise ValueError(kind)


# ----------------------------------------------------------------------------------------------- the case list
C3D_KINDS = ("header:byte", "header:bits", "parameters:byte", "parameters:bits", "data:bits", "data:float",
             "truncate", "header-scale")
TEXT_KINDS = ("number", "number", "number", "non-utf8", "delete-line", "duplicate-line", "truncate", "empty")
MP4_KINDS = ("truncate", "timescale-zero", "moov-byte")


def _targets(data_root: Path) -> list[dict]:
    """What is mutated, how many times, and the command that reads it (``{FILE}`` is the mutated copy)."""
    c3d = data_root / "c3d"
    single = data_root / "mocap_single_leg"
    sway = ["sway", "{FILE}", "--json"]
    return [
        {"file": c3d / "PiG_PiG_Calibration2-NoOption.c3d", "kind": "c3d", "argv": sway, "n": 24},
        {"file": c3d / "PiG_PiG_Calibration-FlatFoot-Full.c3d", "kind": "c3d", "argv": sway, "n": 24},
        {"file": c3d / "others_FunctionalStatic.c3d", "kind": "c3d", "argv": sway, "n": 16},
        {"file": single / "nimble_welk007_static1.c3d", "kind": "c3d", "argv": sway, "n": 16},
        {"file": c3d / "FP_Type1.c3d", "kind": "c3d", "argv": sway, "n": 8},
        {"file": c3d / "c3d.org_sample10_TYPE-2.C3D", "kind": "c3d", "argv": sway, "n": 8},
        {"file": c3d / "Qualisys.c3d", "kind": "c3d", "argv": sway + ["--window", "0:10"], "n": 8},
        {"file": data_root / "cop_bds" / "BDS00001.txt", "kind": "text", "argv": sway, "n": 16},
        {"file": data_root / "cop_pds" / "PDS13CF1grf.txt", "kind": "text", "argv": sway, "n": 24},
        {"file": data_root / "cop_quijoux" / "amti_standing_trial.csv", "kind": "text",
         "argv": sway + ["--format", "motive"], "n": 12},
        {"file": data_root / "mocap_addbiomechanics" / "DJ1" / "grf.mot", "kind": "text",
         "argv": sway + ["--format", "mot"], "n": 6},
        {"file": data_root / "agreement" / "ba1986_pefr.csv", "kind": "text",
         "argv": ["agreement", "{FILE}", "--reference", "wright1", "--candidate", "mini1", "--json"], "n": 10},
        {"file": data_root / "agreement" / "realstats_wine_icc_long.csv", "kind": "text",
         "argv": ["icc", "{FILE}", "--targets", "Wine", "--raters", "Judge", "--ratings", "Scores", "--json"],
         "n": 10},
        {"file": data_root / "agreement" / "irr_anxiety.csv", "kind": "text",
         "argv": ["kappa", "{FILE}", "--raters", "rater1,rater2", "--json"], "n": 10},
        *[{"file": p, "kind": "text", "argv": ["device-parse", "{FILE}", "--kind", "auto", "--json"], "n": 4}
          for p in sorted((data_root / "device_outputs").glob("*")) if p.name != "README.md"],
        {"file": data_root / "video" / "pose2sim_balancing" / "cam01.mp4", "kind": "mp4",
         "argv": ["pose", "{FILE}", "--candidate", "blazepose-tflite", "--no-cache", "--out", "{OUT}/track.json"],
         "n": 3},
    ]


def _handmade(data_root: Path, out_dir: Path) -> list[dict]:
    """Bad inputs no mutation makes: paths that are not regular files, and options out of their range.
    Every one of them is bad input: the expected exit status is 2."""
    folder, fifo = out_dir / "folder.c3d", out_dir / "pipe.c3d"
    folder.mkdir(exist_ok=True)
    if not fifo.exists():
        os.mkfifo(fifo)
    ref, cand = out_dir / "ref.csv", out_dir / "cand.csv"
    t = np.arange(0.0, 20.0, 0.01)
    # a smoothed random walk: one unambiguous correlation peak, so a refusal can only come from the options
    signal = np.convolve(np.cumsum(np.random.default_rng(0).normal(size=t.size)), np.ones(25) / 25, "same")
    ref.write_text("t,value\n" + "".join(f"{a:.3f},{b:.6f}\n" for a, b in zip(t, signal)))
    cand.write_text("t,value\n" + "".join(f"{a - 0.4:.3f},{b:.6f}\n" for a, b in zip(t, signal)))
    bds = data_root / "cop_bds" / "BDS00001.txt"
    pefr = data_root / "agreement" / "ba1986_pefr.csv"
    anxiety = data_root / "agreement" / "irr_anxiety.csv"
    qca = data_root / "video" / "pose2sim_balancing" / "Calib.qca.txt"
    not_files = [folder, fifo, Path("/dev/zero"), out_dir / "missing.c3d"]
    argvs = [["sway", str(p), "--json"] for p in not_files]
    argvs += [["agreement", str(p), "--reference", "a", "--candidate", "b"] for p in not_files]
    argvs += [["kappa", str(p), "--raters", "a,b"] for p in not_files[:3]]
    argvs += [["device-parse", str(p), "--kind", "auto"] for p in not_files[:3]]
    argvs += [["pose", str(p), "--out", str(out_dir / "t.json")] for p in not_files[:3]]
    argvs += [["gate", str(p), "--policy", str(p)] for p in not_files[:3]]
    argvs += [["validate", str(p), "--check", "--out", str(out_dir / "v")] for p in not_files[:3]]
    argvs += [["align", str(ref), str(cand), "--lowpass", v] for v in ("0", "-1", "nan", "inf")]
    argvs += [["align", str(ref), str(cand), "--max-lag", v] for v in ("nan", "-1", "0")]
    argvs += [["align", str(ref), str(cand), "--min-peak-corr", v] for v in ("nan", "2")]
    argvs += [["align", str(folder), str(cand)], ["align", str(ref), "/dev/zero"]]
    argvs += [["sway", str(bds), "--window", w] for w in ("nan:5", "5:nan", "inf:", ":-inf")]
    argvs += [["sway", str(bds), "--plate", v] for v in ("0", "-1", "99", "nan")]
    argvs += [["agreement", str(pefr), "--reference", "wright1", "--candidate", "mini1", "--confidence", v]
              for v in ("1.5", "nan", "0", "-0.2")]
    argvs += [["kappa", str(anxiety), "--raters", "rater1,rater1"],
              ["kappa", str(anxiety), "--raters", "rater1,rater2", "--weights", "linear", "--labels", "1,1,2,3"]]
    render = ["render", "pendulum:seed=1,stance=left", "--camera", str(qca), "--camera-name", "cam01"]
    argvs += [render + ["--out", str(out_dir / "r.mp4"), opt, v]
              for opt, v in (("--fps", "1e9"), ("--duration", "1e9"), ("--offset", "nan"), ("--fps", "0"),
                             ("--duration", "-1"), ("--drift-ppm", "inf"))]
    argvs += [render + ["--out", str(out_dir / "r.txt")], render + ["--out", str(folder)]]
    return [{"id": f"hand-{i:03d}", "argv": argv, "file": argv[1], "source": argv[1], "kind": "handmade",
             "command": argv[0], "mutation": "hand-made bad input", "intact": None, "expect": 2}
            for i, argv in enumerate(argvs)]


def build_cases(data_root: Path, out_dir: Path, seed: int = 15, scale: int = 1) -> list[dict]:
    """Write every mutated file into ``out_dir`` and return the cases (intact runs first, one per target), then
    the hand-made bad inputs. ``scale`` multiplies the number of mutations per file (CI runs 1; a deeper local
    run: ``STANCEBENCH_FUZZ_SCALE=10 pytest tests/test_fuzz_cli.py``); the first cases are the same at every
    scale."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cases = []
    for t_index, target in enumerate(_targets(data_root)):
        src = Path(target["file"])
        if not src.is_file():
            continue
        original = src.read_bytes()
        kinds = {"c3d": C3D_KINDS, "text": TEXT_KINDS, "mp4": MP4_KINDS}[target["kind"]]
        mutate = {"c3d": mutate_c3d, "text": mutate_text, "mp4": mutate_mp4}[target["kind"]]
        stem = f"t{t_index:02d}"
        intact_id = f"{stem}-intact"
        cases.append(_case(intact_id, target, src, out_dir, "intact", None))
        for i in range(target["n"] * scale):
            rng = np.random.default_rng([seed, t_index, i])
            kind = kinds[i % len(kinds)]
            data, what = mutate(original, rng, kind)
            path = out_dir / f"{stem}-{i:03d}{src.suffix}"
            path.write_bytes(data)
            cases.append(_case(f"{stem}-{i:03d}", target, path, out_dir, f"{kind}: {what}", intact_id))
    return cases + _handmade(data_root, out_dir)


def _case(case_id: str, target: dict, path: Path, out_dir: Path, mutation: str, intact: str | None) -> dict:
    work = out_dir / f"{case_id}.out"
    work.mkdir(exist_ok=True)
    argv = [a.replace("{FILE}", str(path)).replace("{OUT}", str(work)) for a in target["argv"]]
    return {"id": case_id, "argv": argv, "file": str(path), "source": str(target["file"]),
            "kind": target["kind"], "command": argv[0], "mutation": mutation, "intact": intact}


if __name__ == "__main__":   # reproduce one case's bytes: python tests/fuzz_cases.py CASE_ID OUT_DIR
    root = Path(__file__).resolve().parents[2] / "shared" / "data"
    wanted = sys.argv[1]
    for case in build_cases(root, Path(sys.argv[2])):
        if case["id"] == wanted:
            print(json.dumps(case, indent=1))
