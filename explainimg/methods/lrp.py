"""Layer-wise Relevance Propagation (Bach et al., 2015; Montavon et al., 2019).

The target's score (its logit) is the relevance at the output; each layer passes the
relevance R_j of its outputs to its inputs by a rule, and the map is the relevance at the
input pixels, computed as x * (a modified gradient). For a Dense or convolution layer with
inputs x_i, weights w_ij and outputs z_j:

- ``"epsilon"``: R_i = Σ_j x_i w_ij R_j / (z_j + ε sign(z_j)) (z_j with its bias, sign(0) =
  +1; ``epsilon`` is absolute, 1e-6 by default as zennit's; Montavon et al. suggest about a
  quarter of the standard deviation of z in the middle layers to denoise).
- ``"alpha_beta"``: R_i = Σ_j (alpha (x_i w_ij)⁺ / Σ_i (x_i w_ij)⁺ - beta (x_i w_ij)⁻ / Σ_i
  (x_i w_ij)⁻) R_j, biases left out, with alpha - beta = 1 (``alpha=2, beta=1`` by default).
- ``"z_plus"``: the alpha = 1, beta = 0 case (R_i = Σ_j x_i w_ij⁺ / Σ_i x_i w_ij⁺ R_j for x ≥ 0).
- ``"epsilon_plus"``: zennit's EpsilonPlus composite, z_plus for convolutions and epsilon for
  Dense; or a dict {layer type: rule name} such as ``{"Conv2D": "z_plus"}`` (types not named
  get epsilon).

Average pooling and Add pass relevance by the epsilon rule (in proportion to the inputs'
contributions), max pooling to the winner (the gradient), elementwise activations unchanged,
and BatchNormalization / Rescaling / Normalization by the gradient (the epsilon rule with
ε = 0 on an elementwise affine map: the shift takes its share, as a bias does). Layers none of
these fit (attention, LayerNormalization, custom layers) are refused by name. The engine
applies the rules while the model runs, without changing it
(:mod:`explainimg.engine.relevance`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs
from keras import ops

from ..errors import bad_argument, said
from .base import Context, SignedMethod, number_at_least

LAYER_RULES = ("epsilon", "z_plus", "alpha_beta")
"""The rules of one layer."""
RULES = (*LAYER_RULES, "epsilon_plus")
"""The names ``rule=`` takes (besides a dict)."""
CONVOLUTIONS = ("Conv1D", "Conv2D", "Conv3D", "DepthwiseConv1D", "DepthwiseConv2D")
WEIGHTED_TYPES = ("Dense", *CONVOLUTIONS)
"""The layer types with weights that the rules cover (the keys of a ``rule`` dict)."""


@attrs.frozen
class RelevanceRule:
    """The LRP rules as the engine reads them: the rule of each weighted layer type, and the
    rules' constants (hashable, so a compiled function is kept per rule)."""

    rules: tuple[tuple[str, str], ...]
    epsilon: float
    alpha: float
    beta: float

    def rule_for(self, layer_type: str) -> str:
        """The rule of a weighted layer of type ``layer_type``."""
        return dict(self.rules)[layer_type]


def _expected_rule() -> str:
    names = ", ".join(map(repr, RULES))
    return f"one of {names} or a dict {{layer type: one of {', '.join(map(repr, LAYER_RULES))}}}"


def _as_rule(value: Any) -> Any:
    """A dict becomes sorted (type, rule) pairs (hashable); anything else stays as it is."""
    if isinstance(value, Mapping):
        return tuple(sorted(value.items(), key=lambda item: str(item[0])))
    return value


def _check_rule(instance: object, attribute: attrs.Attribute, value: object) -> None:
    if isinstance(value, str) and value in RULES:
        return
    if isinstance(value, tuple) and value:
        for layer_type, rule in value:
            if layer_type not in WEIGHTED_TYPES:
                known = ", ".join(map(repr, WEIGHTED_TYPES))
                raise bad_argument("rule", f"layer types among {known}", layer_type)
            if rule not in LAYER_RULES:
                raise bad_argument(f"rule[{layer_type!r}]", _expected_rule(), rule)
        return
    raise bad_argument("rule", _expected_rule(), dict(value) if isinstance(value, tuple) else value)


@attrs.frozen
class LRP(SignedMethod):
    """LRP: the target's score redistributed layer by layer back to the input pixels by
    relevance rules (epsilon by default); |sum over channels|, divided by the maximum.

    >>> LRP(rule={"Conv2D": "z_plus"}).relevance_rule.rule_for("Dense")
    'epsilon'
    """

    key: ClassVar[str] = "lrp"
    title: ClassVar[str] = "LRP"
    needs_layer: ClassVar[bool] = False
    passes: ClassVar[str] = (
        "1 forward with the rules (z_plus and alpha_beta recompute each weighted layer twice "
        "more) + 1 backward per target"
    )

    rule: Any = attrs.field(default="epsilon", converter=_as_rule, validator=_check_rule)
    epsilon: float = attrs.field(default=1e-6, validator=number_at_least("epsilon", 0))
    alpha: float = attrs.field(default=2.0, validator=number_at_least("alpha", 1))
    beta: float = attrs.field(default=1.0, validator=number_at_least("beta", 0))

    def __attrs_post_init__(self) -> None:
        uses_alpha_beta = "alpha_beta" in dict(self.relevance_rule.rules).values()
        if uses_alpha_beta and abs(self.alpha - self.beta - 1.0) > 1e-12:
            raise bad_argument(
                "alpha, beta",
                "alpha - beta == 1 (the alpha_beta rule then conserves relevance)",
                said(f"alpha={self.alpha!r}, beta={self.beta!r}"),
            )

    @property
    def forward_rule(self) -> RelevanceRule:
        """The rule the engine applies in its first forward pass already (every gradient
        this method asks for takes it), so that no second pass is needed."""
        return self.relevance_rule

    @property
    def relevance_rule(self) -> RelevanceRule:
        """The rule of every weighted layer type, for the engine."""
        if isinstance(self.rule, tuple):
            chosen = dict(self.rule)
            rules = {name: chosen.get(name, "epsilon") for name in WEIGHTED_TYPES}
        elif self.rule == "epsilon_plus":
            rules = {
                name: "z_plus" if name in CONVOLUTIONS else "epsilon" for name in WEIGHTED_TYPES
            }
        else:
            rules = dict.fromkeys(WEIGHTED_TYPES, self.rule)
        return RelevanceRule(
            tuple(rules.items()), float(self.epsilon), float(self.alpha), float(self.beta)
        )

    def attributions(self, ctx: Context, k: int) -> Any:
        gradients = ctx.input_gradients(ctx.images, ctx.targets[:, k], rule=self.relevance_rule)
        return ctx.images * ops.cast(gradients, "float32")
