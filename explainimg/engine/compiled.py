"""One compiled function per (model, layer, method, number of targets), reused across calls.

The model is held weakly: a cache of explainers (see :mod:`explainimg.explainer`) must not
keep the user's model alive.

A call runs the model once, watches the explained layer's activations, takes one backward
pass per target from the class score down to that layer only, and applies the method, all
inside a single ``tf.function``. The batch dimension is left open in the signature, so a
different number of images does not trace again.

>>> import keras, numpy as np
>>> from explainimg.engine.layers import find_layer
>>> from explainimg.engine.outputs import analyze_output
>>> from explainimg.methods import get_method
>>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3),
...     keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2, activation="softmax")])
>>> explainer = CompiledExplainer(model, find_layer(model), analyze_output(model),
...                               get_method("gradcam"))
>>> result = explainer.run(np.ones((5, 8, 8, 3), "float32"), top=2)
>>> result.maps.shape, result.targets.shape
((5, 2, 6, 6), (5, 2))
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import keras
import numpy as np
import tensorflow as tf

from ..errors import ExplanationError
from ..methods import Method
from ..methods.scaling import scale_by_max
from .graph import GraphVisitor, LayerRef, is_graph_model, run_graph
from .guided import is_relu, positive_gradients_only
from .outputs import OutputHead

_LOGITS_TOLERANCE = {"float32": 1e-3, "float64": 1e-3}
_LOW_PRECISION_TOLERANCE = 2e-2


@attrs.frozen
class RawResult:
    """NumPy results for a batch: maps (B, K, h, w) in [0, 1]; targets/scores/probas (B, K);
    ``finite`` (B,) is False for images whose activations or scores were NaN or inf."""

    maps: np.ndarray
    targets: np.ndarray
    scores: np.ndarray
    probas: np.ndarray | None
    finite: np.ndarray


class _Capture(GraphVisitor):
    """Watches the explained layer's output, picks up the logits on the way and, for guided
    backpropagation, gates the gradients of every ReLU."""

    def __init__(
        self,
        target: LayerRef | None,
        head: OutputHead,
        tape: tf.GradientTape | None,
        guided: bool = False,
    ) -> None:
        containers = target.containers if target is not None else ()
        super().__init__(descend=[*containers, *head.final.containers])
        self._target = target.layer if target is not None else None
        self._head = head
        self._tape = tape
        self._guided = guided
        self.activations: Any = None
        self.logits: Any = None

    def descends_into(self, layer: keras.layers.Layer) -> bool:
        # Guided backpropagation must reach the ReLUs inside nested models too.
        return (self._guided and is_graph_model(layer)) or super().descends_into(layer)

    def after_call(self, layer: Any, args: Sequence[Any], outputs: Any) -> Any:
        if self._guided and is_relu(layer):
            outputs = positive_gradients_only(outputs)
        if layer is self._target and self.activations is None:
            if self._tape is not None:
                self._tape.watch(outputs)
            self.activations = outputs
        if layer is self._head.final.layer and self._head.has_logits:
            self.logits = self._head.logits(args)
        return outputs


class CompiledExplainer:
    """Explains batches of images for one model, layer and method."""

    def __init__(
        self, model: keras.Model, target: LayerRef | None, head: OutputHead, method: Method
    ) -> None:
        self._model = weakref.ref(model)
        self._target = target
        self._head = head
        self._method = method
        input_spec = model.inputs[0]
        self._image_spec = tf.TensorSpec((None, *input_spec.shape[1:]), input_spec.dtype)
        self._functions: dict[Any, Callable[..., Any]] = {}
        self.trace_count = 0

    def _live_model(self) -> keras.Model:
        model = self._model()
        if model is None:
            raise ExplanationError("The model this explainer was built for no longer exists.")
        return model

    @property
    def n_classes(self) -> int:
        return self._head.n_classes

    @property
    def layer_path(self) -> str | None:
        return None if self._target is None else self._target.path

    def run(
        self, images: np.ndarray, *, targets: np.ndarray | None = None, top: int | None = None
    ) -> RawResult:
        """Explain ``images`` (B, H, W, C) for ``targets`` (B, K) class ids, or the ``top`` k."""
        if targets is not None:
            targets = np.asarray(targets, dtype=np.int32)
            function = self._function("targets", targets.shape[1])
            outputs = function(images, targets)
        else:
            function = self._function("top", top or 1)
            outputs = function(images)
        maps, chosen, scores, probas, finite, mismatch = (value.numpy() for value in outputs)
        self._check_logits(float(mismatch))
        maps[~finite] = 0.0
        return RawResult(
            maps=maps,
            targets=chosen.astype(np.int64),
            scores=scores,
            probas=probas if self._head.has_logits else None,
            finite=finite,
        )

    def confidences(self, images: np.ndarray) -> np.ndarray:
        """(N, classes) probabilities of ``images`` (the model's softmax/sigmoid output; for
        a single sigmoid unit [1 - p, p]), or the raw scores when the model gives none."""
        if "confidences" not in self._functions:

            def confidences(batch: tf.Tensor) -> tf.Tensor:
                scores, probas = self.scores(tf.cast(batch, tf.float32))
                return scores if probas is None else probas

            self._functions["confidences"] = _traced_once(confidences, [self._image_spec])
        return self._functions["confidences"](images).numpy()

    def _check_logits(self, mismatch: float) -> None:
        dtype = keras.backend.standardize_dtype(self._image_spec.dtype)
        tolerance = _LOGITS_TOLERANCE.get(dtype, _LOW_PRECISION_TOLERANCE)
        if mismatch > tolerance:
            raise ExplanationError(
                f"Could not recover the logits behind the {self._head.kind} of layer "
                f"{self._head.final.path!r}: recomputed outputs differ by {mismatch:.3g}."
            )

    def _function(self, mode: str, count: int) -> Callable[..., Any]:
        key = (mode, count)
        if key not in self._functions:
            self._functions[key] = self._compile(mode, count)
        return self._functions[key]

    def _compile(self, mode: str, count: int) -> Callable[..., Any]:
        if mode == "top":

            def explain_top(images: tf.Tensor) -> tuple[tf.Tensor, ...]:
                return self._explain(images, None, count)

            return _traced_once(explain_top, [self._image_spec])

        def explain_targets(images: tf.Tensor, targets: tf.Tensor) -> tuple[tf.Tensor, ...]:
            return self._explain(images, targets, count)

        return _traced_once(
            explain_targets, [self._image_spec, tf.TensorSpec((None, count), tf.int32)]
        )

    def _explain(
        self, images: tf.Tensor, targets: tf.Tensor | None, count: int
    ) -> tuple[tf.Tensor, ...]:
        self.trace_count += 1
        images = tf.cast(images, tf.float32)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(images)
            capture = _Capture(self._target, self._head, tape)
            outputs = run_graph(self._live_model(), images, capture)
            scores, probas = self._head.class_scores(capture.logits, outputs)
        if self._target is not None and capture.activations is None:
            raise ExplanationError(f"Layer {self._target.path!r} did not run in the model.")
        if targets is None:
            targets = tf.math.top_k(scores, k=count).indices
        context = _Context(self, images, targets, scores, capture.activations, tape)
        maps = [self._method.target_map(context, k) for k in range(count)]
        del tape
        maps_tensor = scale_by_max(tf.stack(maps, axis=1))
        chosen_scores = tf.gather(scores, targets, batch_dims=1)
        chosen_probas = (
            tf.gather(probas, targets, batch_dims=1)
            if probas is not None
            else tf.zeros_like(chosen_scores)
        )
        finite = tf.logical_and(
            tf.reduce_all(tf.math.is_finite(maps_tensor), axis=(1, 2, 3)),
            tf.reduce_all(tf.math.is_finite(scores), axis=1),
        )
        mismatch = self._head.logits_mismatch(capture.logits, outputs, finite)
        return maps_tensor, targets, chosen_scores, chosen_probas, finite, mismatch

    def scores(
        self, images: tf.Tensor, *, guided: bool = False
    ) -> tuple[tf.Tensor, tf.Tensor | None]:
        """(scores, probas) per class for any batch of images (a plain forward pass)."""
        capture = _Capture(None, self._head, None, guided=guided)
        outputs = run_graph(self._live_model(), images, capture)
        return self._head.class_scores(capture.logits, outputs)


class _Context:
    """What methods get inside one compiled call (see :class:`explainimg.methods.Context`)."""

    def __init__(
        self,
        explainer: CompiledExplainer,
        images: tf.Tensor,
        targets: tf.Tensor,
        scores: tf.Tensor,
        activations: Any,
        tape: tf.GradientTape,
    ) -> None:
        self.images = images
        self.targets = targets
        self.activations = None if activations is None else tf.cast(activations, tf.float32)
        self.memo: dict[str, Any] = {}
        self._explainer = explainer
        self._scores = scores
        self._raw_activations = activations
        self._tape = tape

    def _selector(self, target_ids: tf.Tensor) -> tf.Tensor:
        depth = self._explainer.n_classes
        return tf.one_hot(target_ids, depth=depth, dtype=self._scores.dtype)

    def layer_gradients(self, k: int) -> tf.Tensor:
        gradients = self._tape.gradient(
            self._scores, self._raw_activations, output_gradients=self._selector(self.targets[:, k])
        )
        if gradients is None:
            raise ExplanationError(
                f"The model's output does not depend on layer {self._explainer.layer_path!r}."
            )
        return tf.cast(gradients, tf.float32)

    def input_gradients(
        self, images: tf.Tensor, target_ids: tf.Tensor, guided: bool = False
    ) -> tf.Tensor:
        if images is self.images and not guided:
            # The first forward pass already recorded everything from the input on.
            return self._tape.gradient(
                self._scores, self.images, output_gradients=self._selector(target_ids)
            )
        with tf.GradientTape() as tape:
            tape.watch(images)
            scores, _ = self._explainer.scores(images, guided=guided)
            chosen = tf.gather(scores, target_ids, batch_dims=1)
        return tape.gradient(chosen, images)

    def class_confidences(self, images: tf.Tensor) -> tf.Tensor:
        scores, probas = self._explainer.scores(images)
        return probas if probas is not None else tf.nn.softmax(scores)


def _traced_once(function: Callable[..., Any], signature: list[tf.TensorSpec]) -> Any:
    """``tf.function`` with a fixed signature (so it traces once), without TF's warning.

    TF warns about "frequent retracing" when many functions share one Python body, which is
    what happens when several models or layers are explained; each of ours traces only once.
    """
    compiled = tf.function(function, input_signature=signature)
    compiled._omit_frequent_tracing_warning = True
    return compiled
