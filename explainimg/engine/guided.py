"""Guided backpropagation's gate, applied while the model runs (the model is not changed).

After every ReLU-family layer (a ``ReLU`` layer, or any layer whose activation is relu or
relu6) the runner inserts an identity whose gradient lets only positive gradients through
(each backend module's ``positive_gradients_only``).
The ReLU's own gradient already lets only positive activations through, so together they
give guided backpropagation (Springenberg et al., 2015).
"""

from __future__ import annotations

from typing import Any

import keras

_RELU_NAMES = ("relu", "relu6")


def is_relu(layer: Any) -> bool:
    """True for layers ending in a ReLU (plain, capped or thresholded at zero)."""
    if isinstance(layer, keras.layers.ReLU):
        return float(getattr(layer, "negative_slope", 0.0) or 0.0) == 0.0
    name = getattr(getattr(layer, "activation", None), "__name__", None)
    return name in _RELU_NAMES
