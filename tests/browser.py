"""A headless Chromium for the tests, driven over the DevTools protocol through a pipe.

``--remote-debugging-pipe`` makes Chromium read protocol messages (JSON, each ended by
a NUL byte) on its file descriptor 3 and write its own on 4: no port, no websocket, no
library. A ``Page`` records what a test asserts on: console messages, uncaught
exceptions, log entries (a Content-Security-Policy violation is one) and every request
the page made.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

#: Where screenshots go: a test artifact, ignored by git.
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Puts the pipes given as argv[1] and argv[2] on fds 3 and 4, then execs argv[3:].
_WIRE = """import os, sys
r, w = int(sys.argv[1]), int(sys.argv[2])
os.dup2(r, 100); os.dup2(w, 101); os.dup2(100, 3); os.dup2(101, 4)
for fd in {100, 101, r, w} - {3, 4}:
    os.close(fd)
os.execvp(sys.argv[3], sys.argv[3:])
"""


def find_chromium() -> str | None:
    """The browser: $CHROMIUM, else the first of the usual names on PATH."""
    named = os.environ.get("CHROMIUM")
    if named:
        return shutil.which(named) or (named if os.access(named, os.X_OK) else None)
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


class Browser:
    """One Chromium process; each test opens its own page (a target) in it."""

    def __init__(self, executable: str) -> None:
        self.profile = tempfile.mkdtemp(prefix="pipeline-chromium-")
        to_chrome_r, self._out = os.pipe()
        self._in, from_chrome_w = os.pipe()
        # Chromium's ends of the pipes must be its fds 3 and 4. A preexec_fn could dup2 them
        # there, but forking with a function to run is unsafe in a process with threads (the
        # loopback servers): a tiny Python does it, then execs the browser.
        self.process = subprocess.Popen(
            [sys.executable, "-c", _WIRE, str(to_chrome_r), str(from_chrome_w), executable,
             "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--remote-debugging-pipe", f"--user-data-dir={self.profile}", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
             "--disable-sync", "--disable-component-update", "--hide-scrollbars", "--mute-audio",
             "--force-device-scale-factor=1", "about:blank"],
            pass_fds=(to_chrome_r, from_chrome_w), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self._lock = threading.Lock()
        self.events: list[dict[str, Any]] = []
        self.version = self.call("Browser.getVersion")["product"]

    def _receive(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._in], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise EOFError("Chromium closed its pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)  # type: ignore[no-any-return]

    def call(self, method: str, session: str | None = None, timeout: float = 20, **params: Any) -> Any:
        """Send one command and return its result; events arriving meanwhile are kept."""
        with self._lock:
            self._next_id += 1
            ident = self._next_id
            message: dict[str, Any] = {"id": ident, "method": method, "params": params}
            if session:
                message["sessionId"] = session
            os.write(self._out, json.dumps(message).encode() + b"\0")
            while True:
                answer = self._receive(timeout)
                if answer.get("id") == ident:
                    if "error" in answer:
                        raise RuntimeError(f"{method}: {answer['error']}")
                    return answer.get("result", {})
                self.events.append(answer)

    def drain(self, seconds: float) -> None:
        """Collect the events that arrive within ``seconds``."""
        deadline = time.monotonic() + seconds
        with self._lock:
            while (left := deadline - time.monotonic()) > 0:
                try:
                    self.events.append(self._receive(left))
                except TimeoutError:
                    return

    def open(self, url: str, *, width: int = 1280, height: int = 900) -> Page:
        """A new page showing ``url``, loaded."""
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        page = Page(self, target, session)
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session)
        self.call("Emulation.setDeviceMetricsOverride", session, width=width, height=height,
                  deviceScaleFactor=1, mobile=False)
        page.go(url)
        return page

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=5)
        except (TimeoutError, EOFError, RuntimeError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._out)
        os.close(self._in)
        shutil.rmtree(self.profile, ignore_errors=True)


@dataclass
class Page:
    browser: Browser
    target: str
    session: str
    start: int = field(default=0)

    def go(self, url: str) -> None:
        self.start = len(self.browser.events)
        self.browser.call("Page.navigate", self.session, url=url)
        deadline = time.monotonic() + 20
        while not any(e.get("method") == "Page.loadEventFired" and e.get("sessionId") == self.session
                      for e in self.browser.events[self.start:]):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not load")
            self.browser.drain(0.05)
        self.browser.drain(0.2)  # late console messages and violations

    def _events(self, method: str) -> list[dict[str, Any]]:
        return [e["params"] for e in self.browser.events[self.start:]
                if e.get("method") == method and e.get("sessionId") == self.session]

    @property
    def problems(self) -> list[str]:
        """Console messages, uncaught exceptions and log entries (a CSP violation is one)."""
        found = [f"console.{p['type']}: {[a.get('value') for a in p.get('args', [])]}"
                 for p in self._events("Runtime.consoleAPICalled")]
        found += [f"exception: {p['exceptionDetails'].get('text')}" for p in self._events("Runtime.exceptionThrown")]
        found += [f"log {p['entry']['level']} ({p['entry']['source']}): {p['entry']['text']}"
                  for p in self._events("Log.entryAdded")]
        return found

    @property
    def requests(self) -> list[str]:
        """Every URL the page asked for, blocked or not."""
        return [p["request"]["url"] for p in self._events("Network.requestWillBeSent")]

    def js(self, expression: str) -> Any:
        """The value of ``expression`` evaluated in the page (the test's own, not the page's)."""
        result = self.browser.call("Runtime.evaluate", self.session, expression=expression,
                                   returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, name: str, *, full: bool = False) -> Path:
        """A PNG of the page, saved under tests/artifacts/."""
        params: dict[str, Any] = {"format": "png"}
        if full:
            width, height = self.js("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
            params.update(captureBeyondViewport=True,
                          clip={"x": 0, "y": 0, "width": width, "height": min(height, 6000), "scale": 1})
        data = self.browser.call("Page.captureScreenshot", self.session, **params)["data"]
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        self.browser.call("Target.closeTarget", targetId=self.target)


class _Recorder(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:
        self.server.seen.append(self.path)  # type: ignore[attr-defined]
        super().do_GET()


@contextmanager
def serve(folder: Path) -> Iterator[tuple[str, list[str]]]:
    """``folder`` over HTTP on a loopback port: its base URL, and every path asked for."""
    seen: list[str] = []

    def handler(*args: Any) -> _Recorder:
        return _Recorder(*args, directory=str(folder))

    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.seen = seen  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
