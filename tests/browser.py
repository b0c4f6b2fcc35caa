"""Headless Chromium for the report tests: measure a page's layout, take screenshots.

Drives Debian's `chromium` through its command line only (no driver library, nothing
downloaded): `measure_layout` copies the page, appends a script that measures every element
against the window and writes the findings into the DOM, and reads them back with
`--dump-dom`; `screenshot` saves what the window shows. `.ci/run` installs `chromium`; where
it is missing the tests skip, except under CI (`CI` set), where they fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path

INSTALL_HINT = "Install it with `apt-get install chromium` (.ci/run does)."
TIMEOUT_S = 120
_RESULT_ID = "shipyard-layout-result"
_MEASURE = """
<script>
(() => {
  const view = document.documentElement.clientWidth;
  const out = {viewport: view, page: document.documentElement.scrollWidth,
               wide: [], clipped: [], overlapping: [], outside: [], scrolling: [],
               svgs: 0, texts: 0};
  document.querySelectorAll("details").forEach((d) => { d.open = true; });
  const name = (el) => {
    const cls = el.getAttribute("class");
    const label = (el.getAttribute("aria-label") || el.textContent || "").trim().slice(0, 40);
    return el.tagName.toLowerCase() + (cls ? "." + cls.split(" ")[0] : "") + " " + label;
  };
  const frames = [];  // elements that scroll sideways: what is inside them is reachable
  for (const el of document.body.querySelectorAll("*")) {
    if (el.closest("svg") && el.tagName.toLowerCase() !== "svg") continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    const framed = frames.some((frame) => frame.contains(el));
    if (!framed && (box.right > view + 0.5 || box.left < -0.5)) {
      out.wide.push(name(el) + " right=" + box.right);
    }
    const style = getComputedStyle(el);
    if (style.overflowX === "auto" || style.overflowX === "scroll") {
      frames.push(el);
      if (el.scrollWidth > el.clientWidth + 1) out.scrolling.push(name(el));
    } else if (style.overflowX !== "visible" && el.scrollWidth > el.clientWidth + 1) {
      out.clipped.push(name(el));
    }
  }
  for (const svg of document.querySelectorAll("svg")) {
    out.svgs += 1;
    const frame = svg.getBoundingClientRect();
    const texts = [...svg.querySelectorAll("text")].map((t) => [t, t.getBoundingClientRect()]);
    out.texts += texts.length;
    for (const [text, box] of texts) {
      if (box.left < frame.left - 1 || box.right > frame.right + 1 ||
          box.top < frame.top - 1 || box.bottom > frame.bottom + 1) {
        out.outside.push(name(svg) + ": " + text.textContent);
      }
    }
    for (let i = 0; i < texts.length; i++) {
      for (let j = i + 1; j < texts.length; j++) {
        const [a, p] = texts[i], [b, q] = texts[j];
        const w = Math.min(p.right, q.right) - Math.max(p.left, q.left);
        const h = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
        if (w > 2 && h > 2) {
          out.overlapping.push(name(svg) + ": " + a.textContent + " / " + b.textContent);
        }
      }
    }
  }
  const result = document.createElement("pre");
  result.id = "%s";
  result.textContent = JSON.stringify(out);
  document.body.appendChild(result);
})();
</script>
""".replace("%s", _RESULT_ID)


def layout_script() -> str:
    """The measuring script as JavaScript (for a page driven over the DevTools protocol): it
    writes its findings as JSON into the element whose id is `LAYOUT_RESULT_ID`."""
    return _MEASURE.split("<script>", 1)[1].rsplit("</script>", 1)[0]


LAYOUT_RESULT_ID = _RESULT_ID


@dataclass(frozen=True)
class Layout:
    """What Chromium measured on a page.

    Attributes:
        viewport: The window's width in CSS pixels.
        page: The document's scroll width: wider than `viewport` means a horizontal scroll.
        wide: Elements reaching past the window's right (or left) edge (what is inside a
            frame that scrolls sideways is not measured: it can be scrolled to).
        clipped: Elements whose content is wider than their (hidden or clipped) box.
        overlapping: Pairs of chart labels drawn over each other.
        outside: Chart labels reaching outside their chart.
        svgs: Charts on the page.
        texts: Chart labels on the page.
        scrolling: Frames (`overflow-x: auto` or `scroll`) whose content is wider than
            they are, so they scroll sideways: fine where a page means it, not a problem.
    """

    viewport: int
    page: int
    wide: list[str]
    clipped: list[str]
    overlapping: list[str]
    outside: list[str]
    svgs: int
    texts: int
    scrolling: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Return every layout problem found, empty for a page that fits and reads well."""
        problems = [f"too wide: {item}" for item in self.wide]
        problems += [f"clipped: {item}" for item in self.clipped]
        problems += [f"overlapping labels: {item}" for item in self.overlapping]
        problems += [f"label outside its chart: {item}" for item in self.outside]
        if self.page > self.viewport:
            problems.append(f"the page is {self.page}px wide in a {self.viewport}px window")
        return problems


def chromium() -> str:
    """Return the Chromium executable; skip the test when there is none (fail under CI)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    message = f"Chromium not found. {INSTALL_HINT}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set, so the browser tests may not be skipped)")
    pytest.skip(message)


FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)
"""Chromium's flags for the tests: headless, no sandbox (containers), nothing fetched."""


def _run(arguments: list[str], profile: Path) -> str:
    command = [chromium(), *FLAGS, f"--user-data-dir={profile}", *arguments]
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def measure_layout(page: Path, work: Path, *, width: int, height: int = 900) -> Layout:
    """Open `page` in a `width` x `height` window (every `<details>` open) and measure it.

    Args:
        page: The HTML file; it is not modified.
        work: A fresh directory for the instrumented copy and the browser profile.
        width: The window's width in pixels.
        height: The window's height in pixels.
    """
    text = page.read_text(encoding="utf-8")
    instrumented = work / f"measured-{width}-{page.name}"
    instrumented.write_text(text.replace("</body>", _MEASURE + "</body>"), encoding="utf-8")
    dom = _run(
        [f"--window-size={width},{height}", "--dump-dom", instrumented.as_uri()],
        work / f"profile-measure-{width}",
    )
    match = re.search(rf"<pre id=\"{_RESULT_ID}\">(.*?)</pre>", dom, re.DOTALL)
    assert match, f"the layout script did not run on {page}: {dom[-500:]}"
    data = json.loads(
        match.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    )
    return Layout(**data)


def screenshot(page: Path, target: Path, *, width: int, height: int) -> Path:
    """Save what a `width` x `height` window shows of `page` as the PNG `target`."""
    _run(
        [f"--window-size={width},{height}", f"--screenshot={target}", page.as_uri()],
        target.parent / f"profile-{target.stem}",
    )
    assert target.is_file(), f"Chromium wrote no screenshot to {target}"
    return target
