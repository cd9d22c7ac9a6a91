"""Shared machinery of the black-box methods: run the model on perturbed copies of the images.

A perturbation method describes N masks of the image size per image (the same for every
image, as Occlusion's and RISE's, or its own, as Score-CAM's channel maps) and how a mask
perturbs an image; :func:`perturbed_confidences` runs the B x N perturbed images through the
model ``batch_size`` at a time (through ``ctx.map``: memory of one batch, no Python loop per
perturbation) and returns their class confidences (B, N, classes), which every target reads.
:func:`per_row_outputs` is the chunking underneath, for any per-row model call (Ablation-CAM's
passes with one channel of the layer zeroed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from keras import ops

from ..errors import bad_argument
from .base import Context


def per_row_outputs(
    ctx: Context, count: int, outputs_of: Callable[[Any], Any], batch_size: int
) -> Any:
    """(B, count, classes): ``outputs_of(flat)`` for the B x ``count`` rows ``i * count + n``
    (row n of image i), ``batch_size`` rows at a time through ``ctx.map`` (memory of one
    chunk; the last chunk repeats the final row). ``outputs_of`` gives (n, classes).

    >>> from types import SimpleNamespace
    >>> ctx = SimpleNamespace(images=ops.ones((2, 4, 4, 1)), map=ops.map)
    >>> rows = per_row_outputs(ctx, 3, lambda flat: ops.cast(flat, "float32")[:, None], 4)
    >>> ops.convert_to_numpy(rows)[..., 0].tolist()
    [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    """
    batch = ops.shape(ctx.images)[0]
    total = batch * count
    chunks = (total + batch_size - 1) // batch_size

    def outputs_of_chunk(chunk: Any) -> Any:
        flat = ops.minimum(chunk * batch_size + ops.arange(batch_size, dtype="int32"), total - 1)
        return outputs_of(flat)

    outputs = ctx.map(outputs_of_chunk, ops.arange(chunks, dtype="int32"))
    classes = outputs.shape[-1]
    return ops.reshape(ops.reshape(outputs, (-1, classes))[:total], (batch, count, classes))


def perturbed_confidences(
    ctx: Context,
    masks: Callable[[Any], Any],
    count: int,
    perturb: Callable[[Any, Any], Any],
    batch_size: int,
) -> Any:
    """(B, count, classes) confidences of each image perturbed by each of ``count`` masks.

    ``masks(flat)`` gives the (n, H, W) masks of int32 flat ids ``i * count + m`` (mask m of
    image i: ``flat % count`` for masks shared by every image); ``perturb(images, masks)``
    gives the perturbed (n, H, W, C) images.

    >>> from types import SimpleNamespace
    >>> ctx = SimpleNamespace(images=ops.ones((2, 4, 4, 1)), map=ops.map,
    ...     class_confidences=lambda images, sources: ops.mean(images, axis=(1, 2)))
    >>> def masks(flat):  # mask m of image i: everywhere i * 3 + m
    ...     return ops.cast(flat, "float32")[:, None, None] * ops.ones((1, 4, 4))
    >>> confidences = perturbed_confidences(ctx, masks, 3, multiplied, batch_size=4)
    >>> ops.convert_to_numpy(confidences)[..., 0].tolist()
    [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    """

    def confidences_of(flat: Any) -> Any:
        # Row i * count + n: image i perturbed by mask n.
        originals = ops.take(ctx.images, flat // count, axis=0)
        return ctx.class_confidences(perturb(originals, masks(flat)), flat // count)

    return per_row_outputs(ctx, count, confidences_of, batch_size)


def multiplied(images: Any, masks: Any) -> Any:
    """(n, H, W, C) images times their (n, H, W) masks (RISE's and Score-CAM's perturbation)."""
    return images * masks[..., None]


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
