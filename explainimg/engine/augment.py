"""Test-time augmentation for ``smooth="aug"``: six copies of every image (mirrored or not,
pixel values times 0.9, 1 or 1.1, as pytorch-grad-cam's ``aug_smooth`` with ttach), run as
one batch, and their maps brought back onto the image and averaged.

Rows are ordered copy-major: rows ``a * B .. (a + 1) * B`` are copy ``a`` of the B images.

>>> import numpy as np
>>> from keras import ops
>>> # B = 1 image, K = 1 target, a 1 x 2 map: hot on the left, on the right in mirrored copies
>>> maps = np.array([[1.0, 0.0]] * 3 + [[0.0, 1.0]] * 3, "float32").reshape(6, 1, 1, 2)
>>> ops.convert_to_numpy(aligned_mean(maps))[0, 0].tolist()
[[1.0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from keras import ops

COPIES: tuple[tuple[bool, float], ...] = tuple(
    (mirrored, factor) for mirrored in (False, True) for factor in (0.9, 1.0, 1.1)
)
"""(mirrored left to right, pixel factor) of each copy."""
ORIGINAL = COPIES.index((False, 1.0))


def augmented(images: Any) -> Any:
    """(6 B, H, W, C): the copies of the (B, H, W, C) ``images``."""
    copies = [
        (ops.flip(images, axis=2) if mirrored else images) * factor for mirrored, factor in COPIES
    ]
    return ops.concatenate(copies, axis=0)


def repeated(values: Sequence[Any] | Any) -> Any:
    """A batch (or a list of batches) repeated once per copy, copy-major."""
    if isinstance(values, (list, tuple)):
        return [repeated(value) for value in values]
    return ops.concatenate([values] * len(COPIES), axis=0)


def original_rows(values: Any, batch: Any) -> Any:
    """The B rows of the unchanged copy from a copy-major (6 B, ...) tensor."""
    return values[ORIGINAL * batch : (ORIGINAL + 1) * batch]


def aligned_mean(maps: Any) -> Any:
    """(B, K, h, w): the mean of the copies' (6 B, K, h, w) maps, mirrored ones flipped back."""
    per_copy = ops.reshape(maps, (len(COPIES), -1, *maps.shape[1:]))
    aligned = [
        ops.flip(per_copy[a], axis=-1) if mirrored else per_copy[a]
        for a, (mirrored, _) in enumerate(COPIES)
    ]
    return ops.mean(ops.stack(aligned, axis=0), axis=0)
