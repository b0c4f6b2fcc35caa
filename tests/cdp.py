"""Headless Chromium driven over the DevTools protocol, through a pipe (no library, no port).

`tests/browser.py` drives Chromium through its command line, which cannot click. The UI's
tests click through pages, so they speak the DevTools protocol to Debian's `chromium` over
`--remote-debugging-pipe`: commands go in on file descriptor 3 and answers and events come
out on 4, as NUL-terminated JSON. Playwright would download its own browser, and a
WebSocket client would be one more dependency, for the dozen commands used here.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import queue
import subprocess
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from tests.browser import FLAGS, chromium

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

TIMEOUT_S = 60


class Page:
    """One tab: navigate, evaluate, click, take screenshots, count the bytes received."""

    def __init__(self, process: subprocess.Popen[bytes], write_fd: int, read_fd: int) -> None:
        self._process = process
        self._write = write_fd
        self._answers: queue.Queue[dict[str, Any]] = queue.Queue()
        self._next_id = 0
        self._session: str | None = None
        self.events: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, args=(read_fd,), daemon=True)
        self._reader.start()

    def _read(self, fd: int) -> None:
        pending = b""
        while chunk := os.read(fd, 1 << 16):
            pending += chunk
            *messages, pending = pending.split(b"\0")
            for message in messages:
                self._answers.put(json.loads(message))

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send a command to the tab (or to the browser before `open`); return its result."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if self._session is not None:
            message["sessionId"] = self._session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            answer = self._answers.get(timeout=max(0.1, deadline - time.monotonic()))
            if answer.get("id") == self._next_id:
                assert "error" not in answer, f"{method}: {answer['error']}"
                result: dict[str, Any] = answer["result"]
                return result
            self.events.append(answer)

    def wait_for(self, event: str, *, after: int = 0) -> dict[str, Any]:
        """Wait for the first `event` among the events from index `after` on."""
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            for seen in self.events[after:]:
                if seen.get("method") == event:
                    return seen
            answer = self._answers.get(timeout=max(0.1, deadline - time.monotonic()))
            self.events.append(answer)

    def open(self, width: int, height: int) -> None:
        """Make the tab, attach to it, size its window."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Network"):
            self.send(f"{domain}.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    def goto(self, url: str) -> None:
        """Open `url` and wait until it has loaded."""
        mark = len(self.events)
        self.send("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired", after=mark)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """Click the middle of the first element matching `selector`, as a mouse would."""
        box = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return null; e.scrollIntoView({block: 'center'});"
            " const r = e.getBoundingClientRect();"
            " return [r.left + r.width / 2, r.top + r.height / 2]; })()"
        )
        assert box is not None, f"nothing matches {selector!r} on {self.evaluate('location.href')}"
        for kind in ("mousePressed", "mouseReleased"):
            self.send(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1},
            )

    def click_and_wait(self, selector: str) -> None:
        """Click a link and wait for the page it opens to load."""
        mark = len(self.events)
        self.click(selector)
        self.wait_for("Page.loadEventFired", after=mark)

    def screenshot(self, target: Path) -> Path:
        """Save what the window shows as the PNG `target`."""
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        target.write_bytes(base64.b64decode(data))
        return target

    def bytes_received(self, *, after: int = 0) -> int:
        """The bytes the network delivered (compressed, headers included) after event `after`."""
        return sum(
            int(e["params"]["encodedDataLength"])
            for e in self.events[after:]
            if e.get("method") == "Network.loadingFinished"
        )


@contextmanager
def browser(profile: Path, *, width: int = 1280, height: int = 900) -> Iterator[Page]:
    """A fresh headless Chromium (its profile in `profile`) with one tab of that size."""
    commands_read, commands_write = os.pipe()
    answers_read, answers_write = os.pipe()

    def wire_pipes() -> None:  # in the child: the protocol wants them on fds 3 and 4
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (commands_read, answers_write)]
        os.dup2(high[0], 3)
        os.dup2(high[1], 4)

    process = subprocess.Popen(
        [chromium(), *FLAGS, "--remote-debugging-pipe", f"--user-data-dir={profile}"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # Python's own descriptors are not inheritable, so none leaks; closing the others
        # would close 3 and 4 too, made after the close list was taken.
        close_fds=False,
        preexec_fn=wire_pipes,  # noqa: PLW1509 - only dup2, before exec
    )
    os.close(commands_read)
    os.close(answers_write)
    page = Page(process, commands_write, answers_read)
    try:
        page.open(width, height)
        yield page
    finally:
        os.close(commands_write)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        os.close(answers_read)
