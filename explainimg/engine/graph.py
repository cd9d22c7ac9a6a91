"""Walking a Keras 3 model's functional graph, nested models included, without running it.

The layers are listed in running order with the nested models that hold them, so that a
layer can be found by name or path and the default layer chosen from static output shapes.
Running the model while seeing a layer's output is :mod:`explainimg.engine.interception`'s
job.

>>> import keras
>>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, name="conv"),
...                           keras.layers.GlobalAveragePooling2D(name="pool"),
...                           keras.layers.Dense(2, name="dense")])
>>> [ref.path for ref in iter_layers(model)]
['conv', 'pool', 'dense']
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePath
from typing import Any

import attrs
import keras

from ..errors import bad_argument, bad_type, said


@attrs.frozen(eq=False)
class LayerRef:
    """A layer of a model, with the nested models or layers that hold it (outermost first)."""

    layer: keras.layers.Layer
    containers: tuple[keras.layers.Layer, ...] = ()
    in_graph: bool = True
    """False for layers a functional graph does not show (inside custom layers or
    subclassed models): their ``output`` attribute says nothing about this model."""

    @property
    def path(self) -> str:
        """``"outer_submodel/inner_layer"`` style name, relative to the explained model."""
        return "/".join([*(model.name for model in self.containers), self.layer.name])

    @property
    def output_shape(self) -> tuple[int | None, ...] | None:
        """Static output shape of the layer (first call), or None when it has several outputs
        or is not a node of a functional graph."""
        if not self.in_graph:
            return None
        try:
            output = self.layer.output
        except (AttributeError, ValueError):
            return None
        if isinstance(output, (list, tuple, dict)):
            return None
        return tuple(output.shape)


def is_graph_model(layer: Any) -> bool:
    """True for Sequential and Functional models, whose layers can be walked."""
    return isinstance(layer, keras.Sequential) or (
        isinstance(layer, keras.Model) and hasattr(layer, "_nodes_by_depth")
    )


def check_model(model: Any, functions_too: bool = False) -> keras.Model:
    """Raise a clear error unless ``model`` is a built Keras 3 model (``functions_too``: the
    caller also takes plain functions, and the message says so)."""
    if not isinstance(model, keras.Model):
        expected = "a keras.Model (Keras 3)"
        if functions_too:
            expected += " or a function from images to scores"
        hint = ""
        if isinstance(model, (str, PurePath)):
            hint = f"Load the file first: model = keras.saving.load_model({str(model)!r})."
        raise bad_type("model", expected, model, hint=hint)
    built = model.built and (not is_graph_model(model) or _has_inputs(model))
    if not built:
        raise bad_argument(
            "model",
            "a built model",
            said(f"{type(model).__name__} {model.name!r}, which has never been built or called"),
            hint="Give it a keras.Input(...) first layer, or call it once on a batch of images.",
        )
    return model


def _has_inputs(model: keras.Model) -> bool:
    try:
        return bool(model.inputs)
    except (AttributeError, ValueError):
        return False


def iter_layers(model: keras.Model, containers: tuple[keras.Model, ...] = ()) -> Iterator[LayerRef]:
    """Every layer in topological order; a nested model's layers come before the model itself."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if is_graph_model(layer):
            yield from iter_layers(layer, (*containers, layer))
        yield LayerRef(layer, containers)


def output_layer(model: keras.Model, index: int = 0) -> LayerRef:
    """The layer that produces the model's output ``index`` (flattened), looking inside
    nested models."""
    containers: tuple[keras.Model, ...] = ()
    current = model
    while True:
        if isinstance(current, keras.Sequential):
            layer = current.layers[-1]
        else:
            layer = current.outputs[index]._keras_history.operation
            index = current.outputs[index]._keras_history.tensor_index
        if not is_graph_model(layer):
            return LayerRef(layer, containers)
        containers = (*containers, layer)
        current = layer


def layers_using_input(model: keras.Model, source: Any) -> set[int]:
    """Ids of the model's top-level layers whose outputs depend on input tensor ``source``
    (for a model with several inputs: the layers of the explained image's branch)."""
    return _reached(model, source, downstream=True)


def layers_feeding(model: keras.Model, target: Any) -> set[int]:
    """Ids of the model's top-level layers that output tensor ``target`` depends on."""
    return _reached(model, target, downstream=False)


def _reached(model: keras.Model, start: Any, *, downstream: bool) -> set[int]:
    """Ids of the top-level layers reached from tensor ``start`` through the graph, towards
    the outputs (``downstream``) or towards the inputs."""
    if isinstance(model, keras.Sequential):
        return {id(layer) for layer in model.layers}
    marked = {id(start)}
    reached: set[int] = set()
    for depth in sorted(model._nodes_by_depth, reverse=downstream):
        for node in model._nodes_by_depth[depth]:
            if node.operation is None or node.is_input:
                continue
            sources, sinks = (
                (node.input_tensors, node.outputs)
                if downstream
                else (node.outputs, node.input_tensors)
            )
            if any(id(tensor) in marked for tensor in sources):
                marked.update(id(tensor) for tensor in sinks)
                reached.add(id(node.operation))
    return reached
