"""A generated data set where the answer has a known place: one shape per noisy image.

The class is the shape (square, disc or triangle); its position, size and colour are random,
so a classifier must find the object, and an explanation of it should point there. Used by
the demo model and by the tests that check heatmaps land on the object. :func:`make_scenes`
places several shapes in each image, for detectors. NumPy only.

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


@attrs.frozen(eq=False)
class ShapeScenes:
    """Images (N, S, S, 3) float32 in 0..255 holding ``counts[i]`` shapes each, their boxes
    (N, M, 4) as (x0, y0, x1, y1) pixel corners (x1, y1 exclusive) and class labels (N, M),
    M the most shapes an image may hold; the rows after ``counts[i]`` are padding, -1."""

    images: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray
    counts: np.ndarray

    def scene(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(boxes (counts[i], 4), labels (counts[i],)) of image ``i``, without the padding."""
        count = int(self.counts[i])
        return self.boxes[i, :count], self.labels[i, :count]


def _placed(
    rng: np.random.Generator, size: int, taken: list[np.ndarray], gap: int
) -> tuple[int, np.ndarray] | None:
    """A random shape (kind, mask) whose box, widened by ``gap`` pixels, meets none of the
    boxes ``taken``; None after 100 placements that all would."""
    for _ in range(100):
        radius = int(rng.integers(size // 10, size // 6 + 1))
        row, col = (int(v) for v in rng.integers(radius + 1, size - radius - 1, size=2))
        box = np.array([col - radius, row - radius, col + radius + 1, row + radius + 1])
        if all(
            box[0] >= other[2] + gap
            or other[0] >= box[2] + gap
            or box[1] >= other[3] + gap
            or other[1] >= box[3] + gap
            for other in taken
        ):
            kind = int(rng.integers(0, len(CLASS_NAMES)))
            return kind, _shape_mask(kind, size, row, col, radius)
    return None


def make_scenes(count: int, size: int = 64, max_shapes: int = 3, seed: int = 0) -> ShapeScenes:
    """``count`` noisy images of ``size`` x ``size`` pixels, each holding 1 to ``max_shapes``
    shapes of random kind, position, size and colour that neither overlap nor touch (a
    placement that would is drawn again; an image that has no room left keeps fewer),
    reproducible for a given ``seed``.

    >>> scenes = make_scenes(5, seed=1)
    >>> scenes.images.shape, scenes.boxes.shape, scenes.labels.shape, scenes.counts.shape
    ((5, 64, 64, 3), (5, 3, 4), (5, 3), (5,))
    >>> boxes, labels = scenes.scene(0)
    >>> bool(len(boxes) == len(labels) == scenes.counts[0] >= 1)
    True
    >>> x0, y0, x1, y1 = boxes[0]
    >>> bool(scenes.images[0, y0:y1, x0:x1].max() >= 150), bool(scenes.images[0].min() < 70)
    (True, True)
    """
    rng = np.random.default_rng(seed)
    images = rng.uniform(0.0, 70.0, size=(count, size, size, 3)).astype(np.float32)
    boxes = np.full((count, max_shapes, 4), -1, dtype=np.int64)
    labels = np.full((count, max_shapes), -1, dtype=np.int64)
    counts = rng.integers(1, max_shapes + 1, size=count)
    for i in range(count):
        taken: list[np.ndarray] = []
        for _ in range(int(counts[i])):
            placed = _placed(rng, size, taken, gap=2)
            if placed is None:
                break
            kind, mask = placed
            images[i][mask] = rng.uniform(150.0, 255.0, size=3)
            rows, cols = np.nonzero(mask)
            box = np.array([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1])
            boxes[i, len(taken)], labels[i, len(taken)] = box, kind
            taken.append(box)
        counts[i] = len(taken)
    return ShapeScenes(images=images, boxes=boxes, labels=labels, counts=counts)
