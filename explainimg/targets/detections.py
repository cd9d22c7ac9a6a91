"""A detector's targets: a box the user draws, one detection's score on the class logits,
and D-RISE's similarity to one detection. The detection targets tell their numbers
(``parameters``) and score a batch from them (``batched``), so that the detections of every
image share one compiled call (:mod:`explainimg.engine.score_slots`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
from keras import ops

from ..errors import bad_argument, bad_type, said
from .checks import check_rank, check_under, class_id_check


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
    class_id: int = attrs.field(validator=class_id_check)


class DetectionTarget:
    """What every detection's score function shows: its box and its name (fields
    ``class_id``, ``box``, ``confidence`` and ``class_name`` of the subclass). Its
    explanation's ``target`` is ``class_id`` and ``target_name`` is ``class_name``."""

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
class DetectionScore(DetectionTarget):
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

    class_id: int = attrs.field(validator=class_id_check)
    anchors: tuple[int, ...] = attrs.field(converter=tuple)
    box: tuple[float, float, float, float] = attrs.field(converter=tuple)
    confidence: float | None = None
    class_name: str | None = None

    def parameters(self, output_shape: Sequence[int | None]) -> dict[str, np.ndarray] | None:
        """This detection's numbers for :meth:`batched`: 0/1 masks of its ``anchors`` (A,)
        and of its class (C,) on an output of shape (batch, A, C); None when A or C is open
        (:mod:`explainimg.engine.score_slots`)."""
        if len(output_shape) != 3 or None in tuple(output_shape[1:]):
            return None
        anchors, classes = (int(size) for size in output_shape[1:])
        check_under("class_id", self.class_id, classes)
        if not all(0 <= anchor < anchors for anchor in self.anchors):
            raise bad_argument(
                "anchors", f"anchor indices below the output's {anchors} anchors", self.anchors
            )
        mask = np.zeros(anchors, np.float32)
        mask[list(self.anchors)] = 1.0
        return {"anchors": mask, "class": np.eye(classes, dtype=np.float32)[self.class_id]}

    @staticmethod
    def batched(output: Any, parameters: dict[str, Any]) -> Any:
        """Row b's score from its own numbers (:meth:`parameters`, with a leading axis of
        the batch's size or 1): the logits of its class summed over its anchors."""
        anchors, classes = parameters["anchors"], parameters["class"]
        return ops.sum(output * anchors[:, :, None] * classes[:, None, :], axis=(1, 2))

    def __call__(self, output: Any) -> Any:
        expected = "a detector's class logits (batch, anchors, classes)"
        hint = 'Pass output="cls_logits" (a RetinaNet) or "logits" (a D-FINE).'
        check_rank(output, 3, expected, self, hint=hint)
        parameters = self.parameters(tuple(output.shape))
        if parameters is None:
            raise bad_argument(
                "targets",
                f"a detector output with a known number of anchors for {self.name}",
                said(f"output shape {tuple(output.shape)}"),
            )
        return self.batched(output, {name: value[None] for name, value in parameters.items()})


def _detection_name(
    class_id: int, class_name: str | None, box: Sequence[float], confidence: float | None
) -> str:
    corners = ", ".join(f"{v:.0f}" for v in box)
    where = f"{class_name or f'class {class_id}'} at ({corners})"
    return where if confidence is None else f"{where}, p={confidence:.2f}"


def box_iou(boxes: Any, box: Any) -> Any:
    """IoU of each of ``boxes`` (..., 4) with ``box`` (4,) or boxes broadcast against them
    (..., 4), all as (x0, y0, x1, y1): a tensor of shape (...), 0 where a box is empty.

    >>> boxes = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [0, 0, 0, 0]], "float32")
    >>> [round(float(v), 3) for v in ops.convert_to_numpy(box_iou(boxes, (0, 0, 10, 10)))]
    [1.0, 0.333, 0.0]
    """
    boxes = ops.convert_to_tensor(boxes, "float32")
    box = ops.convert_to_tensor(np.asarray(box, "float32") if isinstance(box, tuple) else box)
    x0, y0, x1, y1 = (boxes[..., i] for i in range(4))
    bx0, by0, bx1, by1 = (ops.cast(box[..., i], "float32") for i in range(4))
    width = ops.relu(ops.minimum(x1, bx1) - ops.maximum(x0, bx0))
    height = ops.relu(ops.minimum(y1, by1) - ops.maximum(y0, by0))
    inter = width * height
    areas = ops.relu(x1 - x0) * ops.relu(y1 - y0)
    own = ops.relu(bx1 - bx0) * ops.relu(by1 - by0)
    return ops.divide_no_nan(inter, areas + own - inter)


def _floats(values: Any) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


@attrs.frozen
class DetectionSimilarity(DetectionTarget):
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

    class_id: int = attrs.field(validator=class_id_check)
    box: tuple[float, float, float, float] = attrs.field(converter=tuple)
    probabilities: tuple[float, ...] = attrs.field(converter=_floats)
    confidence: float | None = None
    class_name: str | None = None

    def parameters(self, output_shape: Sequence[int | None] = ()) -> dict[str, np.ndarray]:
        """This detection's numbers for :meth:`batched`: its ``box`` (4,) and its
        ``probabilities`` (C,), whatever the output's shape."""
        return {
            "box": np.asarray(self.box, np.float32),
            "probabilities": np.asarray(self.probabilities, np.float32),
        }

    @staticmethod
    def batched(output: Any, parameters: dict[str, Any]) -> Any:
        """Row b's similarity to its own detection (:meth:`parameters`, with a leading axis
        of the batch's size or 1)."""
        probabilities = output[..., 4:]
        target = ops.expand_dims(ops.cast(parameters["probabilities"], "float32"), 1)
        cosine = ops.divide_no_nan(
            ops.sum(probabilities * target, axis=-1),
            ops.sqrt(ops.sum(ops.square(probabilities), axis=-1))
            * ops.sqrt(ops.sum(ops.square(target), axis=-1)),
        )
        box = ops.expand_dims(ops.cast(parameters["box"], "float32"), 1)
        return ops.max(box_iou(output[..., :4], box) * cosine, axis=1)

    def __call__(self, output: Any) -> Any:
        expected = "a detector's detections (batch, detections, 4 + classes)"
        check_rank(output, 3, expected, self)
        if output.shape[-1] is not None and output.shape[-1] != 4 + len(self.probabilities):
            raise bad_argument(
                "targets",
                f"detections with {len(self.probabilities)} class probabilities for {self.name}",
                said(f"output shape {tuple(output.shape)}"),
            )
        parameters = self.parameters()
        return self.batched(output, {name: value[None] for name, value in parameters.items()})


def _iou_threshold(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise bad_argument(attribute.name, "a number in (0, 1]", value)


@attrs.frozen
class BoxMatchScore(DetectionTarget):
    """The score of a detection of a detector explained through ``decode=``
    (docs/detection.md): the confidences of the decoded detections of class ``class_id``
    whose box has IoU >= ``iou`` with ``box``, summed (pytorch-grad-cam's box score target).
    It reads the decoded detections as one tensor (batch, detections, 6): each row a box
    (x0, y0, x1, y1, input pixels), its class id and its confidence, zero past the image's
    detections (:mod:`explainimg.engine.kind_decoded`). The gradient flows through the
    confidences; every method reads the same score (``gives_confidence``).

    >>> rows = np.array([[[0, 0, 8, 8, 1, 0.9], [1, 0, 9, 8, 1, 0.5], [0, 0, 8, 8, 0, 0.7]]])
    >>> score = BoxMatchScore(1, (0.0, 0.0, 8.0, 8.0), 0.9)
    >>> round(float(ops.convert_to_numpy(score(rows.astype("float32")))[0]), 4)
    1.4
    """

    gives_confidence = True

    class_id: int = attrs.field(validator=class_id_check)
    box: tuple[float, float, float, float] = attrs.field(converter=tuple)
    confidence: float | None = None
    class_name: str | None = None
    iou: float = attrs.field(default=0.5, validator=_iou_threshold)

    def parameters(self, output_shape: Sequence[int | None] = ()) -> dict[str, np.ndarray]:
        """This detection's numbers for :meth:`batched`: its ``box`` (4,), class and IoU
        threshold (scalars), whatever the output's shape."""
        return {
            "box": np.asarray(self.box, np.float32),
            "class": np.asarray(self.class_id, np.float32),
            "iou": np.asarray(self.iou, np.float32),
        }

    @staticmethod
    def batched(output: Any, parameters: dict[str, Any]) -> Any:
        """Row b's score from its own numbers (:meth:`parameters`, with a leading axis of
        the batch's size or 1)."""
        box = ops.expand_dims(ops.cast(parameters["box"], "float32"), 1)
        same = ops.abs(output[..., 4] - ops.expand_dims(parameters["class"], 1)) < 0.5
        near = box_iou(output[..., :4], box) >= ops.expand_dims(parameters["iou"], 1)
        matched = ops.cast(ops.logical_and(same, near), "float32")
        return ops.sum(matched * output[..., 5], axis=1)

    def __call__(self, output: Any) -> Any:
        check_rank(output, 3, "a detector's decoded detections (batch, detections, 6)", self)
        parameters = self.parameters()
        return self.batched(output, {name: value[None] for name, value in parameters.items()})
