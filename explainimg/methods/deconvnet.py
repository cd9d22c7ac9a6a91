"""Deconvnet (Zeiler and Fergus, 2014), as a backward rule: the input "gradient" with every
ReLU passing the positive part of the gradient, whatever its forward input.

Through each ReLU: g_in = ReLU(g_out) (no [z > 0] mask, which guided backpropagation keeps).
Every other layer passes the ordinary gradient (the transposed convolutions of the paper's
deconvnet are a convolution's gradient). Applied while the model runs, without changing it
(:mod:`explainimg.engine.guided`); the attribution and the heatmap are made as guided
backpropagation's.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from .guided_backprop import GuidedBackprop


@attrs.frozen
class Deconvnet(GuidedBackprop):
    """Deconvnet: the input gradient with each ReLU passing only the positive part of the
    gradient, reduced over colour channels, min-max normalised."""

    key: ClassVar[str] = "deconvnet"
    title: ClassVar[str] = "Deconvnet"
    passes: ClassVar[str] = "1 forward + 1 full backward per target (the ReLUs rectified)"
    rule: ClassVar[str] = "deconvnet"
