"""Score-CAM (Wang et al., 2020): channels weighted by how much the class keeps its
confidence when the image is masked by that channel alone.

For each channel k of the layer: upsample A_k to the input size (bilinear), min-max it to
[0, 1], multiply the image by it, run the model; s_k is the target's probability on that
masked image (the model's softmax/sigmoid output, or a softmax of its scores when it has
none). weights = softmax_k(s_k); map = ReLU(sum_k w_k A_k). ``max_channels=N`` keeps only the
N channels with the largest activation variance per image: 100 by default, so that a layer of
1280 channels costs about 100 forward passes, not 1280; ``max_channels=None`` uses every
channel, as the paper does. Masked images go through the model ``batch_size`` at a time; all
targets share the same masked passes.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
from keras import ops

from .base import Context, integer_at_least, optional_integer_at_least
from .cam import ChannelCAM, weighted_channels
from .perturbation import multiplied, perturbed_confidences, target_column
from .saliency import min_max
from .scaling import upsample_bilinear


def kept_channels(activations: Any, max_channels: int | None) -> Any | None:
    """(B, N) ids of the ``max_channels`` channels with the largest spatial variance per
    image, or None when every channel is kept."""
    channels = activations.shape[-1]
    if max_channels is None or channels is None or max_channels >= channels:
        return None
    return ops.top_k(ops.var(activations, axis=(1, 2)), k=max_channels)[1]


def selected_channels(activations: Any, max_channels: int | None) -> Any:
    """(B, h, w, N): all channels, or the ``max_channels`` with the largest spatial variance."""
    keep = kept_channels(activations, max_channels)
    if keep is None:
        return activations
    return ops.take_along_axis(activations, keep[:, None, None, :], axis=3)


def channel_confidences(ctx: Context, channels: Any, batch_size: int) -> Any:
    """(B, N, classes): class confidences of the images masked by each of their N channel
    maps (upsampled to the image, min-maxed to [0, 1]), through :func:`perturbed_confidences`."""
    images = ctx.images
    count = int(channels.shape[-1])
    # (B * N, h, w): map i * N + n is channel n of image i, as perturbed_confidences' flat ids.
    per_channel = ops.reshape(ops.transpose(channels, (0, 3, 1, 2)), (-1, *channels.shape[1:3]))

    def masks(flat: Any) -> Any:
        return min_max(upsample_bilinear(ops.take(per_channel, flat, axis=0), images))

    return perturbed_confidences(ctx, masks, count, multiplied, batch_size)


@attrs.frozen
class PerChannelPassesCAM(ChannelCAM):
    """Base of the CAM methods that run the model once per channel (Score-CAM, Ablation-CAM):
    ``max_channels`` (None: every channel) and ``batch_size`` runs at a time."""

    passes: ClassVar[str] = (
        "1 forward + one forward per channel (or per kept channel), shared by all targets"
    )

    max_channels: int | None = attrs.field(
        default=100, validator=optional_integer_at_least("max_channels", 1)
    )
    batch_size: int = attrs.field(default=32, validator=integer_at_least("batch_size", 1))


@attrs.frozen
class ScoreCAM(PerChannelPassesCAM):
    """Score-CAM: channels weighted by the softmax of the class confidence on the image masked
    by each channel, summed, ReLU, divided by the maximum."""

    key: ClassVar[str] = "scorecam"
    title: ClassVar[str] = "Score-CAM"
    reads_confidences: ClassVar[bool] = True

    def channel_terms(self, ctx: Context, k: int) -> Any:
        if "scorecam" not in ctx.memo:
            channels = selected_channels(ctx.activations, self.max_channels)
            ctx.memo["scorecam"] = (channels, channel_confidences(ctx, channels, self.batch_size))
        channels, confidences = ctx.memo["scorecam"]
        weights = ops.softmax(target_column(confidences, ctx, k), axis=-1)
        return weighted_channels(channels, weights)
