"""DeepLIFT with the rescale rule (Shrikumar et al., 2017).

attributions = (x - x_ref) * m, where m is the product of the layers' multipliers from the
score back to the input: linear layers (Dense, convolutions, BatchNormalization in inference,
average pooling, Add, Rescaling) pass the plain gradient, and each elementwise nonlinearity
y = f(z) (ReLU-family layers, activation layers, fused activations) passes
Δy / Δz = (f(z) - f(z_ref)) / (z - z_ref), or f'(z) where |Δz| < 1e-6. The reference x_ref is
a constant image (``baseline``, 0 by default, as Integrated Gradients'). The attributions add
up to score(x) - score(x_ref) (summation-to-delta) when every nonlinearity is elementwise.
Max pooling and other non-elementwise layers pass the plain gradient, as the paper does for
max pooling; the sum is then not exact. The engine applies the rule while the model runs
(:mod:`explainimg.engine.relevance`): images and reference go through the model as one batch
of 2B rows, row i paired with row B + i.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
from keras import ops

from .base import Context, SignedMethod
from .integrated_gradients import check_baseline


@attrs.frozen
class RescaleRule:
    """The backward rule of DeepLIFT's rescale rule, as the engine reads it: rows i and
    B + i of a batch of 2B are an input and its reference; where |Δz| < ``tolerance`` the
    ordinary gradient is kept."""

    paired: ClassVar[bool] = True

    tolerance: float = 1e-6


RESCALE = RescaleRule()


@attrs.frozen
class DeepLIFT(SignedMethod):
    """DeepLIFT (rescale rule): the difference from a baseline image times the multipliers
    of the nonlinearities between that image and the input; |sum over channels|, divided by
    the maximum."""

    key: ClassVar[str] = "deeplift"
    title: ClassVar[str] = "DeepLIFT"
    needs_layer: ClassVar[bool] = False
    passes: ClassVar[str] = (
        "1 forward (B rows) + 1 forward on 2B rows (the images and the baseline) + "
        "1 backward on 2B rows per target"
    )

    baseline: float = attrs.field(default=0.0, validator=check_baseline)

    def attributions(self, ctx: Context, k: int) -> Any:
        baseline = ops.full_like(ctx.images, self.baseline)
        if "deeplift" not in ctx.memo:
            # One object for every target, so that the context runs the 2B rows once.
            ctx.memo["deeplift"] = ops.concatenate([ctx.images, baseline], axis=0)
        target_ids = ctx.targets[:, k]
        paired_ids = ops.concatenate([target_ids, target_ids], axis=0)
        gradients = ctx.input_gradients(ctx.memo["deeplift"], paired_ids, rule=RESCALE)
        multipliers = ops.split(gradients, 2, axis=0)[0]
        return (ctx.images - baseline) * multipliers
