"""HiResCAM (Draelos and Carin, 2020): every activation times its own gradient.

map = ReLU(sum_k g_k * A_k), with g = d score / d A: no spatial averaging of the gradient, so
the map is the exact contribution of each position when the head is linear in A (for a head
of global average pooling and Dense the gradient is constant over the map, and the map equals
Grad-CAM's).

>>> import numpy as np
>>> from keras import ops
>>> activations = np.ones((1, 1, 2, 2), "float32")
>>> gradients = np.array([[[[1.0, 2.0], [-3.0, 1.0]]]], "float32")
>>> ops.convert_to_numpy(HiResCAM().combine(hirescam_terms(activations, gradients))).tolist()
[[[3.0, 0.0]]]
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from .base import Context
from .cam import ChannelCAM


def hirescam_terms(activations: Any, gradients: Any) -> Any:
    """(B, h, w, c) activations and gradients -> their (B, h, w, c) channel terms."""
    return gradients * activations


@attrs.frozen
class HiResCAM(ChannelCAM):
    """HiResCAM: each activation times its own gradient, summed over channels, ReLU,
    divided by the maximum."""

    key: ClassVar[str] = "hirescam"
    title: ClassVar[str] = "HiResCAM"
    passes: ClassVar[str] = "1 forward + 1 backward to the layer per target"

    def channel_terms(self, ctx: Context, k: int) -> Any:
        return hirescam_terms(ctx.activations, ctx.layer_gradients(k))
