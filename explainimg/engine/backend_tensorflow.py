"""TensorFlow: a persistent ``GradientTape`` inside one ``tf.function`` per signature.

The batch dimension is left open in the signature, so any number of images runs the same
trace. AutoGraph is off: the code has no Python control flow on tensors, and errors raised
while tracing (ours included) then reach the caller as they are.
"""

from __future__ import annotations

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


def forward_only(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` run without recording gradients (already so inside tf.function)."""
    return function


class _TapeRecording:
    def __init__(self, forward: Callable[..., Any], images: tf.Tensor) -> None:
        self._images = images
        self._tape = tf.GradientTape(persistent=True)
        with self._tape:
            self._tape.watch(images)
            self.scores, self.aux = forward(images, self._watch)

    def _watch(self, tensor: tf.Tensor) -> tf.Tensor:
        self._tape.watch(tensor)
        return tensor

    def gradient(self, cotangent: tf.Tensor, wrt: str) -> tf.Tensor | None:
        source = self._images if wrt == "input" else self.aux["activations"]
        return self._tape.gradient(self.scores, source, output_gradients=cotangent)


def record(
    forward: Callable[..., Any], images: tf.Tensor, layer_shape: tuple | None = None
) -> _TapeRecording:
    """Run ``forward`` on ``images`` under a persistent tape (``layer_shape`` is not needed)."""
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
