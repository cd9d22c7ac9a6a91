"""Every layer of a model, including those a functional graph does not show, and the order in
which they run.

Subclassed models and custom layers (a transformer encoder holding its blocks) hide their
sublayers from the functional graph. :func:`all_layers` finds them through Keras' layer
tracking, and :func:`probe` runs the model once on one blank image with every layer
intercepted (:mod:`explainimg.engine.interception`) to learn the order the layers run in,
their output shapes and which layer's output feeds which. The run is a plain forward pass;
the model is not changed.

>>> import keras, numpy as np
>>> class Net(keras.Model):
...     def __init__(self):
...         super().__init__(name="net")
...         self.conv = keras.layers.Conv2D(2, 3, name="conv")
...         self.pool = keras.layers.GlobalAveragePooling2D(name="pool")
...     def call(self, x):
...         return self.pool(self.conv(x))
>>> model = Net()
>>> _ = model(np.zeros((1, 8, 8, 1)))
>>> [(call.ref.path, call.output_shape) for call in probe(model, np.zeros((1, 8, 8, 1))).calls]
[('conv', (1, 6, 6, 2)), ('pool', (1, 2))]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import attrs
import keras

from .graph import LayerRef
from .interception import intercepted


def _children(layer: keras.layers.Layer) -> list[keras.layers.Layer]:
    return list(layer._flatten_layers(include_self=False, recursive=False))


def all_layers(
    model: keras.layers.Layer, containers: tuple[keras.layers.Layer, ...] = ()
) -> Iterator[LayerRef]:
    """Every sublayer, depth first (children before their parent), each once."""
    seen: set[int] = set()

    def walk(layer: keras.layers.Layer, chain: tuple[keras.layers.Layer, ...]) -> Iterator[Any]:
        for child in _children(layer):
            if id(child) in seen or isinstance(child, keras.layers.InputLayer):
                continue
            seen.add(id(child))
            yield from walk(child, (*chain, child))
            yield LayerRef(child, chain, in_graph=False)

    yield from walk(model, containers)


@attrs.frozen(eq=False)
class LayerCall:
    """One layer's first call in a probe run: its output shape (None unless a single tensor),
    and the position in the run of the call whose output was its first argument (or None)."""

    ref: LayerRef
    output_shape: tuple[int | None, ...] | None
    input_from: int | None


def _shape(value: Any) -> tuple[int | None, ...] | None:
    shape = getattr(value, "shape", None)
    return None if shape is None else tuple(int(size) for size in shape)


@attrs.frozen(eq=False)
class ProbeRun:
    """What one probe run saw: the layer calls, and for each of the model's (flattened)
    outputs its shape and the position of the call that produced it (None if none did)."""

    calls: list[LayerCall]
    output_shapes: tuple[tuple[int | None, ...] | None, ...]
    output_sources: tuple[int | None, ...]


def probe(model: keras.Model, inputs: Any) -> ProbeRun:
    """Run ``model`` once on ``inputs`` (a batch of one, blank) with every layer
    intercepted; calls are listed in the order they finish (a block after its sublayers),
    each layer's first call only."""
    refs = list(all_layers(model))
    calls: list[LayerCall] = []
    called: set[int] = set()
    produced_by: dict[int, int] = {}
    kept: list[Any] = []  # outputs stay alive so that their ids are not reused
    model_outputs: list[Any] = []

    def record(ref: LayerRef) -> Any:
        def hook(layer: Any, args: tuple, kwargs: dict, outputs: Any) -> Any:
            if id(layer) not in called:
                called.add(id(layer))
                first = args[0] if args else next(iter(kwargs.values()), None)
                calls.append(LayerCall(ref, _shape(outputs), produced_by.get(id(first))))
                produced_by.setdefault(id(outputs), len(calls) - 1)
                kept.append(outputs)
            return outputs

        return hook

    def whole(layer: Any, args: tuple, kwargs: dict, outputs: Any) -> Any:
        model_outputs.extend(keras.tree.flatten(outputs))
        return outputs

    hooks = {ref.layer: record(ref) for ref in refs}
    hooks[model] = whole
    with intercepted(hooks):
        model(inputs, training=False)
    return ProbeRun(
        calls,
        tuple(_shape(output) for output in model_outputs),
        tuple(produced_by.get(id(output)) for output in model_outputs),
    )
