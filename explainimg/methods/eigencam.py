"""Eigen-CAM (Muhammad and Yeasin, 2020): the first principal component of the layer's
activations, class-agnostic and gradient-free.

The (h w, c) matrix of activations is centred (each channel's mean over the positions taken
off) and projected on its first right singular vector: map = ReLU(A_centred v_1). A singular
vector's sign is arbitrary (it differs between SVD routines and backends), so it is fixed to
make the projection correlate positively with the activations' mean over channels. The map
needs no gradient, so it explains any model with a feature layer, and it is the same for
every target.

>>> import numpy as np
>>> from keras import ops
>>> activations = np.zeros((1, 1, 3, 2), "float32")
>>> activations[0, 0, :, 0] = [0.0, 1.0, 5.0]  # one channel varies: it is the component
>>> [round(v, 3) for v in ops.convert_to_numpy(first_component(activations))[0, 0].tolist()]
[0.0, 0.0, 3.0]
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
from keras import ops

from .base import Context, Method


def first_component(values: Any) -> Any:
    """(B, h, w, c) -> (B, h, w): ReLU of the centred values projected on their first
    principal direction, signed to correlate positively with the mean over channels."""
    height, width, channels = (int(size) for size in values.shape[1:])
    flat = ops.reshape(ops.cast(values, "float32"), (-1, height * width, channels))
    centred = flat - ops.mean(flat, axis=1, keepdims=True)
    left, singular, _ = ops.svd(centred, full_matrices=False)
    projection = left[..., 0] * singular[..., :1]  # = centred @ v_1, (B, h w)
    return ops.reshape(ops.relu(agreeing_with_mean(projection, flat)), (-1, height, width))


def agreeing_with_mean(projection: Any, flat: Any) -> Any:
    """The (B, n) ``projection`` of the (B, n, c) values ``flat``, its sign flipped per image
    where it correlates negatively with the values' mean over channels."""
    mean = ops.mean(flat, axis=-1)
    agreement = ops.sum(projection * (mean - ops.mean(mean, axis=1, keepdims=True)), axis=1)
    return ops.where(agreement < 0, -1.0, 1.0)[:, None] * projection


@attrs.frozen
class EigenCAM(Method):
    """Eigen-CAM: the projection of the layer's centred activations on their first
    principal component (signed to agree with the mean activation), ReLU, divided by the
    maximum; the same map for every target."""

    key: ClassVar[str] = "eigencam"
    title: ClassVar[str] = "Eigen-CAM"
    passes: ClassVar[str] = "1 forward, shared by all targets (no backward)"

    def target_map(self, ctx: Context, k: int) -> Any:
        if "eigencam" not in ctx.memo:
            ctx.memo["eigencam"] = first_component(ctx.activations)
        return ctx.memo["eigencam"]
