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
- ``"scores"``: C > 1 units without softmax/sigmoid. score = output, proba = None.
- ``"regression"``: one unit without sigmoid. Only target 0, score = output, proba = None,
  ``Explanation.is_regression`` is True.

>>> import keras
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
>>> head = analyze_output(model)
>>> head.kind, head.n_classes
('softmax', 3)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import keras
from keras import ops

from ..errors import bad_argument, said
from .graph import LayerRef, output_layer


class _LinearView:
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
    """How to read class scores and probabilities off a model's output."""

    kind: str
    n_classes: int
    final: LayerRef

    @property
    def has_logits(self) -> bool:
        return self.kind in ("softmax", "sigmoid", "binary")

    def logits(self, args: Sequence[Any]) -> Any:
        """The pre-activation output of the final layer, given that layer's call arguments."""
        layer = self.final.layer
        if isinstance(layer, keras.layers.Softmax):
            return args[0]
        return type(layer).call(_LinearView(layer), *args)

    def class_scores(self, logits: Any, outputs: Any) -> tuple[Any, Any | None]:
        """(scores, probas) per class, shape (batch, n_classes); probas None without one."""
        outputs = ops.cast(outputs, "float32")
        if not self.has_logits:
            return outputs, None
        logits = ops.cast(logits, "float32")
        if self.kind == "binary":
            return (
                ops.concatenate([-logits, logits], axis=-1),
                ops.concatenate([1.0 - outputs, outputs], axis=-1),
            )
        return logits, outputs

    def logits_mismatch(self, logits: Any, outputs: Any, finite: Any) -> Any:
        """Largest gap between activation(logits) and the model's real output over the images
        marked ``finite`` (should be ~0: the logits were recovered correctly)."""
        if not self.has_logits:
            return ops.zeros(())
        logits = ops.cast(logits, "float32")
        recomputed = ops.softmax(logits, axis=-1) if self.kind == "softmax" else ops.sigmoid(logits)
        gaps = ops.max(ops.abs(recomputed - ops.cast(outputs, "float32")), axis=-1)
        return ops.max(ops.where(finite, gaps, ops.zeros_like(gaps)))


def analyze_output(model: keras.Model) -> OutputHead:
    """Classify the model's output (see the module docstring)."""
    shape = tuple(model.outputs[0].shape)
    if len(shape) != 2 or shape[1] is None:
        raise bad_argument(
            "model",
            "a classifier or regressor with output shape (batch, classes)",
            said(f"output shape {shape}"),
        )
    units = int(shape[1])
    final = output_layer(model)
    activation = _activation_name(final.layer)
    if activation == "softmax":
        return OutputHead("softmax", units, final)
    if activation == "sigmoid":
        return OutputHead("binary" if units == 1 else "sigmoid", max(units, 2), final)
    return OutputHead("regression" if units == 1 else "scores", units, final)
