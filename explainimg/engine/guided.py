"""Backward rules for ReLUs, applied while the model runs (the model is not changed).

Two rules rewrite how a gradient passes a ReLU-family layer (a ``ReLU`` layer, or any layer
whose activation is relu or relu6), through :mod:`explainimg.engine.interception`:

- ``"guided"`` (guided backpropagation, Springenberg et al., 2015): after every ReLU an
  identity whose gradient lets only positive gradients through (each backend module's
  ``positive_gradients_only``). The ReLU's own gradient already lets only positive
  activations through, so together: ``g_in = ReLU(g_out) * [z > 0]``.
- ``"deconvnet"`` (Zeiler and Fergus, 2014): the gradient passes the ReLU as if it were a
  ReLU of the gradient alone, ``g_in = ReLU(g_out)``, whatever the sign of the ReLU's input
  ``z``. The layer's output is kept and its gradient routed to ``z`` through the same gate;
  a fused ReLU's ``z`` is reached by intercepting the layer's activation.

>>> import keras
>>> leaky = keras.layers.ReLU(negative_slope=0.1)
>>> is_relu(keras.layers.Conv2D(2, 3, activation="relu")), is_relu(leaky)
(True, False)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
from keras import ops

from ..errors import ExplanationError
from . import backend
from .interception import ActivationHook, Hook

RULES = ("guided", "deconvnet")

_RELU_NAMES = ("relu", "relu6")


def is_relu(layer: Any) -> bool:
    """True for layers ending in a ReLU (plain, capped or thresholded at zero)."""
    if isinstance(layer, keras.layers.ReLU):
        return float(getattr(layer, "negative_slope", 0.0) or 0.0) == 0.0
    name = getattr(getattr(layer, "activation", None), "__name__", None)
    return name in _RELU_NAMES


def _gate(x: Any) -> Any:
    return backend.current().positive_gradients_only(x)


def _rectified(pre_activation: Any, outputs: Any) -> Any:
    """``outputs`` forward; backward, ReLU(gradient) straight to ``pre_activation``."""
    # z - z is exactly 0, so the forward value is exactly ``outputs``.
    through = _gate(pre_activation) - ops.stop_gradient(pre_activation)
    return ops.stop_gradient(outputs) + through


def _guided(layer: Any, args: tuple, kwargs: dict, outputs: Any) -> Any:
    return _gate(outputs)


def _deconvnet_layer(layer: Any, args: tuple, kwargs: dict, outputs: Any) -> Any:
    return _rectified(args[0], outputs)


def _deconvnet_activation(activation: Callable[[Any], Any], pre_activation: Any) -> Any:
    return _rectified(pre_activation, activation(pre_activation))


def rule_hooks(
    relus: Sequence[keras.layers.Layer], rule: str | None
) -> tuple[dict[keras.layers.Layer, Hook], dict[keras.layers.Layer, ActivationHook]]:
    """(call hooks, activation hooks) that apply ``rule`` (one of :data:`RULES`, or None for
    the plain gradient) at every layer of ``relus``."""
    if rule is None:
        return {}, {}
    if rule == "guided":
        return {layer: _guided for layer in relus}, {}
    calls: dict[keras.layers.Layer, Hook] = {}
    activations: dict[keras.layers.Layer, ActivationHook] = {}
    for layer in relus:
        if isinstance(layer, keras.layers.ReLU):
            calls[layer] = _deconvnet_layer
        elif "activation" in vars(layer):
            activations[layer] = _deconvnet_activation
        else:
            raise ExplanationError(
                f"Layer {layer.name!r} ends in a ReLU that the deconvnet rule cannot reach "
                f"(its activation is not an attribute of the layer)."
            )
    return calls, activations
