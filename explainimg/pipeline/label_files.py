"""True labels and object boxes for image files: from folder names or from CSV files.

- ``--labels folders``: the label of ``photos/cat/1.jpg`` is ``cat`` (a class name or id);
  folders given on the command line are searched with their subfolders.
- ``--labels FILE.csv``: rows ``file,label``; ``--boxes FILE.csv``: rows ``file,x0,y0,x1,y1``
  (pixels of the image file, bounds included). A header row is optional.

A CSV ``file`` names an image by its path (relative to the CSV's folder or the current one) or
by its bare file name when that is unique. Every image needs a label; boxes may be missing.

>>> from pathlib import Path
>>> folder_labels([Path("photos/cat/1.jpg"), Path("photos/3/2.jpg")])
['cat', '3']
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import bad_argument, said

if TYPE_CHECKING:  # the metrics package loads Keras; the command line reads labels before it
    from ..metrics.localization import Box


def folder_labels(paths: Sequence[Path]) -> list[str]:
    """The name of each image's folder: its label."""
    return [path.parent.name for path in paths]


def _rows(table: Path, argument: str, columns: tuple[str, ...]) -> list[tuple[int, list[str]]]:
    """(line number, cells) of each data row; the header (when there is one) is skipped."""
    try:
        with open(table, newline="", encoding="utf-8-sig") as opened:
            lines = list(csv.reader(opened))
    except (OSError, UnicodeDecodeError) as error:
        raise bad_argument(argument, "a readable CSV file", said(f"{table} ({error})")) from None
    rows = []
    for number, cells in enumerate(lines, start=1):
        cells = [cell.strip() for cell in cells]
        if not any(cells) or (number == 1 and cells == list(columns)):
            continue
        if len(cells) != len(columns):
            raise bad_argument(
                argument,
                f"rows of {len(columns)} columns ({','.join(columns)})",
                said(f"{len(cells)} in {table} line {number}: {','.join(cells)!r}"),
            )
        rows.append((number, cells))
    return rows


def _matcher(table: Path, paths: Sequence[Path], argument: str):
    """A function from a CSV ``file`` cell to the index of the image it names."""
    by_path = {path.resolve(): i for i, path in enumerate(paths)}
    by_name: dict[str, list[int]] = {}
    for i, path in enumerate(paths):
        by_name.setdefault(path.name, []).append(i)

    def index(file: str, number: int) -> int:
        for candidate in (table.parent / file, Path(file)):
            if candidate.resolve() in by_path:
                return by_path[candidate.resolve()]
        named = by_name.get(file, []) if Path(file).name == file else []
        if len(named) == 1:
            return named[0]
        found = "several images of that name" if named else "no such image among the inputs"
        raise bad_argument(
            argument,
            "a file among the images explained (a path or a unique file name)",
            said(f"{file!r} in {table} line {number} ({found})"),
        )

    return index


def read_labels_csv(table: str | Path, paths: Sequence[Path]) -> list[str]:
    """The label of each of ``paths`` from a ``file,label`` CSV."""
    table = Path(table)
    index = _matcher(table, paths, "--labels")
    labels: list[str | None] = [None] * len(paths)
    for number, (file, label) in _rows(table, "--labels", ("file", "label")):
        labels[index(file, number)] = label
    missing = [str(path) for path, label in zip(paths, labels, strict=True) if label is None]
    if missing:
        raise bad_argument(
            "--labels",
            f"a row for every image in {table}",
            said(f"no row for {len(missing)} of them: {', '.join(missing[:5])}"),
        )
    return [str(label) for label in labels]


def read_boxes_csv(table: str | Path, paths: Sequence[Path]) -> list[Box | None]:
    """The object box of each of ``paths`` (None where the CSV has none) from a
    ``file,x0,y0,x1,y1`` CSV, as ``(top, left, bottom, right)``."""
    table = Path(table)
    index = _matcher(table, paths, "--boxes")
    boxes: list[Box | None] = [None] * len(paths)
    for number, (file, *cells) in _rows(table, "--boxes", ("file", "x0", "y0", "x1", "y1")):
        try:
            x0, y0, x1, y1 = (int(cell) for cell in cells)
        except ValueError:
            x0 = y0 = x1 = y1 = -1
        if not (0 <= x0 <= x1 and 0 <= y0 <= y1):
            raise bad_argument(
                "--boxes",
                "whole pixel numbers with 0 <= x0 <= x1 and 0 <= y0 <= y1",
                said(f"{','.join(cells)!r} in {table} line {number}"),
            )
        boxes[index(file, number)] = (y0, x0, y1, x1)
    return boxes
