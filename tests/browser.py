"""Headless Chromium for tests: load a page, report on its images, take a screenshot."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]

IMAGE_CHECK = """
<script>
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const broken = images.filter((img) => !(img.complete && img.naturalWidth > 0));
  document.body.setAttribute("data-image-check",
    JSON.stringify({total: images.length, broken: broken.length}));
});
</script>
"""


def chromium() -> str:
    """Path of the Chromium binary, or skip the test saying why."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(
        "Chromium is not installed (.ci/run installs Debian's 'chromium'; "
        "run 'apt-get install chromium' to include the browser tests)"
    )


def _run(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=180,
    )


def image_check(html: str, folder: Path) -> dict[str, int]:
    """Load ``html`` (with a checking script added) and count its images and broken ones."""
    page = folder / "checked.html"
    page.write_text(html.replace("</body>", IMAGE_CHECK + "</body>"))
    result = _run(
        ["--virtual-time-budget=20000", "--dump-dom", page.as_uri()], folder / "profile-dom"
    )
    found = re.search(r'data-image-check="([^"]*)"', result.stdout)
    assert found, f"the check did not run: {result.stderr[-2000:]}"
    return json.loads(found.group(1).replace("&quot;", '"'))


def screenshot(html: str, folder: Path, size: tuple[int, int] = (1280, 1400)) -> Path:
    """A PNG screenshot of ``html`` as Chromium renders it."""
    page = folder / "shown.html"
    page.write_text(html)
    shot = folder / "screenshot.png"
    result = _run(
        [f"--window-size={size[0]},{size[1]}", f"--screenshot={shot}", page.as_uri()],
        folder / "profile-shot",
    )
    assert shot.exists(), f"no screenshot: {result.stderr[-2000:]}"
    return shot
