"""Open the rendered report in headless Chromium: sections visible, no console errors, offline.

Chromium is Debian's ``chromium`` package (``/usr/bin/chromium``). It is driven through the
Chrome DevTools protocol over a pipe (``--remote-debugging-pipe``: JSON messages separated by
NUL bytes on file descriptors 3 and 4), so no browser-automation package is needed. The full-page
screenshot is saved to ``test-output/report.png`` (or ``$RELAPSE_TEST_OUTPUT``).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import synthetic_explain as syn

from relapse.report import build_context, render_report, write_report

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SECTIONS = ("headline", "countries", "drivers", "skill", "caveats")
TIMEOUT_S = 60.0


class Browser:
    """A headless Chromium with one page, spoken to over the DevTools pipe."""

    def __init__(self, profile: Path) -> None:
        cmd_r, cmd_w = os.pipe()
        res_r, res_w = os.pipe()

        def wire() -> None:  # in the child: its fd 3 reads commands, fd 4 writes replies
            a, b = os.dup(cmd_r), os.dup(res_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-extensions",
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # close_fds=False keeps the fds 3 and 4 made in ``wire``; every other descriptor
            # of this process is close-on-exec (Python's default).
            preexec_fn=wire,
            close_fds=False,
        )
        os.close(cmd_r)
        os.close(res_w)
        self.w, self.r = cmd_w, res_r
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    def send(self, method: str, params: dict | None = None, session: bool = True) -> dict:
        """Send a command and wait for its reply (events arriving meanwhile are kept)."""
        self.next_id += 1
        msg: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str) -> dict:
        """Wait for an event (or return one already received)."""
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._read()
            self.events.append(event)
            if event.get("method") == method:
                return event

    def _read(self) -> dict:
        deadline = time.monotonic() + TIMEOUT_S
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.r], [], [], max(left, 0))
            if not ready:
                raise TimeoutError("no reply from Chromium")
            chunk = os.read(self.r, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)

    def open_page(self, url: str, width: int = 1280, height: int = 900) -> None:
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)
        self.session = self.send(
            "Target.attachToTarget",
            {"targetId": target["targetId"], "flatten": True},
            session=False,
        )["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        self.send("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        out = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return out["result"].get("value")

    def screenshot(self, path: Path, max_height: int = 16000) -> Path:
        size = self.send("Page.getLayoutMetrics")["cssContentSize"]
        clip = {
            "x": 0,
            "y": 0,
            "width": size["width"],
            "height": min(size["height"], max_height),
            "scale": 1,
        }
        data = self.send(
            "Page.captureScreenshot", {"format": "png", "clip": clip, "captureBeyondViewport": True}
        )["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and error log entries seen so far."""
        out = []
        for e in self.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.exceptionThrown":
                out.append("Uncaught " + params["exceptionDetails"].get("text", ""))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                out.append(
                    "console: "
                    + " ".join(
                        str(a.get("value", a.get("description"))) for a in params.get("args", [])
                    )
                )
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                out.append("log: " + params["entry"].get("text", ""))
        return out

    def requests(self) -> list[str]:
        """URLs the page requested."""
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
        ]

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.send("Browser.close", session=False)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.w)
        os.close(self.r)


@pytest.fixture
def browser(tmp_path: Path):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium")
    b = Browser(tmp_path / "profile")
    yield b
    b.close()


@pytest.fixture(scope="module")
def report_file(tmp_path_factory, synthetic_frame, synthetic_boosters, synthetic_backtest) -> Path:
    frame, boosters, bt = synthetic_frame, synthetic_boosters, synthetic_backtest
    ctx = build_context(
        frame,
        syn.forecasts(boosters),
        syn.registry(),
        metrics=syn.metrics(bt),
        backtest=bt,
        options={"countries": ["S00", "S01", "S02"]},
        data_vintage="synthetic",
    )
    return write_report(tmp_path_factory.mktemp("report") / "report.html", render_report(ctx))


def test_report_in_chromium_sections_visible_no_errors_offline(browser, report_file):
    browser.open_page(report_file.as_uri())
    ids = json.dumps(list(SECTIONS))
    visible = browser.evaluate(
        f"JSON.stringify({ids}.map(id => {{ const el = document.getElementById(id);"
        " if (!el) return [id, false]; const r = el.getBoundingClientRect();"
        " const s = getComputedStyle(el);"
        " return [id, r.width > 0 && r.height > 0 && s.visibility !== 'hidden'"
        " && s.display !== 'none']; }))"
    )
    assert dict(json.loads(visible)) == dict.fromkeys(SECTIONS, True)
    images = browser.evaluate(
        "Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).length"
    )
    assert images == 0, "some images did not decode"
    assert browser.evaluate("document.querySelectorAll('.country').length") == 3
    title = browser.evaluate("document.querySelector('#country-S00 h3').textContent")
    assert "<script>alert('x')</script>" in title  # shown as text, not run
    out_dir = Path(os.environ.get("RELAPSE_TEST_OUTPUT", REPO / "test-output"))
    shot = browser.screenshot(out_dir / "report.png")
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 50_000
    assert browser.errors() == []
    external = [u for u in browser.requests() if not u.startswith(("file:", "data:"))]
    assert external == []


def test_harness_catches_console_errors(browser, tmp_path):
    page = tmp_path / "broken.html"
    page.write_text(
        "<html><body><p id='x'>x</p><script>console.error('boom');"
        "undefinedFunction();</script></body></html>"
    )
    browser.open_page(page.as_uri())
    errors = browser.errors()
    assert any("boom" in e for e in errors)
    assert any(e.startswith("Uncaught") for e in errors)
