"""Eigen-CAM (Muhammad and Yeasin, 2020): the first principal component of the layer's
activations, class-agnostic and gradient-free.

The (h w, c) matrix of activations is centred (each channel's mean over the positions taken
off) and projected on its first right singular vector: map = ReLU(A_centred v_1). A singular
vector's sign is arbitrary (it differs between SVD routines and backends), so it is fixed to
make the projection correlate positively with the activations' mean over channels
(:mod:`explainimg.methods.components`). The map needs no gradient, so it explains any model
with a feature layer, and it is the same for every target.

>>> EigenCAM().passes
'1 forward, shared by all targets (no backward)'
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from .base import Context
from .cam import ChannelCAM
from .components import first_component


@attrs.frozen
class EigenCAM(ChannelCAM):
    """Eigen-CAM: the projection of the layer's centred activations on their first
    principal component (signed to agree with the mean activation), ReLU, divided by the
    maximum; the same map for every target."""

    key: ClassVar[str] = "eigencam"
    title: ClassVar[str] = "Eigen-CAM"
    passes: ClassVar[str] = "1 forward, shared by all targets (no backward)"

    def channel_terms(self, ctx: Context, k: int) -> Any:
        return ctx.activations

    def combine(self, terms: Any) -> Any:
        return first_component(terms)

    def target_map(self, ctx: Context, k: int) -> Any:
        if "eigencam" not in ctx.memo:
            ctx.memo["eigencam"] = ChannelCAM.target_map(self, ctx, k)
        return ctx.memo["eigencam"]
