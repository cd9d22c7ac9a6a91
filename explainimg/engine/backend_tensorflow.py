"""TensorFlow: a persistent ``GradientTape`` inside one ``tf.function`` per signature.

The batch dimension is left open in the signature, so any number of images runs the same
trace. AutoGraph is off: the code has no Python control flow on tensors, and errors raised
while tracing (ours included) then reach the caller as they are.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import keras
import tensorflow as tf

NAME = "tensorflow"
STATIC_SHAPES = False


def compile_function(
    function: Callable[..., Any], model: keras.Model, specs: Sequence[tuple[tuple, str]]
) -> Callable[..., Any]:
    """``function`` traced once for inputs of ``specs`` ((shape with None batch, dtype))."""
    signature = [tf.TensorSpec(shape, dtype) for shape, dtype in specs]
    compiled = tf.function(function, input_signature=signature, autograph=False)
    # TF warns of "frequent retracing" when many functions share one Python body, which is
    # what happens when several models or layers are explained; each of ours traces once.
    compiled._omit_frequent_tracing_warning = True
    return compiled


def fused(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` (elementwise ops only) compiled by XLA into one kernel, traced once per
    shape. Only such functions: XLA's own convolutions on CPU are many times slower than
    TensorFlow's."""
    compiled = tf.function(function, jit_compile=True, autograph=False)
    compiled._omit_frequent_tracing_warning = True
    return compiled


def forward_only(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` run without recording gradients (already so inside tf.function)."""
    return function


class _TapeRecording:
    def __init__(
        self, forward: Callable[..., Any], images: tf.Tensor, second_order: bool = False
    ) -> None:
        self._images = images
        self._tape = tf.GradientTape(persistent=True)
        # Back-over-back: an outer tape that also records the inner tape's backward pass.
        self._outer = tf.GradientTape(persistent=True) if second_order else None
        self.points: list[tf.Tensor] = []
        with self._outer or contextlib.nullcontext(), self._tape:
            self._tape.watch(images)
            self.scores, self.aux = forward(images, self._watch)

    def _watch(self, tensor: tf.Tensor) -> tf.Tensor:
        self._tape.watch(tensor)
        if self._outer is not None:
            self._outer.watch(tensor)
        self.points.append(tensor)
        return tensor

    def gradient(self, cotangent: tf.Tensor, wrt: str) -> Any:
        if wrt == "full":
            sources = [self._images, *self.points]
            return self._tape.gradient(
                self.scores, sources, output_gradients=cotangent, unconnected_gradients=_ZERO
            )
        source = self._images if wrt == "input" else self.aux["activations"]
        return self._tape.gradient(self.scores, source, output_gradients=cotangent)

    def gradient_and_hvp(self, cotangent: tf.Tensor, vector: tf.Tensor) -> tuple[Any, Any]:
        source = self.aux["activations"]
        with self._outer:
            gradient = self._tape.gradient(self.scores, source, output_gradients=cotangent)
        if gradient is None:
            return None, None
        hvp = self._outer.gradient(
            gradient, source, output_gradients=vector, unconnected_gradients=_ZERO
        )
        return gradient, hvp


_ZERO = tf.UnconnectedGradients.ZERO


def record(
    forward: Callable[..., Any],
    images: tf.Tensor,
    layer_shape: tuple | None = None,
    second_order: bool = False,
) -> _TapeRecording:
    """Run ``forward`` on ``images`` under a persistent tape (``layer_shape`` is not needed);
    ``second_order``: also under an outer tape, for Hessian-vector products."""
    return _TapeRecording(forward, images, second_order)


def record_points(forward: Callable[..., Any], images: tf.Tensor) -> _TapeRecording:
    """Run ``forward``, watching every tensor it passes through ``at_layer``."""
    return _TapeRecording(forward, images)


@tf.custom_gradient
def positive_gradients_only(x: tf.Tensor) -> Any:
    """Identity forward; backward passes only the positive part of the incoming gradient."""

    def gradient(upstream: tf.Tensor) -> tf.Tensor:
        return tf.nn.relu(upstream)

    return tf.identity(x), gradient


def sequential_map(function: Callable[[Any], Any], elements: Any, steps_to: Any = None) -> Any:
    """``function`` over the first axis of ``elements``, one step at a time (float32 out);
    ``steps_to`` (a :class:`~explainimg.engine.progress.StepReport`) is told of each step on
    the host (``tf.numpy_function``, about 0.6 ms a step on a 2-core CPU)."""
    static = elements.shape[0]
    if steps_to is None or (static is not None and static <= steps_to.min_steps):
        return tf.map_fn(function, elements, fn_output_signature=tf.float32, parallel_iterations=1)
    steps = tf.shape(elements)[0]

    def tell(index: Any, out: Any) -> Any:
        # The step's result goes in so that the call waits for it.
        return tf.numpy_function(steps_to.call, [index, steps, tf.reduce_sum(out)], tf.int32)

    def step(pair: tuple[Any, Any]) -> Any:
        index, element = pair
        out = function(element)
        longer = steps > steps_to.min_steps
        told = tf.cond(longer, lambda: tell(index, out), lambda: tf.constant(0))
        with tf.control_dependencies([told]):
            return tf.identity(out)

    return tf.map_fn(
        step, (tf.range(steps), elements), fn_output_signature=tf.float32, parallel_iterations=1
    )
