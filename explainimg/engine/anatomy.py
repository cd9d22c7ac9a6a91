"""What the explainer needs to know about a model, worked out once: which input is the image,
which output is explained and how to read scores off it, which layer is explained and, for a
transformer's tokens, their patch grid.

Each kind of model (:mod:`explainimg.engine.kinds`) reads its inputs, outputs and layers its
own way; what every kind shares is here: the :class:`Choices` the user made, the
:class:`Anatomy` that comes out, and :func:`finish_anatomy`, the last step from the
explained output to the explained layer.

>>> import keras
>>> from explainimg.engine.kinds import dissect
>>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, name="conv"),
...     keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2, activation="softmax")])
>>> anatomy = dissect(model, layer=None)
>>> anatomy.kind, anatomy.target.path, anatomy.head.kind, anatomy.grid
('graph', 'conv', 'softmax', None)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import numpy as np

from ..errors import bad_argument, said
from .graph import LayerRef
from .layers import resolve_layer
from .layout import to_channels_last
from .model_io import ModelIO
from .outputs import OutputHead, describe_output, outputs_logits
from .probe import ProbeRun
from .tokens import TokenGrid, checked_grid, grid_error, infer_grid

ImageTargets = Callable[[Any, Any, Any, Any], tuple[list[Any], str | None]]
"""(batch of one, targets, top, class names) -> (score functions, None or why there are
none)."""


@attrs.frozen
class Choices:
    """What the user chose about the model: the ``layer`` (None: automatic), the ``method``'s
    key, whether it ``needs_layer`` and whether it ``reads_confidences`` of perturbed
    images, the ``image_input`` and ``output`` of a model with several, a transformer's
    ``token_grid``, custom ``score_functions`` and a detector's ``decode`` function
    (:mod:`explainimg.engine.kind_decoded`)."""

    layer: Any = None
    method: str = "gradcam"
    needs_layer: bool = True
    reads_confidences: bool = False
    image_input: Any = None
    output: Any = None
    token_grid: Any = None
    score_functions: tuple[Callable[[Any], Any], ...] = ()
    decode: Callable[[Any], Any] | None = None


@attrs.frozen(eq=False)
class Anatomy:
    """The model's inputs and output (``io``), its score ``head``, the explained layer
    (``target``, None for input methods), ``grid``, which turns that layer's output into a
    channels-last map (a :class:`TokenGrid` for tokens, a transpose for channels-first maps;
    None when it already is one) and the model's ``kind``, the name of the registered kind
    that resolved it (set by :func:`explainimg.engine.kinds.dissect`).

    ``image_targets`` is None, or the kind's own targets for one image: a function of the
    model's batch of one, the user's ``targets``, ``top`` and class names, returning the
    score functions to explain and, when there are none, the message saying why (a
    detector's detections: :mod:`explainimg.engine.kind_detector`). ``class_count``, when
    the kind knows it, is the number of classes its targets can be of (a detector's), which
    its output's head does not show."""

    io: ModelIO
    head: OutputHead
    target: LayerRef | None
    grid: Callable[[Any], Any] | None
    kind: str | None = None
    image_targets: ImageTargets | None = None
    class_count: int | None = None


def blank_inputs(io: ModelIO) -> Any:
    """A batch of one zero input per model input, in the model's input structure."""
    blanks = []
    for name, (shape, dtype) in zip(io.input_names, io.input_specs, strict=True):
        if any(size is None for size in shape[1:]):
            raise bad_argument(
                "model",
                "inputs of a fixed size (to find the explained layer)",
                said(f"input {name!r} of shape {shape}"),
                hint="Pass layer= to name the layer to explain.",
            )
        blanks.append(np.zeros((1, *shape[1:]), dtype))
    image = blanks.pop(io.image_input)
    return io.assemble(image, blanks)


def _token_grid(
    shape: tuple[int | None, ...], token_grid: Any, path: str, image_size: tuple[Any, Any]
) -> TokenGrid | None:
    if len(shape) == 4:
        if token_grid is not None:
            raise bad_argument(
                "token_grid",
                f"None for layer {path!r}, whose output is already a 4-D map",
                token_grid,
            )
        return None
    tokens = shape[1]
    if tokens is None:
        raise bad_argument("layer", "a token layer with a fixed number of tokens", said(path))
    where = f"layer {path!r}"
    if token_grid is not None:
        return checked_grid(token_grid, int(tokens), where)
    grid = infer_grid(int(tokens), image_size)
    if grid is None:
        raise grid_error(int(tokens), where, image_size)
    return grid


def finish_anatomy(
    model: Any,
    io: ModelIO,
    output: tuple[LayerRef | None, tuple[int | None, ...] | None],
    choices: Choices,
    probe_run: Callable[[], ProbeRun],
    *,
    from_graph: bool,
    uses_image: Callable[[LayerRef], bool] | None = None,
) -> Anatomy:
    """The Anatomy from what a kind's resolver read: the ``io``, the explained ``output``
    as (the layer making it or None, its shape or None), and how to see the layers
    (``from_graph``, ``probe_run``, ``uses_image`` for the image's branch)."""
    final, shape = output
    head = describe_output(shape, final, logits=outputs_logits(model))
    if choices.score_functions:
        head = head.with_score_functions(choices.score_functions)
    if not choices.needs_layer:
        if choices.token_grid is not None:
            raise bad_argument(
                "token_grid", "None for a method that explains the input", choices.token_grid
            )
        return Anatomy(io, head, None, None)
    image_size = tuple(io.image_spec[0][1:3])
    output_is_map = head.shape is not None and len(head.shape) == 4
    target, layer_shape = resolve_layer(
        model,
        choices.layer,
        image_size,
        probe_run,
        uses_image,
        coarsest=output_is_map,
        channels_first=io.channels_first,
        from_graph=from_graph,
    )
    grid = _token_grid(layer_shape, choices.token_grid, target.path, image_size)
    if io.channels_first and len(layer_shape) == 4:
        return Anatomy(io, head, target, to_channels_last)
    return Anatomy(io, head, target, grid)
