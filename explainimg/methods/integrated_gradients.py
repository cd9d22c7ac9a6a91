"""Integrated Gradients (Sundararajan et al., 2017).

attributions = (x - baseline) * integral over a in [0, 1] of d score / d x at
baseline + a (x - baseline), by the trapezoidal rule over ``steps`` intervals. They add up to
score(x) - score(baseline) (completeness). The heatmap is the sum of |attributions| over
colour channels, divided by its maximum.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import attrs
import tensorflow as tf

from ..errors import bad_type
from .base import Context, Method, integer_at_least


def _check_baseline(instance: object, attribute: attrs.Attribute, value: object) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise bad_type("baseline", "a number (the value of every baseline pixel)", value)


def integrated_gradients(
    gradients_at: Callable[[tf.Tensor], tf.Tensor],
    images: tf.Tensor,
    baseline: tf.Tensor,
    steps: int,
) -> tf.Tensor:
    """(B, H, W, C) attributions; ``gradients_at(points)`` gives d score / d input at points."""
    difference = images - baseline

    def gradients_for(step: tf.Tensor) -> tf.Tensor:
        alpha = tf.cast(step, tf.float32) / float(steps)
        return gradients_at(baseline + alpha * difference)

    gradients = tf.map_fn(
        gradients_for,
        tf.range(steps + 1),
        fn_output_signature=tf.float32,
        parallel_iterations=1,
    )
    trapezoid = (tf.reduce_sum(gradients, axis=0) - 0.5 * (gradients[0] + gradients[-1])) / steps
    return difference * trapezoid


@attrs.frozen
class IntegratedGradients(Method):
    """Integrated Gradients: input gradients integrated along the straight path from a
    baseline image to the input, times the difference; |sum over channels|, divided by the
    maximum."""

    key: ClassVar[str] = "integrated_gradients"
    title: ClassVar[str] = "Integrated Gradients"
    needs_layer: ClassVar[bool] = False
    resolution: ClassVar[str] = "input"
    passes: ClassVar[str] = "(steps + 1) x (1 forward + 1 full backward) per target"

    steps: int = attrs.field(default=32, validator=integer_at_least("steps", 1))
    baseline: float = attrs.field(default=0.0, validator=_check_baseline)

    def target_map(self, ctx: Context, k: int) -> tf.Tensor:
        target_ids = ctx.targets[:, k]
        attributions = integrated_gradients(
            lambda points: ctx.input_gradients(points, target_ids),
            ctx.images,
            tf.fill(tf.shape(ctx.images), tf.constant(self.baseline, tf.float32)),
            self.steps,
        )
        return tf.reduce_sum(tf.abs(attributions), axis=-1)
