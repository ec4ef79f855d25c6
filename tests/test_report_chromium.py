"""Open the report in real headless Chromium: it must load with no console error, no script error and no
network request (only the file itself and data: URIs), and render a screenshot.

Chromium is driven through the DevTools protocol over ``--remote-debugging-pipe`` (fd 3 = commands in,
fd 4 = messages out, NUL-separated JSON) with the standard library only. Skips with a reason where no Chromium
binary is installed (Debian package ``chromium``; CI installs it in .ci/run).
"""
from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from harness.gates import evaluate_policy, load_policy, sample_policy_path
from reports import build_report
from test_report import figures_data_from_real_cop
from test_report_fixtures import pefr_results

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
                None)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
         "--disable-dev-shm-usage",
         "--remote-debugging-pipe"]


class DevToolsPipe:
    """Minimal DevTools-protocol client over Chromium's debugging pipe."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.buf = b""
        self.next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 30.0) -> dict:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.proc.stdin.write(json.dumps(msg).encode() + b"\0")
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self._read()
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)
        raise TimeoutError(method)

    def wait_event(self, name: str, timeout: float = 30.0) -> dict:
        for m in self.events:
            if m.get("method") == name:
                return m
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self._read()
            self.events.append(m)
            if m.get("method") == name:
                return m
        raise TimeoutError(name)

    def _read(self, timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        while b"\0" not in self.buf:
            # never block forever on a browser that hangs: wait with a deadline
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                raise TimeoutError("no message from Chromium on the DevTools pipe")
            chunk = os.read(self.proc.stdout.fileno(), 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self.buf += chunk
        raw, _, self.buf = self.buf.partition(b"\0")
        return json.loads(raw)


def open_in_chromium(html_path: Path, screenshot: Path, width: int = 1200) -> dict:
    """Load ``html_path``; return the page's network requests, console/log errors and exceptions."""
    with tempfile.TemporaryDirectory() as profile:
        # the shell maps our stdin/stdout pipes onto Chromium's fd 3 (commands) and fd 4 (messages)
        cmd = ["sh", "-c", 'exec "$@" 3<&0 4>&1 0</dev/null 1>/dev/null', "sh", CHROMIUM, *FLAGS,
               f"--user-data-dir={profile}", "about:blank"]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        cdp = DevToolsPipe(proc)
        try:
            target = cdp.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Network", "Runtime", "Log", "Page"):
                cdp.send(f"{domain}.enable", session=session)
            cdp.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": 900, "deviceScaleFactor": 1,
                                                            "mobile": False}, session=session)
            cdp.send("Page.navigate", {"url": html_path.resolve().as_uri()}, session=session)
            cdp.wait_event("Page.loadEventFired", timeout=60)
            metrics = cdp.send("Page.getLayoutMetrics", session=session)
            height = int(metrics["cssContentSize"]["height"])
            shot = cdp.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                       "clip": {"x": 0, "y": 0, "width": width,
                                                                "height": min(height, 16000), "scale": 1}},
                            session=session, timeout=60)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            images = cdp.send("Runtime.evaluate", {"expression": "Array.from(document.images).map(i => "
                                                   "[i.complete && i.naturalWidth > 0, i.alt])",
                                                   "returnByValue": True}, session=session)["result"]["value"]
            # print view: the table of contents is hidden and the page prints to PDF
            cdp.send("Emulation.setEmulatedMedia", {"media": "print"}, session=session)
            toc_print = cdp.send("Runtime.evaluate", {"expression": "getComputedStyle(document.querySelector('.toc'))"
                                                      ".display", "returnByValue": True},
                                 session=session)["result"]["value"]
            pdf = cdp.send("Page.printToPDF", {"printBackground": True}, session=session, timeout=60)["data"]
            try:
                cdp.send("Browser.close", timeout=5)
            except (RuntimeError, TimeoutError):
                pass
        finally:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    ev = [e for e in cdp.events if e.get("sessionId") == session]
    requests = [e["params"]["request"]["url"] for e in ev if e.get("method") == "Network.requestWillBeSent"]
    errors = [e["params"] for e in ev if e.get("method") == "Runtime.exceptionThrown"]
    errors += [e["params"] for e in ev if e.get("method") == "Runtime.consoleAPICalled"
               and e["params"].get("type") in ("error", "assert")]
    errors += [e["params"]["entry"] for e in ev if e.get("method") == "Log.entryAdded"
               and e["params"]["entry"].get("level") == "error"]
    return {"requests": requests, "errors": errors, "images": images, "height": height, "toc_print": toc_print,
            "pdf": base64.b64decode(pdf)}


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install -y chromium); "
                                             ".ci/run installs it")
def test_report_opens_offline_in_headless_chromium(tmp_path):
    results = pefr_results()
    results["gates"] = [v.to_dict() for v in evaluate_policy(results, load_policy(sample_policy_path()))]
    out = build_report(results, tmp_path / "report.html", figures_data=figures_data_from_real_cop())
    shot_dir = Path(os.environ.get("STANCEBENCH_SCREENSHOT_DIR", tmp_path))
    shot_dir.mkdir(parents=True, exist_ok=True)
    got = open_in_chromium(out, shot_dir / "report.png")
    page = out.resolve().as_uri()
    external = [u for u in got["requests"] if not (u == page or u.startswith("data:"))]
    assert external == [], f"the report made network requests: {external}"
    assert page in got["requests"]  # the Network domain was really listening
    assert got["errors"] == [], f"console/script errors: {got['errors']}"
    # every figure decoded and displayed, each with alt text
    assert len(got["images"]) >= 6
    assert all(ok and alt for ok, alt in got["images"]), got["images"]
    assert got["toc_print"] == "none" and got["pdf"][:5] == b"%PDF-" and len(got["pdf"]) > 100_000
    (shot_dir / "report.pdf").write_bytes(got["pdf"])
    png = (shot_dir / "report.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and got["height"] > 3000
