"""``explain_prediction`` and ``show_prediction``: check the arguments, run the engine, package.

>>> import keras, numpy as np
>>> model = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Conv2D(4, 3, name="conv"),
...     keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3, activation="softmax")])
>>> expl = explain_prediction(model, np.ones((16, 16, 3), "float32"), top=2)
>>> [t.heatmap.shape for t in expl.targets], expl.layer
([(14, 14), (14, 14)], 'conv')
"""

from __future__ import annotations

import inspect
from typing import Any

import keras
import numpy as np
from PIL import Image

from .arguments import (
    checked_image,
    checked_target_names,
    checked_targets,
    checked_top,
    name_of,
    one_image,
)
from .engine.compiled import compiled_explainer
from .engine.graph import check_model
from .engine.layers import resolve_layer
from .engine.outputs import OutputHead, analyze_output
from .errors import bad_argument, said
from .explanation import Explanation, TargetExplanation
from .formatters.image import format_as_image
from .images import array_to_image
from .methods import get_method

_SCORE_WORDING = {
    "softmax": "scores are the logits before the softmax, probabilities its output",
    "sigmoid": "scores are the logits before the sigmoid, probabilities its output",
    "binary": "class 1 is the sigmoid unit (score = logit), class 0 its complement (-logit)",
    "scores": "scores are the model's outputs (no softmax or sigmoid found, so no probabilities)",
    "regression": "the score is the model's single regression output",
}


def explain_prediction(
    model: keras.Model,
    x: Any,
    *,
    targets: Any = None,
    top: int | None = None,
    layer: Any = None,
    image: Any = None,
    target_names: Any = None,
    method: str = "gradcam",
) -> Explanation:
    """Explain what the model saw in one image, for one or several classes.

    - ``x``: one image, (H, W, C) or (1, H, W, C), as a NumPy array, tf.Tensor or PIL image,
      already preprocessed for the model (a PIL image is converted and resized to the model's
      input). It is never modified.
    - ``targets``: class ids to explain, in that order; ``top=k``: the k highest-scoring
      classes, best first; neither: the top class.
    - ``layer``: None (found automatically, see :mod:`explainimg.engine.layers` for the rule),
      a layer name or ``"nested_model/layer"`` path, an index into ``model.layers``, or a Layer.
    - ``image``: the picture to show the heatmaps on (any size); default: made from ``x``.
    - ``target_names``: a list of class names (one per class) or a ``{class_id: name}`` dict.

    Scores are taken before the output softmax/sigmoid without changing the model (see
    :mod:`explainimg.engine.outputs` for single-unit sigmoid and regression outputs).

    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3),
    ...     keras.layers.Flatten(), keras.layers.Dense(4, activation="softmax")])
    >>> expl = explain_prediction(model, np.zeros((8, 8, 1)), targets=[3, 1],
    ...                           target_names=list("abcd"))
    >>> [(t.target, t.target_name) for t in expl.targets]
    [(3, 'd'), (1, 'b')]
    """
    model = check_model(model)
    head = analyze_output(model)
    batch, original = one_image(x, tuple(model.inputs[0].shape))
    names = checked_target_names(target_names, head.n_classes)
    display = checked_image(image)
    chosen_method = get_method(method)
    if targets is not None and top is not None:
        raise bad_argument(
            "targets",
            "either targets or top, not both",
            said(f"targets={targets!r} and top={top!r}"),
        )
    target_layer = resolve_layer(model, layer)
    explainer = compiled_explainer(model, target_layer, head, chosen_method)
    if targets is not None:
        ids = checked_targets(targets, head.n_classes)
        result = explainer.run(batch, targets=np.array([ids]))
    else:
        result = explainer.run(batch, top=1 if top is None else checked_top(top, head.n_classes))
    explained = [
        TargetExplanation(
            target=int(result.targets[0, k]),
            target_name=name_of(int(result.targets[0, k]), names),
            score=float(result.scores[0, k]),
            proba=None if result.probas is None else float(result.probas[0, k]),
            heatmap=result.maps[0, k],
        )
        for k in range(result.targets.shape[1])
    ]
    if display is None:
        display = original if original is not None else array_to_image(batch[0])
    return Explanation(
        estimator=model.name,
        method=chosen_method.title,
        description=_describe(chosen_method.description, target_layer.path, explained, head),
        targets=explained,
        image=display,
        layer=target_layer.path,
        is_regression=head.kind == "regression",
    )


def _describe(method: str, layer: str, targets: list[TargetExplanation], head: OutputHead) -> str:
    height, width = targets[0].heatmap.shape
    return f"{method} Layer {layer!r}, {height}x{width} map; {_SCORE_WORDING[head.kind]}."


_EXPLAIN_OPTIONS = frozenset(inspect.signature(explain_prediction).parameters) - {"model", "x"}
_FORMAT_OPTIONS = frozenset(inspect.signature(format_as_image).parameters) - {"expl"}


def show_prediction(model: keras.Model, x: Any, **options: Any) -> Image.Image:
    """Explain and draw in one step: ``format_as_image(explain_prediction(model, x, ...), ...)``.

    Each keyword goes to the step it belongs to (``targets``, ``top``, ``layer``, ``image``,
    ``target_names``, ``method`` to the explanation; ``target``, ``alpha_limit``, ``colormap``,
    ``resampling_filter`` to the picture). The returned PIL image shows itself in Jupyter.

    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3),
    ...     keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")])
    >>> show_prediction(model, np.zeros((8, 8, 3)), alpha_limit=1.0).size
    (8, 8)
    """
    unknown = sorted(set(options) - _EXPLAIN_OPTIONS - _FORMAT_OPTIONS)
    if unknown:
        raise TypeError(
            f"show_prediction() got unexpected keyword argument(s) {', '.join(unknown)}; "
            f"explanation options: {', '.join(sorted(_EXPLAIN_OPTIONS))}; "
            f"picture options: {', '.join(sorted(_FORMAT_OPTIONS))}"
        )
    explain_options = {k: v for k, v in options.items() if k in _EXPLAIN_OPTIONS}
    format_options = {k: v for k, v in options.items() if k in _FORMAT_OPTIONS}
    expl = explain_prediction(model, x, **explain_options)
    return format_as_image(expl, **format_options)
