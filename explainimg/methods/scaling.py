"""Scaling raw maps to [0, 1] without ever producing NaN.

>>> import tensorflow as tf
>>> scale_by_max(tf.constant([[[0.0, 2.0]], [[0.0, 0.0]]])).numpy().tolist()
[[[0.0, 1.0]], [[0.0, 0.0]]]
"""

from __future__ import annotations

import tensorflow as tf


def scale_by_max(maps: tf.Tensor) -> tf.Tensor:
    """Divide each (h, w) map of a (..., h, w) stack by its maximum; all-zero maps stay zero."""
    peak = tf.reduce_max(maps, axis=(-2, -1), keepdims=True)
    return tf.math.divide_no_nan(maps, peak)
