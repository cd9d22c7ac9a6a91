"""Shared machinery of the black-box methods: run the model on perturbed copies of the images.

A perturbation method describes N masks of the image size and how a mask perturbs an image;
:func:`perturbed_confidences` runs the B x N perturbed images through the model
``batch_size`` at a time (through ``ctx.map``: memory of one batch, no Python loop per
perturbation) and returns their class confidences (B, N, classes), which every target reads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from keras import ops

from ..errors import bad_argument
from .base import Context


def perturbed_confidences(
    ctx: Context,
    masks: Callable[[Any], Any],
    count: int,
    perturb: Callable[[Any, Any], Any],
    batch_size: int,
) -> Any:
    """(B, count, classes) confidences of each image perturbed by each of ``count`` masks.

    ``masks(ids)`` gives the (n, H, W) masks of int32 mask ids; ``perturb(images, masks)``
    gives the perturbed (n, H, W, C) images.
    """
    images = ctx.images
    batch = ops.shape(images)[0]
    total = batch * count
    chunks = (total + batch_size - 1) // batch_size

    def confidences_of_chunk(chunk: Any) -> Any:
        # Flat index i * count + n: image i perturbed by mask n; the last chunk repeats the end.
        flat = ops.minimum(chunk * batch_size + ops.arange(batch_size, dtype="int32"), total - 1)
        originals = ops.take(images, flat // count, axis=0)
        return ctx.class_confidences(perturb(originals, masks(flat % count)), flat // count)

    scores = ctx.map(confidences_of_chunk, ops.arange(chunks, dtype="int32"))
    classes = scores.shape[-1]
    return ops.reshape(ops.reshape(scores, (-1, classes))[:total], (batch, count, classes))


def target_column(confidences: Any, ctx: Context, k: int) -> Any:
    """(B, N) confidences of target column ``k`` from (B, N, classes)."""
    return ops.take_along_axis(confidences, ctx.targets[:, k][:, None, None], axis=2)[..., 0]


def check_fits(name: str, size: int, image_size: tuple[int, int]) -> None:
    """A clear error when an option of ``size`` pixels is larger than the image."""
    if size > min(image_size):
        raise bad_argument(
            name,
            f"at most the image size {image_size[0]}x{image_size[1]}",
            size,
        )
