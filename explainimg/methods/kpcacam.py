"""KPCA-CAM (Karmani et al., 2024): Eigen-CAM with kernel PCA, the layer's positions projected
on the first principal component in the feature space of an RBF kernel.

The (h w, c) activations are compared position by position with the RBF kernel
k(a, b) = exp(-gamma ||a - b||^2); the (h w, h w) kernel matrix is centred in feature space
(K - 1K - K1 + 1K1, 1 the matrix of 1 / (h w)) and its eigenvector v of the largest
eigenvalue lambda gives each position's projection sqrt(lambda) v (what scikit-learn's
``KernelPCA(n_components=1).fit_transform`` returns). ``gamma=None`` (the default) is
scikit-learn's 1 / c, c the number of channels. As for Eigen-CAM, an eigenvector's sign is
arbitrary and is fixed to make the projection correlate positively with the activations' mean
over channels; map = ReLU(projection), the same for every target. pytorch-grad-cam's
``KPCA_CAM`` uses a sigmoid kernel by default and leaves the sign as scikit-learn's solver
gives it; this uses the RBF kernel only. The kernel matrix has (h w)^2 entries and its
eigendecomposition costs (h w)^3: fine for 7x7 to 28x28 maps, slow for much larger ones.
As every CAM method it takes ``smooth=``; ``smooth="eigen"`` replaces the kernel PCA by the
linear one, which makes it Eigen-CAM.

>>> import numpy as np
>>> from keras import ops
>>> activations = np.zeros((1, 1, 3, 2), "float32")
>>> activations[0, 0, 2] = [2.0, 2.0]  # one position stands out: it is the component
>>> [round(float(v), 3) for v in ops.convert_to_numpy(kernel_component(activations, 0.5))[0, 0]]
[0.0, 0.0, 0.934]
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
from keras import ops

from ..errors import bad_argument, bad_type
from .base import Context
from .cam import ChannelCAM
from .components import agreeing_with_mean


def kernel_component(values: Any, gamma: float | None = None) -> Any:
    """(B, h, w, c) -> (B, h, w): ReLU of each position's projection on the first kernel
    principal component (RBF kernel, ``gamma`` None for 1 / c), signed to correlate
    positively with the mean over channels."""
    height, width, channels = (int(size) for size in values.shape[1:])
    positions = height * width
    flat = ops.reshape(ops.cast(values, "float32"), (-1, positions, channels))
    gamma = 1.0 / channels if gamma is None else float(gamma)
    # Distances do not change when the positions are centred, and fewer digits cancel.
    centred_positions = flat - ops.mean(flat, axis=1, keepdims=True)
    squares = ops.sum(centred_positions * centred_positions, axis=-1)
    products = ops.einsum("bpc,bqc->bpq", centred_positions, centred_positions)
    distances = squares[:, :, None] + squares[:, None, :] - 2.0 * products
    # k - 1 rather than k: centring removes the constant, and expm1 keeps the digits that
    # exp(-gamma d) rounds to 1 (on an untrained network gamma d ~ 1e-23 everywhere, so exp
    # makes every entry 1 and the map all zero; expm1 gives the small-gamma limit, Eigen-CAM).
    kernel = ops.expm1(-gamma * ops.maximum(distances, 0.0))
    row_means = ops.mean(kernel, axis=2, keepdims=True)
    column_means = ops.mean(kernel, axis=1, keepdims=True)
    centred = kernel - row_means - column_means + ops.mean(row_means, axis=1, keepdims=True)
    centred = 0.5 * (centred + ops.transpose(centred, (0, 2, 1)))  # exactly symmetric
    eigenvalues, eigenvectors = ops.eigh(centred)  # ascending: the last is the largest
    projection = eigenvectors[..., -1] * ops.sqrt(ops.maximum(eigenvalues[..., -1:], 0.0))
    return ops.reshape(ops.relu(agreeing_with_mean(projection, flat)), (-1, height, width))


def _check_gamma(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad_type("gamma", "None or a number > 0", value)
    if not value > 0:
        raise bad_argument("gamma", "None or a number > 0", value)


@attrs.frozen
class KPCACAM(ChannelCAM):
    """KPCA-CAM: each position's projection on the first kernel principal component (RBF
    kernel) of the layer's activations, signed to agree with the mean activation, ReLU,
    divided by the maximum; the same map for every target."""

    key: ClassVar[str] = "kpcacam"
    title: ClassVar[str] = "KPCA-CAM"
    passes: ClassVar[str] = "1 forward, shared by all targets (no backward)"

    gamma: float | None = attrs.field(default=None, validator=_check_gamma)

    def channel_terms(self, ctx: Context, k: int) -> Any:
        return ctx.activations

    def combine(self, terms: Any) -> Any:
        return kernel_component(terms, self.gamma)

    def target_map(self, ctx: Context, k: int) -> Any:
        if "kpcacam" not in ctx.memo:
            ctx.memo["kpcacam"] = ChannelCAM.target_map(self, ctx, k)
        return ctx.memo["kpcacam"]
