"""Score targets: what number an explanation explains, for outputs that are not class scores.

``targets=`` takes class ids, or score functions like these (or any function of your own):
a score function gets the explained output as a float32 tensor of the running Keras backend,
(batch, ...) - the **logits** when the output ends in a softmax or sigmoid, the output itself
otherwise - and returns one score per image, shape (batch,) or (batch, 1), using
``keras.ops``. Score functions are traced (no NumPy or Python loops on the output); what they
return is checked in one place for every target, :mod:`explainimg.engine.scores`. Several
score functions give one heatmap each, all from one forward pass.

>>> import numpy as np
>>> from keras import ops
>>> logits = ops.convert_to_tensor(np.arange(2 * 4 * 4 * 3, dtype="float32").reshape(2, 4, 4, 3))
>>> mask = np.zeros((4, 4)); mask[:2, :2] = 1
>>> score = SegmentationScore(2, mask=mask)
>>> ops.convert_to_numpy(score(logits)).tolist(), score.name
([9.5, 57.5], 'class 2 in mask')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
from keras import ops

from .errors import bad_argument, bad_type, said


def _class_id(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise bad_type(attribute.name, "a class id (an integer >= 0)", value)
    if value < 0:
        raise bad_argument(attribute.name, "a class id (an integer >= 0)", value)


def _check_below(name: str, value: int, output: Any) -> None:
    """A clear error when index ``value`` is past the output's last axis."""
    size = output.shape[-1]
    if size is not None and value >= size:
        raise bad_argument(name, f"an index below the output's {size} units", value)


def _check_rank(output: Any, rank: int, expected: str, score: Any, *, hint: str = "") -> None:
    """A clear error unless the output has ``rank`` axes, as score function ``score`` needs."""
    if len(output.shape) != rank:
        raise bad_argument(
            "targets",
            f"{expected} for {type(score).__name__}",
            said(f"output shape {tuple(output.shape)}"),
            hint=hint,
        )


@attrs.frozen
class ClassScore:
    """The score of class ``class_id`` on a (batch, classes) output."""

    class_id: int = attrs.field(validator=_class_id)

    @property
    def name(self) -> str:
        return f"class {self.class_id}"

    def __call__(self, output: Any) -> Any:
        _check_below("class_id", self.class_id, output)
        return output[:, self.class_id]


@attrs.frozen
class RegressionScore:
    """Output unit ``index`` of a regression model (batch, units)."""

    index: int = attrs.field(default=0, validator=_class_id)

    @property
    def name(self) -> str:
        return f"output {self.index}"

    def __call__(self, output: Any) -> Any:
        _check_below("index", self.index, output)
        return output[:, self.index]


def _class_ids(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, tuple) or not value:
        raise bad_type("class_ids", "a non-empty sequence of class ids", value)
    for class_id in value:
        _class_id(instance, attribute, class_id)


@attrs.frozen
class MultiLabelScore:
    """The summed logits of several labels of a multi-label (sigmoid) output."""

    class_ids: tuple[int, ...] = attrs.field(converter=tuple, validator=_class_ids)

    @property
    def name(self) -> str:
        return "labels " + "+".join(map(str, self.class_ids))

    def __call__(self, output: Any) -> Any:
        _check_below("class_ids", max(self.class_ids), output)
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

    class_id: int = attrs.field(validator=_class_id)
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
        _check_rank(output, 4, "a segmentation output (batch, height, width, classes)", self)
        _check_below("class_id", self.class_id, output)
        weights = self._weights(int(output.shape[1]), int(output.shape[2]))
        weights = weights / weights.sum()
        return ops.sum(output[..., self.class_id] * weights[None], axis=(1, 2))


def _coordinate(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not _is_real(value):
        raise bad_type(attribute.name, "a pixel coordinate (a finite number)", value)


def _is_real(value: Any) -> bool:
    return (
        isinstance(value, (int, float, np.integer, np.floating))
        and not isinstance(value, (bool, np.bool_))
        and bool(np.isfinite(value))
    )


def _float_if_real(value: Any) -> Any:
    return float(value) if _is_real(value) else value


@attrs.frozen
class Box:
    """A box the user draws, to explain why a detector sees (or misses) class ``class_id``
    there: (``x0``, ``y0``) the top-left and (``x1``, ``y1``) the bottom-right corner, in
    pixels of the detector's input. Given to
    :func:`explainimg.engine.detections.detection_targets` as ``boxes=``.

    >>> Box(4, 8, 20, 30, class_id=1)
    Box(x0=4.0, y0=8.0, x1=20.0, y1=30.0, class_id=1)
    """

    x0: float = attrs.field(converter=_float_if_real, validator=_coordinate)
    y0: float = attrs.field(converter=_float_if_real, validator=_coordinate)
    x1: float = attrs.field(converter=_float_if_real, validator=_coordinate)
    y1: float = attrs.field(converter=_float_if_real, validator=_coordinate)
    class_id: int = attrs.field(validator=_class_id)


class _DetectionTarget:
    """What every detection's score function shows: its box and its name (fields
    ``class_id``, ``box``, ``confidence`` and ``class_name`` of the subclass)."""

    class_id: int
    box: tuple[float, float, float, float]
    confidence: float | None
    class_name: str | None

    @property
    def input_box(self) -> tuple[float, float, float, float]:
        """The box this score explains, in input pixels: the explanation's ``box``."""
        return self.box

    @property
    def name(self) -> str:
        return _detection_name(self.class_id, self.class_name, self.box, self.confidence)


@attrs.frozen
class DetectionScore(_DetectionTarget):
    """The score of one detection (or drawn box) on a detector's raw class logits
    (batch, anchors, classes): the logits of class ``class_id`` at the ``anchors`` that
    decode to ``box`` (x0, y0, x1, y1 in input pixels), summed. ``confidence`` is the
    detector's confidence in it, None for a drawn box; ``class_name`` (None: "class c")
    names the class in its ``name``. Made by
    :func:`explainimg.engine.detections.detection_targets`, which says how anchors match.

    >>> import numpy as np
    >>> from keras import ops
    >>> logits = ops.convert_to_tensor(np.arange(12, dtype="float32").reshape(1, 4, 3))
    >>> score = DetectionScore(2, (1, 3), (0.0, 0.0, 8.0, 8.0), 0.9)
    >>> ops.convert_to_numpy(score(logits)).tolist(), score.name
    ([16.0], 'class 2 at (0, 0, 8, 8), p=0.90')
    """

    class_id: int = attrs.field(validator=_class_id)
    anchors: tuple[int, ...] = attrs.field(converter=tuple)
    box: tuple[float, float, float, float] = attrs.field(converter=tuple)
    confidence: float | None = None
    class_name: str | None = None

    def __call__(self, output: Any) -> Any:
        expected = "a detector's class logits (batch, anchors, classes)"
        hint = 'Pass output="cls_logits" (a RetinaNet) or "logits" (a D-FINE).'
        _check_rank(output, 3, expected, self, hint=hint)
        _check_below("class_id", self.class_id, output)
        return ops.sum(ops.take(output[..., self.class_id], list(self.anchors), axis=1), axis=1)


def _detection_name(
    class_id: int, class_name: str | None, box: Sequence[float], confidence: float | None
) -> str:
    corners = ", ".join(f"{v:.0f}" for v in box)
    where = f"{class_name or f'class {class_id}'} at ({corners})"
    return where if confidence is None else f"{where}, p={confidence:.2f}"


def box_iou(boxes: Any, box: Sequence[float]) -> Any:
    """IoU of each of ``boxes`` (..., 4) with ``box``, all as (x0, y0, x1, y1): a tensor of
    shape (...), 0 where a box is empty.

    >>> boxes = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [0, 0, 0, 0]], "float32")
    >>> [round(float(v), 3) for v in ops.convert_to_numpy(box_iou(boxes, (0, 0, 10, 10)))]
    [1.0, 0.333, 0.0]
    """
    boxes = ops.convert_to_tensor(boxes, "float32")
    x0, y0, x1, y1 = (boxes[..., i] for i in range(4))
    width = ops.relu(ops.minimum(x1, box[2]) - ops.maximum(x0, box[0]))
    height = ops.relu(ops.minimum(y1, box[3]) - ops.maximum(y0, box[1]))
    inter = width * height
    areas = ops.relu(x1 - x0) * ops.relu(y1 - y0)
    own = max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0)
    return ops.divide_no_nan(inter, areas + own - inter)


def _floats(values: Any) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


@attrs.frozen
class DetectionSimilarity(_DetectionTarget):
    """D-RISE's similarity (Petsiuk et al. 2021) between one detection and the detections of
    an image: the best, over those detections, of IoU(boxes) x cosine(class-probability
    vectors). It reads a detector's detections as one tensor (batch, detections,
    4 + classes): each row a box (x0, y0, x1, y1, input pixels) and its class probabilities,
    rows past the image's detections all zero
    (:func:`explainimg.engine.detection_view.detections_of`). ``probabilities`` is the target's
    class-probability vector: its detection's, or one-hot for a drawn box. The score is a
    confidence in [0, 1] (``gives_confidence``): the methods that score perturbed images
    (occlusion, RISE, D-RISE, Score-CAM) read it as they read a class probability.

    >>> rows = np.array([[[0, 0, 8, 8, 0.9, 0.1], [4, 0, 12, 8, 0.1, 0.9]]], "float32")
    >>> score = DetectionSimilarity(0, (0.0, 0.0, 8.0, 8.0), (1.0, 0.0), 0.9)
    >>> round(float(ops.convert_to_numpy(score(rows))[0]), 4), score.name
    (0.9939, 'class 0 at (0, 0, 8, 8), p=0.90')
    """

    gives_confidence = True

    class_id: int = attrs.field(validator=_class_id)
    box: tuple[float, float, float, float] = attrs.field(converter=tuple)
    probabilities: tuple[float, ...] = attrs.field(converter=_floats)
    confidence: float | None = None
    class_name: str | None = None

    def __call__(self, output: Any) -> Any:
        expected = "a detector's detections (batch, detections, 4 + classes)"
        _check_rank(output, 3, expected, self)
        probabilities = output[..., 4:]
        target = ops.convert_to_tensor(np.asarray(self.probabilities, "float32"))
        cosine = ops.divide_no_nan(
            ops.sum(probabilities * target, axis=-1),
            ops.sqrt(ops.sum(ops.square(probabilities), axis=-1)) * ops.sqrt(ops.sum(target**2)),
        )
        return ops.max(box_iou(output[..., :4], self.box) * cosine, axis=1)


def is_score_function(target: Any) -> bool:
    """True for a score function (anything callable that is not a class id)."""
    return callable(target) and not isinstance(target, (int, np.integer))


def score_functions(targets: Any) -> tuple[Any, ...] | None:
    """The score functions in ``targets`` (one or a list of them), or None for class ids."""
    if is_score_function(targets):
        return (targets,)
    if isinstance(targets, Sequence) and not isinstance(targets, (str, bytes)) and targets:
        flags = [is_score_function(target) for target in targets]
        if all(flags):
            return tuple(targets)
        if any(flags):
            raise bad_argument(
                "targets",
                "class ids or score functions, not a mix",
                said(f"{len(targets)} targets, {sum(flags)} of them functions"),
            )
    return None


def score_name(function: Any) -> str:
    """A readable name for a score function."""
    name = getattr(function, "name", None)
    if isinstance(name, str):
        return name
    return getattr(function, "__name__", type(function).__name__)
