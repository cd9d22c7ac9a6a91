"""SmoothGrad (Smilkov et al., 2017): saliency of the input gradients averaged over noisy copies.

Noise is Gaussian with standard deviation ``noise * (max(x) - min(x))`` per image. The
standard-normal draws come from NumPy's PCG64 generator seeded with ``seed``, once per image
shape, and every image of a batch gets the same draws: the same seed gives the same map on
every Keras backend, whichever batch an image is in. ``noise=0`` gives saliency.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
import numpy as np
from keras import ops

from .base import Context, Method, integer_at_least, number_at_least
from .saliency import _check_reduction, saliency_map


def standard_noise(seed: int, samples: int, image_shape: tuple[int, ...]) -> np.ndarray:
    """(samples, H, W, C) float32 standard-normal draws, the same on every backend.

    >>> draws = standard_noise(0, 25, (8, 8, 3))
    >>> draws.shape, bool((draws == standard_noise(0, 25, (8, 8, 3))).all())
    ((25, 8, 8, 3), True)
    """
    return np.random.default_rng(seed).standard_normal((samples, *image_shape), np.float32)


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

    def aggregate(self, gradients: Any) -> Any:
        """(samples, B, H, W, C) noisy gradients -> (B, H, W, C): their mean."""
        return ops.mean(gradients, axis=0)

    def target_map(self, ctx: Context, k: int) -> Any:
        gradients = noisy_gradients(ctx, k, self.samples, self.noise, self.seed)
        return saliency_map(self.aggregate(gradients), self.reduction, self.smooth_sigma)


def noisy_gradients(ctx: Context, k: int, samples: int, noise: float, seed: int) -> Any:
    """(samples, B, H, W, C) input gradients of target column ``k`` at the images plus
    ``samples`` draws of the seeded noise (standard deviation ``noise * (max - min)``)."""
    images = ctx.images
    spread = ops.max(images, axis=(1, 2, 3), keepdims=True) - ops.min(
        images, axis=(1, 2, 3), keepdims=True
    )
    scale = noise * spread
    draws = standard_noise(seed, samples, tuple(images.shape[1:]))
    target_ids = ctx.targets[:, k]

    def gradients_at(draw: Any) -> Any:
        return ctx.input_gradients(images + draw * scale, target_ids)

    return ctx.map(gradients_at, ops.convert_to_tensor(draws))
