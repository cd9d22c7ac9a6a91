"""Ablation-CAM (Desai and Ramaswamy, 2020): channels weighted by how much the class score
drops when that channel of the layer is zeroed.

For each channel k of the layer: run the model with A_k set to zero (the rest of the layer
as it was) and read the target's score y_c^k (the logit, as the gradient methods
differentiate); w_k = (y_c - y_c^k) / y_c, with y_c the score of the unablated image, and
map = ReLU(sum_k w_k A_k). A score of exactly zero gives weights of zero (``divide_no_nan``),
not NaN; a negative y_c flips every weight's sign, as in the paper.

``max_channels=N`` ablates only the N channels with the largest activation variance per
image (Score-CAM's choice); the other channels get weight 0, as if ablating them changed
nothing (pytorch-grad-cam's ``ratio_channels_to_ablate`` does the same with another choice of
channels). 100 by default, so that a layer of 1280 channels costs about 100 forward passes;
``max_channels=None`` ablates every channel, as the paper does. The ablated runs go through
the model ``batch_size`` at a time and are shared by all targets.

>>> import numpy as np
>>> from keras import ops
>>> weights = ablation_weights(np.array([[2.0, 0.0]]), np.array([[1.0, 2.0], [0.0, 0.0]]))
>>> ops.convert_to_numpy(weights).tolist()
[[0.5, 0.0], [0.0, 0.0]]
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
from keras import ops

from .base import Context
from .cam import weighted_channels
from .perturbation import per_row_outputs, target_column
from .scorecam import PerChannelPassesCAM, kept_channels


def ablation_weights(scores: Any, ablated: Any) -> Any:
    """(B, N) w_k = (y_c - y_c^k) / y_c from the (B,) or (B, 1) unablated scores y_c and the
    (B, N) ablated ones (zero where y_c is zero)."""
    original = ops.reshape(scores, (-1, 1))
    return ops.divide_no_nan(original - ablated, original)


def ablated_scores(ctx: Context, channels: Any, batch_size: int) -> Any:
    """(B, N, classes): the class scores with channel ``channels[i, n]`` of image i's layer
    output zeroed, for the (B, N) channel ids, through :func:`per_row_outputs`."""
    count = int(channels.shape[-1])
    width = int(ctx.activations.shape[-1])
    flat_channels = ops.reshape(channels, (-1,))

    def scores_of(flat: Any) -> Any:
        masks = 1.0 - ops.one_hot(ops.take(flat_channels, flat, axis=0), width, dtype="float32")
        return ctx.channel_masked_scores(masks, flat // count)

    return per_row_outputs(ctx, count, scores_of, batch_size)


@attrs.frozen
class AblationCAM(PerChannelPassesCAM):
    """Ablation-CAM: channels weighted by the relative drop of the class score when each
    channel is zeroed, summed, ReLU, divided by the maximum."""

    key: ClassVar[str] = "ablationcam"
    title: ClassVar[str] = "Ablation-CAM"

    def channel_terms(self, ctx: Context, k: int) -> Any:
        if "ablationcam" not in ctx.memo:
            activations = ctx.activations
            keep = kept_channels(activations, self.max_channels)
            if keep is None:  # every channel: ids 0..c-1 for each image
                kept = activations
                keep = ops.cast(ops.zeros_like(activations[:, 0, 0, :]), "int32")
                keep = keep + ops.arange(int(activations.shape[-1]), dtype="int32")
            else:  # the channels just chosen, without choosing them again
                kept = ops.take_along_axis(activations, keep[:, None, None, :], axis=3)
            ctx.memo["ablationcam"] = (kept, ablated_scores(ctx, keep, self.batch_size))
        kept, ablated = ctx.memo["ablationcam"]
        original = ops.take_along_axis(ctx.scores, ctx.targets[:, k : k + 1], axis=1)
        return weighted_channels(kept, ablation_weights(original, target_column(ablated, ctx, k)))
