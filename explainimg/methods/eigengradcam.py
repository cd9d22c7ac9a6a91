"""Eigen-Grad-CAM (pytorch-grad-cam): Eigen-CAM's first principal component, taken of the
activations times their gradients (g * A) instead of the activations, so the map is
class-specific.

map = ReLU(P v_1) with P the centred (h w, c) matrix of g * A and v_1 its first right
singular vector, signed to correlate positively with the mean of g * A over channels.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from .base import Context
from .cam import ChannelCAM
from .components import first_component


@attrs.frozen
class EigenGradCAM(ChannelCAM):
    """Eigen-Grad-CAM: the first principal component of the activations times their
    gradients (signed to agree with their mean), ReLU, divided by the maximum."""

    key: ClassVar[str] = "eigengradcam"
    title: ClassVar[str] = "Eigen-Grad-CAM"
    passes: ClassVar[str] = "1 forward + 1 backward to the layer per target"

    def channel_terms(self, ctx: Context, k: int) -> Any:
        return ctx.layer_gradients(k) * ctx.activations

    def combine(self, terms: Any) -> Any:
        return first_component(terms)
