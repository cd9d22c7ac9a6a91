"""Seeing (and replacing) layer outputs while a model runs, for any kind of Keras model.

Keras 3 calls every layer through ``Layer.__call__``, which calls ``self.call``. For the
duration of one run, :func:`intercepted` gives the chosen layer *instances* a ``call``
attribute that calls the class's own ``call`` and passes the result through a hook; when the
run ends, normally or by an exception, the attribute is removed again, so the model is left
exactly as it was. This works the same for Sequential, functional and subclassed models, for
layers inside nested models, and for layers inside custom layers (a transformer block inside
an encoder layer), which a walk over the functional graph cannot reach.

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


@contextlib.contextmanager
def intercepted(hooks: Mapping[keras.layers.Layer, Hook]) -> Iterator[None]:
    """Within the block, every call of a layer in ``hooks`` goes through its hook."""
    with _LOCK:
        owner = threading.get_ident()
        installed: list[tuple[keras.layers.Layer, Any]] = []
        try:
            for layer, hook in hooks.items():
                installed.append((layer, vars(layer).get("call", _MISSING)))
                vars(layer)["call"] = _hooked_call(layer, hook, owner)
            yield
        finally:
            for layer, previous in reversed(installed):
                if previous is _MISSING:
                    vars(layer).pop("call", None)
                else:
                    vars(layer)["call"] = previous
