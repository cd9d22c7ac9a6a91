"""Average drop and increase in confidence (Chattopadhay et al. 2018, the Grad-CAM++ paper):
does the part of the image the map keeps still carry the class?

Each image x is multiplied by its map E (the explained target's heatmap, in [0, 1], upsampled
bilinearly to the input as for :func:`~explainimg.metrics.deletion`; the model input as given,
so a model that takes 0..255 pixels sees the kept part darkened, not normalised), and the
model's confidence in the explained class is read on both: Y on x, O on x * E.

- average drop = mean over images of max(0, Y - O) / Y: lower is better (the kept region holds
  the evidence); an image with Y = 0 cannot drop and counts 0.
- average increase = the share of images with O > Y: higher is better.

The paper's tables (and torchcam's) give both as percentages: multiply by 100. All masked
images go through the model in batches of ``batch_size``.

>>> change = ConfidenceChange(full=np.array([0.8, 0.5]), masked=np.array([0.4, 0.6]))
>>> change.average_drop, change.average_increase
(0.25, 0.5)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import keras
import numpy as np
from PIL import Image

from ..errors import bad_argument, said
from ..explanation import Explanation, target_at
from ..heatmaps import upsample_heatmap
from ..inputs.arguments import checked_positive_int, image_batch
from .curves import confidence_reader, explained_class


@attrs.frozen
class ConfidenceChange:
    """The explained class's confidence on each image (``full``) and on the image times its
    map (``masked``), one value per image, with the paper's two summaries."""

    full: np.ndarray
    masked: np.ndarray

    @property
    def drops(self) -> np.ndarray:
        """max(0, Y - O) / Y per image (0 where Y is 0)."""
        lost = np.maximum(self.full - self.masked, 0.0)
        return np.divide(lost, self.full, out=np.zeros_like(lost), where=self.full > 0)

    @property
    def average_drop(self) -> float:
        return float(np.mean(self.drops))

    @property
    def average_increase(self) -> float:
        return float(np.mean(self.masked > self.full))


def confidence_change(
    model: keras.Model,
    xs: Any,
    expls: Explanation | Sequence[Explanation],
    *,
    target: int = 0,
    batch_size: int = 32,
) -> ConfidenceChange:
    """Y and O of ``expls`` (one Explanation, or one per image of ``xs``), each for its
    ``targets[target]``, on the images ``xs`` as given to ``explain_prediction``."""
    explanations = [expls] if isinstance(expls, Explanation) else _explanation_list(expls)
    batch_size = checked_positive_int(batch_size, "batch_size")
    images, _ = image_batch(xs, tuple(model.inputs[0].shape))
    if len(explanations) != images.shape[0]:
        raise bad_argument(
            "expls",
            f"one Explanation per image of xs ({images.shape[0]})",
            said(f"{len(explanations)}"),
        )
    explainer = confidence_reader(model)
    classes = np.array([explained_class(explainer, e, target) for e in explanations])
    height, width = images.shape[1:3]
    kept = np.stack(
        [
            image
            * upsample_heatmap(target_at(e, target).heatmap, (width, height), Image.BILINEAR)[
                ..., None
            ]
            for image, e in zip(images, explanations, strict=True)
        ]
    ).astype(images.dtype)
    rows = np.arange(len(classes))
    full = explainer.confidences(images, batch_size=batch_size)[rows, classes]
    masked = explainer.confidences(kept, batch_size=batch_size)[rows, classes]
    return ConfidenceChange(full=full.astype(np.float64), masked=masked.astype(np.float64))


def _explanation_list(expls: Any) -> list[Explanation]:
    if not isinstance(expls, (list, tuple)) or not expls:
        raise bad_argument("expls", "an Explanation or a non-empty list of them", expls)
    for position, expl in enumerate(expls):
        if not isinstance(expl, Explanation):
            raise bad_argument(f"expls[{position}]", "an Explanation", said(type(expl).__name__))
    return list(expls)


def average_drop(
    model: keras.Model, xs: Any, expls: Explanation | Sequence[Explanation], **options: Any
) -> float:
    """Mean over the images of max(0, Y - O) / Y (lower: the map kept the evidence).

    ``average_drop(model, x, expl)`` for one image, or ``average_drop(model, xs, expls)``
    with one Explanation per image; ``options`` (``target``, ``batch_size``) as for
    :func:`confidence_change`.
    """
    return confidence_change(model, xs, expls, **options).average_drop


def average_increase(
    model: keras.Model, xs: Any, expls: Explanation | Sequence[Explanation], **options: Any
) -> float:
    """The share of images whose confidence rises when only the map's part is kept, O > Y
    (higher: the map kept the evidence and dropped distractions); arguments as for
    :func:`average_drop`."""
    return confidence_change(model, xs, expls, **options).average_increase
