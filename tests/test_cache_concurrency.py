"""The inference cache under many writers at once (issue 14: Dask workers sharing one cache folder): four real
processes store different tracks under one key, over and over, while this process reads the entry. Every read
must be one writer's whole track (parsed here with ``json``, not with the cache's own reader), and no temporary
file may be left behind."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY = "ab" + "0" * 62
N_WRITERS, N_PUTS, N_FRAMES = 4, 25, 400

WRITER = """
import sys, time
from pathlib import Path
import numpy as np
from candidates.cache import TrackCache
from candidates.track import KeypointTrack
cache_dir, key, writer, go, n_puts, n_frames = sys.argv[1:7]
n = int(n_frames)
# every coordinate of writer w's track is w: a reader can tell whose track it got, and whether all of it
track = KeypointTrack(np.arange(n) / 30.0, np.full((n, 33, 2), float(writer)), np.ones((n, 33)), "blazepose33",
                      640, 480)
cache = TrackCache(cache_dir)
Path(go + f".ready-{writer}").write_text("")
while not Path(go).exists():
    time.sleep(0.001)
for _ in range(int(n_puts)):
    assert cache.put(key, track) is not None
"""


def test_concurrent_writers_never_expose_a_partial_entry(tmp_path):
    go = tmp_path / "go"
    cache_dir = tmp_path / "cache"
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(cache_dir), KEY, str(w + 1), str(go), str(N_PUTS),
                               str(N_FRAMES)], env=env, stderr=subprocess.PIPE) for w in range(N_WRITERS)]
    entry = cache_dir / "tracks" / KEY[:2] / f"{KEY}.json"
    # the writers import numpy and the cache, then all start at once
    while len(list(tmp_path.glob("go.ready-*"))) < N_WRITERS and all(p.poll() is None for p in procs):
        time.sleep(0.005)
    go.write_text("go")
    seen, reads = set(), 0
    while any(p.poll() is None for p in procs):
        if entry.exists():
            doc = json.loads(entry.read_text())        # a half-written entry would not parse
            values = {v for frame in doc["keypoints"] for kp in frame for v in kp[:2]}   # x, y (then confidence)
            assert len(values) == 1 and len(doc["keypoints"]) == N_FRAMES, "an entry mixes or cuts tracks"
            seen |= values
            reads += 1
    for p in procs:
        assert p.wait() == 0, p.stderr.read().decode()
    assert reads > 10 and seen <= {float(w + 1) for w in range(N_WRITERS)}
    # every write went through its own temporary file, renamed into place: none is left
    assert [p.name for p in entry.parent.iterdir()] == [entry.name]
