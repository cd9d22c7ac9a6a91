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


FLAT_MEAN = 1e-4
"""The positions' means over channels count as flat when their spread is below this share of
the values' own spread: then the norm decides the sign."""


def _centred(values: Any) -> Any:
    return values - ops.mean(values, axis=1, keepdims=True)


def agreeing_with_mean(projection: Any, flat: Any) -> Any:
    """The (B, n) ``projection`` of the (B, n, c) values ``flat``, its sign flipped per image
    where it correlates negatively with the values' mean over channels, or, where those means
    are flat (a layer normalisation's tokens: each token's mean is its shift), with the
    values' norm."""
    mean = _centred(ops.mean(flat, axis=-1))
    norm = _centred(ops.sqrt(ops.sum(flat * flat, axis=-1)))
    spread = ops.sqrt(ops.mean(_centred(flat) ** 2, axis=(1, 2)))
    is_flat = ops.sqrt(ops.mean(mean * mean, axis=1)) <= FLAT_MEAN * spread
    guide = ops.where(is_flat[:, None], norm, mean)
    agreement = ops.sum(projection * guide, axis=1)
    return ops.where(agreement < 0, -1.0, 1.0)[:, None] * projection
