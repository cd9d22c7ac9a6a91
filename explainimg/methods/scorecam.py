"""Score-CAM (Wang et al., 2020): channels weighted by how much the class keeps its
confidence when the image is masked by that channel alone.

For each channel k of the layer: upsample A_k to the input size (bilinear), min-max it to
[0, 1], multiply the image by it, run the model; s_k is the target's probability on that
masked image (the model's softmax/sigmoid output, or a softmax of its scores when it has
none). weights = softmax_k(s_k); map = ReLU(sum_k w_k A_k). ``max_channels=N`` keeps only the
N channels with the largest activation variance per image (the fast variant). Masked images
go through the model ``batch_size`` at a time; all targets share the same masked passes.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
import tensorflow as tf

from .base import Context, Method, integer_at_least
from .cam import weighted_sum
from .saliency import min_max


def _optional_positive(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is not None:
        integer_at_least("max_channels", 1)(instance, attribute, value)


def selected_channels(activations: tf.Tensor, max_channels: int | None) -> tf.Tensor:
    """(B, h, w, N): all channels, or the ``max_channels`` with the largest spatial variance."""
    channels = activations.shape[-1]
    if max_channels is None or channels is None or max_channels >= channels:
        return activations
    variance = tf.math.reduce_variance(activations, axis=(1, 2))
    keep = tf.math.top_k(variance, k=max_channels).indices
    return tf.gather(activations, keep, axis=3, batch_dims=1)


def channel_confidences(ctx: Context, channels: tf.Tensor, batch_size: int) -> tf.Tensor:
    """(B, N, classes): class confidences of the images masked by each of N channel maps."""
    images = ctx.images
    batch, height, width = tf.shape(images)[0], tf.shape(images)[1], tf.shape(images)[2]
    count = tf.shape(channels)[-1]
    total = batch * count
    chunks = (total + batch_size - 1) // batch_size
    per_channel = tf.transpose(channels, (0, 3, 1, 2))  # (B, N, h, w)

    def confidences_of_chunk(chunk: tf.Tensor) -> tf.Tensor:
        flat = tf.minimum(chunk * batch_size + tf.range(batch_size), total - 1)
        image_ids, channel_ids = flat // count, flat % count
        maps = tf.gather_nd(per_channel, tf.stack([image_ids, channel_ids], axis=1))
        masks = min_max(tf.image.resize(maps[..., None], (height, width))[..., 0])
        masked = tf.gather(images, image_ids) * masks[..., None]
        return ctx.class_confidences(masked)

    scores = tf.map_fn(
        confidences_of_chunk,
        tf.range(chunks),
        fn_output_signature=tf.float32,
        parallel_iterations=1,
    )
    classes = tf.shape(scores)[-1]
    return tf.reshape(tf.reshape(scores, (-1, classes))[:total], (batch, count, classes))


@attrs.frozen
class ScoreCAM(Method):
    """Score-CAM: channels weighted by the softmax of the class confidence on the image masked
    by each channel, summed, ReLU, divided by the maximum."""

    key: ClassVar[str] = "scorecam"
    title: ClassVar[str] = "Score-CAM"
    passes: ClassVar[str] = (
        "1 forward + one forward per channel (or per kept channel), shared by all targets"
    )

    max_channels: int | None = attrs.field(default=None, validator=_optional_positive)
    batch_size: int = attrs.field(default=32, validator=integer_at_least("batch_size", 1))

    def target_map(self, ctx: Context, k: int) -> tf.Tensor:
        if "scorecam" not in ctx.memo:
            channels = selected_channels(ctx.activations, self.max_channels)
            ctx.memo["scorecam"] = (channels, channel_confidences(ctx, channels, self.batch_size))
        channels, confidences = ctx.memo["scorecam"]
        scores = tf.gather(confidences, ctx.targets[:, k], axis=2, batch_dims=1)
        return weighted_sum(channels, tf.nn.softmax(scores, axis=-1))
