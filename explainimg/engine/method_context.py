"""What a method gets inside one compiled call: the images, the targets, the explained
layer's activations, and the gradients and model calls it may ask for (the
:class:`explainimg.methods.Context` protocol, served by the compiled explainer).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from keras import ops

from ..errors import ExplanationError
from .recording import Recording


class Compiled(Protocol):
    """What the context needs from :class:`explainimg.engine.compiled.CompiledExplainer`."""

    n_classes: int
    layer_path: str | None

    def to_grid(self, values: Any) -> Any: ...

    def input_recording(
        self, images: Any, extras: Sequence[Any], rule: str | None
    ) -> Recording: ...

    def bias_recording(self, images: Any, extras: Sequence[Any]) -> tuple[Recording, Any]: ...

    def scores(self, images: Any, extras: Sequence[Any]) -> tuple[Any, Any]: ...

    def sequential_map(self, function: Callable[[Any], Any], elements: Any) -> Any: ...


class MethodContext:
    """What methods get inside one compiled call (see :class:`explainimg.methods.Context`)."""

    def __init__(
        self,
        explainer: Compiled,
        images: Any,
        targets: Any,
        recording: Recording,
        extras: Sequence[Any],
    ) -> None:
        activations = recording.aux["activations"]
        self.images = images
        self.targets = targets
        self.activations = None if activations is None else explainer.to_grid(activations)
        self.memo: dict[str, Any] = {}
        self._explainer = explainer
        self._recording = recording
        self._extras = extras

    def _selector(self, target_ids: Any) -> Any:
        return ops.one_hot(target_ids, self._explainer.n_classes, dtype="float32")

    def layer_gradients(self, k: int) -> Any:
        gradients = self._recording.gradient(self._selector(self.targets[:, k]), "layer")
        if gradients is None:
            raise ExplanationError(
                f"The model's output does not depend on layer {self._explainer.layer_path!r}."
            )
        return self._explainer.to_grid(gradients)

    def layer_gradients_and_hvp(self, k: int) -> tuple[Any, Any]:
        cotangent = self._selector(self.targets[:, k])
        activations = self._recording.aux["activations"]
        gradients, hvp = self._recording.gradient_and_hvp(cotangent, activations)
        if gradients is None:
            raise ExplanationError(
                f"The model's output does not depend on layer {self._explainer.layer_path!r}."
            )
        return self._explainer.to_grid(gradients), self._explainer.to_grid(hvp)

    def full_gradients(self, k: int) -> tuple[Any, list[Any]]:
        if "bias recording" not in self.memo:
            self.memo["bias recording"] = self._explainer.bias_recording(self.images, self._extras)
        recording, sites = self.memo["bias recording"]
        inputs, *points = recording.gradient(self._selector(self.targets[:, k]), "full")
        return ops.cast(inputs, "float32"), sites.terms(points)

    def input_gradients(self, images: Any, target_ids: Any, rule: str | None = None) -> Any:
        recording = self._recording
        if images is not self.images or rule is not None:
            recording = self._explainer.input_recording(images, self._extras, rule)
        gradients = recording.gradient(self._selector(target_ids), "input")
        if gradients is None:
            raise ExplanationError("The model's output does not depend on its input.")
        return ops.cast(gradients, "float32")

    def class_confidences(self, images: Any, sources: Any = None) -> Any:
        extras = self._extras
        if sources is not None:
            extras = [ops.take(extra, sources, axis=0) for extra in extras]
        scores, probas = self._explainer.scores(images, extras)
        return probas if probas is not None else ops.softmax(scores, axis=-1)

    def map(self, function: Callable[[Any], Any], elements: Any) -> Any:
        return self._explainer.sequential_map(function, elements)
