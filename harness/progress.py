"""A small progress bar on stderr (no third-party dependency).

On a terminal it redraws one line in place; when stderr is a file or a CI log it prints one line per update,
so logs stay readable.
"""
from __future__ import annotations

import sys
import time


class Progress:
    """``with Progress(10, "trials") as bar: ... bar.update(note="S01-EO-1 mediapipe-full")``."""

    def __init__(self, total: int, label: str = "", *, stream=None, width: int = 28, enabled: bool = True,
                 done: int = 0):
        self.total = max(int(total), 0)
        self.label = label
        self.stream = sys.stderr if stream is None else stream
        self.width = width
        self.enabled = enabled
        #: done before this bar started (a resumed study's tasks read from its journal): not in the rate
        self.done = self.done_before = max(int(done), 0)
        self.failed = 0
        self.retried = 0
        self.t0 = time.perf_counter()
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_len = 0
        if self.enabled:
            self._draw("")

    def _draw(self, note: str) -> None:
        frac = self.done / self.total if self.total else 1.0
        fill = int(round(frac * self.width))
        elapsed = time.perf_counter() - self.t0
        eta = ""
        ran = self.done - self.done_before
        if ran > 0 and self.done < self.total and elapsed > 0:
            rate = ran / elapsed
            eta = f", {rate:.2g}/s, ~{(self.total - self.done) / rate:.0f} s left"
        fail = (f", {self.failed} failed" if self.failed else "") + (
            f", {self.retried} retried" if self.retried else "")
        line = (f"{self.label} [{'#' * fill}{'.' * (self.width - fill)}] {self.done}/{self.total} "
                f"({elapsed:.0f} s{eta}{fail})" + (f" {note}" if note else ""))
        if self._tty:
            pad = max(self._last_len - len(line), 0)
            self.stream.write("\r" + line + " " * pad)
            self._last_len = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def update(self, n: int = 1, *, note: str = "", failed: bool = False, retried: bool = False) -> None:
        """``n`` more done; ``failed``: one of them failed; ``retried``: one of them ran again after its worker
        died."""
        self.done = min(self.done + n, self.total) if self.total else self.done + n
        self.failed += int(failed)
        self.retried += int(retried)
        if self.enabled:
            self._draw(note)

    def close(self) -> None:
        if self.enabled and self._tty:
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
