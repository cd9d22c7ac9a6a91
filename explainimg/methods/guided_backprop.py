"""Guided backpropagation (Springenberg et al., 2015): the input gradient with every ReLU's
gradient also gated by its own sign.

Through each ReLU only positive gradients flow back, and only where the ReLU's input was
positive: g_in = ReLU(g_out) * [z > 0]. The engine applies the rule while the model runs,
without changing it (:mod:`explainimg.engine.guided`). The attribution is the guided
gradient summed over colour channels; the heatmap is reduced over channels as saliency's
(``reduction``, default max |g|), optionally smoothed, min-max normalised.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
from keras import ops

from .base import Context, SignedMethod
from .saliency import Saliency, saliency_map


def rule_gradients(ctx: Context, k: int, rule: str) -> Any:
    """(B, H, W, C) input gradients of target column ``k`` through every ReLU by ``rule``
    ("guided" or "deconvnet")."""
    return ops.cast(ctx.input_gradients(ctx.images, ctx.targets[:, k], rule=rule), "float32")


@attrs.frozen
class GuidedBackprop(SignedMethod, Saliency):
    """Guided backpropagation: the input gradient with only positive gradients passing each
    ReLU, reduced over colour channels, min-max normalised."""

    key: ClassVar[str] = "guided_backprop"
    title: ClassVar[str] = "Guided Backpropagation"
    passes: ClassVar[str] = "1 forward + 1 full backward per target (the ReLUs gated)"
    rule: ClassVar[str] = "guided"

    def attributions(self, ctx: Context, k: int) -> Any:
        return rule_gradients(ctx, k, self.rule)

    def heatmap_of(self, attributions: Any) -> Any:
        return saliency_map(attributions, self.reduction, self.smooth_sigma)
