"""The data an explanation hands back: plain attrs classes, no TensorFlow.

>>> import numpy as np
>>> t = TargetExplanation(target=3, target_name="cat", score=4.2, proba=0.9,
...                       heatmap=np.eye(7, dtype="float32"))
>>> t.heatmap.shape, t.proba
((7, 7), 0.9)
>>> repr(t).split("heatmap=")[1]
'<7x7 float32, peak 1.00 at row 0, col 0>)'
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
from PIL import Image

from .errors import bad_argument, bad_type, said


def _as_heatmap(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=np.float32)


def _check_heatmap(instance: Any, attribute: attrs.Attribute, value: np.ndarray) -> None:
    if value.ndim != 2 or 0 in value.shape:
        raise ValueError(f"heatmap: expected a non-empty 2-D array, got shape {value.shape}")


def summarize_heatmap(heatmap: np.ndarray) -> str:
    """One line about a heatmap: size, dtype and where its peak is (for reprs)."""
    rows, cols = heatmap.shape
    if not heatmap.any():
        return f"<{rows}x{cols} {heatmap.dtype}, all zero>"
    row, col = np.unravel_index(int(np.argmax(heatmap)), heatmap.shape)
    peak = float(heatmap[row, col])
    return f"<{rows}x{cols} {heatmap.dtype}, peak {peak:.2f} at row {row}, col {col}>"


def _short_number(value: float | None) -> str:
    return "None" if value is None else f"{value:.6g}"


def _summarize_image(image: Image.Image | None) -> str:
    if image is None:
        return "None"
    width, height = image.size
    return f"<PIL.Image {image.mode} {width}x{height}>"


def _heatmaps_equal(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.array_equal(a, b))


@attrs.frozen
class TargetExplanation:
    """What one class (target) of one image looks like to the explanation method.

    - ``target``: the class id (an index into the model's output).
    - ``target_name``: the class name when names were given, else None.
    - ``score``: the exact scalar that was differentiated: the logit behind a softmax or
      sigmoid when the model has one, else the model's output.
    - ``proba``: the probability the model gives this class (softmax/sigmoid output), else None.
    - ``heatmap``: float32 array at the explained layer's resolution, values in [0, 1].
    """

    target: int
    target_name: str | None
    score: float = attrs.field(repr=_short_number)
    proba: float | None = attrs.field(repr=_short_number)
    heatmap: np.ndarray = attrs.field(
        converter=_as_heatmap,
        validator=_check_heatmap,
        repr=summarize_heatmap,
        eq=attrs.cmp_using(eq=_heatmaps_equal),
    )


@attrs.frozen
class Explanation:
    """Why a model predicted what it did for one image.

    ``targets`` holds one :class:`TargetExplanation` per explained class, in the order asked
    for (or most probable first for ``top=``). ``image`` is the picture the heatmaps belong on.
    ``layer`` names the explained layer, as a path for layers inside nested models
    (``"mobilenetv2_1.00_224/out_relu"``). ``error`` is None unless something about the
    explanation needs a warning a reader should see (e.g. every heatmap is all zero).
    """

    estimator: str
    method: str
    description: str
    targets: list[TargetExplanation]
    image: Image.Image | None = attrs.field(default=None, repr=_summarize_image, eq=False)
    layer: str | None = None
    is_regression: bool = False
    error: str | None = None

    def _repr_html_(self) -> str:
        from .formatters.html import format_as_html  # formatters import this module

        return format_as_html(self)

    def target(self, class_id: int) -> TargetExplanation:
        """The explanation of class ``class_id`` (raises KeyError when it was not explained)."""
        for target in self.targets:
            if target.target == class_id:
                return target
        explained = [t.target for t in self.targets]
        raise KeyError(
            f"class_id: expected one of the explained classes {explained}, got {class_id}"
        )


def checked_explanation(expl: Any, *, needs_image: bool = False) -> Explanation:
    """``expl`` when it is an Explanation (with an image, if ``needs_image``), else an error."""
    if not isinstance(expl, Explanation):
        raise bad_type("expl", "an Explanation", expl)
    if needs_image and expl.image is None:
        raise bad_argument("expl", "an Explanation with an image", said("one whose image is None"))
    return expl


def target_at(expl: Explanation, position: Any) -> TargetExplanation:
    """``expl.targets[position]``, or an error saying which positions and classes there are."""
    if isinstance(position, bool) or not isinstance(position, (int, np.integer)):
        raise bad_type("target", "a position in expl.targets (an int)", position)
    count = len(expl.targets)
    if not 0 <= position < count:
        classes = [t.target for t in expl.targets]
        raise bad_argument(
            "target",
            f"a position in expl.targets between 0 and {count - 1} (classes {classes})",
            position,
        )
    return expl.targets[position]
