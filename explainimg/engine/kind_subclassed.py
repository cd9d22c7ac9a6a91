"""Subclassed models: the graph says nothing, so one probe run on a blank image
(:mod:`explainimg.engine.probe`) gives the layers in running order, their output shapes and
the layer that makes each output. The model must have been built on one batch of images.

>>> import keras, numpy as np
>>> from explainimg.engine.anatomy import Choices
>>> class Net(keras.Model):
...     def __init__(self):
...         super().__init__()
...         self.conv = keras.layers.Conv2D(2, 3)
...         self.pool = keras.layers.GlobalAveragePooling2D()
...     def call(self, x):
...         return self.pool(self.conv(x))
>>> net = Net(); _ = net(np.zeros((1, 8, 8, 3), "float32"))
>>> anatomy = subclassed_anatomy(net, Choices())
>>> anatomy.io.image_spec[0], anatomy.target.layer is net.conv
((None, 8, 8, 3), True)
"""

from __future__ import annotations

import attrs
import keras

from ..errors import bad_argument, said
from .anatomy import Anatomy, Choices, blank_inputs, finish_anatomy
from .layout import is_channels_first
from .model_io import single_input_io
from .probe import probe


def _built_input_shape(model: keras.Model) -> tuple[int | None, ...]:
    shapes = list((getattr(model, "_build_shapes_dict", None) or {}).values())
    if len(shapes) != 1 or not isinstance(shapes[0], (tuple, list)) or len(shapes[0]) != 4:
        raise bad_argument(
            "model",
            "a subclassed model built on one batch of images (batch, height, width, channels)",
            said(f"{type(model).__name__} {model.name!r} built with input shapes {shapes}"),
        )
    return (None, *shapes[0][1:])


def subclassed_anatomy(model: keras.Model, choices: Choices) -> Anatomy:
    """The Anatomy of a subclassed ``model``."""
    spec = (_built_input_shape(model), "float32")
    run = probe(model, blank_inputs(single_input_io(spec, image_input=choices.image_input)))
    io = single_input_io(
        spec,
        outputs=len(run.output_shapes),
        image_input=choices.image_input,
        output=choices.output,
    )
    io = attrs.evolve(io, channels_first=is_channels_first(model))
    source = run.output_sources[io.output]
    shape = run.output_shapes[io.output]
    final = None if source is None else run.calls[source].ref
    output = (final, None if shape is None else (None, *shape[1:]))
    return finish_anatomy(model, io, output, choices, lambda: run, from_graph=False)
