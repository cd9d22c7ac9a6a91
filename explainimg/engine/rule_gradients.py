"""Modified gradients, one op each way: a tensor's own value forward, and backward a rule's
function of the incoming gradient, the tensor it passes into and the tensor's value.

The backward rules of DeepLIFT and LRP (:mod:`explainimg.engine.relevance`) are elementwise
arithmetic on every activation of the model. TensorFlow runs each elementwise op on its own,
reading and writing the whole activation each time, so each rule's arithmetic is compiled
into one kernel (the backend's ``fused``: XLA on TensorFlow; JAX's jit fuses it anyway), and
it runs in the backward pass only. The rule's value gets no gradient of its own (None), so
no zero tensor is made and added per layer.

>>> import keras
>>> x = keras.ops.convert_to_tensor([1.0, -2.0])
>>> y = with_rule_gradient(x * 3.0, x, epsilon_rule(0.0))   # gradient 3x / x = 3
>>> keras.ops.convert_to_numpy(y).tolist()
[3.0, -6.0]
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from keras import ops

from . import backend
from .derivatives import Derivative

Backward = Callable[..., Any]
"""``backward(upstream, through, value, *constants)``: the gradient into ``through``, or a
pair (into ``through``, into ``value``)."""


@functools.cache
def _compiled(backward: Backward) -> Backward:
    return backend.current().fused(backward)


def with_rule_gradient(value: Any, through: Any, backward: Backward, *constants: Any) -> Any:
    """``value`` forward; backward, ``backward(upstream, through, value, *constants)`` into
    ``through`` (and into ``value`` where it returns a pair; the constants get none)."""
    fused = _compiled(backward)

    @ops.custom_gradient
    def step(through: Any, value: Any, *constants: Any) -> Any:
        def gradient(*args: Any, upstream: Any = None) -> tuple[Any, ...]:
            upstream = args[0] if upstream is None else upstream
            into = fused(upstream, through, value, *constants)
            into_through, into_value = into if isinstance(into, tuple) else (into, None)
            return (into_through, into_value, *(None for _ in constants))

        return value, gradient

    return step(through, value, *constants)


@functools.cache
def epsilon_rule(epsilon: float) -> Backward:
    """The epsilon rule: the gradient times y / (z + epsilon sign(z)), sign(0) = +1."""

    def backward(upstream: Any, z: Any, y: Any) -> Any:
        return upstream * ops.divide_no_nan(y, z + epsilon * ops.where(z >= 0, 1.0, -1.0))

    return backward


@functools.cache
def ratio_rule(factor: float = 1.0) -> Backward:
    """The gradient times factor * y / x (0 where x is 0): with factor 1, relevance passed
    unchanged through y = f(x)."""

    def backward(upstream: Any, x: Any, y: Any) -> Any:
        return upstream * (factor * ops.divide_no_nan(y, x))

    return backward


@functools.cache
def rescale_rule(tolerance: float, derivative: Derivative | None = None) -> Backward:
    """DeepLIFT's rescale rule against the reference's (z_ref, y_ref): the gradient times
    Δy/Δz into z, or, where |Δz| < tolerance, times f'(z): ``derivative(z, y)``
    (:mod:`explainimg.engine.derivatives`), or without one the gradient unchanged into y,
    which the layer's own gradient then carries into z."""

    def backward(upstream: Any, z: Any, y: Any, z_ref: Any, y_ref: Any) -> Any:
        delta = z - z_ref
        small = ops.abs(delta) < tolerance
        # The division where |Δz| is small is never selected; 1 keeps it finite.
        rescaled = upstream * (y - y_ref) / ops.where(small, 1.0, delta)
        if derivative is not None:
            return ops.where(small, upstream * derivative(z, y), rescaled)
        return ops.where(small, 0.0, rescaled), ops.where(small, upstream, 0.0)

    return backward
