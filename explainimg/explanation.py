"""The data an explanation hands back: plain attrs classes, no TensorFlow.

>>> import numpy as np
>>> t = TargetExplanation(target=3, target_name="cat", score=4.2, proba=0.9,
...                       heatmap=np.eye(7, dtype="float32"))
>>> t.heatmap.shape, t.proba
((7, 7), 0.9)
>>> repr(t).split("heatmap=")[1]
'<7x7 float32, peak 1.00 at row 0, col 0>, attribution=None, box=None)'

Every field is checked when the object is made, so a hand-built explanation that would break a
formatter later (or make ``format_as_dict`` not JSON-safe) is refused at once:

>>> TargetExplanation(3, "cat", None, 0.9, np.eye(7))
Traceback (most recent call last):
...
TypeError: score: expected a finite number, got NoneType
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

import attrs
import numpy as np
from PIL import Image

from .errors import bad_argument, bad_type, said
from .inputs.images import standard_image

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _float_if_number(value: Any) -> Any:
    return float(value) if _is_number(value) else value


def _int_if_integer(value: Any) -> Any:
    is_integer = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    return int(value) if is_integer else value


def _of_type(types: type | tuple[type, ...], expected: str) -> Validator:
    """A validator raising ``bad_type`` (naming the field) unless the value is of ``types``."""

    def validate(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if not isinstance(value, types):
            raise bad_type(attribute.name, expected, value)

    return validate


def _finite_float(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    _of_type(float, "a finite number")(instance, attribute, value)
    if not np.isfinite(value):
        raise bad_argument(attribute.name, "a finite number", value)


def _probability(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is None:
        return
    _of_type(float, "a probability between 0 and 1, or None")(instance, attribute, value)
    if not 0.0 <= value <= 1.0:
        raise bad_argument(attribute.name, "a probability between 0 and 1, or None", value)


def _class_id(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    _of_type(int, "a class id (an int of at least 0)")(instance, attribute, value)
    if value < 0:
        raise bad_argument(attribute.name, "a class id (an int of at least 0)", value)


def _as_heatmap(value: Any) -> Any:
    try:
        return np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError):
        return value  # _check_heatmap names the field and the type that came


def _check_finite_map(name: str, expected: str, value: Any) -> None:
    """A clear error unless ``value`` is a non-empty 2-D NumPy array of finite values."""
    if not isinstance(value, np.ndarray):
        raise bad_type(name, expected, value)
    if value.ndim != 2 or 0 in value.shape:
        raise bad_argument(name, expected, said(f"shape {value.shape}"))
    if not np.isfinite(value).all():
        raise bad_argument(name, expected, said("an array containing NaN or inf"))


def _check_heatmap(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    expected = "a non-empty 2-D array of values in [0, 1]"
    _check_finite_map("heatmap", expected, value)
    if value.min() < 0.0 or value.max() > 1.0:
        low, high = float(value.min()), float(value.max())
        raise bad_argument("heatmap", expected, said(f"values from {low:.4g} to {high:.4g}"))


def _as_attribution(value: Any) -> Any:
    return value if value is None else _as_heatmap(value)


def _check_attribution(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is not None:
        _check_finite_map("attribution", "None or a non-empty 2-D array of finite values", value)


def _as_box(value: Any) -> Any:
    if isinstance(value, (list, tuple)) and all(_is_number(v) for v in value):
        return tuple(float(v) for v in value)
    return value


def _check_box(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    expected = "None or a box (x0, y0, x1, y1) of finite numbers with x0 <= x1 and y0 <= y1"
    if value is None:
        return
    if not isinstance(value, tuple):
        raise bad_type("box", expected, value)
    if len(value) != 4 or not all(isinstance(v, float) and np.isfinite(v) for v in value):
        raise bad_argument("box", expected, value)
    if value[0] > value[2] or value[1] > value[3]:
        raise bad_argument("box", expected, value)


def _summarize_attribution(attribution: np.ndarray | None) -> str:
    if attribution is None:
        return "None"
    rows, cols = attribution.shape
    low, high = float(attribution.min()), float(attribution.max())
    return f"<{rows}x{cols} {attribution.dtype}, from {low:.3g} to {high:.3g}>"


def _optional_arrays_equal(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is b
    return _heatmaps_equal(a, b)


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
    - ``attribution``: for methods whose values have a sign (Input x Gradient, Integrated
      Gradients, guided backpropagation, deconvnet), the signed float32 values per input pixel
      (H, W), summed over colour channels; None for the other methods.
    - ``box``: for a detection (or a box the user drew), the box explained, as
      (x0, y0, x1, y1) in pixels of the explanation's ``image`` (the model input's pixels,
      scaled when the picture shown has another size; it may reach past the image's edge);
      None for a class.
    """

    target: int = attrs.field(converter=_int_if_integer, validator=_class_id)
    target_name: str | None = attrs.field(
        validator=attrs.validators.optional(_of_type(str, "a class name (str) or None"))
    )
    score: float = attrs.field(
        converter=_float_if_number, validator=_finite_float, repr=_short_number
    )
    proba: float | None = attrs.field(
        converter=_float_if_number, validator=_probability, repr=_short_number
    )
    heatmap: np.ndarray = attrs.field(
        converter=_as_heatmap,
        validator=_check_heatmap,
        repr=summarize_heatmap,
        eq=attrs.cmp_using(eq=_heatmaps_equal),
    )
    attribution: np.ndarray | None = attrs.field(
        default=None,
        converter=_as_attribution,
        validator=_check_attribution,
        repr=_summarize_attribution,
        eq=attrs.cmp_using(eq=_optional_arrays_equal),
    )
    box: tuple[float, float, float, float] | None = attrs.field(
        default=None, converter=_as_box, validator=_check_box
    )


def _as_target_list(value: Any) -> Any:
    return list(value) if isinstance(value, (list, tuple)) else value


def _check_targets(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, list):
        raise bad_type("targets", "a list of TargetExplanation", value)
    for i, target in enumerate(value):
        if not isinstance(target, TargetExplanation):
            raise bad_type(f"targets[{i}]", "a TargetExplanation", target)


def _standard_if_image(value: Any) -> Any:
    """Pictures are kept in an 8-bit mode every formatter (and PNG) takes: CMYK becomes RGB."""
    return standard_image(value) if isinstance(value, Image.Image) else value


def _bool_if_bool(value: Any) -> Any:
    return bool(value) if isinstance(value, np.bool_) else value


@attrs.frozen
class Explanation:
    """Why a model predicted what it did for one image.

    ``targets`` holds one :class:`TargetExplanation` per explained class, in the order asked
    for (or most probable first for ``top=``). ``image`` is the picture the heatmaps belong on.
    ``layer`` names the explained layer, as a path for layers inside nested models
    (``"mobilenetv2_1.00_224/out_relu"``). ``error`` is None unless something about the
    explanation needs a warning a reader should see (e.g. every heatmap is all zero).
    ``provenance`` records where it comes from (software versions, method and settings, seed,
    layer: :func:`explainimg.engine.provenance.plan_provenance`), or None; it is left out of
    comparisons.
    ``source`` is the path of the file the image was read from, as given, or None.
    """

    estimator: str = attrs.field(validator=_of_type(str, "the model's name (str)"))
    method: str = attrs.field(validator=_of_type(str, "the method's name (str)"))
    description: str = attrs.field(validator=_of_type(str, "a description (str)"))
    targets: list[TargetExplanation] = attrs.field(
        converter=_as_target_list, validator=_check_targets
    )
    image: Image.Image | None = attrs.field(
        default=None,
        converter=_standard_if_image,
        validator=attrs.validators.optional(_of_type(Image.Image, "a PIL image or None")),
        repr=_summarize_image,
        eq=False,
    )
    layer: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(_of_type(str, "a layer path (str)"))
    )
    is_regression: bool = attrs.field(
        default=False, converter=_bool_if_bool, validator=_of_type(bool, "True or False")
    )
    error: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(_of_type(str, "a message (str)"))
    )
    source: str | None = attrs.field(
        default=None, validator=attrs.validators.optional(_of_type(str, "a file path (str)"))
    )
    provenance: dict[str, Any] | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(_of_type(dict, "a dict of where it comes from")),
        repr=False,
        eq=False,
    )

    def _repr_html_(self) -> str:
        return html_view()(self)

    def target(self, class_id: int) -> TargetExplanation:
        """The explanation of class ``class_id`` (raises KeyError when it was not explained)."""
        for target in self.targets:
            if target.target == class_id:
                return target
        explained = [t.target for t in self.targets]
        raise KeyError(
            f"class_id: expected one of the explained classes {explained}, got {class_id}"
        )


_html_view: Callable[[Explanation], str] | None = None
# The data layer does not import the formatters (they import it); they register their view
# when imported, and this package is imported by name only if no view is there yet.
_VIEW_PROVIDER = "explainimg.formatters"


def register_html_view(view: Callable[[Explanation], str]) -> None:
    """Make ``view`` the HTML that notebooks show for an Explanation (the formatters call this
    when imported)."""
    global _html_view
    _html_view = view


def html_view() -> Callable[[Explanation], str]:
    """The registered HTML view of Explanations, the formatters' ``format_as_html``.

    >>> html_view().__name__
    'format_as_html'
    """
    if _html_view is None:
        import_module(_VIEW_PROVIDER)
    assert _html_view is not None, f"{_VIEW_PROVIDER} registers the HTML view when imported"
    return _html_view


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
    if count == 0:
        reason = f" (its error: {expl.error})" if expl.error else ""
        raise bad_argument("expl", "an Explanation with targets", said(f"one with none{reason}"))
    if not 0 <= position < count:
        classes = [t.target for t in expl.targets]
        raise bad_argument(
            "target",
            f"a position in expl.targets between 0 and {count - 1} (classes {classes})",
            position,
        )
    return expl.targets[position]
