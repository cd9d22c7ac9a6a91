"""A generated data set where the answer has a known place: one shape per noisy image.

The class is the shape (square, disc or triangle); its position, size and colour are random,
so a classifier must find the object, and an explanation of it should point there. Used by
the demo model and by the tests that check heatmaps land on the object. NumPy only.

>>> data = make_shapes(4, seed=1)
>>> data.images.shape, data.labels.shape, data.boxes.shape
((4, 64, 64, 3), (4,), (4, 4))
>>> bool(data.masks[0].any())
True
"""

from __future__ import annotations

import attrs
import numpy as np

CLASS_NAMES = ("square", "disc", "triangle")


@attrs.frozen(eq=False)
class ShapeImages:
    """Images (N, S, S, 3) float32 in 0..255, labels (N,), object boxes (N, 4) as
    (top, left, bottom, right) inclusive pixel bounds, and object masks (N, S, S)."""

    images: np.ndarray
    labels: np.ndarray
    boxes: np.ndarray
    masks: np.ndarray


def _shape_mask(kind: int, size: int, row: int, col: int, radius: int) -> np.ndarray:
    rows, cols = np.mgrid[0:size, 0:size]
    dy, dx = rows - row, cols - col
    if kind == 0:
        return (np.abs(dy) <= radius) & (np.abs(dx) <= radius)
    if kind == 1:
        return dy**2 + dx**2 <= radius**2
    return (np.abs(dy) <= radius) & (np.abs(dx) * 2 <= dy + radius)


def make_shapes(count: int, size: int = 64, seed: int = 0) -> ShapeImages:
    """``count`` images of ``size`` x ``size`` pixels, reproducible for a given ``seed``."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(0.0, 70.0, size=(count, size, size, 3)).astype(np.float32)
    labels = rng.integers(0, len(CLASS_NAMES), size=count)
    boxes = np.zeros((count, 4), dtype=np.int64)
    masks = np.zeros((count, size, size), dtype=bool)
    for i in range(count):
        radius = int(rng.integers(size // 10, size // 6 + 1))
        row, col = rng.integers(radius + 1, size - radius - 1, size=2)
        mask = _shape_mask(int(labels[i]), size, int(row), int(col), radius)
        color = rng.uniform(150.0, 255.0, size=3)
        images[i][mask] = color
        rows, cols = np.nonzero(mask)
        boxes[i] = (rows.min(), cols.min(), rows.max(), cols.max())
        masks[i] = mask
    return ShapeImages(images=images, labels=labels, boxes=boxes, masks=masks)
