"""Gaussian smoothing of (B, H, W) maps, as scipy.ndimage.gaussian_filter does it
(mode "reflect", kernel truncated at 4 sigma), in ``keras.ops``.

>>> import numpy as np
>>> from keras import ops
>>> spike = np.array([[[0.0, 0.0, 1.0, 0.0, 0.0]]], "float32")
>>> [round(v, 3) for v in ops.convert_to_numpy(gaussian_smooth(spike, 1.0))[0, 0].tolist()]
[0.058, 0.242, 0.399, 0.242, 0.058]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from keras import ops

TRUNCATE = 4.0


def gaussian_kernel(sigma: float) -> np.ndarray:
    """Normalised 1-D Gaussian weights of radius ceil(4 sigma)."""
    radius = math.ceil(TRUNCATE * sigma)
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    weights = np.exp(-0.5 * (offsets / sigma) ** 2)
    return (weights / weights.sum()).astype(np.float32)


def _smooth_last_axis(maps: Any, kernel: np.ndarray) -> Any:
    """Convolve every row of (B, R, L) ``maps`` with ``kernel``, mirrored at the ends."""
    radius = len(kernel) // 2
    length = int(maps.shape[2])
    padded = maps
    while radius > 0:
        # "symmetric" padding cannot exceed the length; repeat for long kernels on small maps.
        step = min(radius, int(padded.shape[2]))
        padded = ops.pad(padded, [[0, 0], [0, 0], [step, step]], mode="symmetric")
        radius -= step
    rows = ops.reshape(padded, (-1, int(padded.shape[2]), 1))
    smoothed = ops.conv(rows, kernel.reshape(-1, 1, 1), strides=1, padding="valid")
    return ops.reshape(smoothed, (-1, int(maps.shape[1]), length))


def gaussian_smooth(maps: Any, sigma: float) -> Any:
    """Smooth each (H, W) map of a (B, H, W) stack with a Gaussian of ``sigma`` pixels."""
    kernel = gaussian_kernel(sigma)
    maps = ops.convert_to_tensor(maps, "float32")
    along_width = _smooth_last_axis(maps, kernel)
    along_height = _smooth_last_axis(ops.transpose(along_width, (0, 2, 1)), kernel)
    return ops.transpose(along_height, (0, 2, 1))
