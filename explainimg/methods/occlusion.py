"""Occlusion (Zeiler & Fergus, 2014): how much the class probability drops when a square
patch of the image is covered.

Patches of ``patch_size`` pixels slide with ``stride`` over the image (the last row and column
of patches are moved flush with the far edges, so every pixel is covered). By default they
scale with the image: patches of about a seventh of its shorter side, at a stride giving 10
positions a side, about 100 forward passes whatever the size (32-pixel patches every 22 on a
224 x 224 image). A covered patch is
replaced by ``baseline``: a constant value, or ``"blur"`` (the image smoothed by a Gaussian of
``patch_size / 4`` pixels). The drop of a patch is p(image) - p(occluded image), p the target's
probability (the model's softmax/sigmoid output, or a softmax of its scores when it has none,
as the paper and Captum use). The map is at input resolution: each pixel gets the mean drop of
the patches that cover it, ReLU (only evidence for the class), divided by the max.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import attrs
import numpy as np
from keras import ops

from ..errors import bad_argument, bad_type
from .base import Context, Method, integer_at_least, optional_integer_at_least
from .perturbation import check_fits, perturbed_confidences, target_column
from .smoothing import gaussian_smooth


def _check_baseline(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if isinstance(value, str):
        if value != "blur":
            raise bad_argument("baseline", "a number or 'blur'", value)
    elif isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad_type("baseline", "a number or 'blur'", value)


def patch_starts(size: int, patch_size: int, stride: int) -> list[int]:
    """First pixel of each patch along an axis of ``size``; the last one ends at the edge.

    >>> patch_starts(10, 4, 3)
    [0, 3, 6]
    >>> patch_starts(11, 4, 3)
    [0, 3, 6, 7]
    """
    starts = list(range(0, size - patch_size + 1, stride))
    if starts[-1] != size - patch_size:
        starts.append(size - patch_size)
    return starts


def patch_masks(image_size: tuple[int, int], patch_size: int, stride: int) -> np.ndarray:
    """(P, H, W) float32 masks, 1 inside patch p (row-major over patch positions).

    >>> patch_masks((3, 3), 2, 1)[1].tolist()
    [[0.0, 1.0, 1.0], [0.0, 1.0, 1.0], [0.0, 0.0, 0.0]]
    """
    height, width = image_size
    masks = []
    for top in patch_starts(height, patch_size, stride):
        for left in patch_starts(width, patch_size, stride):
            mask = np.zeros((height, width), np.float32)
            mask[top : top + patch_size, left : left + patch_size] = 1.0
            masks.append(mask)
    return np.stack(masks)


def patch_geometry(
    image_size: tuple[int, int], patch_size: int | None, stride: int | None
) -> tuple[int, int]:
    """(patch size, stride) in pixels; None chooses by the shorter side of ``image_size``.

    >>> patch_geometry((224, 224), None, None), patch_geometry((64, 64), 16, None)
    ((32, 22), (16, 6))
    """
    side = min(image_size)
    patch = patch_size or max(1, round(side / 7))
    return patch, stride or max(1, math.ceil((side - patch) / 9))


def blurred(images: Any, sigma: float) -> Any:
    """(B, H, W, C) images smoothed per channel by a Gaussian of ``sigma`` pixels."""
    height, width, channels = (int(d) for d in images.shape[1:])
    planes = ops.reshape(ops.transpose(images, (0, 3, 1, 2)), (-1, height, width))
    smooth = ops.reshape(gaussian_smooth(planes, sigma), (-1, channels, height, width))
    return ops.transpose(smooth, (0, 2, 3, 1))


@attrs.frozen
class Occlusion(Method):
    """Occlusion: the drop of the class probability when a square patch around each pixel is
    covered, averaged over the patches covering it, ReLU, divided by the maximum.

    >>> Occlusion(patch_size=8, stride=4).stride
    4
    """

    key: ClassVar[str] = "occlusion"
    title: ClassVar[str] = "Occlusion"
    needs_layer: ClassVar[bool] = False
    reads_confidences: ClassVar[bool] = True
    resolution: ClassVar[str] = "input"
    passes: ClassVar[str] = (
        "1 forward + one forward per patch position (about 100 by default), shared by all targets"
    )

    patch_size: int | None = attrs.field(
        default=None, validator=optional_integer_at_least("patch_size", 1)
    )
    stride: int | None = attrs.field(default=None, validator=optional_integer_at_least("stride", 1))
    baseline: float | str = attrs.field(default=0.0, validator=_check_baseline)
    batch_size: int = attrs.field(default=32, validator=integer_at_least("batch_size", 1))

    def target_map(self, ctx: Context, k: int) -> Any:
        if "occlusion" not in ctx.memo:
            ctx.memo["occlusion"] = self._drops_and_masks(ctx)
        confidences, original, masks = ctx.memo["occlusion"]
        drops = target_column(original, ctx, k) - target_column(confidences, ctx, k)
        coverage = np.maximum(masks.sum(axis=0), 1.0).reshape(-1)
        flat = ops.matmul(drops, ops.convert_to_tensor(masks.reshape(len(masks), -1)))
        per_pixel = flat / ops.convert_to_tensor(coverage)
        return ops.relu(ops.reshape(per_pixel, (-1, *masks.shape[1:])))

    def _drops_and_masks(self, ctx: Context) -> tuple[Any, Any, np.ndarray]:
        images = ctx.images
        image_size = (int(images.shape[1]), int(images.shape[2]))
        patch_size, stride = patch_geometry(image_size, self.patch_size, self.stride)
        check_fits("patch_size", patch_size, image_size)
        masks = patch_masks(image_size, patch_size, stride)
        constant = ops.convert_to_tensor(masks)

        def perturb(originals: Any, chosen: Any) -> Any:
            if self.baseline == "blur":
                fill = blurred(originals, patch_size / 4)
            else:
                fill = ops.full_like(originals, float(self.baseline))
            covered = chosen[..., None]
            return originals * (1.0 - covered) + fill * covered

        confidences = perturbed_confidences(
            ctx,
            lambda flat: ops.take(constant, flat % len(masks), axis=0),
            len(masks),
            perturb,
            self.batch_size,
        )
        original = ctx.class_confidences(images)[:, None, :]
        return confidences, original, masks
