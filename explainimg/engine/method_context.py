"""What a method gets inside one compiled call: the images, the targets, the explained
layer's activations, and the gradients and model calls it may ask for (the
:class:`explainimg.methods.Context` protocol, served by the compiled explainer).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from keras import ops

from ..errors import ExplanationError
from .channel_masks import channel_masked_scores
from .recording import Recording


class Compiled(Protocol):
    """What the context needs from :class:`explainimg.engine.compiled.CompiledExplainer`."""

    n_classes: int
    layer_path: str | None
    channels_first: bool

    def to_grid(self, values: Any) -> Any: ...

    def input_recording(self, images: Any, extras: Sequence[Any], rule: Any) -> Recording: ...

    def bias_recording(self, images: Any, extras: Sequence[Any]) -> tuple[Recording, Any]: ...

    def scores(
        self, images: Any, extras: Sequence[Any], at_layer: Callable[[Any], Any] | None = None
    ) -> tuple[Any, Any]: ...

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
        rule: Any = None,
    ) -> None:
        """``rule``: the backward rule ``recording`` was made with (None: plain gradients)."""
        activations = recording.aux["activations"]
        self.images = images
        self.targets = targets
        self.scores = ops.cast(recording.scores, "float32")
        self.activations = None if activations is None else explainer.to_grid(activations)
        self.memo: dict[str, Any] = {}
        self._explainer = explainer
        self._recording = recording
        self._extras = extras
        self._rule_recordings: dict[Any, tuple[Any, Recording]] = {}
        if rule is not None:
            self._rule_recordings[rule] = (images, recording)

    def _selector(self, target_ids: Any) -> Any:
        return ops.one_hot(target_ids, self._explainer.n_classes, dtype="float32")

    def layer_gradients(self, k: int) -> Any:
        return self.layer_gradients_of(self._selector(self.targets[:, k]))

    def layer_gradients_of(self, cotangent: Any) -> Any:
        gradients = self._recording.gradient(ops.cast(cotangent, "float32"), "layer")
        if gradients is None:
            raise self._layer_unreached()
        return self._explainer.to_grid(gradients)

    def _layer_unreached(self) -> ExplanationError:
        return ExplanationError(
            f"The model's output does not depend on layer {self._explainer.layer_path!r}."
        )

    def layer_gradients_and_hvp(self, k: int) -> tuple[Any, Any]:
        cotangent = self._selector(self.targets[:, k])
        activations = self._recording.aux["activations"]
        gradients, hvp = self._recording.gradient_and_hvp(cotangent, activations)
        if gradients is None:
            raise self._layer_unreached()
        return self._explainer.to_grid(gradients), self._explainer.to_grid(hvp)

    def full_gradients(self, k: int) -> tuple[Any, list[Any]]:
        if "bias recording" not in self.memo:
            self.memo["bias recording"] = self._explainer.bias_recording(self.images, self._extras)
        recording, sites = self.memo["bias recording"]
        inputs, *points = recording.gradient(self._selector(self.targets[:, k]), "full")
        return ops.cast(inputs, "float32"), sites.terms(points)

    def input_gradients(self, images: Any, target_ids: Any, rule: Any = None) -> Any:
        recording = self._recording
        if rule is not None:
            recording = self._rule_recording(images, rule)
        elif images is not self.images:
            recording = self._explainer.input_recording(images, self._extras, None)
        gradients = recording.gradient(self._selector(target_ids), "input")
        if gradients is None:
            raise ExplanationError("The model's output does not depend on its input.")
        return ops.cast(gradients, "float32")

    def _extras_of(self, sources: Any) -> Sequence[Any]:
        if sources is None:
            return self._extras
        return [ops.take(extra, sources, axis=0) for extra in self._extras]

    def _rule_recording(self, images: Any, rule: Any) -> Recording:
        """One forward pass by ``rule`` per images object, shared by the targets."""
        kept = self._rule_recordings.get(rule)
        if kept is not None and kept[0] is images:
            return kept[1]
        recording = self._explainer.input_recording(images, self._extras, rule)
        self._rule_recordings[rule] = (images, recording)
        return recording

    def class_confidences(self, images: Any, sources: Any = None) -> Any:
        scores, probas = self._explainer.scores(images, self._extras_of(sources))
        return probas if probas is not None else ops.softmax(scores, axis=-1)

    def channel_masked_scores(self, masks: Any, sources: Any = None) -> Any:
        images = self.images if sources is None else ops.take(self.images, sources, axis=0)
        extras = self._extras_of(sources)
        return ops.cast(channel_masked_scores(self._explainer, images, extras, masks), "float32")

    def map(self, function: Callable[[Any], Any], elements: Any) -> Any:
        return self._explainer.sequential_map(function, elements)
