"""Guided Grad-CAM (Selvaraju et al., 2017): guided backpropagation times upsampled Grad-CAM.

Guided backpropagation (:mod:`explainimg.methods.guided_backprop`) is the input gradient
with every ReLU's gradient also gated by its own sign (only positive gradients flow back
through positive activations). The engine applies the gate while running the model, on the
way, without touching the model. The map is
max over colour channels of |guided gradient|, times the Grad-CAM map upsampled (bilinear)
to the input size, divided by its maximum: Grad-CAM's place, guided backprop's detail.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
from keras import ops

from .base import Context, Method
from .gradcam import gradcam
from .guided_backprop import rule_gradients
from .scaling import scale_by_max, upsample_bilinear


@attrs.frozen
class GuidedGradCAM(Method):
    """Guided Grad-CAM: guided-backpropagation input gradients times the upsampled Grad-CAM
    map, divided by the maximum."""

    key: ClassVar[str] = "guided_gradcam"
    title: ClassVar[str] = "Guided Grad-CAM"
    resolution: ClassVar[str] = "input"
    passes: ClassVar[str] = (
        "2 forwards + 1 backward to the layer and 1 guided full backward per target"
    )

    def target_map(self, ctx: Context, k: int) -> Any:
        cam = scale_by_max(gradcam(ctx.activations, ctx.layer_gradients(k)))
        upsampled = upsample_bilinear(cam, ctx.images)
        guided = rule_gradients(ctx, k, "guided")
        return ops.max(ops.abs(guided), axis=-1) * upsampled
