"""Splitting what the user passed as ``x`` into the image and the model's other inputs.

A model with several inputs takes them as ``model.predict`` does: a dict by input name or a
list in the model's input order. The image input is explained; the others are held as given
(one row per image). NumPy only.

>>> import numpy as np
>>> layout = InputLayout(("image", "meta"), 0, ((None, 4),))
>>> image, extras = layout.split({"image": np.zeros((8, 8, 3)), "meta": [1, 2, 3, 4]}, "x")
>>> image.shape, [extra.shape for extra in extras]
((8, 8, 3), [(1, 4)])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from ..errors import bad_argument, bad_type, said
from .arguments import shape_fits


@attrs.frozen
class InputLayout:
    """The model's input names, the position of the image among them, and the shapes of the
    other inputs (batch axis None), in input order."""

    names: tuple[str, ...]
    image_index: int
    extra_shapes: tuple[tuple[int | None, ...], ...]

    @property
    def extra_names(self) -> list[str]:
        return [name for i, name in enumerate(self.names) if i != self.image_index]

    def _expected(self) -> str:
        listing = ", ".join(repr(name) for name in self.names)
        return (
            f"the model's {len(self.names)} inputs as a dict by name ({listing}) "
            "or a list in that order"
        )

    def split(self, x: Any, argument: str) -> tuple[Any, list[np.ndarray]]:
        """(image part, other inputs as float arrays with a batch axis) of ``x``."""
        if len(self.names) == 1:
            return x, []
        if isinstance(x, Mapping):
            missing = [name for name in self.names if name not in x]
            unknown = sorted(str(key) for key in x if key not in self.names)
            if missing or unknown:
                problem = f"missing {missing}" if missing else f"unknown keys {unknown}"
                raise bad_argument(argument, self._expected(), said(f"a dict with {problem}"))
            values = [x[name] for name in self.names]
        elif isinstance(x, (list, tuple)) and len(x) == len(self.names):
            values = list(x)
        else:
            raise bad_type(argument, self._expected(), x)
        image = values.pop(self.image_index)
        extras = [
            self._extra(value, shape, f"{argument}[{name!r}]")
            for value, shape, name in zip(values, self.extra_shapes, self.extra_names, strict=True)
        ]
        return image, extras

    @staticmethod
    def _extra(value: Any, shape: tuple[int | None, ...], where: str) -> np.ndarray:
        try:
            array = np.asarray(value)
        except (TypeError, ValueError):
            raise bad_type(where, "an array of numbers", value) from None
        if array.dtype.kind not in "biuf":
            raise bad_type(where, "an array of numbers", said(f"an array of dtype {array.dtype}"))
        if array.ndim == len(shape) - 1:
            array = array[np.newaxis]
        if not shape_fits(array.shape, shape):
            raise bad_argument(where, f"an array of shape {shape}", array)
        return array.astype(np.float32, copy=False)


def check_rows(
    extras: Sequence[np.ndarray], names: Sequence[str], count: int, argument: str
) -> None:
    """An error unless every other input has one row per image (``count`` images)."""
    for extra, name in zip(extras, names, strict=True):
        if extra.shape[0] != count:
            raise bad_argument(
                f"{argument}[{name!r}]",
                f"{count} rows (one per image)",
                said(f"{extra.shape[0]} rows"),
            )


def channels_last_pixels(x: Any) -> Any:
    """Images of a channels-first model, (C, H, W) or (B, C, H, W) arrays or a list of them,
    as channels-last arrays; PIL images and file paths are left as they are.

    >>> channels_last_pixels(np.zeros((2, 3, 8, 6))).shape
    (2, 8, 6, 3)
    """
    if isinstance(x, (list, tuple)):
        return [channels_last_pixels(item) for item in x]
    if not hasattr(x, "shape") or len(x.shape) not in (3, 4):
        return x
    return np.moveaxis(np.asarray(x), -3, -1)
