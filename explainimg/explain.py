"""The public entry points: explain one image, many images, explain and draw in one step, or
compare methods on one image.

>>> import keras, numpy as np
>>> model = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Conv2D(4, 3, name="conv"),
...     keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3, activation="softmax")])
>>> expl = explain_prediction(model, np.ones((16, 16, 3), "float32"), top=2)
>>> [t.heatmap.shape for t in expl.targets], expl.layer
([(14, 14), (14, 14)], 'conv')
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from typing import Any

import keras
from matplotlib.figure import Figure
from PIL import Image

from .engine.kind_function import as_model, example_shape
from .errors import bad_type
from .explainer import Explainer
from .explanation import Explanation
from .formatters.image import format_as_image, labelled, side_by_side
from .formatters.plot import plot_comparison
from .formatters.summary import target_label
from .methods import get_method


def _explainer(model: Any, image_shape: tuple[int, ...] | None, **options: Any) -> Explainer:
    """The Explainer for ``model`` (a plain function is wrapped for images of
    ``image_shape``)."""
    return Explainer(as_model(model, image_shape), **options)


def explain_prediction(
    model: keras.Model,
    x: Any,
    *,
    targets: Any = None,
    top: int | None = None,
    layer: Any = None,
    image: Any = None,
    target_names: Any = None,
    method: Any = "gradcam",
    output: Any = None,
    image_input: Any = None,
    token_grid: Any = None,
    preprocess: Any = None,
    size: Any = None,
    decode: Any = None,
) -> Explanation:
    """Explain what the model saw in one image, for one or several classes.

    - ``x``: one image, (H, W, C) or (1, H, W, C), as a NumPy array, tf.Tensor or PIL image
      (converted and resized to the model's input), preprocessed for the model unless
      ``preprocess`` is given. It is never modified. A model with several inputs takes a
      dict by input name or a list, as ``model.predict`` does.
    - ``targets``: class ids to explain, in that order, or score functions
      (:mod:`explainimg.targets`); ``top=k``: the k highest-scoring classes, best first;
      neither: the top class. For a KerasHub RetinaNet (docs/detection.md): neither means
      each of its detections (at most 10), ``top=k`` the k most confident, and ``targets``
      may hold boxes (``ei.targets.Box``); an image without detections gives an Explanation
      with no targets whose ``error`` says so.
    - ``layer``: None (found automatically, see :mod:`explainimg.engine.layers` for the rule),
      a layer name or ``"nested_model/layer"`` path, an index into ``model.layers``, or a Layer.
    - ``image``: the picture to show the heatmaps on (any size); default: made from ``x``.
    - ``target_names``: a list of class names (one per class) or a ``{class_id: name}`` dict.
    - ``method``: ``"gradcam"`` (default) or any key of :data:`explainimg.methods.METHODS`
      (docs/methods.md lists them), or a configured instance from :mod:`explainimg.methods`
      (``SmoothGrad(samples=50)``, ``GradCAM(smooth="aug")``).
    - ``output``: which output to explain (name or index) when the model has several;
      ``image_input``: which input is the explained image when several are 4-D.
    - ``token_grid``: (h, w) patch grid of a transformer layer's tokens, when it cannot be
      inferred; ``preprocess``: a function from the pictures in ``x`` to model inputs, or
      ``"model"`` for a KerasHub model's own preprocessor (overlays show ``x`` as given).
    - ``size``: (width, height) to resize PIL images to, for a model whose input leaves
      height and width open (``keras.Input((None, None, 3))``). Without it such a model is
      fed each PIL image at its own size, and arrays always at theirs.
    - ``decode``: a function from the model's raw outputs to its detections (boxes, labels,
      confidences), to explain a detector that is not a KerasHub one like one
      (docs/detection.md, :mod:`explainimg.engine.kind_decoded`).

    Scores are taken before the output softmax/sigmoid without changing the model (see
    :mod:`explainimg.engine.outputs` for single-unit sigmoid and regression outputs).
    ``model`` may also be a plain function from images to scores, for the black-box methods
    (:mod:`explainimg.engine.kind_function` says what it must return).

    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3),
    ...     keras.layers.Flatten(), keras.layers.Dense(4, activation="softmax")])
    >>> expl = explain_prediction(model, np.zeros((8, 8, 1)), targets=[3, 1],
    ...                           target_names=list("abcd"))
    >>> [(t.target, t.target_name) for t in expl.targets]
    [(3, 'd'), (1, 'b')]
    """
    explainer = _explainer(
        model,
        example_shape(x, batched=False),
        layer=layer,
        method=method,
        output=output,
        image_input=image_input,
        token_grid=token_grid,
        preprocess=preprocess,
        size=size,
        decode=decode,
    )
    return explainer.explain(x, targets=targets, top=top, image=image, target_names=target_names)


def explain_predictions(
    model: keras.Model,
    xs: Any,
    *,
    batch_size: int = 32,
    targets: Any = None,
    top: int | None = None,
    layer: Any = None,
    target_names: Any = None,
    method: Any = "gradcam",
    progress: bool = False,
    output: Any = None,
    image_input: Any = None,
    token_grid: Any = None,
    preprocess: Any = None,
    size: Any = None,
    decode: Any = None,
) -> Iterator[Explanation]:
    """Explain many images, ``batch_size`` at a time; yields one Explanation per image, in order.

    ``xs``: an array or tensor (N, H, W, C), a list or iterable of images (arrays or PIL), or a
    ``tf.data.Dataset`` of images or (images, labels) pairs, batched or not. Only one batch is
    in memory at a time; ``list(...)`` the result to keep them all. ``targets``: class ids for
    every image, or one list per image. ``progress=True`` shows a progress bar. An image for
    which the model produces NaN/inf comes back with ``error`` set and no targets. The other
    options are those of :func:`explain_prediction`.

    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3),
    ...     keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")])
    >>> expls = list(explain_predictions(model, np.zeros((5, 8, 8, 3)), batch_size=2, top=3))
    >>> len(expls), len(expls[0].targets)
    (5, 3)
    """
    explainer = _explainer(
        model,
        example_shape(xs, batched=True),
        layer=layer,
        method=method,
        output=output,
        image_input=image_input,
        token_grid=token_grid,
        preprocess=preprocess,
        size=size,
        decode=decode,
    )
    return explainer.explain_stream(
        xs,
        batch_size=batch_size,
        targets=targets,
        top=top,
        target_names=target_names,
        progress=progress,
    )


_EXPLAIN_OPTIONS = frozenset(inspect.signature(explain_prediction).parameters) - {"model", "x"}
_FORMAT_OPTIONS = frozenset(inspect.signature(format_as_image).parameters) - {"expl"}


def show_prediction(model: keras.Model, x: Any, **options: Any) -> Image.Image:
    """Explain and draw in one step: ``format_as_image(explain_prediction(model, x, ...), ...)``.

    Each keyword goes to the step it belongs to (``targets``, ``top``, ``layer``, ``image``,
    ``target_names``, ``method`` to the explanation; ``target``, ``alpha_limit``, ``colormap``,
    ``resampling_filter`` to the picture). The returned PIL image shows itself in Jupyter.
    With several classes (``top=3``, ``targets=[...]``) and no ``target=``, it holds all their
    overlays in a row, in the order of ``expl.targets``, each labelled "class name, p=...";
    ``target=i`` gives only the i-th.

    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3),
    ...     keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")])
    >>> show_prediction(model, np.zeros((8, 8, 3)), alpha_limit=1.0).size
    (8, 8)
    >>> show_prediction(model, np.zeros((8, 8, 3)), top=2).size  # two labelled overlays
    (20, 26)
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
    if "target" in format_options or len(expl.targets) == 1:
        return format_as_image(expl, **format_options)
    return side_by_side(
        [
            labelled(format_as_image(expl, target=i, **format_options), target_label(target))
            for i, target in enumerate(expl.targets)
        ]
    )


_COMPARE_FORMAT_OPTIONS = frozenset(inspect.signature(plot_comparison).parameters) - {"expls"}


def compare_methods(
    model: keras.Model,
    x: Any,
    *,
    methods: Sequence[Any] = ("gradcam", "gradcam++", "layercam", "saliency"),
    **options: Any,
) -> Figure:
    """Explain ``x`` with each of ``methods`` (keys or configured methods) and draw a grid:
    one row per target, one column per method. The figure shows itself in Jupyter.

    Keywords go to :func:`explain_prediction` (``targets``, ``top``, ``target_names``,
    ``image``, ``layer``, ...; ``layer`` only to the methods that use one) or to
    :func:`~explainimg.formatters.plot.plot_comparison` (``alpha_limit``, ``colormap``,
    ``clip``, ``panel_size``, ...).

    >>> import keras, numpy as np
    >>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3),
    ...     keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")])
    >>> figure = compare_methods(model, np.zeros((8, 8, 3)), methods=["gradcam", "saliency"],
    ...                          top=2)
    >>> [axes.get_title() for axes in figure.axes[:3]]
    ['input', 'Grad-CAM', 'Saliency']
    """
    unknown = sorted(set(options) - (_EXPLAIN_OPTIONS - {"method"}) - _COMPARE_FORMAT_OPTIONS)
    if unknown:
        raise TypeError(
            f"compare_methods() got unexpected keyword argument(s) {', '.join(unknown)}; "
            f"explanation options: {', '.join(sorted(_EXPLAIN_OPTIONS))}; "
            f"figure options: {', '.join(sorted(_COMPARE_FORMAT_OPTIONS))}"
        )
    if isinstance(methods, (str, bytes)) or not isinstance(methods, Sequence) or not methods:
        raise bad_type("methods", "a non-empty list of method keys or methods", methods)
    explain_options = {k: v for k, v in options.items() if k in _EXPLAIN_OPTIONS}
    figure_options = {k: v for k, v in options.items() if k in _COMPARE_FORMAT_OPTIONS}
    expls = []
    for method in methods:
        chosen = get_method(method)
        method_options = dict(explain_options)
        if not chosen.needs_layer:
            method_options.pop("layer", None)
        expls.append(explain_prediction(model, x, method=chosen, **method_options))
    return plot_comparison(expls, **figure_options)
