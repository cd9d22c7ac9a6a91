"""Functional and Sequential models: inputs, outputs and layers read from the graph, without
running the model; a probe run (:mod:`explainimg.engine.probe`) only for transformers whose
blocks sit inside custom layers.

>>> import keras
>>> from explainimg.engine.anatomy import Choices
>>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, name="conv"),
...     keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)])
>>> graph_anatomy(model, Choices()).target.path
'conv'
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import keras

from .anatomy import Anatomy, Choices, blank_inputs, finish_anatomy
from .graph import LayerRef, layers_using_input, output_layer
from .layout import is_channels_first
from .model_io import ModelIO, graph_model_io
from .probe import ProbeRun, probe


def _image_branch(model: keras.Model, io: ModelIO) -> Callable[[LayerRef], bool] | None:
    """For a model with several inputs: whether a layer is on the image's branch."""
    if len(io.input_names) == 1:
        return None
    source = keras.tree.flatten(io.input_struct)[io.image_input]
    users = layers_using_input(model, source)
    return lambda ref: id((ref.containers or (ref.layer,))[0]) in users


def graph_anatomy(model: keras.Model, choices: Choices) -> Anatomy:
    """The Anatomy of a functional or Sequential ``model``."""
    io = graph_model_io(model, image_input=choices.image_input, output=choices.output)
    io = attrs.evolve(io, channels_first=is_channels_first(model))
    run: ProbeRun | None = None

    def probe_run() -> ProbeRun:
        nonlocal run
        if run is None:
            run = probe(model, blank_inputs(io))
        return run

    shape = tuple(keras.tree.flatten(model.outputs)[io.output].shape)
    output = (output_layer(model, io.output), shape)
    return finish_anatomy(
        model,
        io,
        output,
        choices,
        probe_run,
        from_graph=True,
        uses_image=_image_branch(model, io),
    )
