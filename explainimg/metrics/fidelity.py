"""Faithfulness under random perturbations: MuFidelity (Bhatt et al. 2020) and infidelity
(Yeh et al. 2019). Both compare what the map predicts a perturbation costs with what it costs
the model.

The map is read per input pixel: a signed method's ``attribution`` when it has the input's
size, else the heatmap upsampled bilinearly (as for :func:`~explainimg.metrics.deletion`).
The model's output is its confidence in the explained class (softmax/sigmoid, as for
deletion; the papers write f for any output). Perturbed images go through the model in
batches of ``batch_size``; the draws come from NumPy's generator seeded with ``seed``.

- :func:`mufidelity`: for ``samples`` random subsets S of ``subset_size`` pixels, the Pearson
  correlation between the map's sum over S and the drop f(x) - f(x with S set to the
  baseline). Higher is better (1: the map ranks subsets by what removing them costs).
- :func:`infidelity`: for Gaussian noise I (std ``noise``), the mean squared difference
  between I . map and f(x) - f(x - I), the map first scaled by the least-squares factor
  (Yeh et al.'s normalised form, Captum's ``normalize=True``: our maps are scaled to their
  maximum, so only their shape is compared). Lower is better; 0 means the map, scaled,
  predicts every noisy drop.

>>> round(scaled_infidelity(np.array([1.0, 2.0]), np.array([2.0, 4.0])), 6)
0.0
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from PIL import Image

from ..errors import bad_argument
from ..explanation import Explanation, TargetExplanation
from ..heatmaps import upsample_heatmap
from ..inputs.arguments import checked_positive_int, one_image
from .curves import baseline_image, confidence_reader, explained_class
from .randomization import pearson


def pixel_values(explained: TargetExplanation, height: int, width: int) -> np.ndarray:
    """(H, W) float64 values of the map per input pixel: the signed attribution at the
    input's size, else the heatmap upsampled bilinearly."""
    attribution = explained.attribution
    if attribution is not None and attribution.shape == (height, width):
        return attribution.astype(np.float64)
    heat = upsample_heatmap(explained.heatmap, (width, height), Image.BILINEAR)
    return heat.astype(np.float64)


def _confidences_of(
    model: keras.Model,
    x: Any,
    expl: Explanation,
    target: int,
    batch_size: int,
) -> tuple[np.ndarray, np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """(image (H, W, C), per-pixel map (H, W), confidences of the class for a stack of
    images) for ``expl.targets[target]`` on input ``x``."""
    batch_size = checked_positive_int(batch_size, "batch_size")
    explainer = confidence_reader(model)
    class_id = explained_class(explainer, expl, target)
    image = one_image(x, tuple(model.inputs[0].shape))[0][0]
    values = pixel_values(expl.targets[target], *image.shape[:2])

    def confidences(images: np.ndarray) -> np.ndarray:
        return explainer.confidences(images, batch_size=batch_size)[:, class_id].astype(np.float64)

    return image, values, confidences


def mufidelity(
    model: keras.Model,
    x: Any,
    expl: Explanation,
    *,
    target: int = 0,
    samples: int = 128,
    subset_size: int | None = None,
    baseline: Any = "zeros",
    batch_size: int = 32,
    seed: int = 0,
) -> float:
    """MuFidelity of ``expl.targets[target]`` on input ``x``: the Pearson correlation over
    ``samples`` random pixel subsets (``subset_size`` pixels each; default a tenth of the
    image) of the map's sum over the subset and the confidence lost when the subset is set
    to ``baseline`` (as for deletion: "zeros", "blur", "mean" or a number). 0.0 when either
    side does not vary (a model that ignores the image)."""
    samples = checked_positive_int(samples, "samples")
    image, values, confidences = _confidences_of(model, x, expl, target, batch_size)
    height, width = image.shape[:2]
    pixels = height * width
    size = max(1, pixels // 10) if subset_size is None else subset_size
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 0 < size < pixels:
        raise bad_argument("subset_size", f"an integer between 1 and {pixels - 1} pixels", size)
    generator = np.random.default_rng(seed)
    subsets = np.stack([generator.permutation(pixels)[:size] for _ in range(samples)])
    chosen = np.zeros((samples, pixels), bool)
    chosen[np.arange(samples)[:, None], subsets] = True
    chosen = chosen.reshape(samples, height, width, 1)
    fill = baseline_image(image, baseline)
    perturbed = np.where(chosen, fill[None], image[None]).astype(image.dtype)
    drops = confidences(image[None])[0] - confidences(perturbed)
    sums = (chosen[..., 0] * values[None]).sum(axis=(1, 2))
    return pearson(sums, drops)


def infidelity(
    model: keras.Model,
    x: Any,
    expl: Explanation,
    *,
    target: int = 0,
    samples: int = 64,
    noise: float | None = None,
    batch_size: int = 32,
    seed: int = 0,
) -> float:
    """Infidelity of ``expl.targets[target]`` on input ``x``: the mean over ``samples``
    Gaussian perturbations I (std ``noise`` in the input's units; default a tenth of the
    image's value range) of (beta * I . map - (f(x) - f(x - I)))^2, beta the least-squares
    scale of the map (I . map sums over pixels and channels, the map repeated on each
    channel)."""
    samples = checked_positive_int(samples, "samples")
    image, values, confidences = _confidences_of(model, x, expl, target, batch_size)
    if noise is None:
        noise = float(image.max() - image.min()) / 10 or 0.1  # 0.1 for a constant image
    is_number = isinstance(noise, (int, float)) and not isinstance(noise, bool)
    if not is_number or not 0 < noise < float("inf"):
        raise bad_argument("noise", "a positive number (the noise's standard deviation)", noise)
    generator = np.random.default_rng(seed)
    perturbations = generator.normal(0.0, noise, (samples, *image.shape))
    perturbed = (image[None] - perturbations).astype(image.dtype)
    drops = confidences(image[None])[0] - confidences(perturbed)
    predicted = (perturbations * values[None, ..., None]).sum(axis=(1, 2, 3))
    return scaled_infidelity(predicted, drops)


def scaled_infidelity(predicted: np.ndarray, drops: np.ndarray) -> float:
    """mean((beta * predicted - drops)^2) with beta = sum(predicted * drops) /
    sum(predicted^2), the scale that minimises it (beta = 0 when ``predicted`` is all 0)."""
    energy = float(np.sum(predicted**2))
    beta = float(np.sum(predicted * drops)) / energy if energy > 0 else 0.0
    return float(np.mean((beta * predicted - drops) ** 2))
