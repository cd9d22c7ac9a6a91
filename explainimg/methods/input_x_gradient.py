"""Input x Gradient (Shrikumar et al., 2016): each input value times the score's gradient
with respect to it.

attributions = x * d score / d x (signed; for a model linear in x they add up to the score
minus its bias). The attribution is their sum over colour channels, the heatmap the sum of
their absolute values over channels, divided by its maximum.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from .base import Context, SignedMethod


@attrs.frozen
class InputXGradient(SignedMethod):
    """Input x Gradient: every input value times the score's gradient with respect to it;
    |sum over channels|, divided by the maximum."""

    key: ClassVar[str] = "input_x_gradient"
    title: ClassVar[str] = "Input x Gradient"
    needs_layer: ClassVar[bool] = False
    passes: ClassVar[str] = "1 forward + 1 full backward per target"

    def attributions(self, ctx: Context, k: int) -> Any:
        return ctx.images * ctx.input_gradients(ctx.images, ctx.targets[:, k])
