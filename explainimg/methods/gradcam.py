"""Grad-CAM (Selvaraju et al., 2017): pure tensor maths, no model and no pictures.

channel weights = spatial mean of d score / d A;  map = ReLU(sum_k w_k A_k).

>>> import tensorflow as tf
>>> activations = tf.ones((1, 2, 2, 3))
>>> gradients = tf.constant([1.0, -1.0, 2.0]) * tf.ones((1, 2, 2, 3))
>>> gradcam(activations, gradients).numpy().tolist()
[[[2.0, 2.0], [2.0, 2.0]]]
"""

from __future__ import annotations

import tensorflow as tf


def gradcam(activations: tf.Tensor, gradients: tf.Tensor) -> tf.Tensor:
    """(batch, h, w, channels) activations and gradients -> (batch, h, w) raw Grad-CAM maps."""
    weights = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)
    return tf.nn.relu(tf.reduce_sum(weights * activations, axis=-1))
