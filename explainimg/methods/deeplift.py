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
(:mod:`explainimg.engine.relevance`): the reference runs forward first, and the engine's own
pass on the images then carries the multipliers, so one backward per target (on the images'
rows only) gives them.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from .base import Context, SignedMethod
from .integrated_gradients import check_baseline


@attrs.frozen
class RescaleRule:
    """DeepLIFT's rescale rule as the engine reads it: the reference is the constant image
    ``baseline``; where |Δz| < ``tolerance`` the ordinary gradient is kept.

    >>> RescaleRule(baseline=0.5)
    RescaleRule(baseline=0.5, tolerance=1e-06)
    """

    baseline: float = 0.0
    tolerance: float = 1e-6


@attrs.frozen
class DeepLIFT(SignedMethod):
    """DeepLIFT (rescale rule): the difference from a baseline image times the multipliers
    of the nonlinearities between that image and the input; |sum over channels|, divided by
    the maximum."""

    key: ClassVar[str] = "deeplift"
    title: ClassVar[str] = "DeepLIFT"
    needs_layer: ClassVar[bool] = False
    passes: ClassVar[str] = (
        "1 forward of the baseline (1 row; B rows for a model with other inputs) + "
        "1 forward with the rule + 1 backward per target"
    )

    baseline: float = attrs.field(default=0.0, validator=check_baseline)

    @property
    def forward_rule(self) -> RescaleRule:
        """The rule the engine applies in its first forward pass already (every gradient
        this method asks for takes it), so that no second pass is needed."""
        return RescaleRule(baseline=float(self.baseline))

    def attributions(self, ctx: Context, k: int) -> Any:
        gradients = ctx.input_gradients(ctx.images, ctx.targets[:, k], rule=self.forward_rule)
        return (ctx.images - self.baseline) * gradients
