"""What the explainer needs to know about a model, worked out once: which input is the image,
which output is explained and how to read scores off it, which layer is explained and, for a
transformer's tokens, their patch grid.

Functional and Sequential models are read from their graph; a probe run
(:mod:`explainimg.engine.probe`) is made only where the graph does not say enough:
subclassed models, and transformers whose blocks sit inside custom layers.

>>> import keras
>>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, name="conv"),
...     keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2, activation="softmax")])
>>> anatomy = dissect(model, layer=None)
>>> anatomy.target.path, anatomy.head.kind, anatomy.grid
('conv', 'softmax', None)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import keras
import numpy as np

from ..errors import bad_argument, said
from .graph import LayerRef, check_model, is_graph_model, layers_using_input, output_layer
from .layers import resolve_layer
from .layout import is_channels_first, to_channels_last
from .model_io import ModelIO, model_io
from .outputs import OutputHead, describe_output
from .probe import ProbeRun, probe
from .tokens import TokenGrid, checked_grid, grid_error, infer_grid


@attrs.frozen(eq=False)
class Anatomy:
    """The model's inputs and output (``io``), its score ``head``, the explained layer
    (``target``, None for input methods) and ``grid``, which turns that layer's output into
    a channels-last map (a :class:`TokenGrid` for tokens, a transpose for channels-first
    maps; None when it already is one)."""

    io: ModelIO
    head: OutputHead
    target: LayerRef | None
    grid: Callable[[Any], Any] | None


def _blank_inputs(io: ModelIO) -> Any:
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


def _built_input_shape(model: keras.Model) -> tuple[int | None, ...]:
    shapes = list((getattr(model, "_build_shapes_dict", None) or {}).values())
    if len(shapes) != 1 or not isinstance(shapes[0], (tuple, list)) or len(shapes[0]) != 4:
        raise bad_argument(
            "model",
            "a subclassed model built on one batch of images (batch, height, width, channels)",
            said(f"{type(model).__name__} {model.name!r} built with input shapes {shapes}"),
        )
    return (None, *shapes[0][1:])


def _subclassed_io(model: keras.Model, image_input: Any, output: Any) -> tuple[ModelIO, ProbeRun]:
    shape = _built_input_shape(model)
    single = model_io(model, image_input=image_input, subclassed_input=(shape, "float32"))
    run = probe(model, _blank_inputs(single))
    io = model_io(
        model,
        image_input=image_input,
        output=output,
        subclassed_input=(shape, "float32"),
        subclassed_outputs=len(run.output_shapes),
    )
    return io, run


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


def _final_layer(
    model: keras.Model, io: ModelIO, probe_run: Callable[[], ProbeRun]
) -> tuple[LayerRef | None, tuple[int | None, ...] | None]:
    """The layer making the explained output (None if no layer does) and the output's shape."""
    if is_graph_model(model):
        shape = tuple(keras.tree.flatten(model.outputs)[io.output].shape)
        return output_layer(model, io.output), shape
    run = probe_run()
    source = run.output_sources[io.output]
    shape = run.output_shapes[io.output]
    final = None if source is None else run.calls[source].ref
    return final, None if shape is None else (None, *shape[1:])


def _image_branch(model: keras.Model, io: ModelIO) -> Callable[[LayerRef], bool] | None:
    """For a graph model with several inputs: whether a layer is on the image's branch."""
    if len(io.input_names) == 1 or not is_graph_model(model):
        return None
    source = keras.tree.flatten(io.input_struct)[io.image_input]
    users = layers_using_input(model, source)
    return lambda ref: id((ref.containers or (ref.layer,))[0]) in users


def dissect(
    model: Any,
    *,
    layer: Any,
    needs_layer: bool = True,
    image_input: Any = None,
    output: Any = None,
    token_grid: Any = None,
    score_functions: tuple[Callable[[Any], Any], ...] = (),
) -> Anatomy:
    """Work out the :class:`Anatomy` of ``model`` for the user's choices.

    ``score_functions``: custom score targets (the output may then have any shape)."""
    model = check_model(model, functions_too=True)
    run: ProbeRun | None = None
    if is_graph_model(model):
        io = model_io(model, image_input=image_input, output=output)
    else:
        io, run = _subclassed_io(model, image_input, output)
    io = attrs.evolve(io, channels_first=is_channels_first(model))

    def probe_run() -> ProbeRun:
        nonlocal run
        if run is None:
            run = probe(model, _blank_inputs(io))
        return run

    final, shape = _final_layer(model, io, probe_run)
    head = describe_output(shape, final)
    if score_functions:
        head = head.with_score_functions(score_functions)
    if not needs_layer:
        if token_grid is not None:
            raise bad_argument(
                "token_grid", "None for a method that explains the input", token_grid
            )
        return Anatomy(io, head, None, None)
    image_size = tuple(io.image_spec[0][1:3])
    output_is_map = head.shape is not None and len(head.shape) == 4
    target, layer_shape = resolve_layer(
        model,
        layer,
        image_size,
        probe_run,
        _image_branch(model, io),
        coarsest=output_is_map,
        channels_first=io.channels_first,
    )
    grid = _token_grid(layer_shape, token_grid, target.path, image_size)
    if io.channels_first and len(layer_shape) == 4:
        return Anatomy(io, head, target, to_channels_last)
    return Anatomy(io, head, target, grid)
