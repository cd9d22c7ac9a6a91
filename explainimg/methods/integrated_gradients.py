"""Integrated Gradients (Sundararajan et al., 2017).

attributions = (x - baseline) * integral over a in [0, 1] of d score / d x at
baseline + a (x - baseline), by the trapezoidal rule over ``steps`` intervals. They add up to
score(x) - score(baseline) (completeness). The heatmap is the sum of |attributions| over
colour channels, divided by its maximum; the attribution their sum over colour channels.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import attrs
from keras import ops

from ..errors import bad_type
from .base import Context, SignedMethod, integer_at_least


def check_baseline(instance: object, attribute: attrs.Attribute, value: object) -> None:
    """An attrs validator: a number, the value of every pixel of a constant baseline image."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise bad_type("baseline", "a number (the value of every baseline pixel)", value)


def integrated_gradients(
    gradients_at: Callable[[Any], Any],
    images: Any,
    baseline: Any,
    steps: int,
    map_steps: Callable[[Callable[[Any], Any], Any], Any] = ops.map,
) -> Any:
    """(B, H, W, C) attributions; ``gradients_at(points)`` gives d score / d input at points.
    ``map_steps(function, steps)`` runs the steps (inside the engine: one at a time)."""
    difference = images - baseline

    def gradients_for(step: Any) -> Any:
        alpha = ops.cast(step, "float32") / float(steps)
        return gradients_at(baseline + alpha * difference)

    gradients = map_steps(gradients_for, ops.arange(steps + 1, dtype="int32"))
    trapezoid = (ops.sum(gradients, axis=0) - 0.5 * (gradients[0] + gradients[-1])) / steps
    return difference * trapezoid


@attrs.frozen
class IntegratedGradients(SignedMethod):
    """Integrated Gradients: input gradients integrated along the straight path from a
    baseline image to the input, times the difference; |sum over channels|, divided by the
    maximum."""

    key: ClassVar[str] = "integrated_gradients"
    title: ClassVar[str] = "Integrated Gradients"
    needs_layer: ClassVar[bool] = False
    passes: ClassVar[str] = "(steps + 1) x (1 forward + 1 full backward) per target"

    steps: int = attrs.field(default=32, validator=integer_at_least("steps", 1))
    baseline: float = attrs.field(default=0.0, validator=check_baseline)

    def attributions(self, ctx: Context, k: int) -> Any:
        target_ids = ctx.targets[:, k]
        return integrated_gradients(
            lambda points: ctx.input_gradients(points, target_ids),
            ctx.images,
            ops.full_like(ctx.images, self.baseline),
            self.steps,
            ctx.map,
        )
