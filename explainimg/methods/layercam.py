"""LayerCAM (Jiang et al., 2021): every position weighted by its own positive gradient.

map = ReLU(sum_k ReLU(g_k) * A_k), which stays sharp on earlier, larger layers.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
from keras import ops

from .base import Context
from .cam import ChannelCAM


def layercam_terms(activations: Any, gradients: Any) -> Any:
    """(B, h, w, c) activations and gradients -> their (B, h, w, c) channel terms."""
    return ops.relu(gradients) * activations


@attrs.frozen
class LayerCAM(ChannelCAM):
    """LayerCAM: each activation weighted by its own positive gradient, summed over channels,
    ReLU, divided by the maximum."""

    key: ClassVar[str] = "layercam"
    title: ClassVar[str] = "LayerCAM"
    passes: ClassVar[str] = "1 forward + 1 backward to the layer per target"

    def channel_terms(self, ctx: Context, k: int) -> Any:
        return layercam_terms(ctx.activations, ctx.layer_gradients(k))
