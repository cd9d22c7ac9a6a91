"""Class activation maps: what every CAM method shares.

A CAM method gives, per target, the (B, h, w, c) *channel terms* of the explained layer
(``w_k A_k`` for the methods that weight whole channels, ``g * A`` for the element-wise
ones); the map is ReLU of their sum over channels, divided by the maximum later. Two
``smooth=`` options, as pytorch-grad-cam's ``eigen_smooth`` and ``aug_smooth``:

- ``"eigen"``: the map is the first principal component of the channel terms instead of
  their sum (:func:`explainimg.methods.components.first_component`, its sign fixed to agree
  with the terms' mean; pytorch-grad-cam leaves the sign to the SVD routine).
- ``"aug"``: the engine explains six copies of each image, mirrored or not and with pixel
  values times 0.9, 1 or 1.1 (ttach's ``HorizontalFlip`` and ``Multiply``, as
  pytorch-grad-cam), flips the mirrored maps back and averages the six maps, each divided by
  its maximum first. Targets are chosen on the image itself. Cost: six times the method's.

>>> import numpy as np
>>> from keras import ops
>>> maps = weighted_sum(np.ones((1, 2, 2, 3)), np.array([[1.0, -1.0, 2.0]]))
>>> ops.convert_to_numpy(maps).tolist()
[[[2.0, 2.0], [2.0, 2.0]]]
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
from keras import ops

from .base import Context, Method
from .components import first_component


def weighted_channels(activations: Any, weights: Any) -> Any:
    """(B, h, w, c) activations times (B, c) channel weights: the terms w_k A_k."""
    return activations * weights[:, None, None, :]


def weighted_sum(activations: Any, weights: Any) -> Any:
    """ReLU(sum_k w_k A_k): (B, h, w, c) activations, (B, c) weights -> (B, h, w)."""
    return ops.relu(ops.einsum("bhwc,bc->bhw", activations, weights))


@attrs.frozen
class ChannelCAM(Method):
    """Base of the CAM methods: subclasses give ``channel_terms``; the map is ReLU of their
    sum over channels (``combine``), or with ``smooth="eigen"`` their first principal
    component; ``smooth="aug"`` averages the maps of flipped and rescaled copies."""

    smoothings: ClassVar[tuple[str, ...]] = ("aug", "eigen")

    def channel_terms(self, ctx: Context, k: int) -> Any:
        """The (B, h, w, c) per-channel terms of target column ``k``."""
        raise NotImplementedError

    def combine(self, terms: Any) -> Any:
        """The (B, h, w) map of the (B, h, w, c) terms when no eigen smoothing is asked for."""
        return ops.relu(ops.sum(terms, axis=-1))

    def target_map(self, ctx: Context, k: int) -> Any:
        terms = self.channel_terms(ctx, k)
        return first_component(terms) if self.smooth == "eigen" else self.combine(terms)
