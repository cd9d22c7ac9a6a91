"""FullGrad (Srinivas and Fleuret, 2019): the input-gradient and the bias-gradients of every
convolutional layer, each made positive, rescaled, upsampled and added up.

For a ReLU network the score splits exactly into ``sum x * ds/dx + sum_layers sum b * ds/db``
(the full-gradient decomposition, :mod:`explainimg.engine.full_gradients`; BatchNorm counts
with its effective bias ``beta - gamma * mean / sqrt(variance + epsilon)``, as in the paper).
FullGrad keeps the parts that are maps::

    map = sum_c psi(x * ds/dx) + sum_spatial layers sum_c up(psi(b * ds/dz))

with ``z`` the layer's pre-activation output (``b`` broadcast over positions) and ``psi`` the
absolute value rescaled to [0, 1] over each image's whole (h, w, c) tensor (the authors'
code; pytorch-grad-cam rescales every channel on its own), ``up`` bilinear upsampling to
the input's size. Only layers whose output is a (B, h, w, c) map count: the biases of Dense
layers after global pooling (and of token layers) have no spatial map, as in the paper's
code (pytorch-grad-cam uses Conv2d and BatchNorm2d layers only). The sum is shifted so that
its minimum is 0 and divided by its maximum.

>>> import numpy as np
>>> from keras import ops
>>> ops.convert_to_numpy(rescaled_magnitude(np.array([[[[-1.0, 3.0]], [[2.0, 1.0]]]]))).ravel()
array([0. , 1. , 0.5, 0. ], dtype=float32)
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
from keras import ops

from .base import Context, Method
from .scaling import upsample_bilinear


def rescaled_magnitude(values: Any) -> Any:
    """psi: |values| rescaled to [0, 1] over all but the first axis (zeros where constant)."""
    magnitude = ops.abs(ops.cast(values, "float32"))
    axes = tuple(range(1, len(magnitude.shape)))
    low = ops.min(magnitude, axis=axes, keepdims=True)
    high = ops.max(magnitude, axis=axes, keepdims=True)
    return ops.divide_no_nan(magnitude - low, high - low)


def fullgrad(images: Any, input_gradients: Any, bias_terms: list[Any]) -> Any:
    """(B, H, W) FullGrad map from the (B, H, W, C) images and input gradients and the bias
    terms ``b * ds/dz`` (those of rank 4, (B, h, w, c), are used)."""
    total = ops.sum(rescaled_magnitude(images * input_gradients), axis=-1)
    for term in bias_terms:
        if len(term.shape) == 4:
            low_resolution = ops.sum(rescaled_magnitude(term), axis=-1)
            total = total + upsample_bilinear(low_resolution, images)
    return total - ops.min(total, axis=(1, 2), keepdims=True)


@attrs.frozen
class FullGrad(Method):
    """FullGrad: the input times its gradient plus every convolutional layer's bias times the
    gradient at its output, each as a magnitude rescaled to [0, 1], upsampled and summed."""

    key: ClassVar[str] = "fullgrad"
    title: ClassVar[str] = "FullGrad"
    needs_layer: ClassVar[bool] = False
    resolution: ClassVar[str] = "input"
    passes: ClassVar[str] = "2 forwards + 1 full backward per target"

    def target_map(self, ctx: Context, k: int) -> Any:
        input_gradients, bias_terms = ctx.full_gradients(k)
        return fullgrad(ctx.images, input_gradients, bias_terms)
