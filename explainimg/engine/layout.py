"""Models built with ``data_format="channels_first"``.

Everything in explainimg is channels-last: images (batch, height, width, channels), feature
maps (batch, h, w, c). For a channels-first model the explainer keeps it that way and
converts at the model's edges only: images are transposed to (batch, channels, height, width)
right before the model (gradients come back channels-last through the transpose), and the
explained layer's (batch, c, h, w) output is transposed to (batch, h, w, c). Users pass
arrays in their model's layout, as to ``model.predict``.

>>> import keras
>>> model = keras.Sequential([keras.Input((3, 8, 8)),
...     keras.layers.Conv2D(2, 3, data_format="channels_first")])
>>> is_channels_first(model), channels_last_shape((None, 3, 8, 8))
(True, (None, 8, 8, 3))
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from .probe import all_layers


def is_channels_first(model: keras.Model) -> bool:
    """True when the model's image layers (convolutions, pooling) work channels-first."""
    formats = {
        getattr(ref.layer, "data_format", None)
        for ref in all_layers(model)
        if isinstance(getattr(ref.layer, "data_format", None), str)
    }
    return formats == {"channels_first"}


def channels_last_shape(shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
    """(batch, channels, height, width) -> (batch, height, width, channels)."""
    return (shape[0], *shape[2:], shape[1])


def to_channels_last(values: Any) -> Any:
    """A (batch, c, h, w) tensor as (batch, h, w, c)."""
    return ops.transpose(values, (0, 2, 3, 1))


def to_channels_first(values: Any) -> Any:
    """A (batch, h, w, c) tensor as (batch, c, h, w)."""
    return ops.transpose(values, (0, 3, 1, 2))
