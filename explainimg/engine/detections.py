"""A KerasHub detector's detections, and the score functions that explain them.

The detections are those of the detector's own ``predict`` (its decoder, NMS and
thresholds). The score of a detection is computed on the raw differentiable class logits
(anchors or queries x classes), never through the NMS. For a RetinaNet it is the class
logits of the anchors that decode to the detection, summed: an anchor decodes to it when
its decoded box (the anchor moved by its ``bbox_regression`` deltas) has IoU >= ``iou``
with the detection's box and its highest logit is the detection's class (as
pytorch-grad-cam's box score target matches proposals). For a D-FINE it is the class logit
of the one query the detection comes from. For a user's :class:`~explainimg.targets.Box`
the class is the one asked for, so anchors (or queries) are matched by IoU alone. The layer
for Grad-CAM is :func:`detection_layer`; each family's specifics are in
:mod:`explainimg.engine.detector_families`. docs/detection.md shows it all.

>>> import numpy as np
>>> boxes = np.array([[0, 0, 10, 10], [5, 0, 15, 10]], "float32")
>>> [round(float(v), 3) for v in iou_with(boxes, (0, 0, 10, 10))]
[1.0, 0.333]
"""

from __future__ import annotations

import weakref
from typing import Any

import keras
import numpy as np
from keras import ops

from ..errors import bad_argument, bad_type, said
from ..inputs.arguments import one_image
from ..targets import Box, DetectionScore, DetectionSimilarity, box_iou
from .backend import current
from .detection_view import class_logits, decoded_boxes, detection_count, detections_of
from .detector_families import family_of

MAX_DETECTIONS = 10
"""At most this many detections are explained per image, the most confident first."""

IOU = 0.5
"""Anchors whose decoded box has at least this IoU with a box count for its score."""


def is_object_detector(model: Any) -> bool:
    """True for a KerasHub detector explainimg reads the raw outputs of: a RetinaNet or a
    D-FINE (:mod:`explainimg.engine.detector_families`; KerasHub need not be imported)."""
    return family_of(model) is not None


def _checked_detector(detector: Any) -> keras.Model:
    if not is_object_detector(detector):
        raise bad_type(
            "detector",
            "a KerasHub RetinaNetObjectDetector or DFineObjectDetector",
            detector,
        )
    return detector


def _one_pass(detector: keras.Model, batch: np.ndarray) -> tuple[np.ndarray, ...]:
    """From one forward pass on a batch of one image: each anchor's decoded box (A, 4) as
    (x0, y0, x1, y1) input pixels, its raw class logits (A, classes), and the detections
    of ``predict`` with their class probabilities (D, 4 + classes), most confident first."""
    boxes, logits, rows = (
        np.asarray(ops.convert_to_numpy(part), np.float32) for part in _decoder(detector)(batch)
    )
    found = rows[0, : detection_count(rows)[0]]
    order = np.argsort(-found[:, 4:].max(axis=1), kind="stable")
    return boxes[0], logits[0], found[order]


_DECODERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _decoder(detector: keras.Model) -> Any:
    """The detector's forward pass and decoding, compiled once per detector (an eager NMS
    loop costs several times the compiled ``predict``): images -> (anchor boxes, class
    logits, detection rows)."""
    if detector not in _DECODERS:
        rows_of, held = detections_of(detector), weakref.ref(detector)  # the cache's key

        def decode(images: Any) -> tuple[Any, Any, Any]:
            raw = held()(images, training=False)
            return (
                decoded_boxes(held(), raw, images),
                class_logits(held(), raw),
                rows_of(raw, images),
            )

        spec = ((None, *detector.input_shape[1:]), "float32")
        _DECODERS[detector] = current().compile_function(decode, detector, [spec])
    return _DECODERS[detector]


def iou_with(boxes: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """IoU of each of ``boxes`` (N, 4) with ``box``, all as (x0, y0, x1, y1)."""
    return np.asarray(ops.convert_to_numpy(box_iou(boxes, box)), np.float32)


def detection_layer(detector: keras.Model) -> str:
    """The layer Grad-CAM explains by default, as a ``layer=`` path: for a RetinaNet the
    image encoder's output at the pyramid level the detector's deepest feature map is built
    from (``P{max_level}``, else the encoder's deepest level; on ResNet-50
    ``"<backbone>/<encoder>/conv5_block3_out"``, stride 2**level); for a D-FINE the
    backbone's deepest stage projected into its hybrid encoder."""
    return family_of(_checked_detector(detector)).layer(detector)


def _image_batch(detector: keras.Model, x: Any) -> np.ndarray:
    batch, _ = one_image(x, tuple(detector.input_shape))
    return batch


def _checked_box(box: Any, height: int, width: int, classes: int) -> Box:
    if not isinstance(box, Box):
        raise bad_type("boxes", "a list of ei.targets.Box", box)
    if not (0 <= box.x0 < box.x1 <= width and 0 <= box.y0 < box.y1 <= height):
        raise bad_argument(
            "boxes",
            f"a Box inside the {width}x{height} image (0 <= x0 < x1 <= {width}, "
            f"0 <= y0 < y1 <= {height})",
            said(f"Box({box.x0}, {box.y0}, {box.x1}, {box.y1})"),
        )
    if box.class_id >= classes:
        raise bad_argument(
            "boxes",
            f"a class id the detector can output (0 to {classes - 1})",
            said(f"class_id {box.class_id}"),
        )
    return box


def _matched(mask: np.ndarray, box: tuple[float, ...], class_id: int) -> tuple[int, ...]:
    anchors = tuple(int(i) for i in np.flatnonzero(mask))
    if not anchors:
        raise bad_argument(
            "boxes",
            "a box that at least one anchor decodes to",
            said(f"class {class_id} at {tuple(round(v, 1) for v in box)}: no anchor"),
            hint="Draw the box around an object of a size the detector's anchors cover.",
        )
    return anchors


def _checked_limits(max_detections: Any, iou: Any = IOU) -> None:
    if not isinstance(iou, (int, float)) or isinstance(iou, bool) or not 0 < iou <= 1:
        raise bad_argument("iou", "a number in (0, 1]", iou)
    if isinstance(max_detections, bool) or not isinstance(max_detections, int):
        raise bad_type("max_detections", "an integer >= 1", max_detections)
    if max_detections < 1:
        raise bad_argument("max_detections", "an integer >= 1", max_detections)


def checked_classes(classes: Any, count: int, name: str = "classes") -> tuple[int, ...]:
    """``classes`` (class ids, or None: every class) as a tuple, each one the detector's
    ``count`` classes can be; else a named error.

    >>> checked_classes([2, 0], 3)
    (2, 0)
    """
    if classes is None:
        return tuple(range(count))
    expected = f"class ids the detector can output (0 to {count - 1})"
    ids = list(classes) if isinstance(classes, (list, tuple)) else [classes]
    for class_id in ids:
        if isinstance(class_id, bool) or not isinstance(class_id, (int, np.integer)):
            raise bad_type(name, expected, class_id)
        if not 0 <= class_id < count:
            raise bad_argument(name, expected, said(f"class id {int(class_id)}"))
    return tuple(int(class_id) for class_id in ids)


def _kept(found: np.ndarray, classes: tuple[int, ...], max_detections: int) -> np.ndarray:
    """The rows of ``found`` whose class is one of ``classes``, at most ``max_detections``."""
    return found[np.isin(found[:, 4:].argmax(axis=1), classes)][:max_detections]


def _image_pass(
    detector: Any, x: Any, max_detections: Any, iou: Any = IOU
) -> tuple[np.ndarray, ...]:
    """The checked arguments' image as a batch of one, and what :func:`_one_pass` finds in it:
    (batch, decoded boxes, logits, detection rows)."""
    detector = _checked_detector(detector)
    _checked_limits(max_detections, iou)
    batch = _image_batch(detector, x)
    return (batch, *_one_pass(detector, batch))


def _described(row: np.ndarray) -> tuple[int, tuple[float, ...], float]:
    """(class id, box, confidence) of one detection row (box, class probabilities)."""
    return int(row[4:].argmax()), tuple(float(v) for v in row[:4]), float(row[4:].max())


def given_boxes(boxes: Any, batch: np.ndarray, classes: int) -> list[Box]:
    given = [boxes] if isinstance(boxes, Box) else list(boxes)
    return [_checked_box(box, int(batch.shape[1]), int(batch.shape[2]), classes) for box in given]


def detection_targets(
    detector: keras.Model,
    x: Any,
    *,
    boxes: Any = None,
    classes: Any = None,
    max_detections: int = MAX_DETECTIONS,
    iou: float = IOU,
) -> list[DetectionScore]:
    """One :class:`~explainimg.targets.DetectionScore` per detection of ``detector.predict``
    on image ``x`` (of the class ids in ``classes``, None: any; at most ``max_detections``,
    most confident first; an empty list when there is none), or per
    :class:`~explainimg.targets.Box` of ``boxes``. Pass them as
    ``targets=`` to :func:`explainimg.explain_prediction`, which explains a RetinaNet's
    ``cls_logits`` on :func:`detection_layer` (:mod:`explainimg.engine.kind_detector`).
    The detections are decoded from one forward pass, as ``predict`` decodes them."""
    batch, decoded, logits, found = _image_pass(detector, x, max_detections, iou)
    if boxes is not None:
        targets = []
        for box in given_boxes(boxes, batch, logits.shape[1]):
            corners = (box.x0, box.y0, box.x1, box.y1)
            anchors = _matched(iou_with(decoded, corners) >= iou, corners, box.class_id)
            targets.append(DetectionScore(box.class_id, anchors, corners, None))
        return targets
    top_class = logits.argmax(axis=1)
    own_query = family_of(detector).own_query
    targets = []
    for row in _kept(found, checked_classes(classes, logits.shape[1]), max_detections):
        class_id, corners, confidence = _described(row)
        if own_query:  # the row is its query's decoded box, copied: find it
            mask = np.arange(len(decoded)) == np.abs(decoded - row[:4]).sum(axis=1).argmin()
        else:
            mask = (iou_with(decoded, corners) >= iou) & (top_class == class_id)
        anchors = _matched(mask, corners, class_id)
        targets.append(DetectionScore(class_id, anchors, corners, confidence))
    return targets


def similarity_targets(
    detector: keras.Model,
    x: Any,
    *,
    boxes: Any = None,
    classes: Any = None,
    max_detections: int = MAX_DETECTIONS,
) -> list[DetectionSimilarity]:
    """One :class:`~explainimg.targets.DetectionSimilarity` per detection of image ``x``
    (the detections of :func:`detection_targets`, each with its class-probability vector),
    or per :class:`~explainimg.targets.Box` of ``boxes`` (its class one-hot): the targets of
    the methods that score perturbed images (occlusion, RISE, D-RISE, Score-CAM)."""
    batch, _, logits, found = _image_pass(detector, x, max_detections)
    classes_count = logits.shape[1]
    if boxes is not None:
        return [
            DetectionSimilarity(
                box.class_id, (box.x0, box.y0, box.x1, box.y1), np.eye(classes_count)[box.class_id]
            )
            for box in given_boxes(boxes, batch, classes_count)
        ]
    targets = []
    for row in _kept(found, checked_classes(classes, classes_count), max_detections):
        class_id, box, confidence = _described(row)
        targets.append(DetectionSimilarity(class_id, box, row[4:], confidence))
    return targets
