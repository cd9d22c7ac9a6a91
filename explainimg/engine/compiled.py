"""One compiled function per (model, layer, method, number of targets), reused across calls.

The model is held weakly: a cache of explainers (see :mod:`explainimg.explainer`) must not
keep the user's model alive.

A call runs the model once, watches the explained layer's activations, takes one backward
pass per target from the class score down to that layer only, and applies the method, all
inside a single compiled function. The code is written once with ``keras.ops``; the backend
module (:mod:`explainimg.engine.backend`) compiles it and takes the gradients. On
TensorFlow and PyTorch any number of images runs the same function; on JAX each batch size
traces once (streams pad their last batch, so they trace once).

>>> import keras, numpy as np
>>> from explainimg.engine.kinds import dissect
>>> from explainimg.methods import get_method
>>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3),
...     keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2, activation="softmax")])
>>> anatomy = dissect(model, layer=None)
>>> explainer = CompiledExplainer(model, anatomy.target, anatomy.head, get_method("gradcam"),
...                               io=anatomy.io)
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
from keras import ops

from ..errors import ExplanationError
from ..methods import Method
from ..methods.scaling import scale_by_max
from . import augment, backend
from .capture import Capture, RuleHooks
from .full_gradients import BiasSites
from .graph import LayerRef
from .interception import intercepted
from .layout import to_channels_first
from .method_context import MethodContext
from .model_io import ModelIO
from .outputs import OutputHead
from .probe import all_layers
from .progress import LONG_CALLS
from .recording import Recording
from .relevance import rule_hooks_for

_LOGITS_TOLERANCE = {"float32": 1e-3, "float64": 1e-3}
_LOW_PRECISION_TOLERANCE = 2e-2


@attrs.frozen
class RawResult:
    """NumPy results for a batch: maps (B, K, h, w) in [0, 1]; targets/scores/probas (B, K);
    ``finite`` (B,) is False for images whose activations or scores were NaN or inf;
    ``attributions`` (B, K, H, W) the signed values of a signed method, else None."""

    maps: np.ndarray
    targets: np.ndarray
    scores: np.ndarray
    probas: np.ndarray | None
    finite: np.ndarray
    attributions: np.ndarray | None = None


class CompiledExplainer:
    """Explains batches of images for one model, layer and method.

    ``io`` says which input is the image and which output is explained (default: the
    model's only ones); ``grid`` turns a token layer's (B, T, D) output into a (B, h, w, D)
    map (:mod:`explainimg.engine.tokens`).
    """

    def __init__(
        self,
        model: keras.Model,
        target: LayerRef | None,
        head: OutputHead,
        method: Method,
        *,
        io: ModelIO,
        grid: Callable[[Any], Any] | None = None,
    ) -> None:
        self._backend = backend.current()
        self._model = weakref.ref(model)
        self._target = target
        self._head = head
        self._method = method
        self._io = io
        self.channels_first = io.channels_first
        self._grid = grid
        shape, dtype = self._io.image_spec
        self._image_spec = ((None, *shape[1:]), dtype)
        self._extra_specs = [((None, *shape[1:]), dtype) for shape, dtype in self._io.extra_specs]
        # Score slots' numbers (engine/score_slots.py) ride after the model's other inputs.
        self._row_specs = [*self._extra_specs, *head.parameter_specs]
        self._layers: list[LayerRef] | None = None
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
        self,
        images: np.ndarray,
        *,
        extras: Sequence[np.ndarray] = (),
        targets: np.ndarray | None = None,
        top: int | None = None,
        pad_to: int | None = None,
    ) -> RawResult:
        """Explain ``images`` (B, H, W, C) for ``targets`` (B, K) class ids, or the ``top`` k.

        ``extras``: the model's other inputs, one batch of B rows each, in input order, then
        the score slots' numbers (:mod:`explainimg.engine.score_slots`).
        ``pad_to``: on backends that trace per batch size (JAX), a smaller batch is padded to
        this size so that the last batch of a stream reuses the stream's trace.
        """
        count = images.shape[0]
        images = self._padded(images, pad_to)
        extras = [self._padded(extra, pad_to) for extra in extras]
        if targets is not None:
            targets = self._padded(np.asarray(targets, dtype=np.int32), pad_to)
            function = self._function("targets", targets.shape[1])
            outputs = function(images, targets, *extras)
        else:
            function = self._function("top", top or 1)
            outputs = function(images, *extras)
        maps, chosen, scores, probas, finite, mismatch, attributions = (
            ops.convert_to_numpy(value)[:count] if value.ndim else ops.convert_to_numpy(value)
            for value in outputs
        )
        self._check_logits(float(mismatch))
        maps = maps.copy()
        maps[~finite] = 0.0
        if self._method.signed:
            attributions = attributions.copy()
            attributions[~finite] = 0.0
        return RawResult(
            maps=maps,
            targets=chosen.astype(np.int64),
            scores=scores,
            probas=probas if self._head.has_probabilities else None,
            finite=finite,
            attributions=attributions if self._method.signed else None,
        )

    def _padded(self, array: np.ndarray, pad_to: int | None) -> np.ndarray:
        missing = (pad_to or 0) - array.shape[0]
        if not self._backend.STATIC_SHAPES or missing <= 0:
            return array
        return np.concatenate([array, np.repeat(array[-1:], missing, axis=0)])

    def confidences(
        self, images: np.ndarray, *, extras: Sequence[np.ndarray] = (), pad_to: int | None = None
    ) -> np.ndarray:
        """(N, classes) probabilities of ``images`` (the model's softmax/sigmoid output; for
        a single sigmoid unit [1 - p, p]), or the raw scores when the model gives none."""
        if "confidences" not in self._functions:

            def confidences(batch: Any, *extra_inputs: Any) -> Any:
                scores, probas = self.scores(ops.cast(batch, "float32"), extra_inputs)
                return scores if probas is None else probas

            self._functions["confidences"] = self._backend.compile_function(
                self._backend.forward_only(confidences),
                self._live_model(),
                [self._image_spec, *self._extra_specs],
            )
        padded = [self._padded(extra, pad_to) for extra in extras]
        values = self._functions["confidences"](self._padded(images, pad_to), *padded)
        return ops.convert_to_numpy(values)[: images.shape[0]]

    def _check_logits(self, mismatch: float) -> None:
        dtype = keras.backend.standardize_dtype(self._image_spec[1])
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
        model = self._live_model()
        if mode == "top":

            def explain_top(images: Any, *extras: Any) -> tuple[Any, ...]:
                return self._explain(images, None, count, extras)

            specs = [self._image_spec, *self._row_specs]
            return self._backend.compile_function(explain_top, model, specs)

        def explain_targets(images: Any, targets: Any, *extras: Any) -> tuple[Any, ...]:
            return self._explain(images, targets, count, extras)

        specs = [self._image_spec, ((None, count), "int32"), *self._row_specs]
        return self._backend.compile_function(explain_targets, model, specs)

    def _explain(
        self, images: Any, targets: Any | None, count: int, extras: Sequence[Any]
    ) -> tuple[Any, ...]:
        self.trace_count += 1
        images = ops.cast(images, "float32")
        augmented = self._method.augmented  # smooth="aug": six copies per image, one batch
        rows = augment.augmented(images) if augmented else images
        row_extras = augment.repeated(extras) if augmented else extras
        # A method whose gradients all take one rule (LRP, DeepLIFT) gets it in this pass.
        rule = getattr(self._method, "forward_rule", None)
        recording = self._backend.record(
            self._forward(row_extras, rule), rows, self._layer_spec(), self._method.second_order
        )
        scores, probas = recording.scores, recording.aux["probas"]
        if augmented:
            scores = augment.original_rows(scores, ops.shape(images)[0])
            probas = None if probas is None else augment.original_rows(probas, ops.shape(images)[0])
        if targets is None:
            targets = ops.top_k(scores, k=count)[1]
        targets = ops.cast(targets, "int32")
        row_targets = augment.repeated(targets) if augmented else targets
        context = MethodContext(self, rows, row_targets, recording, row_extras, rule)
        outputs = [self._method.target_outputs(context, k) for k in range(count)]
        maps = scale_by_max(ops.stack([raw for raw, _ in outputs], 1))
        if augmented:
            maps = scale_by_max(augment.aligned_mean(maps))
        # Unsigned methods return an empty (B, 0) placeholder: one output layout for all.
        attributions = (
            ops.stack([signed for _, signed in outputs], 1)
            if self._method.signed
            else ops.zeros((ops.shape(images)[0], 0))
        )
        chosen_scores = ops.take_along_axis(scores, targets, axis=1)
        chosen_probas = (
            ops.take_along_axis(probas, targets, axis=1)
            if probas is not None
            else ops.zeros_like(chosen_scores)
        )
        finite = ops.logical_and(
            ops.all(ops.isfinite(maps), axis=(1, 2, 3)), ops.all(ops.isfinite(scores), axis=1)
        )
        if self._method.signed:
            finite = ops.logical_and(finite, ops.all(ops.isfinite(attributions), axis=(1, 2, 3)))
        mismatch = self._head.logits_mismatch(
            recording.aux["logits"],
            recording.aux["outputs"],
            augment.repeated(finite) if augmented else finite,
        )
        return maps, targets, chosen_scores, chosen_probas, finite, mismatch, attributions

    def _rule_hooks(self, rule: Any) -> RuleHooks:
        if rule is None:
            return RuleHooks()
        if self._layers is None:
            self._layers = list(all_layers(self._live_model()))
        final = self._head.final.layer if self._head.has_logits else None
        return rule_hooks_for(self._layers, rule, final)

    def _run(self, images: Any, extras: Sequence[Any], capture: Capture) -> Any:
        """The explained output of one model run with ``capture``'s hooks in place
        (``extras``: the rows' other inputs, score numbers after the model's)."""
        shown = to_channels_first(images) if self._io.channels_first else images
        inputs = self._io.assemble(shown, extras[: len(self._extra_specs)])
        with intercepted(capture.hooks(), capture.activation_hooks):
            outputs = self._live_model()(inputs, training=False)
        return self._io.pick(outputs, images)

    def _class_scores(self, capture: Capture, outputs: Any, extras: Sequence[Any]) -> Any:
        """(scores, probas) of a run, each row scored with its own score numbers."""
        numbers = extras[len(self._extra_specs) :]
        return self._head.class_scores(capture.logits, outputs, numbers)

    def _forward(
        self, extras: Sequence[Any], rule: Any = None, with_layer: bool = True
    ) -> Callable[..., Any]:
        """The model run as the backend differentiates it: images -> (scores, aux)."""
        target = self._target if with_layer else None
        hooks = self._rule_hooks(rule)

        def run(rows: Any, row_extras: Sequence[Any]) -> Any:
            return self._run(rows, row_extras, Capture(None, self._head, rule=hooks))

        def forward(images: Any, at_layer: Callable[[Any], Any]) -> tuple[Any, dict[str, Any]]:
            hooks.prepare(images, extras, self._backend.forward_only(run))
            capture = Capture(target, self._head, at_layer, hooks)
            outputs = self._run(images, extras, capture)
            if target is not None and capture.activations is None:
                raise ExplanationError(f"Layer {target.path!r} did not run in the model.")
            scores, probas = self._class_scores(capture, outputs, extras)
            aux = {
                "activations": capture.activations,
                "probas": probas,
                "logits": capture.logits,
                "outputs": outputs,
            }
            return scores, aux

        return forward

    def _layer_spec(self) -> tuple[tuple, str] | None:
        if self._target is None:
            return None
        output = getattr(self._target.layer, "output", None) if self._target.in_graph else None
        if output is None or isinstance(output, (list, tuple, dict)):
            return (None, None), "float32"  # found by an abstract run where needed
        return tuple(output.shape), output.dtype

    def scores(
        self, images: Any, extras: Sequence[Any], at_layer: Callable[[Any], Any] | None = None
    ) -> tuple[Any, Any | None]:
        """(scores, probas) per class for any batch of images (a plain forward pass; with
        ``at_layer``, the explained layer's output replaced by ``at_layer`` of it)."""
        if at_layer is not None:
            scores, aux = self._forward(extras)(images, at_layer)
            return scores, aux["probas"]
        capture = Capture(None, self._head)
        outputs = self._run(images, extras, capture)
        return self._class_scores(capture, outputs, extras)

    def sequential_map(self, function: Callable[[Any], Any], elements: Any) -> Any:
        """``function`` over the first axis of ``elements``, one step at a time; a call of
        many steps shows a progress bar (:func:`explainimg.engine.progress.call_step`)."""
        return self._backend.sequential_map(function, elements, LONG_CALLS)

    def input_recording(self, images: Any, extras: Sequence[Any], rule: Any) -> Recording:
        """A fresh forward pass on ``images`` recorded for input gradients (by the backward
        ``rule`` when one is given: :func:`explainimg.engine.relevance.rule_hooks_for`)."""
        return self._backend.record(self._forward(extras, rule, with_layer=False), images, None)

    def bias_recording(self, images: Any, extras: Sequence[Any]) -> tuple[Recording, BiasSites]:
        """A fresh forward pass on ``images`` recorded at every biased layer's pre-activation
        (:mod:`explainimg.engine.full_gradients`), and those layers."""
        sites = BiasSites.of(self._live_model(), self._head)

        def forward(images: Any, at_point: Callable[[Any], Any]) -> tuple[Any, dict[str, Any]]:
            capture = Capture(None, self._head, rule=RuleHooks(*sites.hooks(at_point)))
            outputs = self._run(images, extras, capture)
            return self._class_scores(capture, outputs, extras)[0], {"activations": None}

        return self._backend.record_points(forward, images), sites

    def to_grid(self, values: Any) -> Any:
        """The explained layer's output (or its gradient) as a (B, h, w, c) map."""
        values = ops.cast(values, "float32")
        return values if self._grid is None else self._grid(values)
