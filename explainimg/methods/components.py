"""The first principal component of a layer's per-position values (Eigen-CAM's map, and the
``smooth="eigen"`` reduction of every CAM method).

The (h w, c) matrix of values is centred (each channel's mean over the positions taken off)
and projected on its first principal direction (its first right singular vector, found as
the top eigenvector of the smaller Gram matrix). The direction's sign is arbitrary (it
differs between routines and backends), so it is fixed to make the projection correlate
positively with the values' mean over channels; then ReLU.

>>> import numpy as np
>>> from keras import ops
>>> activations = np.zeros((1, 1, 3, 2), "float32")
>>> activations[0, 0, :, 0] = [0.0, 1.0, 5.0]  # one channel varies: it is the component
>>> [round(v, 3) for v in ops.convert_to_numpy(first_component(activations))[0, 0].tolist()]
[0.0, 0.0, 3.0]
"""

from __future__ import annotations

from typing import Any

from keras import ops


def first_component(values: Any) -> Any:
    """(B, h, w, c) -> (B, h, w): ReLU of the centred values projected on their first
    principal direction, signed to correlate positively with the mean over channels."""
    height, width, channels = (int(size) for size in values.shape[1:])
    flat = ops.reshape(ops.cast(values, "float32"), (-1, height * width, channels))
    centred = flat - ops.mean(flat, axis=1, keepdims=True)
    # The first principal direction from the smaller of the two Gram matrices (an eigh of
    # (h w, h w) or of (c, c) is about 4x faster than an SVD of the (h w, c) matrix).
    if height * width <= channels:
        gram = ops.einsum("bpc,bqc->bpq", centred, centred)
        eigenvalues, eigenvectors = ops.eigh(gram)
        # u_1 * s_1 = centred @ v_1, (B, h w)
        projection = eigenvectors[..., -1] * ops.sqrt(ops.relu(eigenvalues[..., -1:]))
    else:
        _, eigenvectors = ops.eigh(ops.einsum("bpc,bpd->bcd", centred, centred))
        projection = ops.einsum("bpc,bc->bp", centred, eigenvectors[..., -1])
    return ops.reshape(ops.relu(agreeing_with_mean(projection, flat)), (-1, height, width))


def agreeing_with_mean(projection: Any, flat: Any) -> Any:
    """The (B, n) ``projection`` of the (B, n, c) values ``flat``, its sign flipped per image
    where it correlates negatively with the values' mean over channels."""
    mean = ops.mean(flat, axis=-1)
    agreement = ops.sum(projection * (mean - ops.mean(mean, axis=1, keepdims=True)), axis=1)
    return ops.where(agreement < 0, -1.0, 1.0)[:, None] * projection
