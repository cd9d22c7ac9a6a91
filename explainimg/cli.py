"""The ``explainimg`` command line.

>>> build_parser().parse_args(["demo", "--out", "here"]).out
'here'
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="explainimg", description="Explain Keras image classifier predictions."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="explain a bundled model offline and write overlay PNGs"
    )
    demo.add_argument(
        "--out", default="explainimg-demo", help="output folder (default: %(default)s)"
    )
    demo.add_argument(
        "--count", type=int, default=4, help="number of images (default: %(default)s)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if args.command == "demo":
        from .demo import run_demo

        run_demo(Path(args.out), count=args.count)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
