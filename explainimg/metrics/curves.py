"""Deletion and insertion curves (Petsiuk et al. 2018, RISE): does removing the hottest pixels
first make the model lose confidence fastest, and does revealing them first restore it?

Pixels of the model input are ranked by the explanation's heat (upsampled bilinearly to the
input; ties broken by a seeded shuffle). Deletion replaces the top fraction f of pixels by a
baseline, insertion starts from the baseline and puts the top fraction back, for
f = 0, 1/steps, ..., 1. The curve is the model's probability for the explained class at each
f; the score is the area under it (trapezoid over f in [0, 1]). Lower deletion AUC and higher
insertion AUC mean a more faithful map. All masked images go through the model in batches.

>>> import numpy as np
>>> auc(np.array([0.0, 0.5, 1.0]), np.array([1.0, 0.5, 0.0]))
0.5
"""

from __future__ import annotations

from typing import Any

import attrs
import keras
import numpy as np
from keras import ops
from PIL import Image

from ..errors import bad_argument, bad_type, said
from ..explainer import Explainer
from ..explanation import Explanation, checked_explanation, target_at
from ..heatmaps import upsample_heatmap
from ..inputs.arguments import checked_positive_int, one_image
from ..methods.smoothing import gaussian_smooth

BASELINES = ("zeros", "blur", "mean")
BLUR_SIGMA = 5.0


@attrs.frozen
class Curve:
    """A deletion or insertion curve: ``fractions`` of pixels changed, the class probability
    after each, and the area under the curve."""

    kind: str
    fractions: np.ndarray
    values: np.ndarray
    auc: float


def auc(fractions: np.ndarray, values: np.ndarray) -> float:
    """Area under a curve by the trapezoidal rule (two finite 1-D arrays of one length)."""
    fractions, values = _curve_points(fractions, "fractions"), _curve_points(values, "values")
    if fractions.shape != values.shape:
        raise bad_argument(
            "values",
            f"one value per fraction ({fractions.size})",
            said(f"{values.size} values"),
        )
    widths = np.diff(fractions)
    return float(np.sum(widths * (values[1:] + values[:-1]) / 2.0))


def _curve_points(points: Any, name: str) -> np.ndarray:
    array = np.asarray(points, dtype=np.float64)
    if array.ndim != 1 or array.size < 2:
        raise bad_argument(name, "a 1-D array of at least 2 numbers", array)
    if not np.isfinite(array).all():
        raise bad_argument(name, "finite numbers", said("an array containing NaN or inf"))
    return array


_BASELINE = f"one of {', '.join(map(repr, BASELINES))} or a finite number"


def baseline_image(image: np.ndarray, baseline: Any) -> np.ndarray:
    """The (H, W, C) image that removed pixels are replaced by: "zeros", "blur" (Gaussian,
    sigma 5 px), "mean" (each channel's mean) or a number."""
    is_number = isinstance(baseline, (int, float, np.integer, np.floating))
    if is_number and not isinstance(baseline, (bool, np.bool_)):
        if not np.isfinite(baseline):
            raise bad_argument("baseline", _BASELINE, float(baseline))
        return np.full_like(image, float(baseline))
    if not isinstance(baseline, str):
        raise bad_type("baseline", _BASELINE, baseline)
    if baseline == "zeros":
        return np.zeros_like(image)
    if baseline == "mean":
        return np.broadcast_to(image.mean(axis=(0, 1)), image.shape).astype(image.dtype)
    if baseline == "blur":
        channels = np.transpose(image.astype(np.float32), (2, 0, 1))
        blurred = ops.convert_to_numpy(gaussian_smooth(channels, BLUR_SIGMA))
        return np.transpose(blurred, (1, 2, 0))
    raise bad_argument("baseline", _BASELINE, baseline)


def confidence_reader(model: keras.Model) -> Explainer:
    """An Explainer of ``model`` for its ``confidences`` only: with a method that needs no
    layer, so that a model without a convolutional map (a dense one) is measured too."""
    return Explainer(model, method="occlusion")


def explained_class(explainer: Explainer, expl: Any, target: int) -> int:
    """The class id of ``expl.targets[target]``, checked against the model's classes."""
    explained = target_at(checked_explanation(expl), target)
    if explained.target >= explainer.n_classes:
        raise bad_argument(
            "expl",
            f"an explanation of one of the model's {explainer.n_classes} classes",
            said(f"one of class {explained.target}"),
        )
    return explained.target


def ranking(heatmap: np.ndarray, height: int, width: int, seed: int) -> np.ndarray:
    """Flat pixel indices of a (height, width) input, hottest first (the heatmap upsampled
    bilinearly; ties in a shuffled order seeded by ``seed``)."""
    heat = upsample_heatmap(heatmap, (width, height), Image.BILINEAR).ravel()
    shuffle = np.random.default_rng(seed).permutation(heat.size)
    order = np.argsort(-heat[shuffle], kind="stable")
    return shuffle[order]


def _curve(
    kind: str,
    model: keras.Model,
    x: Any,
    expl: Explanation,
    *,
    target: int,
    steps: int,
    baseline: Any,
    batch_size: int,
    seed: int,
) -> Curve:
    steps = checked_positive_int(steps, "steps")
    batch_size = checked_positive_int(batch_size, "batch_size")
    explainer = confidence_reader(model)
    class_id = explained_class(explainer, expl, target)
    heatmap = expl.targets[target].heatmap
    batch, _ = one_image(x, tuple(model.inputs[0].shape))
    fill = baseline_image(batch[0], baseline)
    image = batch[0]
    height, width = image.shape[:2]
    order = ranking(heatmap, height, width, seed)
    fill = fill.reshape(-1, image.shape[-1])
    source = image.reshape(-1, image.shape[-1])
    start, end = (source, fill) if kind == "deletion" else (fill, source)
    counts = np.rint(np.linspace(0, height * width, steps + 1)).astype(int)

    def changed(count: int) -> np.ndarray:
        pixels = start.copy()
        pixels[order[:count]] = end[order[:count]]
        return pixels.reshape(image.shape)

    values = np.concatenate(
        [
            explainer.confidences(np.stack([changed(c) for c in counts[i : i + batch_size]]))[
                :, class_id
            ]
            for i in range(0, len(counts), batch_size)
        ]
    )
    fractions = counts / float(height * width)
    return Curve(kind=kind, fractions=fractions, values=values, auc=auc(fractions, values))


def deletion(
    model: keras.Model,
    x: Any,
    expl: Explanation,
    *,
    target: int = 0,
    steps: int = 20,
    baseline: Any = "zeros",
    batch_size: int = 32,
    seed: int = 0,
) -> Curve:
    """Deletion curve of ``expl.targets[target]`` for input ``x`` (the model's input, as given
    to ``explain_prediction``). Lower AUC: the map found what the model needs."""
    return _curve(
        "deletion",
        model,
        x,
        expl,
        target=target,
        steps=steps,
        baseline=baseline,
        batch_size=batch_size,
        seed=seed,
    )


def insertion(
    model: keras.Model,
    x: Any,
    expl: Explanation,
    *,
    target: int = 0,
    steps: int = 20,
    baseline: Any = "blur",
    batch_size: int = 32,
    seed: int = 0,
) -> Curve:
    """Insertion curve: start from the baseline (blurred by default, as in RISE) and reveal
    the hottest pixels first. Higher AUC: the map found what the model needs."""
    return _curve(
        "insertion",
        model,
        x,
        expl,
        target=target,
        steps=steps,
        baseline=baseline,
        batch_size=batch_size,
        seed=seed,
    )
