"""Make the pictures in docs/figures/ by running the tutorial's code blocks.

.venv/bin/python docs/make_figures.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_blocks import DOCS, doc_namespace, run_page

FIGURES = DOCS / "figures"
PAGES = ("tutorial.md",)


def save(name: str, value: Any) -> None:
    """Save a PIL image or a matplotlib figure as docs/figures/NAME."""
    FIGURES.mkdir(exist_ok=True)
    if hasattr(value, "savefig"):
        value.savefig(FIGURES / name, dpi=100)
    else:
        value.save(FIGURES / name, optimize=True)
    print(f"wrote {FIGURES / name}")


def main() -> None:
    for page in PAGES:
        with tempfile.TemporaryDirectory() as scratch:
            here = os.getcwd()
            os.chdir(scratch)
            try:
                for _ in run_page(DOCS / page, doc_namespace(), on_figure=save):
                    pass
            finally:
                os.chdir(here)


if __name__ == "__main__":
    main()
