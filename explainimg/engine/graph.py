"""Walking and running a Keras 3 model's graph, nested models included, without changing it.

Keras 3 cannot build ``Model(outer.inputs, inner_layer.output)`` for a layer inside a nested
model, nor a model whose input is an intermediate tensor. So instead of building sub-models,
:func:`run_graph` executes the model node by node, exactly as ``Functional.call`` does, and
lets a :class:`GraphVisitor` see (and watch) any layer's output on the way. Calling layers on
real tensors adds no nodes to them, so the user's model is left as it was.

>>> import keras
>>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, name="conv"),
...                           keras.layers.GlobalAveragePooling2D(name="pool"),
...                           keras.layers.Dense(2, name="dense")])
>>> [ref.path for ref in iter_layers(model)]
['conv', 'pool', 'dense']
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import attrs
import keras

from ..errors import bad_argument, bad_type, said


@attrs.frozen(eq=False)
class LayerRef:
    """A layer of a model, with the nested models that lead to it (outermost first)."""

    layer: keras.layers.Layer
    containers: tuple[keras.Model, ...] = ()

    @property
    def path(self) -> str:
        """``"outer_submodel/inner_layer"`` style name, relative to the explained model."""
        return "/".join([*(model.name for model in self.containers), self.layer.name])

    @property
    def output_shape(self) -> tuple[int | None, ...] | None:
        """Static output shape of the layer (first call), or None when it has several outputs."""
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


def check_model(model: Any) -> keras.Model:
    """Raise a clear error unless ``model`` is a built Sequential/Functional single-output model."""
    if not isinstance(model, keras.Model):
        raise bad_type("model", "a keras.Model (Keras 3)", model)
    if not is_graph_model(model):
        raise bad_argument(
            "model",
            "a Sequential or Functional keras.Model whose layers can be walked",
            said(f"a subclassed model {type(model).__name__!r} without a layer graph"),
            hint="Wrap its layers in keras.Sequential or the functional API to explain it.",
        )
    if not model.built or not _has_inputs(model):
        raise bad_argument(
            "model",
            "a built model",
            said(f"{type(model).__name__} {model.name!r}, which has never been built or called"),
            hint="Give it a keras.Input(...) first layer, or call it once on a batch of images.",
        )
    if len(model.inputs) != 1:
        raise bad_argument(
            "model",
            "a model with one image input",
            said(f"a model with {len(model.inputs)} inputs"),
        )
    if len(model.outputs) != 1:
        raise bad_argument(
            "model", "a model with one output", said(f"a model with {len(model.outputs)} outputs")
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


def output_layer(model: keras.Model) -> LayerRef:
    """The layer that produces the model's output, looking inside nested models."""
    containers: tuple[keras.Model, ...] = ()
    current = model
    while True:
        if isinstance(current, keras.Sequential):
            layer = current.layers[-1]
        else:
            layer = current.outputs[0]._keras_history.operation
        if not is_graph_model(layer):
            return LayerRef(layer, containers)
        containers = (*containers, layer)
        current = layer


class GraphVisitor:
    """Hooks for :func:`run_graph`. Subclasses override :meth:`after_call`.

    ``descend`` holds the nested models to run layer by layer instead of calling them whole
    (those that contain a layer the visitor wants to see).
    """

    def __init__(self, descend: Sequence[keras.Model] = ()) -> None:
        self._descend = {id(model) for model in descend}

    def descends_into(self, layer: keras.layers.Layer) -> bool:
        return id(layer) in self._descend

    def after_call(self, layer: Any, args: Sequence[Any], outputs: Any) -> Any:
        """Called with every layer's inputs and outputs; returns the outputs to pass on."""
        return outputs


def run_graph(model: keras.Model, inputs: Any, visitor: GraphVisitor) -> Any:
    """Run ``model`` on real tensors layer by layer, showing each call to ``visitor``."""
    if isinstance(model, keras.Sequential):
        outputs = inputs
        for layer in model.layers:
            if not isinstance(layer, keras.layers.InputLayer):
                outputs = _call(layer, (outputs,), {}, visitor)
        return outputs
    return _run_functional(model, inputs, visitor)


def _run_functional(model: keras.Model, inputs: Any, visitor: GraphVisitor) -> Any:
    # Mirrors keras.src.ops.function.Function._run_through_graph (Keras 3.x).
    tensors = {
        id(ref): value for ref, value in zip(model.inputs, keras.tree.flatten(inputs), strict=False)
    }
    nodes_by_depth = model._nodes_by_depth
    for depth in sorted(nodes_by_depth, reverse=True):
        for node in nodes_by_depth[depth]:
            if node.operation is None or node.is_input:
                continue
            if any(id(ref) not in tensors for ref in node.input_tensors):
                continue
            args, kwargs = node.arguments.fill_in(tensors)
            outputs = _call(node.operation, args, kwargs, visitor)
            for ref, value in zip(node.outputs, keras.tree.flatten(outputs), strict=False):
                tensors[id(ref)] = value
    results = [tensors[id(ref)] for ref in model.outputs]
    return results[0] if len(results) == 1 else results


def _call(layer: Any, args: Sequence[Any], kwargs: dict[str, Any], visitor: GraphVisitor) -> Any:
    if visitor.descends_into(layer):
        inner_inputs = args[0] if len(args) == 1 else list(args)
        outputs = run_graph(layer, inner_inputs, visitor)
    else:
        outputs = layer(*args, **kwargs)
    return visitor.after_call(layer, args, outputs)
