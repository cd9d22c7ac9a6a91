"""SquareGrad (Hooker et al., 2019): the mean square of SmoothGrad's noisy input gradients.

On SmoothGrad's seeded noise: mean_n(g_n^2) per input value, reduced over colour channels as
saliency's, optionally smoothed, min-max normalised.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
from keras import ops

from .smoothgrad import SmoothGrad


@attrs.frozen
class SquareGrad(SmoothGrad):
    """SquareGrad: the mean square of the input gradients over noisy copies of the image,
    reduced over colour channels, min-max normalised."""

    key: ClassVar[str] = "squaregrad"
    title: ClassVar[str] = "SquareGrad"

    def aggregate(self, gradients: Any) -> Any:
        return ops.mean(ops.square(gradients), axis=0)
