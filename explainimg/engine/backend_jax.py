"""JAX: ``jax.jit`` over the model's variables, ``jax.vjp`` for gradients.

The model's variables go into the compiled function as arguments (through a
``keras.StatelessScope``), not as constants baked into it, so compiling stays fast and a
model whose weights change later is explained with its new weights. A layer's output is
differentiated by adding a zero "perturbation" there and taking the gradient with respect
to it: the model is run, never changed.

Shapes are static under ``jax.jit``: each new batch size traces once more (the explainer pads
the last batch of a stream to the batch size, so a stream traces once).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import keras

NAME = "jax"
STATIC_SHAPES = True


def compile_function(
    function: Callable[..., Any], model: keras.Model, specs: Sequence[tuple[tuple, str]]
) -> Callable[..., Any]:
    """``function`` jitted with the model's variable values passed in at every call."""
    variables = list(model.variables)

    def stateless(values: list[jax.Array], *args: jax.Array) -> Any:
        with keras.StatelessScope(state_mapping=list(zip(variables, values, strict=True))):
            return function(*args)

    jitted = jax.jit(stateless)

    def call(*args: Any) -> Any:
        return jitted([variable.value for variable in variables], *args)

    return call


def fused(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` as it is (jax.jit fuses elementwise ops already)."""
    return function


def forward_only(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` as it is (JAX records nothing unless asked)."""
    return function


class _VjpRecording:
    """``jax.vjp`` of the forward pass with respect to the images and a zero added at each
    point of ``specs`` ((shape, dtype) of each tensor the forward passes to ``at_layer``)."""

    def __init__(
        self, forward: Callable[..., Any], images: jax.Array, specs: Sequence[tuple[tuple, Any]]
    ) -> None:
        def perturbed(inputs: jax.Array, deltas: list[jax.Array]) -> Any:
            remaining = iter(deltas)
            return forward(inputs, lambda output: output + next(remaining))

        self._perturbed = perturbed
        self._images = images
        self._deltas = [jnp.zeros((images.shape[0], *shape[1:]), dtype) for shape, dtype in specs]
        self.scores, self._vjp, self.aux = jax.vjp(perturbed, images, self._deltas, has_aux=True)

    def gradient(self, cotangent: jax.Array, wrt: str) -> Any:
        inputs, points = self._vjp(cotangent.astype(self.scores.dtype))
        if wrt == "full":
            return [inputs, *points]
        return inputs if wrt == "input" else points[0]

    def gradient_and_hvp(self, cotangent: jax.Array, vector: jax.Array) -> tuple[Any, Any]:
        """Forward-over-back: ``jax.jvp`` of the layer gradient along ``vector``."""
        cotangent = cotangent.astype(self.scores.dtype)

        def layer_gradient(delta: jax.Array) -> jax.Array:
            _, vjp, _ = jax.vjp(lambda d: self._perturbed(self._images, [d]), delta, has_aux=True)
            return vjp(cotangent)[0]

        return jax.jvp(layer_gradient, (self._deltas[0],), (vector.astype(self._deltas[0].dtype),))


def _point_specs(forward: Callable[..., Any], images: jax.Array) -> list[tuple[tuple, Any]]:
    """Shape and dtype of every tensor ``forward`` passes to ``at_layer``, by an abstract run."""
    seen: list[Any] = []

    def watch(output: Any) -> Any:
        seen.append(output)
        return output

    jax.eval_shape(lambda inputs: forward(inputs, watch), images)
    return [(tuple(output.shape), output.dtype) for output in seen]


def record(
    forward: Callable[..., Any],
    images: jax.Array,
    layer_shape: tuple | None = None,
    second_order: bool = False,
) -> _VjpRecording:
    """Run ``forward`` under ``jax.vjp``; ``layer_shape`` is (shape, dtype) of the explained
    layer's output (batch size ignored; unknown sizes are found by an abstract run), or None
    when only input gradients are needed. ``second_order`` changes nothing: Hessian-vector
    products re-trace the forward pass under ``jax.jvp``."""
    if layer_shape is None:
        return _VjpRecording(forward, images, [])
    if any(size is None for size in layer_shape[0][1:]):
        return _VjpRecording(forward, images, _point_specs(forward, images)[:1])
    return _VjpRecording(forward, images, [layer_shape])


def record_points(forward: Callable[..., Any], images: jax.Array) -> _VjpRecording:
    """Run ``forward`` under ``jax.vjp`` with respect to every tensor it passes through
    ``at_layer`` (found by an abstract run)."""
    return _VjpRecording(forward, images, _point_specs(forward, images))


@jax.custom_vjp
def positive_gradients_only(x: jax.Array) -> jax.Array:
    """Identity forward; backward passes only the positive part of the incoming gradient."""
    return x


def _gate_forward(x: jax.Array) -> tuple[jax.Array, None]:
    return x, None


def _gate_backward(_: None, upstream: jax.Array) -> tuple[jax.Array]:
    return (jax.nn.relu(upstream),)


positive_gradients_only.defvjp(_gate_forward, _gate_backward)


def sequential_map(function: Callable[[Any], Any], elements: Any, steps_to: Any = None) -> Any:
    """``function`` over the first axis of ``elements``, one step at a time; ``steps_to`` (a
    :class:`~explainimg.engine.progress.StepReport`) is told of each step on the host
    (``jax.debug.callback``, about 0.8 ms a step on a 2-core CPU)."""
    steps = elements.shape[0]
    if steps_to is None or steps <= steps_to.min_steps:
        return jax.lax.map(function, elements)

    def step(pair: tuple[Any, Any]) -> Any:
        index, element = pair
        out = function(element)
        jax.debug.callback(steps_to.call, index, steps, jnp.sum(out))  # once ``out`` is ready
        return out

    return jax.lax.map(step, (jnp.arange(steps), elements))
