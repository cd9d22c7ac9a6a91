"""Explain labelled images for an audit: the predicted class and the true class, in one pass.

>>> import keras, numpy as np
>>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3),
...     keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")])
>>> expls = explain_for_audit(model, np.zeros((2, 8, 8, 3)), labels=[2, 0])
>>> [[t.target for t in expl.targets][1] for expl in expls]
[2, 0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from ..engine.progress import progress_bar
from ..errors import bad_argument, said
from ..explainer import Explainer
from ..explanation import Explanation
from ..inputs.batches import iter_chunks
from .summary import resolve_labels


def check_label_range(labels: Sequence[int], n_classes: int) -> None:
    """Raise when a label is not a class of the model."""
    for position, label in enumerate(labels):
        if not 0 <= label < n_classes:
            raise bad_argument(
                f"labels[{position}]", f"a class id between 0 and {n_classes - 1}", label
            )


def explain_labelled_batch(
    explainer: Explainer, batch: Any, labels: Sequence[int], images: Any = None
) -> list[Explanation]:
    """Explanations of one batch with targets ``[predicted, true]`` per image (the predicted
    class is the most probable one)."""
    predicted = explainer.confidences(batch, batch_size=max(1, len(labels))).argmax(axis=1)
    targets = [[int(p), int(label)] for p, label in zip(predicted, labels, strict=True)]
    return explainer.explain_batch(batch, targets=targets, images=images)


def explain_for_audit(
    model: keras.Model,
    xs: Any,
    labels: Sequence[int | str],
    *,
    batch_size: int = 32,
    layer: Any = None,
    method: Any = "gradcam",
    target_names: Any = None,
    progress: bool = False,
) -> list[Explanation]:
    """One Explanation per image whose targets are the predicted class, then the true class
    ``labels[i]`` (an id, or a name from ``target_names``); both heatmaps come from the same
    pass. Feed the result to :func:`explainimg.audit_explanations` or
    :func:`explainimg.format_audit_as_html`. ``xs`` as in :func:`explainimg.explain_predictions`.
    """
    explainer = Explainer(model, layer=layer, method=method, target_names=target_names)
    label_ids = resolve_labels(labels, explainer.target_names)
    check_label_range(label_ids, explainer.n_classes)
    result: list[Explanation] = []
    with progress_bar(len(label_ids), enabled=progress) as bar:
        for start, chunk in iter_chunks(xs, batch_size):
            count = int(np.shape(chunk)[0]) if hasattr(chunk, "shape") else len(chunk)
            if start + count > len(label_ids):
                got = said(f"{len(label_ids)} labels")
                raise bad_argument("labels", "one label per image", got)
            result += explain_labelled_batch(explainer, chunk, label_ids[start : start + count])
            bar.update(count)
    if len(result) != len(label_ids):
        raise bad_argument(
            "labels", f"one label per image ({len(result)})", said(f"{len(label_ids)} labels")
        )
    return result
