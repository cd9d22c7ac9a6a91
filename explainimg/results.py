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
from typing import Any

import attrs
import numpy as np
from PIL import Image

from .engine.compiled import RawResult
from .engine.plans import Plan
from .engine.provenance import plan_provenance
from .explanation import Explanation, TargetExplanation
from .inputs.arguments import name_of
from .inputs.images import array_to_image
from .targets import DetectionTarget, score_name

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
    *,
    input_size: tuple[int, int] | None = None,
    functions: Sequence[Any] = (),
) -> Explanation:
    """The Explanation of image ``i`` of ``result``, drawn on ``picture``, for the model named
    ``estimator``; ``names`` name the classes, ``source`` is the file the image came from,
    ``functions`` the image's score functions (none for class ids). A target's ``box`` (a
    score function's ``input_box``, in pixels of the model's input of ``input_size`` =
    (width, height)) is scaled to the picture's pixels."""
    layer = plan.compiled.layer_path
    common = _common(estimator, plan, picture, source)
    width, height = common["image"].size
    scale = (1.0, 1.0) if input_size is None else (width / input_size[0], height / input_size[1])
    if not result.finite[i]:
        where = "its input gradients" if layer is None else f"layer {layer!r}"
        message = (
            f"The model produced non-finite values (NaN or inf) at {where} or in its "
            f"scores for this image; no explanation made."
        )
        return Explanation(description=message, targets=[], error=message, **common)
    targets = [
        TargetExplanation(
            *_identity(_score_function(functions, int(result.targets[i, k])), result, i, k, names),
            score=float(result.scores[i, k]),
            proba=_proba_of(functions, result, i, k),
            heatmap=result.maps[i, k],
            attribution=None if result.attributions is None else result.attributions[i, k],
            box=_box_of(functions, int(result.targets[i, k]), scale),
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


def _common(
    estimator: str, plan: Plan, picture: Image.Image | np.ndarray, source: str | None
) -> dict[str, Any]:
    layer = plan.compiled.layer_path
    return dict(
        estimator=estimator,
        method=plan.method.title,
        image=picture if isinstance(picture, Image.Image) else array_to_image(picture),
        layer=layer,
        is_regression=plan.head.kind == "regression",
        provenance=plan_provenance(plan.method, layer, estimator),
        source=source,
    )


def _score_function(functions: Sequence[Any], target: int) -> Any:
    return functions[target] if target < len(functions) else None


def _identity(
    function: Any, result: RawResult, i: int, k: int, names: Names
) -> tuple[int, str | None]:
    """(target, target_name) of target ``k``: a detection's class id and class name (None
    when no names were given), else the class id (a score function's position) and its
    name."""
    if isinstance(function, DetectionTarget):
        return function.class_id, function.class_name
    target = int(result.targets[i, k])
    return target, name_of(target, names)


def _box_of(
    functions: Sequence[Any], target: int, scale: tuple[float, float]
) -> tuple[float, float, float, float] | None:
    """The ``input_box`` (x0, y0, x1, y1, input pixels) of a score function that explains a
    box of the input (a :class:`~explainimg.targets.DetectionScore`) times ``scale`` (x, y),
    else None."""
    box = getattr(_score_function(functions, target), "input_box", None)
    if box is None:
        return None
    x0, y0, x1, y1 = (float(v) for v in box)
    sx, sy = scale
    return (x0 * sx, y0 * sy, x1 * sx, y1 * sy)


def _proba_of(functions: Sequence[Any], result: RawResult, i: int, k: int) -> float | None:
    """A score function's ``confidence`` (a detector's, in its detection), else the model's
    probability of target ``k``, else None."""
    confidence = getattr(_score_function(functions, int(result.targets[i, k])), "confidence", None)
    if confidence is not None:
        return float(confidence)
    return None if result.probas is None else float(result.probas[i, k])


def no_targets_explanation(
    estimator: str,
    plan: Plan,
    message: str,
    picture: Image.Image | np.ndarray,
    source: str | None = None,
) -> Explanation:
    """An Explanation with no targets, whose ``error`` (and description) is ``message``: the
    model's kind found nothing to explain in the image (a detector, no detection)."""
    common = _common(estimator, plan, picture, source)
    return Explanation(description=message, targets=[], error=message, **common)


@attrs.frozen
class ImageRows:
    """The images of one call (``batch``, with the model's other inputs ``extras``), what
    each is drawn on (``pictures``), the file it came from (``sources``, as long as the
    batch or shorter) and, when they have them, its own score functions (``functions``)."""

    batch: np.ndarray
    extras: list[np.ndarray]
    pictures: list[Any]
    sources: list[str | None] = attrs.field(converter=list)
    functions: list[tuple[Any, ...]] = attrs.Factory(list)

    def __attrs_post_init__(self) -> None:
        self.sources.extend([None] * (len(self.batch) - len(self.sources)))

    @property
    def indices(self) -> list[int]:
        return list(range(len(self.batch)))

    def with_functions(self, functions: list[tuple[Any, ...]]) -> ImageRows:
        return attrs.evolve(self, functions=functions)

    def subset(self, kept: list[int]) -> ImageRows:
        return ImageRows(
            self.batch[kept],
            [extra[kept] for extra in self.extras],
            [self.pictures[i] for i in kept],
            [self.sources[i] for i in kept],
            [self.functions[i] for i in kept] if self.functions else [],
        )

    def explanation(
        self, estimator: str, plan: Plan, result: RawResult, j: int, names: Names, i: int = -1
    ) -> Explanation:
        """Row ``j`` of ``result`` as the Explanation of image ``i`` of these rows (default
        ``j``); the targets of an image with score functions are named by them."""
        i = j if i < 0 else i
        functions = self.functions[i] if self.functions else ()
        if functions:
            names = {k: score_name(function) for k, function in enumerate(functions)}
        size = (self.batch.shape[2], self.batch.shape[1])
        picture, source = self.pictures[i], self.sources[i]
        return explanation_of(
            estimator, plan, result, j, names, picture, source, input_size=size, functions=functions
        )
