"""The hooks of one model run: the explained layer's output, the logits, a backward rule.

A backward rule (guided backpropagation, deconvnet, DeepLIFT, LRP) is a :class:`RuleHooks`:
hooks on layer calls, hooks on fused activations, and ``prepare``, which the engine calls
before every model run with them (DeepLIFT runs its reference there).

>>> import keras, numpy as np
>>> from explainimg.engine.interception import intercepted
>>> from explainimg.engine.outputs import analyze_output
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
>>> capture = Capture(None, analyze_output(model))
>>> with intercepted(capture.hooks()):
...     probabilities = model(np.ones((1, 3), "float32"))
>>> tuple(capture.logits.shape)
(1, 2)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras

from .graph import LayerRef
from .interception import ActivationHook, Hook
from .outputs import OutputHead
from .recording import unchanged

Run = Callable[[Any, Sequence[Any]], Any]
"""``run(images, extras)``: one run of the model with a rule's hooks in place."""


class RuleHooks:
    """The hooks of a backward rule: ``calls`` on layer calls, ``activations`` on fused
    activations (:mod:`explainimg.engine.interception`)."""

    def __init__(
        self,
        calls: dict[keras.layers.Layer, Hook] | None = None,
        activations: dict[keras.layers.Layer, ActivationHook] | None = None,
    ) -> None:
        self.calls = calls or {}
        self.activations = activations or {}

    def prepare(self, images: Any, extras: Sequence[Any], run: Run) -> None:
        """Called before each model run on ``images`` with these hooks; ``run`` runs the model
        with them on other images (nothing to do but for DeepLIFT's rule)."""


class Capture:
    """Hooks for one model run: passes the explained layer's output through ``at_layer``
    (where the backend watches or perturbs it), picks up the logits on the way and, for a
    backward rule, rewrites the gradients of the layers it covers
    (:func:`explainimg.engine.relevance.rule_hooks_for`)."""

    def __init__(
        self,
        target: LayerRef | None,
        head: OutputHead,
        at_layer: Callable[[Any], Any] = unchanged,
        rule: RuleHooks | None = None,
    ) -> None:
        rule = rule or RuleHooks()
        self._target = target.layer if target is not None else None
        self._head = head
        self._at_layer = at_layer
        self._rule_calls = rule.calls
        self.activation_hooks = rule.activations
        self.activations: Any = None
        self.logits: Any = None

    def _capture(self, layer: Any, args: tuple, kwargs: dict, outputs: Any) -> Any:
        if self.activations is None:
            outputs = self._at_layer(outputs)
            self.activations = outputs
        return outputs

    def _logits(self, layer: Any, args: tuple, kwargs: dict, outputs: Any) -> Any:
        if self.logits is None:
            logits = self._head.logits(args)
            # A backward rule on the final layer (LRP) applies to the logits it is read from.
            rule = self._rule_calls.get(layer)
            self.logits = logits if rule is None else rule(layer, args, kwargs, logits)
        return outputs

    def hooks(self) -> dict[keras.layers.Layer, Hook]:
        """Hooks by layer; several on one layer run in the order rule, capture, logits."""
        chains: dict[keras.layers.Layer, list[Hook]] = {}
        for layer, hook in self._rule_calls.items():
            chains.setdefault(layer, []).append(hook)
        if self._target is not None:
            chains.setdefault(self._target, []).append(self._capture)
        if self._head.has_logits:
            chains.setdefault(self._head.final.layer, []).append(self._logits)
        return {layer: _chained(chain) for layer, chain in chains.items()}


def _chained(hooks: Sequence[Hook]) -> Hook:
    if len(hooks) == 1:
        return hooks[0]

    def chain(layer: Any, args: tuple, kwargs: dict, outputs: Any) -> Any:
        for hook in hooks:
            outputs = hook(layer, args, kwargs, outputs)
        return outputs

    return chain
