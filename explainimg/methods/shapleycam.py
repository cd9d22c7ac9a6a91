"""Shapley-CAM (Cai, 2024, "CAMs as Shapley value-based explainers"): Grad-CAM's channel
weights with a second-order correction.

The weights are the spatial mean of ``g - H A / 2``, with ``g = d score / d A`` and ``H A``
the Hessian of the score with respect to the layer's activations A times A itself (the
second-order Taylor term of the score's change when A is taken away), then
``map = ReLU(sum_k w_k A_k)``, divided by the maximum. When the model after the layer is
piecewise linear in A (ReLU, pooling, Dense up to the logit) H A = 0 and the map is
Grad-CAM's.

The score is the logit, as for every method here (the library's score). pytorch-grad-cam
pairs Shapley-CAM with its ``ClassifierOutputReST`` target, ``y_c - cross_entropy(y, c) =
2 y_c - logsumexp(y)``, whose log-sum-exp adds curvature even to a linear head; ask for
that score with a score function (:mod:`explainimg.targets`), e.g.
``targets=[lambda y: 2 * y[:, c] - ops.logsumexp(y, axis=-1)]``, to get its maps.

>>> import numpy as np
>>> from keras import ops
>>> gradients = np.array([[[[1.0, 2.0], [1.0, 2.0]]]], "float32")
>>> ops.convert_to_numpy(shapley_weights(gradients, 2 * gradients)).tolist()
[[0.0, 0.0]]
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
from keras import ops

from .base import Context
from .cam import ChannelCAM, weighted_channels


def shapley_weights(gradients: Any, hvp: Any) -> Any:
    """(B, c) channel weights: the spatial mean of ``g - H A / 2`` ((B, h, w, c) each)."""
    return ops.mean(gradients - 0.5 * hvp, axis=(1, 2))


@attrs.frozen
class ShapleyCAM(ChannelCAM):
    """Shapley-CAM: the layer's channels weighted by the spatial mean of the score's gradient
    minus half its Hessian along the activations, summed, ReLU, divided by the maximum."""

    key: ClassVar[str] = "shapleycam"
    title: ClassVar[str] = "Shapley-CAM"
    passes: ClassVar[str] = (
        "1 forward + 1 backward and 1 Hessian-vector product to the layer per target"
    )
    second_order: ClassVar[bool] = True

    def channel_terms(self, ctx: Context, k: int) -> Any:
        gradients, hvp = ctx.layer_gradients_and_hvp(k)
        return weighted_channels(ctx.activations, shapley_weights(gradients, hvp))
