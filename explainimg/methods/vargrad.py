"""VarGrad (Adebayo et al., 2018): the variance of SmoothGrad's noisy input gradients.

On SmoothGrad's seeded noise (the same draws, so the same seed gives the same noisy copies):
var_n(g_n) per input value, the population variance (divided by ``samples``), reduced over
colour channels as saliency's, optionally smoothed, min-max normalised.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
from keras import ops

from .smoothgrad import SmoothGrad


@attrs.frozen
class VarGrad(SmoothGrad):
    """VarGrad: the variance of the input gradients over noisy copies of the image, reduced
    over colour channels, min-max normalised."""

    key: ClassVar[str] = "vargrad"
    title: ClassVar[str] = "VarGrad"

    def aggregate(self, gradients: Any) -> Any:
        return ops.var(gradients, axis=0)
