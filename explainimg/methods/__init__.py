"""Explanation methods: each turns (activations, gradients) into maps, as tensor maths only.

>>> get_method("gradcam").title
'Grad-CAM'
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import tensorflow as tf

from ..errors import bad_argument
from .gradcam import gradcam


@attrs.frozen
class Method:
    """A registered method: its key for ``method=``, display title, and map function."""

    key: str
    title: str
    description: str
    compute: Callable[[tf.Tensor, tf.Tensor], tf.Tensor]


METHODS: dict[str, Method] = {
    "gradcam": Method(
        key="gradcam",
        title="Grad-CAM",
        description=(
            "Grad-CAM: the layer's channels weighted by the spatial mean of the score's "
            "gradient, summed, ReLU, divided by the maximum."
        ),
        compute=gradcam,
    ),
}


def get_method(name: str) -> Method:
    """The method registered under ``name`` (raises a ValueError listing the known ones)."""
    try:
        return METHODS[name]
    except (KeyError, TypeError):
        known = ", ".join(map(repr, METHODS))
        raise bad_argument("method", f"one of {known}", name) from None
