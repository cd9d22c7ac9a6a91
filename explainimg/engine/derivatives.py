"""Closed-form derivatives of common elementwise nonlinearities, f'(z) from z and y = f(z).

DeepLIFT's rescale rule (:mod:`explainimg.engine.rule_gradients`) falls back on f'(z) where a
unit's input hardly differs from its reference. Computed in the rule's own kernel from the
tensors it already has, f' spares TensorFlow a second gradient path through the layer (its
own activation gradient and a sum of the two paths at every nonlinearity: 0.25x saliency's
cost on MobileNetV2). Conventions at a kink follow the backends' gradients (ReLU'(0) = 0,
ReLU6' = 0 at 0 and 6). ``None``: a nonlinearity not in the table, differentiated through
the layer as before.

>>> import keras
>>> relu = derivative_of(keras.layers.ReLU(6.0))
>>> z = keras.ops.convert_to_tensor([-1.0, 0.0, 3.0, 6.0, 7.0])
>>> keras.ops.convert_to_numpy(relu(z, keras.ops.relu6(z))).tolist()
[0.0, 0.0, 1.0, 0.0, 0.0]
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import keras
from keras import layers, ops

Derivative = Callable[[Any, Any], Any]
"""``derivative(z, y)``: f'(z), given y = f(z)."""


@functools.cache
def _relu(max_value: float | None) -> Derivative:
    def derivative(z: Any, y: Any) -> Any:
        inside = z > 0 if max_value is None else ops.logical_and(z > 0, z < max_value)
        return ops.cast(inside, z.dtype)

    return derivative


def _sigmoid(z: Any, y: Any) -> Any:
    return y * (1.0 - y)


def _tanh(z: Any, y: Any) -> Any:
    return 1.0 - y * y


_BY_FUNCTION: dict[Any, Derivative] = {
    keras.activations.relu: _relu(None),
    keras.activations.relu6: _relu(6.0),
    keras.activations.sigmoid: _sigmoid,
    keras.activations.tanh: _tanh,
}


def derivative_of(layer: Any) -> Derivative | None:
    """f' of the elementwise nonlinearity a layer applies (an activation layer's, or the
    activation fused into a layer), or None where the table has none."""
    if isinstance(layer, layers.ReLU):
        if float(layer.negative_slope) != 0.0 or float(layer.threshold) != 0.0:
            return None
        return _relu(None if layer.max_value is None else float(layer.max_value))
    activation = getattr(layer, "activation", None)
    try:
        return _BY_FUNCTION.get(activation)
    except TypeError:  # an unhashable callable
        return None
