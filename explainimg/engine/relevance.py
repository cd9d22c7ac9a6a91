"""Backward rules of DeepLIFT and LRP, applied while the model runs (the model is not changed).

Both are modified gradients, made with hooks on the layers
(:mod:`explainimg.engine.interception`): an LRP hook returns a tensor equal to the layer's output
whose gradient is the rule's, ``stop_gradient(y) + (t - stop_gradient(t)) * stop_gradient(s)``
(forward: y exactly; backward: the incoming gradient times s, into whatever t depends on).

DeepLIFT's rescale rule (:class:`explainimg.methods.deeplift.RescaleRule`,
:class:`RescaleHooks`): before each run on the images, the reference (the constant baseline
image) runs forward only, and each elementwise nonlinearity y = f(z) keeps its (z_ref, y_ref)
by layer and call index; in the run on the images each call then passes the gradient times
Δy/Δz (f'(z) where |Δz| is tiny) through one custom gradient
(:mod:`explainimg.engine.rule_gradients`), and every
other layer passes the plain gradient. The backward pass covers the images' rows only.

LRP (:class:`explainimg.methods.lrp.RelevanceRule`): the gradient g at a layer's output y is
relevance per unit of output (R = y * g), so that relevance = x * gradient at the input.
Dense and convolution layers apply their rule (epsilon: g times y / (z + ε sign z); z_plus and
alpha_beta: the layer's own op recomputed on the positive and negative parts of its kernel and
input, through a stand-in for the layer); average pooling, Add and Average apply the epsilon
rule; elementwise activations pass relevance unchanged (g times y / x); BatchNormalization,
Rescaling and Normalization (elementwise affine maps: the epsilon rule with ε = 0), shape
layers and max pooling pass the gradient. Any other layer is
refused by name: its relevance would be unaccounted for.

>>> from explainimg.methods.deeplift import RescaleRule
>>> hooks = rule_hooks_for([], RescaleRule(baseline=0.5), None)
>>> type(hooks).__name__, hooks.calls, hooks.activations
('RescaleHooks', {}, {})
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
from keras import layers, ops

from ..errors import ExplanationError
from ..methods.deeplift import RescaleRule
from ..methods.lrp import WEIGHTED_TYPES, RelevanceRule
from . import guided
from .capture import RuleHooks, Run
from .derivatives import derivative_of
from .graph import LayerRef
from .interception import ActivationHook, Hook
from .outputs import LinearView
from .rule_gradients import epsilon_rule, ratio_rule, rescale_rule, with_rule_gradient

Hooks = tuple[dict[keras.layers.Layer, Hook], dict[keras.layers.Layer, ActivationHook]]

_NOT_ELEMENTWISE = ("softmax", "log_softmax", "linear", "glu")
_ACTIVATION_LAYERS = (layers.ReLU, layers.LeakyReLU, layers.ELU, layers.PReLU, layers.Activation)
_LINEAR = (
    layers.Add,
    layers.Average,
    layers.AveragePooling1D,
    layers.AveragePooling2D,
    layers.AveragePooling3D,
    layers.GlobalAveragePooling1D,
    layers.GlobalAveragePooling2D,
    layers.GlobalAveragePooling3D,
)
# BatchNormalization, Rescaling, Normalization: elementwise affine maps, whose gradient is the
# epsilon rule with ε = 0 (their shift takes its share, as a bias does). Passing relevance
# unchanged instead forces a unit's relevance onto a near-zero input, which the epsilon rule
# below then divides by ~ε: 1e32 on MobileNetV2.
_GRADIENT = (
    layers.BatchNormalization,
    layers.Rescaling,
    layers.Normalization,
    layers.InputLayer,
    layers.Flatten,
    layers.Reshape,
    layers.Permute,
    layers.RepeatVector,
    layers.Identity,
    layers.Concatenate,
    layers.Dropout,
    layers.SpatialDropout1D,
    layers.SpatialDropout2D,
    layers.SpatialDropout3D,
    layers.GaussianDropout,
    layers.GaussianNoise,
    layers.AlphaDropout,
    layers.ActivityRegularization,
    layers.ZeroPadding1D,
    layers.ZeroPadding2D,
    layers.ZeroPadding3D,
    layers.Cropping1D,
    layers.Cropping2D,
    layers.Cropping3D,
    layers.UpSampling1D,
    layers.UpSampling2D,
    layers.UpSampling3D,
    layers.MaxPooling1D,
    layers.MaxPooling2D,
    layers.MaxPooling3D,
    layers.GlobalMaxPooling1D,
    layers.GlobalMaxPooling2D,
    layers.GlobalMaxPooling3D,
    layers.Maximum,
)


def _gradient_only(through: Any, scale: Any) -> Any:
    """Zero forward; backward, the incoming gradient times ``scale`` into ``through``."""
    return (through - ops.stop_gradient(through)) * ops.stop_gradient(scale)


def _elementwise(function: Any) -> bool:
    name = getattr(function, "__name__", None)
    return name is not None and name not in _NOT_ELEMENTWISE


def _elementwise_or_linear(function: Any) -> bool:
    return _elementwise(function) or getattr(function, "__name__", None) == "linear"


def _is_activation_layer(layer: Any) -> bool:
    if isinstance(layer, layers.Activation):
        return _elementwise(layer.activation)
    return isinstance(layer, _ACTIVATION_LAYERS)


def _fused(layer: Any) -> bool:
    """True when the layer applies an elementwise nonlinearity of its own that a hook reaches."""
    return "activation" in vars(layer) and _elementwise(layer.activation)


# DeepLIFT ------------------------------------------------------------------------------------


def _rescaled(layer: Any, z: Any, y: Any, reference: tuple[Any, Any], tolerance: float) -> Any:
    """``y`` forward; backward, Δy/Δz against the reference, or where |Δz| < tolerance
    f'(z) (from its closed form where :func:`derivative_of` knows it, else through ``y``)."""
    rule = rescale_rule(tolerance, derivative_of(layer))
    return with_rule_gradient(y, z, rule, *reference)


class RescaleHooks(RuleHooks):
    """Hooks that give every elementwise nonlinearity DeepLIFT's rescale multiplier.

    ``prepare`` runs the reference and keeps each nonlinearity's (z_ref, y_ref), stopped
    gradients, in call order per layer (under tf.function and jax.jit the calls of one trace
    come in a fixed order, and a layer called twice keeps two); the run on the images that
    follows reads them back in the same order."""

    def __init__(self, refs: Sequence[LayerRef], rule: RescaleRule) -> None:
        super().__init__()
        self._rule = rule
        self._kept: dict[keras.layers.Layer, list[tuple[Any, Any]]] = {}
        self._used: dict[keras.layers.Layer, int] = {}
        self._keeping = False
        for ref in refs:
            if _is_activation_layer(ref.layer):
                self.calls[ref.layer] = self._on_layer
            elif _fused(ref.layer):
                self.activations[ref.layer] = self._on_activation(ref.layer)

    def prepare(self, images: Any, extras: Sequence[Any], run: Run) -> None:
        # The reference is one constant image: one row stands for every image, unless the
        # model's other inputs differ by row.
        rows = images if extras else images[:1]
        self._kept, self._used, self._keeping = {}, {}, True
        try:
            run(ops.full_like(rows, self._rule.baseline), extras)
        finally:
            self._keeping = False

    def _on_layer(self, layer: Any, args: tuple, kwargs: dict, outputs: Any) -> Any:
        return self._step(layer, args[0], outputs)

    def _on_activation(self, layer: Any) -> ActivationHook:
        def hook(activation: Callable[[Any], Any], pre_activation: Any) -> Any:
            return self._step(layer, pre_activation, activation(pre_activation))

        return hook

    def _step(self, layer: Any, z: Any, y: Any) -> Any:
        if self._keeping:
            self._kept.setdefault(layer, []).append((ops.stop_gradient(z), ops.stop_gradient(y)))
            return y
        index = self._used.get(layer, 0)
        self._used[layer] = index + 1
        kept = self._kept.get(layer, [])
        if index >= len(kept):
            raise ExplanationError(
                f"Layer {layer.name!r} ran {index + 1} times on the images but {len(kept)} on "
                f"DeepLIFT's reference: the model must run the same layers for both."
            )
        return _rescaled(layer, z, y, kept[index], self._rule.tolerance)


# LRP -----------------------------------------------------------------------------------------


class _KernelView(LinearView):
    """Stand-in for a weighted layer: its own ``call`` with another kernel, no bias and no
    activation (the layer's other settings, strides, padding, data format, are its own)."""

    def __init__(self, layer: keras.layers.Layer, kernel: Any) -> None:
        super().__init__(layer)
        self.kernel = kernel
        self.bias = None
        self.use_bias = False


def _positive_part(layer: Any, x: Any) -> Any:
    """Σ_i (x_i w_ij)⁺ of the layer's linear op (no bias)."""
    kernel = ops.convert_to_tensor(layer.kernel)
    call = type(layer).call
    return call(_KernelView(layer, ops.relu(kernel)), ops.relu(x)) + call(
        _KernelView(layer, ops.minimum(kernel, 0.0)), ops.minimum(x, 0.0)
    )


def _bias(layer: Any, like: Any) -> Any:
    bias = getattr(layer, "bias", None)
    if bias is None:
        return ops.zeros((), like.dtype)
    channels_first = getattr(layer, "data_format", "channels_last") == "channels_first"
    shape = [1] * len(like.shape)
    shape[1 if channels_first else -1] = -1
    return ops.reshape(ops.cast(bias, like.dtype), shape)


def _weighted(layer: Any, x: Any, z: Any, y: Any, rule: RelevanceRule) -> Any:
    """y with the gradient of the layer's rule (x: its input, z: its pre-activation output)."""
    name = rule.rule_for(type(layer).__name__)
    if name == "epsilon":
        return with_rule_gradient(y, z, epsilon_rule(rule.epsilon))
    alpha, beta = (1.0, 0.0) if name == "z_plus" else (rule.alpha, rule.beta)
    positive = _positive_part(layer, x)
    result = with_rule_gradient(y, positive, ratio_rule(alpha))
    if not beta:
        return result
    # z - positive has the gradient of the negative part (the bias is a constant).
    negative = ops.stop_gradient(z - positive) - _bias(layer, z)
    return result - _gradient_only(z - positive, beta * ops.divide_no_nan(y, negative))


def _refused(ref: LayerRef, why: str) -> ExplanationError:
    return ExplanationError(
        f"LRP has no rule for layer {ref.path!r} ({type(ref.layer).__name__}): {why}. "
        f"Its relevance would not be accounted for; use another method for this model."
    )


def lrp_hooks(refs: Sequence[LayerRef], rule: RelevanceRule, final: Any | None) -> Hooks:
    """Hooks that make the gradient LRP's by ``rule``; ``final`` is the layer whose
    pre-activation output is the logits (its own activation is then not crossed)."""
    calls: dict[keras.layers.Layer, Hook] = {}
    activations: dict[keras.layers.Layer, ActivationHook] = {}
    pre_activations: dict[int, list[Any]] = {}

    def keep_pre_activation(layer: Any) -> ActivationHook:
        def hook(activation: Callable[[Any], Any], pre_activation: Any) -> Any:
            pre_activations.setdefault(id(layer), []).append(pre_activation)
            return activation(pre_activation)

        return hook

    def on_weighted(layer: Any, args: tuple, kwargs: dict, outputs: Any) -> Any:
        kept = pre_activations.get(id(layer))
        if not kept:  # the logits (final layer, recomputed without activation) or no activation
            return _weighted(layer, args[0], outputs, outputs, rule)
        z = kept.pop()
        return outputs if layer is final else _weighted(layer, args[0], z, outputs, rule)

    def on_linear(layer: Any, args: tuple, kwargs: dict, outputs: Any) -> Any:
        return with_rule_gradient(outputs, outputs, epsilon_rule(rule.epsilon))

    def on_unchanged(layer: Any, args: tuple, kwargs: dict, outputs: Any) -> Any:
        return with_rule_gradient(outputs, args[0], ratio_rule())

    for ref in refs:
        layer = ref.layer
        if isinstance(layer, (keras.Model, *_GRADIENT)):
            continue
        if type(layer).__name__ in WEIGHTED_TYPES:
            activation = vars(layer).get("activation")
            if (
                layer is not final
                and activation is not None
                and not _elementwise_or_linear(activation)
            ):
                raise _refused(
                    ref, f"its activation {layer.activation.__name__!r} is not elementwise"
                )
            calls[layer] = on_weighted
            if "activation" in vars(layer):
                activations[layer] = keep_pre_activation(layer)
        elif isinstance(layer, _LINEAR):
            calls[layer] = on_linear
        elif _is_activation_layer(layer):
            calls[layer] = on_unchanged
        elif layer is not final:
            raise _refused(ref, "no relevance rule covers this layer type")
    return calls, activations


def rule_hooks_for(refs: Sequence[LayerRef], rule: Any, final: Any | None) -> RuleHooks:
    """The hooks of a backward ``rule``: "guided" or "deconvnet"
    (:mod:`explainimg.engine.guided`), DeepLIFT's rescale rule or an LRP rule; ``final``: the
    layer whose pre-activation output is the logits, if any."""
    if isinstance(rule, RescaleRule):
        return RescaleHooks(refs, rule)
    if isinstance(rule, RelevanceRule):
        return RuleHooks(*lrp_hooks(refs, rule, final))
    return RuleHooks(
        *guided.rule_hooks([ref.layer for ref in refs if guided.is_relu(ref.layer)], rule)
    )
