"""The engine's raw results for one image turned into an :class:`~explainimg.Explanation`:
targets with names, scores and heatmaps, a description saying how scores were read, and
``error`` set where nothing can be shown (non-finite values, all-zero maps).

>>> import keras, numpy as np
>>> from explainimg.engine.plans import plan_for
>>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3, name="conv"),
...     keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")])
>>> plan = plan_for(model, None, "gradcam")
>>> result = plan.compiled.run(np.ones((1, 8, 8, 3), "float32"), top=1)
>>> expl = explanation_of("net", plan, result, 0, ["a", "b", "c"], np.zeros((8, 8, 3)))
>>> expl.layer, expl.targets[0].target_name in {"a", "b", "c"}
('conv', True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from PIL import Image

from .engine.compiled import RawResult
from .engine.plans import Plan
from .engine.provenance import plan_provenance
from .explanation import Explanation, TargetExplanation
from .inputs.arguments import name_of
from .inputs.images import array_to_image

Names = Sequence[str] | Mapping[int, str] | None

_SCORE_WORDING = {
    "softmax": "scores are the logits before the softmax, probabilities its output",
    "sigmoid": "scores are the logits before the sigmoid, probabilities its output",
    "binary": "class 1 is the sigmoid unit (score = logit), class 0 its complement (-logit)",
    "logits": "scores are the model's outputs, logits by design of a KerasHub ImageClassifier, "
    "and probabilities their softmax",
    "scores": "scores are the model's outputs (no softmax or sigmoid found, so no probabilities)",
    "regression": "the score is the model's single regression output",
    "custom": "scores come from the given score functions",
}


def explanation_of(
    estimator: str,
    plan: Plan,
    result: RawResult,
    i: int,
    names: Names,
    picture: Image.Image | np.ndarray,
    source: str | None = None,
) -> Explanation:
    """The Explanation of image ``i`` of ``result``, drawn on ``picture``, for the model named
    ``estimator``; ``names`` name the classes, ``source`` is the file the image came from."""
    layer = plan.compiled.layer_path
    image = picture if isinstance(picture, Image.Image) else array_to_image(picture)
    common = dict(
        estimator=estimator,
        method=plan.method.title,
        image=image,
        layer=layer,
        is_regression=plan.head.kind == "regression",
        provenance=plan_provenance(plan.method, layer, estimator),
        source=source,
    )
    if not result.finite[i]:
        where = "its input gradients" if layer is None else f"layer {layer!r}"
        message = (
            f"The model produced non-finite values (NaN or inf) at {where} or in its "
            f"scores for this image; no explanation made."
        )
        return Explanation(description=message, targets=[], error=message, **common)
    targets = [
        TargetExplanation(
            target=int(result.targets[i, k]),
            target_name=name_of(int(result.targets[i, k]), names),
            score=float(result.scores[i, k]),
            proba=None if result.probas is None else float(result.probas[i, k]),
            heatmap=result.maps[i, k],
            attribution=None if result.attributions is None else result.attributions[i, k],
        )
        for k in range(result.targets.shape[1])
    ]
    height, width = result.maps.shape[2:]
    where = "Input" if layer is None else f"Layer {layer!r}"
    description = (
        f"{plan.method.description} {where}, {height}x{width} map; "
        f"{_SCORE_WORDING[plan.head.kind]}."
    )
    error = None
    if not any(target.heatmap.any() for target in targets):
        source = "the input" if layer is None else f"layer {layer!r}"
        error = (
            f"Every heatmap is all zero: nothing at {source} speaks for "
            f"{'this class' if len(targets) == 1 else 'these classes'} "
            f"(try another layer or method)."
        )
    return Explanation(description=description, targets=targets, error=error, **common)
