"""Make the pictures in docs/figures/ by running the code blocks of the tutorial, the audit,
the training and the detection pages (an HTML page is saved as its screenshot in headless
Chromium).

.venv/bin/python docs/make_figures.py [PAGE.md ...]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_blocks import DOCS, run_page

FIGURES = DOCS / "figures"
PAGES = ("tutorial.md", "audit.md", "training.md", "detection.md")


def screenshot(html: str, path: Path, size: tuple[int, int] = (1200, 1100)) -> None:
    """Save what headless Chromium shows of ``html`` as the PNG ``path``."""
    with tempfile.TemporaryDirectory() as scratch:
        page = Path(scratch) / "page.html"
        page.write_text(html)
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
        subprocess.run(
            [
                "chromium",
                *flags,
                f"--user-data-dir={scratch}/profile",
                f"--window-size={size[0]},{size[1]}",
                f"--screenshot={path}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
        )


def save(name: str, value: Any) -> None:
    """Save a PIL image, a matplotlib figure or an HTML page (str) as docs/figures/NAME."""
    FIGURES.mkdir(exist_ok=True)
    if isinstance(value, str):
        screenshot(value, FIGURES / name)
    elif hasattr(value, "savefig"):
        value.savefig(FIGURES / name, dpi=100)
    else:
        value.save(FIGURES / name, optimize=True)
    print(f"wrote {FIGURES / name}")


def main() -> None:
    for page in sys.argv[1:] or PAGES:
        with tempfile.TemporaryDirectory() as scratch:
            here = os.getcwd()
            os.chdir(scratch)
            try:
                for _ in run_page(DOCS / page, {}, on_figure=save):
                    pass
            finally:
                os.chdir(here)


if __name__ == "__main__":
    main()
