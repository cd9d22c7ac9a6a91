"""Does the map depend on what it should, and only on that? The random-logit test (Sixt et
al. 2020) and max-sensitivity (Yeh et al. 2019). Both re-explain with the method given.

- :func:`random_logit`: the map of the explained class against the map of a class drawn at
  random among the others, for the same image, by Spearman rank correlation. Near 1 says the
  map shows the image, not the class (lower is better). Quantus compares them by SSIM; a
  rank correlation, as in :func:`~explainimg.metrics.randomization_check`, needs no window
  size and reads maps of any resolution.
- :func:`max_sensitivity`: the largest relative change ||m(x + d) - m(x)|| / ||m(x)|| of the
  map (Frobenius norms of the heatmaps) over ``samples`` noisy copies, d uniform in
  [-radius, radius] per pixel and channel, each explained for the class of x. Lower is
  better: a small change of the input should not redraw the explanation.

>>> RandomLogitResult(0.25, 3, 1, np.ones((2, 2)), np.zeros((2, 2))).other
1
"""

from __future__ import annotations

from typing import Any

import attrs
import keras
import numpy as np

from ..errors import bad_argument, said
from ..explainer import Explainer
from ..inputs.arguments import checked_positive_int, one_image
from .randomization import spearman


@attrs.frozen
class RandomLogitResult:
    """The Spearman correlation of the maps of class ``target`` and of class ``other``
    (``original``, ``other_map``) for one image."""

    spearman: float
    target: int
    other: int
    original: np.ndarray
    other_map: np.ndarray


def random_logit(
    model: keras.Model,
    x: Any,
    *,
    target: int | None = None,
    method: Any = "gradcam",
    layer: Any = None,
    seed: int = 0,
) -> RandomLogitResult:
    """Explain ``x`` for ``target`` (default the model's top class) and for another class
    drawn with NumPy's generator seeded with ``seed``, and compare the two maps."""
    explainer = Explainer(model, layer=layer, method=method)
    classes = explainer.n_classes
    if classes < 2:
        raise bad_argument("model", "a model with at least 2 classes", said(f"{classes}"))
    explained = explainer.explain(x, targets=None if target is None else [target])
    first = explained.targets[0]
    others = [c for c in range(classes) if c != first.target]
    other = int(np.random.default_rng(seed).choice(others))
    second = explainer.explain(x, targets=[other]).targets[0]
    return RandomLogitResult(
        spearman=spearman(first.heatmap, second.heatmap),
        target=first.target,
        other=other,
        original=first.heatmap,
        other_map=second.heatmap,
    )


def max_sensitivity(
    model: keras.Model,
    x: Any,
    *,
    target: int | None = None,
    method: Any = "gradcam",
    layer: Any = None,
    radius: float | None = None,
    samples: int = 10,
    batch_size: int = 32,
    seed: int = 0,
) -> float:
    """The largest relative change of the map of ``target`` (default the top class) over
    ``samples`` copies of ``x`` with uniform noise of at most ``radius`` (default 2% of the
    image's value range; in the model input's units), explained ``batch_size`` at a time.

    A detector's detections change with the noise, so there is no one map per copy to
    compare: explain its boxes with ``targets=[ei.targets.Box(...)]`` on each copy instead.
    """
    samples = checked_positive_int(samples, "samples")
    batch_size = checked_positive_int(batch_size, "batch_size")
    explainer = Explainer(model, layer=layer, method=method)
    image = one_image(x, tuple(model.inputs[0].shape))[0][0]
    if radius is None:
        radius = float(image.max() - image.min()) / 50 or 0.02  # 0.02 for a constant image
    is_number = isinstance(radius, (int, float)) and not isinstance(radius, bool)
    if not is_number or not 0 < radius < float("inf"):
        raise bad_argument("radius", "a positive number (the noise's largest value)", radius)
    clean = explainer.explain(image, targets=None if target is None else [target]).targets[0]
    if clean.box is not None:
        raise bad_argument(
            "model",
            "a model whose targets are classes",
            said("a detector, whose detections change with the noise"),
            hint="Explain a drawn box on each copy: targets=[ei.targets.Box(...)].",
        )
    norm = float(np.linalg.norm(clean.heatmap))
    if norm == 0:
        raise bad_argument("x", "an image whose map has some heat", said("an all-zero map"))
    noise = np.random.default_rng(seed).uniform(-radius, radius, (samples, *image.shape))
    noisy = (image[None] + noise).astype(image.dtype)
    changes = [
        float(np.linalg.norm(expl.targets[0].heatmap - clean.heatmap)) / norm
        for start in range(0, samples, batch_size)
        for expl in explainer.explain_batch(
            noisy[start : start + batch_size], targets=[clean.target]
        )
    ]
    return max(changes)
