"""Which Keras backend runs, and the small module that knows how to differentiate on it.

Everything else in explainimg is written once with ``keras.ops``; only three things differ
per backend, and each backend module (``backend_tensorflow``, ``backend_jax``,
``backend_torch``) provides them:

- ``compile(function, model, specs)``: the function compiled for repeated calls
  (``tf.function``, ``jax.jit`` over the model's variables, or plain eager on PyTorch);
- ``record(forward, images, layer_shape, second_order)``: one forward pass that can then give
  gradients of the scores with respect to the input or the explained layer's output, as
  often as needed, and Hessian-vector products at that layer (``second_order``);
  ``record_points(forward, images)``: the same with respect to every tensor the forward
  passes through ``at_layer`` (the bias points of :mod:`explainimg.engine.full_gradients`);
- ``positive_gradients_only(x)``: identity whose gradient keeps only the positive part
  (guided backpropagation), plus ``sequential_map`` for loops that hold one step in memory
  and ``fused(function)``, elementwise arithmetic compiled into one kernel where the backend
  does not fuse it by itself (TensorFlow).

>>> current().NAME in SUPPORTED
True
"""

from __future__ import annotations

import importlib
from types import ModuleType

import keras

from ..errors import ExplanationError

SUPPORTED = ("tensorflow", "jax", "torch")


def current() -> ModuleType:
    """The backend module for ``keras.backend.backend()``; a clear error for other backends."""
    name = keras.backend.backend()
    if name not in SUPPORTED:
        raise ExplanationError(
            f"explainimg runs on the Keras backends {', '.join(map(repr, SUPPORTED))}; "
            f"this Keras runs on {name!r}. Set KERAS_BACKEND to one of them before importing "
            f"keras (for example KERAS_BACKEND=jax)."
        )
    return importlib.import_module(f"{__package__}.backend_{name}")
