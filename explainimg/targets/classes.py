"""Targets on class scores and on segmentation maps: a class, a regression unit, several
labels, a class over a region.

>>> from keras import ops
>>> ops.convert_to_numpy(MultiLabelScore([0, 2])(np.ones((1, 3), "float32"))).tolist()
[2.0]
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
from keras import ops

from ..errors import bad_argument, bad_type, said
from .checks import check_below, check_rank, class_id_check


@attrs.frozen
class ClassScore:
    """The score of class ``class_id`` on a (batch, classes) output."""

    class_id: int = attrs.field(validator=class_id_check)

    @property
    def name(self) -> str:
        return f"class {self.class_id}"

    def __call__(self, output: Any) -> Any:
        check_below("class_id", self.class_id, output)
        return output[:, self.class_id]


@attrs.frozen
class RegressionScore:
    """Output unit ``index`` of a regression model (batch, units)."""

    index: int = attrs.field(default=0, validator=class_id_check)

    @property
    def name(self) -> str:
        return f"output {self.index}"

    def __call__(self, output: Any) -> Any:
        check_below("index", self.index, output)
        return output[:, self.index]


def _class_ids(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, tuple) or not value:
        raise bad_type("class_ids", "a non-empty sequence of class ids", value)
    for class_id in value:
        class_id_check(instance, attribute, class_id)


@attrs.frozen
class MultiLabelScore:
    """The summed logits of several labels of a multi-label (sigmoid) output."""

    class_ids: tuple[int, ...] = attrs.field(converter=tuple, validator=_class_ids)

    @property
    def name(self) -> str:
        return "labels " + "+".join(map(str, self.class_ids))

    def __call__(self, output: Any) -> Any:
        check_below("class_ids", max(self.class_ids), output)
        return ops.sum(ops.take(output, list(self.class_ids), axis=1), axis=1)


def _region(mask: Any, box: Any) -> np.ndarray | tuple[int, int, int, int] | None:
    if mask is not None and box is not None:
        raise bad_argument("mask", "either mask or box, not both", said("both"))
    if box is not None:
        if (
            not isinstance(box, (tuple, list))
            or len(box) != 4
            or not all(isinstance(v, (int, np.integer)) for v in box)
            or not (0 <= box[0] < box[2] and 0 <= box[1] < box[3])
        ):
            raise bad_argument("box", "(x0, y0, x1, y1) pixels with x0 < x1 and y0 < y1", box)
        return tuple(int(v) for v in box)
    if mask is not None:
        array = np.asarray(mask, dtype=np.float32)
        if array.ndim != 2 or not np.isfinite(array).all() or array.sum() <= 0:
            raise bad_argument("mask", "a 2-D array (height, width) with some pixels set", array)
        return array
    return None


@attrs.frozen(eq=False)
class SegmentationScore:
    """The mean logit of class ``class_id`` over a region of a segmentation output
    (batch, height, width, classes): the pixels of ``mask`` (2-D, the output's size; weights
    allowed), or ``box`` = (x0, y0, x1, y1) in output pixels (x1, y1 excluded), or the whole
    map. Answers "why are these pixels class c?"."""

    class_id: int = attrs.field(validator=class_id_check)
    mask: Any = None
    box: Any = None
    _region: Any = attrs.field(init=False, default=None)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_region", _region(self.mask, self.box))

    @property
    def name(self) -> str:
        where = "mask" if self.mask is not None else "box" if self.box is not None else "image"
        return f"class {self.class_id} in {where}"

    def _weights(self, height: int, width: int) -> np.ndarray:
        region = self._region
        if region is None:
            return np.ones((height, width), np.float32)
        if isinstance(region, tuple):
            weights = np.zeros((height, width), np.float32)
            x0, y0, x1, y1 = region
            weights[y0:y1, x0:x1] = 1.0
            if not weights.any():
                raise bad_argument("box", f"a box inside the {width}x{height} output", region)
            return weights
        if region.shape != (height, width):
            raise bad_argument(
                "mask", f"a mask of the output's size {height}x{width}", said(f"{region.shape}")
            )
        return region

    def __call__(self, output: Any) -> Any:
        check_rank(output, 4, "a segmentation output (batch, height, width, classes)", self)
        check_below("class_id", self.class_id, output)
        weights = self._weights(int(output.shape[1]), int(output.shape[2]))
        weights = weights / weights.sum()
        return ops.sum(output[..., self.class_id] * weights[None], axis=(1, 2))
