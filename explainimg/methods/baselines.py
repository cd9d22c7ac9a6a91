"""Sanity baselines: maps that know nothing of the model, for metrics to report beside the
real methods (pytorch-grad-cam's metrics tutorial checks every method against a random map
and an edge map). A method that does not beat them on a metric has not shown that it
explains the model.

- ``"random"``: a uniform random map at input resolution, from NumPy's PCG64 generator
  seeded with ``seed`` plus the target's position (so two targets get different maps; the
  same for every image of a call and on every backend).
- ``"sobel"``: the image's edges: the Sobel gradient magnitude of the mean over colour
  channels (the image mirrored at its border, so the border is no edge).
- ``"center"``: a Gaussian centred on the image, of std ``sigma`` times the shorter side
  (photographers' and datasets' centre bias).

Each is at input resolution and scaled to [0, 1] by its maximum, like every map.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
import numpy as np
from keras import ops

from .base import Context, Method, integer_at_least, number_at_least

SOBEL_X = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], np.float32)


def _same_for_every_image(ctx: Context, values: np.ndarray) -> Any:
    """(B, H, W): the (H, W) NumPy ``values`` repeated for each image of the batch."""
    return ops.zeros_like(ctx.images[..., 0]) + ops.convert_to_tensor(values)[None]


def _image_size(ctx: Context) -> tuple[int, int]:
    return int(ctx.images.shape[1]), int(ctx.images.shape[2])


@attrs.frozen
class Baseline(Method):
    """Base of the sanity baselines: maps of the input's size that read no model output."""

    needs_layer: ClassVar[bool] = False
    resolution: ClassVar[str] = "input"
    passes: ClassVar[str] = "1 forward (for the scores); the map needs none"
    baseline: ClassVar[bool] = True


@attrs.frozen
class RandomBaseline(Baseline):
    """Random baseline: a seeded uniform random map, which knows nothing of the model.

    >>> RandomBaseline(seed=3).seed
    3
    """

    key: ClassVar[str] = "random"
    title: ClassVar[str] = "Random baseline"

    seed: int = attrs.field(default=0, validator=integer_at_least("seed", 0))

    def target_map(self, ctx: Context, k: int) -> Any:
        values = np.random.default_rng(self.seed + k).random(_image_size(ctx))
        return _same_for_every_image(ctx, values.astype(np.float32))


@attrs.frozen
class SobelBaseline(Baseline):
    """Sobel baseline: the image's edges (gradient magnitude of its grey levels), which
    know nothing of the model.

    >>> SobelBaseline.key
    'sobel'
    """

    key: ClassVar[str] = "sobel"
    title: ClassVar[str] = "Sobel edges baseline"

    def target_map(self, ctx: Context, k: int) -> Any:
        grey = ops.mean(ctx.images, axis=-1, keepdims=True)
        mirrored = ops.pad(grey, [(0, 0), (1, 1), (1, 1), (0, 0)], mode="reflect")
        kernel = ops.convert_to_tensor(np.stack([SOBEL_X, SOBEL_X.T], axis=-1)[:, :, None, :])
        gradients = ops.conv(mirrored, kernel, padding="valid")
        return ops.sqrt(ops.sum(ops.square(gradients), axis=-1))


@attrs.frozen
class CenterBaseline(Baseline):
    """Centre baseline: a Gaussian centred on the image, which knows nothing of the model.

    >>> CenterBaseline().sigma
    0.25
    """

    key: ClassVar[str] = "center"
    title: ClassVar[str] = "Centre baseline"

    sigma: float = attrs.field(default=0.25, validator=number_at_least("sigma", 1e-3))

    def target_map(self, ctx: Context, k: int) -> Any:
        height, width = _image_size(ctx)
        rows = (np.arange(height) - (height - 1) / 2)[:, None]
        cols = (np.arange(width) - (width - 1) / 2)[None, :]
        spread = self.sigma * min(height, width)
        values = np.exp(-(rows**2 + cols**2) / (2 * spread**2)).astype(np.float32)
        return _same_for_every_image(ctx, values)
