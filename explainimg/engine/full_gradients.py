"""The bias-gradients of the full-gradient decomposition (Srinivas and Fleuret, 2019).

For a network built of affine maps and piecewise-linear activations, the score splits
exactly into its input-gradient and bias-gradient parts::

    s(x) = sum x * ds/dx + sum_layers sum b * ds/db

where ``ds/db`` of a layer whose output is ``z = W x + b`` is the gradient at ``z``, summed
over the positions ``b`` is broadcast to. :class:`BiasSites` reaches every such ``z`` while
the model runs, through :mod:`explainimg.engine.interception` (the model is not changed):

- convolutions, ``Dense`` and ``EinsumDense`` with a bias: the bias is added just before the
  layer's activation, so ``z`` is the activation's input (reached by an activation hook,
  a fused ReLU included);
- ``BatchNormalization`` (inference): an affine map per channel, whose effective bias is
  ``beta - gamma * mean / sqrt(variance + epsilon)``; ``z`` is its output;
- the preprocessing layers ``Rescaling`` (bias: its ``offset``) and ``Normalization``
  (``-mean / sqrt(variance)``): affine maps too, whose biases would otherwise be missing
  from the sum (a model that scales its pixels to [-1, 1] has one).

Left out, on purpose: normalisations that depend on their input (``LayerNormalization``,
``GroupNormalization``, ``UnitNormalization``) are not affine maps of it, so no fixed bias
splits off from them, and recurrent cells (their biases sit inside the recurrence). The
projections of an attention layer are ``EinsumDense`` layers and count as such, but the
attention product is not piecewise linear: the decomposition is exact only for networks of
affine layers and piecewise-linear activations (as in the paper). The final
layer of a softmax/sigmoid output whose logits the engine recomputes (see
:meth:`explainimg.engine.outputs.OutputHead.logits`) is left out too: its bias is a constant
per class, not a map.

The backend watches (TensorFlow, PyTorch) or perturbs by zero (JAX) each ``z`` through the
``at_point`` function it gives the forward pass; :meth:`BiasSites.terms` turns the gradients
at those points into ``b * ds/dz`` with the channels last.

>>> import keras
>>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Rescaling(2.0, name="r"),
...     keras.layers.Conv2D(4, 3, name="c"),
...     keras.layers.BatchNormalization(name="bn"), keras.layers.LayerNormalization(),
...     keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2, name="d")])
>>> [layer.name for layer in biased_layers(model.layers)]
['r', 'c', 'bn', 'd']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import keras
from keras import ops

from .interception import ActivationHook, Hook
from .outputs import OutputHead
from .probe import all_layers

_BIASED_BEFORE_ACTIVATION = (
    keras.layers.Conv1D,
    keras.layers.Conv2D,
    keras.layers.Conv3D,
    keras.layers.Conv1DTranspose,
    keras.layers.Conv2DTranspose,
    keras.layers.Conv3DTranspose,
    keras.layers.DepthwiseConv1D,
    keras.layers.DepthwiseConv2D,
    keras.layers.SeparableConv1D,
    keras.layers.SeparableConv2D,
    keras.layers.Dense,
    keras.layers.EinsumDense,
)


_AFFINE_OUTPUT = (
    keras.layers.BatchNormalization,
    keras.layers.Rescaling,
    keras.layers.Normalization,
)
"""Affine layers with no activation: ``z`` is their output."""
_BROADCAST_BIAS = (keras.layers.EinsumDense, keras.layers.Rescaling, keras.layers.Normalization)
"""Layers whose bias broadcasts against their output as it is (no channel axis to place)."""


def _has_bias(layer: Any) -> bool:
    if isinstance(layer, _AFFINE_OUTPUT):
        return not getattr(layer, "invert", False)
    return (
        isinstance(layer, _BIASED_BEFORE_ACTIVATION)
        and getattr(layer, "bias", None) is not None
        and "activation" in vars(layer)
    )


def biased_layers(layers: Iterable[Any]) -> list[Any]:
    """The layers among ``layers`` with a bias FullGrad counts (see the module docstring)."""
    return [layer for layer in layers if _has_bias(layer)]


def _channel_axis(layer: Any) -> int:
    if isinstance(layer, keras.layers.BatchNormalization):
        return layer.axis if isinstance(layer.axis, int) else layer.axis[0]
    return 1 if getattr(layer, "data_format", "channels_last") == "channels_first" else -1


def effective_bias(layer: Any) -> Any:
    """The bias of ``layer``: its ``bias``, a BatchNormalization's ``beta - gamma * mean /
    sqrt(variance + epsilon)`` (beta 0 and gamma 1 where absent), a Rescaling's offset or
    a Normalization's ``-mean / sqrt(variance)``."""
    if isinstance(layer, keras.layers.Rescaling):
        return ops.cast(ops.convert_to_tensor(layer.offset), "float32")
    if isinstance(layer, keras.layers.Normalization):
        deviation = ops.maximum(ops.sqrt(layer.variance), keras.config.epsilon())
        return -ops.cast(layer.mean / deviation, "float32")
    if not isinstance(layer, keras.layers.BatchNormalization):
        return ops.cast(layer.bias, "float32")
    mean = ops.cast(layer.moving_mean, "float32")
    scale = ops.rsqrt(ops.cast(layer.moving_variance, "float32") + layer.epsilon)
    if layer.gamma is not None:
        scale = scale * ops.cast(layer.gamma, "float32")
    shift = -mean * scale
    return shift if layer.beta is None else shift + ops.cast(layer.beta, "float32")


class BiasSites:
    """The biased layers of one model and, for the last forward pass, the order in which
    they ran (a layer called twice counts twice)."""

    def __init__(self, layers: Sequence[Any]) -> None:
        self._layers = list(layers)
        self.called: list[Any] = []

    @classmethod
    def of(cls, model: keras.Model, head: OutputHead) -> BiasSites:
        """The biased layers of ``model``, but for the final layer of an output whose logits
        are recomputed (``head``)."""
        final = head.final.layer if head.has_logits else None
        return cls(biased_layers(ref.layer for ref in all_layers(model) if ref.layer is not final))

    def hooks(
        self, at_point: Callable[[Any], Any]
    ) -> tuple[dict[Any, Hook], dict[Any, ActivationHook]]:
        """(call hooks, activation hooks) that pass every biased layer's ``z`` through
        ``at_point``; starts a new record of the calls."""
        self.called = []
        calls: dict[Any, Hook] = {}
        activations: dict[Any, ActivationHook] = {}
        for layer in self._layers:
            if isinstance(layer, _AFFINE_OUTPUT):
                calls[layer] = self._output_hook(at_point)
            else:
                activations[layer] = self._activation_hook(layer, at_point)
        return calls, activations

    def _output_hook(self, at_point: Callable[[Any], Any]) -> Hook:
        def hook(layer: Any, args: tuple, kwargs: dict, outputs: Any) -> Any:
            self.called.append(layer)
            return at_point(outputs)

        return hook

    def _activation_hook(self, layer: Any, at_point: Callable[[Any], Any]) -> ActivationHook:
        def hook(activation: Callable[[Any], Any], pre_activation: Any) -> Any:
            self.called.append(layer)
            return activation(at_point(pre_activation))

        return hook

    def terms(self, gradients: Sequence[Any]) -> list[Any]:
        """``b * ds/dz`` for the gradients at the points of the last run, in the order the
        layers ran, channels last (``b`` broadcast over the positions)."""
        terms = []
        for layer, gradient in zip(self.called, gradients, strict=True):
            gradient = ops.cast(gradient, "float32")
            bias = effective_bias(layer)
            if isinstance(layer, _BROADCAST_BIAS):
                terms.append(gradient * bias)
                continue
            axis = _channel_axis(layer) % len(gradient.shape)
            shape = [1] * len(gradient.shape)
            shape[axis] = -1
            terms.append(ops.moveaxis(gradient * ops.reshape(bias, shape), axis, -1))
        return terms
