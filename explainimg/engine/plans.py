"""Plans: everything worked out once for a (model, layer, method, choices), cached without
keeping the model alive, so that ``explain_prediction`` in a loop costs no more than an
``Explainer`` kept by hand.

>>> import keras
>>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3, name="conv"),
...     keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")])
>>> plan = plan_for(model, None, "gradcam")
>>> plan is plan_for(model, None, "gradcam"), plan.anatomy.kind, plan.compiled.layer_path
(True, 'graph', 'conv')
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any

import attrs
import keras

from ..errors import bad_argument, said
from ..methods import Method, get_method
from .anatomy import Anatomy
from .compiled import CompiledExplainer
from .kinds import dissect
from .outputs import OutputHead


@attrs.frozen(eq=False)
class Plan:
    """Everything worked out once for a (model, layer, method, ...); holds no strong model
    reference."""

    anatomy: Anatomy
    method: Method
    compiled: CompiledExplainer

    @property
    def head(self) -> OutputHead:
        return self.anatomy.head


_PLANS: weakref.WeakKeyDictionary[keras.Model, dict[Any, Plan]] = weakref.WeakKeyDictionary()


def _key_of(value: Any) -> Any:
    """A hashable stand-in for a user's choice (layers by identity)."""
    if isinstance(value, keras.layers.Layer):
        return ("instance", id(value))
    if isinstance(value, list):
        return ("list", tuple(_key_of(item) for item in value))
    try:
        hash(value)
    except TypeError:  # not a valid choice anyway: checking it raises the clear error
        return ("unhashable", id(value))
    return (type(value).__name__, value)


def plan_for(model: Any, layer: Any, method: Any, choices: Mapping[str, Any] | None = None) -> Plan:
    """The cached plan for these choices (``choices``: image_input, output, token_grid,
    score_functions)."""
    chosen = get_method(method)
    choices = dict(choices or {})
    per_model = _PLANS.get(model) if isinstance(model, keras.Model) else None
    key = (_key_of(layer), chosen, tuple((name, _key_of(v)) for name, v in sorted(choices.items())))
    if per_model is not None and key in per_model:
        return per_model[key]
    if not chosen.needs_layer and layer is not None:
        raise bad_argument(
            "layer",
            f"None for method {chosen.key!r}, which explains the input pixels",
            layer,
        )
    anatomy = dissect(
        model,
        layer=layer,
        method=chosen.key,
        needs_layer=chosen.needs_layer,
        reads_confidences=chosen.reads_confidences,
        **choices,
    )
    if chosen.model_kinds and anatomy.kind not in chosen.model_kinds:
        kinds = " or ".join(repr(kind) for kind in chosen.model_kinds)
        raise bad_argument(
            "method",
            f"a method for this model; {chosen.key!r} explains models of kind {kinds}",
            said(f"a model of kind {anatomy.kind!r}"),
            hint=chosen.other_kinds_hint,
        )
    compiled = CompiledExplainer(
        model, anatomy.target, anatomy.head, chosen, io=anatomy.io, grid=anatomy.grid
    )
    plan = Plan(anatomy, chosen, compiled)
    _PLANS.setdefault(model, {})[key] = plan
    return plan


def traces_of(model: Any, layer: Any, method: Any) -> int:
    """How many times the plans made for ``model`` with this ``layer`` and ``method`` traced
    their compiled functions, whatever score functions their targets had."""
    chosen, layer_key = get_method(method), _key_of(layer)
    plans = _PLANS.get(model, {}) if isinstance(model, keras.Model) else {}
    return sum(
        plan.compiled.trace_count
        for (key, plan_method, _), plan in plans.items()
        if key == layer_key and plan_method == chosen
    )
