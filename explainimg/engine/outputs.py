"""What a model's output means, and where its scores come from.

The score that gets differentiated is the logit, not the probability (as in the Grad-CAM
paper), and the model is not touched to get it:

- a separate ``Softmax`` layer: its input is the logits;
- any layer with a softmax/sigmoid ``activation`` (``Dense(..., activation="softmax")``,
  ``Activation("softmax")``): the same layer is run once more through a read-only view whose
  activation is the identity, sharing the layer's own weights.

Output kinds (``OutputHead.kind``):

- ``"softmax"``: C > 1 units through softmax. score = logit, proba = softmax output.
- ``"sigmoid"``: C > 1 units through sigmoid (multi-label). score = logit, proba = sigmoid.
- ``"binary"``: one unit through sigmoid. Two classes: **class 1 is the unit** (score = logit
  z, proba = p) and **class 0 its complement** (score = -z, proba = 1 - p).
- ``"logits"``: C > 1 units without softmax from a KerasHub ``ImageClassifier``, which is
  built to output logits (its loss is cross-entropy from logits). score = output,
  proba = softmax(output).
- ``"scores"``: C > 1 units without softmax/sigmoid. score = output, proba = None.
- ``"regression"``: one unit without sigmoid. Only target 0, score = output, proba = None,
  ``Explanation.is_regression`` is True.
- ``"other"``: any other output shape (a segmentation map, ...): explained only through score
  functions (``"custom"``, see :mod:`explainimg.targets`), which get the logits.

>>> import keras
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
>>> head = analyze_output(model)
>>> head.kind, head.n_classes
('softmax', 3)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs
import keras
from keras import ops

from ..errors import bad_argument, said
from .graph import LayerRef, output_layer
from .model_io import ModelIO
from .score_slots import ScoreSlot
from .scores import custom_scores


class LinearView:
    """Read-only stand-in for a layer whose activation is the identity (weights shared)."""

    def __init__(self, layer: keras.layers.Layer) -> None:
        self._layer = layer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._layer, name)

    @staticmethod
    def activation(x: Any) -> Any:
        return x


def _activation_name(layer: keras.layers.Layer) -> str | None:
    if isinstance(layer, keras.layers.Softmax):
        return "softmax"
    name = getattr(getattr(layer, "activation", None), "__name__", None)
    return name if name in ("softmax", "sigmoid") else None


@attrs.frozen(eq=False)
class OutputHead:
    """How to read class scores and probabilities off a model's output.

    ``activation``: the final softmax/sigmoid seen on the output (None if none).
    ``score_functions``: for kind ``"custom"``, one function per target from the output's
    logits (or the output itself without a final activation) to one score per image.
    """

    kind: str
    n_classes: int
    final: LayerRef | None
    activation: str | None = None
    score_functions: tuple[Callable[[Any], Any], ...] = ()
    shape: tuple[int | None, ...] | None = None

    def require_classes(self) -> None:
        """An error unless the output holds class scores (kind ``"other"`` does not)."""
        if self.kind == "other":
            raise bad_argument(
                "targets",
                "score functions (see explainimg.targets) for an output of shape "
                f"{self.shape}, which does not hold class scores (batch, classes)",
                said("class ids"),
            )

    @property
    def gives_confidences(self) -> bool:
        """True when every score function says its score is a confidence in [0, 1]
        (``gives_confidence``, as D-RISE's similarity): methods read it as a probability."""
        return bool(self.score_functions) and all(
            getattr(function, "gives_confidence", False) for function in self.score_functions
        )

    @property
    def has_logits(self) -> bool:
        return self.activation is not None

    @property
    def has_probabilities(self) -> bool:
        return (self.has_logits and self.kind != "custom") or self.kind == "logits"

    def logits(self, args: Sequence[Any]) -> Any:
        """The pre-activation output of the final layer, given that layer's call arguments."""
        layer = self.final.layer
        if isinstance(layer, keras.layers.Softmax):
            return args[0]
        return type(layer).call(LinearView(layer), *args)

    @property
    def parameter_specs(self) -> list[tuple[tuple[int | None, ...], str]]:
        """Input specs of the numbers the score functions' slots get per image
        (:mod:`explainimg.engine.score_slots`), in slot order."""
        slots = [f for f in self.score_functions if isinstance(f, ScoreSlot)]
        return [spec for slot in slots for spec in slot.input_specs]

    def class_scores(
        self, logits: Any, outputs: Any, parameters: Sequence[Any] = ()
    ) -> tuple[Any, Any | None]:
        """(scores, probas) per class, shape (batch, n_classes); probas None without one.
        ``parameters``: the slots' numbers, one row per image."""
        outputs = ops.cast(outputs, "float32")
        values = ops.cast(logits, "float32") if self.has_logits else outputs
        if self.kind == "custom":
            scores = ops.stack(custom_scores(self.score_functions, values, parameters), axis=-1)
            return scores, scores if self.gives_confidences else None
        if self.kind == "logits":
            return outputs, ops.softmax(outputs, axis=-1)
        if not self.has_logits:
            return outputs, None
        if self.kind == "binary":
            return (
                ops.concatenate([-values, values], axis=-1),
                ops.concatenate([1.0 - outputs, outputs], axis=-1),
            )
        return values, outputs

    def logits_mismatch(self, logits: Any, outputs: Any, finite: Any) -> Any:
        """Largest gap between activation(logits) and the model's real output over the images
        marked ``finite`` (should be ~0: the logits were recovered correctly)."""
        if not self.has_logits:
            return ops.zeros(())
        logits = ops.cast(logits, "float32")
        recomputed = (
            ops.softmax(logits, axis=-1) if self.activation == "softmax" else ops.sigmoid(logits)
        )
        gaps = ops.abs(recomputed - ops.cast(outputs, "float32"))
        gaps = ops.max(ops.reshape(gaps, (ops.shape(gaps)[0], -1)), axis=1)
        return ops.max(ops.where(finite, gaps, ops.zeros_like(gaps)))

    def with_score_functions(self, functions: Sequence[Callable[[Any], Any]]) -> OutputHead:
        """The same output read through custom score functions (one target each)."""
        return OutputHead(
            "custom", len(functions), self.final, self.activation, tuple(functions), self.shape
        )


def describe_output(
    shape: tuple[int | None, ...] | None, final: LayerRef | None, *, logits: bool = False
) -> OutputHead:
    """The head of an output of ``shape`` made by layer ``final`` (None: not known, so the
    output is taken as it is); ``logits``: the model is known to output class logits."""
    activation = final_activation(final)
    if shape is None or len(shape) != 2 or shape[1] is None:
        return OutputHead("other", 0, final, activation, shape=shape)
    units = int(shape[1])
    if activation == "softmax":
        return OutputHead("softmax", units, final, activation)
    if activation == "sigmoid":
        kind = "binary" if units == 1 else "sigmoid"
        return OutputHead(kind, max(units, 2), final, activation)
    if units == 1:
        return OutputHead("regression", units, final)
    return OutputHead("logits" if logits else "scores", units, final)


def outputs_logits(model: Any) -> bool:
    """True for a KerasHub ``ImageClassifier`` (found by its class, so KerasHub need not be
    installed): its head has no softmax unless ``activation="softmax"`` was asked for, and
    its loss is then cross-entropy from logits."""
    return any(
        cls.__name__ == "ImageClassifier" and cls.__module__.startswith("keras_hub")
        for cls in type(model).__mro__
    )


def final_activation(final: LayerRef | None) -> str | None:
    """The name of the softmax or sigmoid that ``final`` (the layer making an output) ends
    in, or None."""
    return None if final is None else _activation_name(final.layer)


def analyze_output(model: keras.Model, io: ModelIO | None = None) -> OutputHead:
    """Classify a functional or Sequential model's explained output (see the module
    docstring)."""
    index = 0 if io is None else io.output
    tensor = keras.tree.flatten(model.outputs)[index]
    return describe_output(tuple(tensor.shape), output_layer(model, index))
