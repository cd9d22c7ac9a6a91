"""Gaussian smoothing of (B, H, W) maps, as scipy.ndimage.gaussian_filter does it
(mode "reflect", kernel truncated at 4 sigma), in TensorFlow.

>>> import tensorflow as tf
>>> spike = tf.constant([[[0.0, 0.0, 1.0, 0.0, 0.0]]])
>>> [round(v, 3) for v in gaussian_smooth(spike, 1.0).numpy()[0, 0].tolist()]
[0.058, 0.242, 0.399, 0.242, 0.058]
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

TRUNCATE = 4.0


def gaussian_kernel(sigma: float) -> np.ndarray:
    """Normalised 1-D Gaussian weights of radius ceil(4 sigma)."""
    radius = math.ceil(TRUNCATE * sigma)
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    weights = np.exp(-0.5 * (offsets / sigma) ** 2)
    return (weights / weights.sum()).astype(np.float32)


def _smooth_axis(maps: tf.Tensor, kernel: np.ndarray, axis: int) -> tf.Tensor:
    radius = len(kernel) // 2
    moved = maps if axis == 2 else tf.transpose(maps, (0, 2, 1))
    padded = moved
    while radius > 0:
        # "SYMMETRIC" padding cannot exceed the length; repeat for long kernels on small maps.
        step = min(radius, int(padded.shape[2] or radius))
        padded = tf.pad(padded, [[0, 0], [0, 0], [step, step]], mode="SYMMETRIC")
        radius -= step
    rows = tf.reshape(padded, (-1, tf.shape(padded)[2], 1))
    smoothed = tf.nn.conv1d(rows, kernel.reshape(-1, 1, 1), stride=1, padding="VALID")
    smoothed = tf.reshape(smoothed, tf.shape(moved))
    return smoothed if axis == 2 else tf.transpose(smoothed, (0, 2, 1))


def gaussian_smooth(maps: tf.Tensor, sigma: float) -> tf.Tensor:
    """Smooth each (H, W) map of a (B, H, W) stack with a Gaussian of ``sigma`` pixels."""
    kernel = gaussian_kernel(sigma)
    return _smooth_axis(_smooth_axis(maps, kernel, axis=2), kernel, axis=1)
