"""Where the heat is, in image coordinates (NumPy only).

>>> import numpy as np
>>> heatmap = np.zeros((4, 4), dtype="float32"); heatmap[1, 2] = 1.0
>>> peak_location(heatmap, image_size=(64, 32))
(12.0, 40.0)
"""

from __future__ import annotations

import numpy as np


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
