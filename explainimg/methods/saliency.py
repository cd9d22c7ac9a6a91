"""Vanilla saliency (Simonyan et al., 2014; keras-vis ``visualize_saliency``, seeds 000-002).

The gradient of the class score with respect to the input pixels, reduced over the colour
channels ("max_abs": max |g| as keras-vis does, "sum": g summed as in seed 002, "sum_abs":
|g| summed), optionally smoothed with a Gaussian (seed 001), then min-max normalised to [0, 1].
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
from keras import ops

from ..errors import bad_argument
from .base import Context, Method, number_at_least
from .smoothing import gaussian_smooth

REDUCTIONS = ("max_abs", "sum", "sum_abs")


def _check_reduction(instance: object, attribute: attrs.Attribute, value: object) -> None:
    if value not in REDUCTIONS:
        raise bad_argument("reduction", f"one of {', '.join(map(repr, REDUCTIONS))}", value)


def reduce_channels(gradients: Any, reduction: str) -> Any:
    """(B, H, W, C) gradients -> (B, H, W) by the named channel reduction."""
    if reduction == "max_abs":
        return ops.max(ops.abs(gradients), axis=-1)
    if reduction == "sum":
        return ops.sum(gradients, axis=-1)
    return ops.sum(ops.abs(gradients), axis=-1)


def min_max(maps: Any) -> Any:
    """(map - min) / (max - min) per (H, W) map; a constant map becomes all zero."""
    low = ops.min(maps, axis=(1, 2), keepdims=True)
    high = ops.max(maps, axis=(1, 2), keepdims=True)
    return ops.divide_no_nan(maps - low, high - low)


def saliency_map(gradients: Any, reduction: str, smooth_sigma: float) -> Any:
    """Input gradients -> normalised saliency maps (reduce, smooth, min-max)."""
    maps = reduce_channels(ops.cast(gradients, "float32"), reduction)
    if smooth_sigma > 0:
        maps = gaussian_smooth(maps, smooth_sigma)
    return min_max(maps)


@attrs.frozen
class Saliency(Method):
    """Saliency: the gradient of the class score with respect to each input pixel, reduced
    over colour channels, min-max normalised."""

    key: ClassVar[str] = "saliency"
    title: ClassVar[str] = "Saliency"
    needs_layer: ClassVar[bool] = False
    resolution: ClassVar[str] = "input"
    passes: ClassVar[str] = "1 forward + 1 full backward per target"

    reduction: str = attrs.field(default="max_abs", validator=_check_reduction)
    smooth_sigma: float = attrs.field(default=0.0, validator=number_at_least("smooth_sigma", 0))

    def target_map(self, ctx: Context, k: int) -> Any:
        gradients = ctx.input_gradients(ctx.images, ctx.targets[:, k])
        return saliency_map(gradients, self.reduction, self.smooth_sigma)
