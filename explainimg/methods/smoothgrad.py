"""SmoothGrad (Smilkov et al., 2017): saliency of the input gradients averaged over noisy copies.

Noise is Gaussian with standard deviation ``noise * (max(x) - min(x))`` per image, drawn from a
seeded stateless generator, so the same seed gives the same map; ``noise=0`` gives saliency.
"""

from __future__ import annotations

from typing import ClassVar

import attrs
import tensorflow as tf

from .base import Context, Method, integer_at_least, number_at_least
from .saliency import _check_reduction, saliency_map


@attrs.frozen
class SmoothGrad(Method):
    """SmoothGrad: input gradients averaged over noisy copies of the image, reduced over
    colour channels, min-max normalised."""

    key: ClassVar[str] = "smoothgrad"
    title: ClassVar[str] = "SmoothGrad"
    needs_layer: ClassVar[bool] = False
    resolution: ClassVar[str] = "input"
    passes: ClassVar[str] = "samples x (1 forward + 1 full backward) per target"

    samples: int = attrs.field(default=25, validator=integer_at_least("samples", 1))
    noise: float = attrs.field(default=0.15, validator=number_at_least("noise", 0))
    seed: int = attrs.field(default=0, validator=integer_at_least("seed", 0))
    reduction: str = attrs.field(default="max_abs", validator=_check_reduction)
    smooth_sigma: float = attrs.field(default=0.0, validator=number_at_least("smooth_sigma", 0))

    def target_map(self, ctx: Context, k: int) -> tf.Tensor:
        images = ctx.images
        spread = tf.reduce_max(images, axis=(1, 2, 3), keepdims=True) - tf.reduce_min(
            images, axis=(1, 2, 3), keepdims=True
        )
        scale = self.noise * spread
        target_ids = ctx.targets[:, k]

        def noisy_gradients(sample: tf.Tensor) -> tf.Tensor:
            seed = tf.stack([tf.constant(self.seed, tf.int32), sample])
            noise = tf.random.stateless_normal(tf.shape(images), seed=seed) * scale
            return ctx.input_gradients(images + noise, target_ids)

        gradients = tf.map_fn(
            noisy_gradients,
            tf.range(self.samples, dtype=tf.int32),
            fn_output_signature=tf.float32,
            parallel_iterations=1,
        )
        return saliency_map(tf.reduce_mean(gradients, axis=0), self.reduction, self.smooth_sigma)
