"""Heatmaps as arrays: checking them, resizing them to an image and finding where the heat is
(NumPy and PIL only).

>>> import numpy as np
>>> upsample_heatmap(np.eye(2, dtype="float32"), (4, 4), 0).tolist()[0]
[1.0, 1.0, 0.0, 0.0]
>>> heatmap = np.zeros((4, 4), dtype="float32"); heatmap[1, 2] = 1.0
>>> peak_location(heatmap, image_size=(64, 32))
(12.0, 40.0)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from .errors import bad_argument

_FILTERS = {int(f): f.name for f in Image.Resampling}


def checked_heatmap(heatmap: Any) -> np.ndarray:
    """``heatmap`` as a non-empty 2-D float32 array clipped to [0, 1] (NaN becomes 0)."""
    array = np.asarray(heatmap, dtype=np.float32)
    if array.ndim != 2 or 0 in array.shape:
        raise bad_argument("heatmap", "a non-empty 2-D array", array)
    return np.clip(np.nan_to_num(array, nan=0.0), 0.0, 1.0)


def _checked_filter(resampling_filter: Any) -> int:
    is_int = isinstance(resampling_filter, (int, np.integer)) and not isinstance(
        resampling_filter, bool
    )
    if not is_int or int(resampling_filter) not in _FILTERS:
        names = ", ".join(f"Image.{name}" for name in _FILTERS.values())
        raise bad_argument(
            "resampling_filter", f"a PIL resampling filter ({names})", resampling_filter
        )
    return int(resampling_filter)


def upsample_heatmap(
    heatmap: np.ndarray,
    size: tuple[int, int],
    resampling_filter: int = Image.LANCZOS,
    rows: tuple[int, int] | None = None,
) -> np.ndarray:
    """A [0, 1] float heatmap resized to ``size`` (width, height); filter overshoot is clipped.

    ``rows`` = (first, stop) computes only those rows of the result, exactly as they are in the
    whole (so big pictures can be drawn a stripe at a time).
    """
    values = checked_heatmap(heatmap)
    width, height = size
    first, stop = (0, height) if rows is None else rows
    scale = values.shape[0] / height
    box = (0.0, first * scale, float(values.shape[1]), stop * scale)
    resized = Image.fromarray(values).resize(
        (width, stop - first), _checked_filter(resampling_filter), box=box
    )
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)


def peak_cell(heatmap: np.ndarray) -> tuple[int, int]:
    """(row, col) of the hottest heatmap cell (the first one on ties)."""
    row, col = np.unravel_index(int(np.argmax(heatmap)), heatmap.shape)
    return int(row), int(col)


def peak_location(heatmap: np.ndarray, image_size: tuple[int, int]) -> tuple[float, float]:
    """(y, x) in pixels of the centre of the hottest cell, for an image of ``image_size``
    (width, height) that the heatmap covers."""
    row, col = peak_cell(heatmap)
    rows, cols = heatmap.shape
    width, height = image_size
    return (row + 0.5) * height / rows, (col + 0.5) * width / cols
