"""Finer-CAM (Zhang et al., 2025): Grad-CAM of the difference between the target's score and
the scores of the classes most like it, so that what the classes share cancels out.

The differentiated score is y_c - alpha * sum_s p_s y_s over the comparison classes s, with
p_s their softmax probabilities renormalised to sum to 1 (pytorch-grad-cam's
``FinerWeightedTarget``; with one comparison class it is the paper's y_c - alpha y_s). The
weights p_s are held constant: the gradient is g_c - alpha * sum_s p_s g_s, one backward
pass per target, and the map is Grad-CAM's of that gradient. (pytorch-grad-cam also
differentiates the weights p_s; we keep the paper's linear difference.)

``comparison`` chooses the classes s:

- an integer N: per image and target, the N classes whose scores are closest to the
  target's (the target itself excluded), as pytorch-grad-cam does with its default
  comparison ranks 1, 2, 3; at most the number of classes minus one;
- a sequence of class ids: those classes for every image and target (a listed class that
  is the target itself is kept: its term scales the target's own gradient by 1 - alpha p);
- None (the default): the 3 closest classes, or all the others on a model of fewer classes.

``alpha`` (default 1, as pytorch-grad-cam) is the comparison strength: 0 gives Grad-CAM,
1 the full difference.

>>> import numpy as np
>>> from keras import ops
>>> scores = np.array([[5.0, 4.0, 0.0, 4.5]], "float32")
>>> ops.convert_to_numpy(closest_classes(scores, np.array([0]), 2)).tolist()
[[3, 1]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import attrs
from keras import ops

from ..errors import bad_argument, bad_type
from .base import Context, number_at_least
from .cam import ChannelCAM, weighted_channels

DEFAULT_COMPARISON = 3


def closest_classes(scores: Any, target_ids: Any, count: int) -> Any:
    """(B, count) ids of the classes whose (B, classes) scores are closest to the score of
    each row's target (B,), nearest first, the target itself left out."""
    classes = int(scores.shape[-1])
    chosen = ops.take_along_axis(scores, target_ids[:, None], axis=1)
    itself = ops.one_hot(target_ids, classes, dtype=scores.dtype) > 0
    distance = ops.where(itself, float("inf"), ops.abs(scores - chosen))
    return ops.top_k(-distance, k=count)[1]


def _comparison(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return value


def _check_comparison(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    expected = "None, an integer >= 1 or a sequence of class ids"
    if value is None:
        return
    if isinstance(value, tuple):
        if not value or any(isinstance(i, bool) or not isinstance(i, int) for i in value):
            raise bad_type("comparison", expected, value)
        if min(value) < 0:
            raise bad_argument("comparison", "class ids >= 0", value)
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_type("comparison", expected, value)
    if value < 1:
        raise bad_argument("comparison", expected, value)


@attrs.frozen
class FinerCAM(ChannelCAM):
    """Finer-CAM: Grad-CAM of the target's score minus alpha times the probability-weighted
    scores of the most similar classes, summed, ReLU, divided by the maximum."""

    key: ClassVar[str] = "finercam"
    title: ClassVar[str] = "Finer-CAM"
    passes: ClassVar[str] = "1 forward + 1 backward to the layer per target"

    alpha: float = attrs.field(default=1.0, validator=number_at_least("alpha", 0.0))
    comparison: int | Sequence[int] | None = attrs.field(
        default=None, converter=_comparison, validator=_check_comparison
    )

    def _compared(self, scores: Any, target_ids: Any) -> Any:
        """(B, S) ids of the comparison classes of each row's target."""
        classes = int(scores.shape[-1])
        if isinstance(self.comparison, tuple):
            if max(self.comparison) >= classes:
                raise bad_argument(
                    "comparison", f"class ids below the model's {classes} classes", self.comparison
                )
            ids = ops.convert_to_tensor(self.comparison, dtype="int32")
            return ops.zeros_like(target_ids[:, None]) + ids[None]
        count = self.comparison
        if count is None:
            count = min(DEFAULT_COMPARISON, classes - 1)
        elif count > classes - 1:
            raise bad_argument(
                "comparison", f"at most {classes - 1} (the number of classes minus one)", count
            )
        return closest_classes(scores, target_ids, count) if count else None

    def channel_terms(self, ctx: Context, k: int) -> Any:
        scores = ctx.scores
        target_ids = ctx.targets[:, k]
        classes = int(scores.shape[-1])
        cotangent = ops.one_hot(target_ids, classes, dtype="float32")
        compared = self._compared(scores, target_ids)
        if compared is not None:
            probabilities = ops.take_along_axis(ops.softmax(scores, axis=-1), compared, axis=1)
            weights = ops.divide_no_nan(
                probabilities, ops.sum(probabilities, axis=1, keepdims=True)
            )
            others = ops.einsum("bs,bsj->bj", weights, ops.one_hot(compared, classes))
            cotangent = cotangent - float(self.alpha) * others
        gradients = ctx.layer_gradients_of(cotangent)
        return weighted_channels(ctx.activations, ops.mean(gradients, axis=(1, 2)))
