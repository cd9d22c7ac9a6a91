"""LayerCAM (Jiang et al., 2021): every position weighted by its own positive gradient.

map = ReLU(sum_k ReLU(g_k) * A_k), which stays sharp on earlier, larger layers.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
from keras import ops

from .base import Context, Method


def layercam(activations: Any, gradients: Any) -> Any:
    """(B, h, w, c) activations and gradients -> (B, h, w) raw LayerCAM maps."""
    return ops.relu(ops.sum(ops.relu(gradients) * activations, axis=-1))


@attrs.frozen
class LayerCAM(Method):
    """LayerCAM: each activation weighted by its own positive gradient, summed over channels,
    ReLU, divided by the maximum."""

    key: ClassVar[str] = "layercam"
    title: ClassVar[str] = "LayerCAM"
    passes: ClassVar[str] = "1 forward + 1 backward to the layer per target"

    def target_map(self, ctx: Context, k: int) -> Any:
        return layercam(ctx.activations, ctx.layer_gradients(k))
