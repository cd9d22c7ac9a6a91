"""Seeing (and replacing) layer outputs while a model runs, for any kind of Keras model.

Keras 3 calls every layer through ``Layer.__call__``, which calls ``self.call``. For the
duration of one run, :func:`intercepted` gives the chosen layer *instances* a ``call``
attribute that calls the class's own ``call`` and passes the result through a hook; when the
run ends, normally or by an exception, the attribute is removed again, so the model is left
exactly as it was. This works the same for Sequential, functional and subclassed models, for
layers inside nested models, and for layers inside custom layers (a transformer block inside
an encoder layer), which a walk over the functional graph cannot reach.

A layer's fused activation (``Conv2D(activation="relu")``) can be intercepted the same way:
``activations`` maps a layer to ``hook(original_activation, pre_activation)``, which is what
the layer's ``call`` then uses in place of its ``activation`` attribute (the input of a fused
ReLU is otherwise never seen outside the layer).

Only the thread that installed the hooks sees them; a lock keeps two runs from hooking the
same model at once (on TensorFlow and JAX this happens only while a function is traced).

>>> import keras, numpy as np
>>> dense = keras.layers.Dense(2, kernel_initializer="ones", name="dense")
>>> model = keras.Sequential([keras.Input((3,)), dense])
>>> with intercepted({dense: lambda layer, args, kwargs, out: out * 0}):
...     hooked = keras.ops.convert_to_numpy(model(np.ones((1, 3))))
>>> hooked.tolist(), "call" in vars(dense)
([[0.0, 0.0]], False)
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import keras

Hook = Callable[[keras.layers.Layer, tuple[Any, ...], dict[str, Any], Any], Any]
"""``hook(layer, args, kwargs, outputs)`` -> the outputs the model goes on with."""
ActivationHook = Callable[[Callable[[Any], Any], Any], Any]
"""``hook(activation, pre_activation)`` -> the activation's output the layer goes on with."""

_LOCK = threading.RLock()


_MISSING = object()


def _hooked_call(layer: keras.layers.Layer, hook: Hook, owner: int) -> Callable[..., Any]:
    original = layer.call

    def call(*args: Any, **kwargs: Any) -> Any:
        outputs = original(*args, **kwargs)
        if threading.get_ident() != owner:
            return outputs
        return hook(layer, args, kwargs, outputs)

    return call


def _hooked_activation(
    layer: keras.layers.Layer, hook: ActivationHook, owner: int
) -> Callable[[Any], Any]:
    original = layer.activation

    def activation(x: Any) -> Any:
        if threading.get_ident() != owner:
            return original(x)
        return hook(original, x)

    return activation


@contextlib.contextmanager
def intercepted(
    hooks: Mapping[keras.layers.Layer, Hook],
    activations: Mapping[keras.layers.Layer, ActivationHook] | None = None,
) -> Iterator[None]:
    """Within the block, every call of a layer in ``hooks`` goes through its hook, and every
    layer in ``activations`` applies its activation through its activation hook."""
    with _LOCK:
        owner = threading.get_ident()
        installed: list[tuple[keras.layers.Layer, str, Any]] = []
        try:
            for layer, hook in hooks.items():
                installed.append((layer, "call", vars(layer).get("call", _MISSING)))
                vars(layer)["call"] = _hooked_call(layer, hook, owner)
            for layer, activation_hook in (activations or {}).items():
                installed.append((layer, "activation", vars(layer)["activation"]))
                vars(layer)["activation"] = _hooked_activation(layer, activation_hook, owner)
            yield
        finally:
            for layer, name, previous in reversed(installed):
                if previous is _MISSING:
                    vars(layer).pop(name, None)
                else:
                    vars(layer)[name] = previous
