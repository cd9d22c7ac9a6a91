"""Scaling raw maps to [0, 1] without ever producing NaN, and to the input's size.

>>> import numpy as np
>>> from keras import ops
>>> ops.convert_to_numpy(scale_by_max(np.array([[[0.0, 2.0]], [[0.0, 0.0]]]))).tolist()
[[[0.0, 1.0]], [[0.0, 0.0]]]
"""

from __future__ import annotations

from typing import Any

from keras import ops


def scale_by_max(maps: Any) -> Any:
    """Divide each (h, w) map of a (..., h, w) stack by its maximum; all-zero maps stay zero."""
    peak = ops.max(maps, axis=(-2, -1), keepdims=True)
    # XLA divides by multiplying with the reciprocal: set the peak itself to exactly 1.
    at_peak = ops.logical_and(maps == peak, peak > 0)
    return ops.where(at_peak, ops.ones_like(maps), ops.divide_no_nan(maps, peak))


def upsample_bilinear(maps: Any, images: Any) -> Any:
    """(B, h, w) maps resized (bilinear, half-pixel centres) to the (H, W) of (B, H, W, C)
    ``images``."""
    size = tuple(ops.shape(images)[1:3])
    return ops.image.resize(maps[..., None], size, interpolation="bilinear")[..., 0]
