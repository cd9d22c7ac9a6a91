"""Score targets: what number an explanation explains, for outputs that are not class scores.

``targets=`` takes class ids, or score functions like these (or any function of your own):
a score function gets the explained output as a float32 tensor of the running Keras backend,
(batch, ...) - the **logits** when the output ends in a softmax or sigmoid, the output itself
otherwise - and returns one score per image, shape (batch,) or (batch, 1), using
``keras.ops``. Score functions are traced (no NumPy or Python loops on the output); what they
return is checked in one place for every target, :mod:`explainimg.engine.scores`. Several
score functions give one heatmap each, all from one forward pass.

Written with ``keras.ops``, NumPy and attrs only: may import ``errors`` and each other, no
framework and no engine (the engine calls them). ``classes`` holds the targets on class
scores and segmentation maps, ``detections`` a detector's.

>>> import numpy as np
>>> from keras import ops
>>> logits = ops.convert_to_tensor(np.arange(2 * 4 * 4 * 3, dtype="float32").reshape(2, 4, 4, 3))
>>> mask = np.zeros((4, 4)); mask[:2, :2] = 1
>>> score = SegmentationScore(2, mask=mask)
>>> ops.convert_to_numpy(score(logits)).tolist(), score.name
([9.5, 57.5], 'class 2 in mask')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import bad_argument, said
from .classes import ClassScore, MultiLabelScore, RegressionScore, SegmentationScore
from .detections import (
    Box,
    BoxMatchScore,
    DetectionScore,
    DetectionSimilarity,
    DetectionTarget,
    box_iou,
)

__all__ = [
    "Box",
    "BoxMatchScore",
    "ClassScore",
    "DetectionScore",
    "DetectionSimilarity",
    "DetectionTarget",
    "MultiLabelScore",
    "RegressionScore",
    "SegmentationScore",
    "box_iou",
    "is_score_function",
    "score_functions",
    "score_name",
]


def is_score_function(target: Any) -> bool:
    """True for a score function (anything callable that is not a class id)."""
    return callable(target) and not isinstance(target, (int, np.integer))


def score_functions(targets: Any) -> tuple[Any, ...] | None:
    """The score functions in ``targets`` (one or a list of them), or None for class ids."""
    if is_score_function(targets):
        return (targets,)
    if isinstance(targets, Sequence) and not isinstance(targets, (str, bytes)) and targets:
        flags = [is_score_function(target) for target in targets]
        if all(flags):
            return tuple(targets)
        if any(flags):
            raise bad_argument(
                "targets",
                "class ids or score functions, not a mix",
                said(f"{len(targets)} targets, {sum(flags)} of them functions"),
            )
    return None


def score_name(function: Any) -> str:
    """A readable name for a score function."""
    name = getattr(function, "name", None)
    if isinstance(name, str):
        return name
    return getattr(function, "__name__", type(function).__name__)
