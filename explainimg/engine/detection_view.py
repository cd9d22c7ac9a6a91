"""A KerasHub detector's detections as one tensor, computed from its raw outputs inside the
compiled call: what the methods that score perturbed images (occlusion, RISE, D-RISE,
Score-CAM) read instead of the class logits.

:func:`detections_of` decodes the raw outputs as the detector's ``predict`` does (each
anchor's or query's box, a sigmoid of the class logits, the decoder's
confidence threshold and non-maximum suppression, by KerasHub's own NMS function) and keeps
what ``predict`` drops: each detection's whole class-probability vector, which D-RISE's
similarity (:class:`explainimg.targets.DetectionSimilarity`) compares. The result is
(batch, max_detections, 4 + classes): each row a box (x0, y0, x1, y1, input pixels) and
its class probabilities; rows past an image's detections are zero.

>>> import numpy as np
>>> rows = np.zeros((1, 3, 6), "float32"); rows[0, :2, 4] = (0.9, 0.6)
>>> detection_count(rows)
[2]
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from keras import ops

from ..errors import bad_type
from .detector_families import family_of


def decoded_boxes(detector: keras.Model, raw: Any, images: Any) -> Any:
    """(batch, anchors or queries, 4) boxes as (x0, y0, x1, y1) input pixels, as the
    detector's decoder has them before the NMS (:mod:`explainimg.engine.detector_families`)."""
    return family_of(detector).boxes(detector, raw, images)


def class_logits(detector: keras.Model, raw: Any) -> Any:
    """The raw class logits (batch, anchors or queries, classes) among the outputs."""
    return raw[family_of(detector).logits]


def _suppression(decoder: Any) -> Callable[..., Any]:
    """KerasHub's NMS function, from the module of the detector's decoder layer."""
    function = getattr(sys.modules.get(type(decoder).__module__), "non_max_suppression", None)
    if function is None:
        raise bad_type(
            "detector",
            "a KerasHub detector whose prediction_decoder is keras_hub's NonMaxSuppression",
            decoder,
        )
    return function


def detections_of(detector: keras.Model) -> Callable[[Any, Any], Any]:
    """The function (raw outputs, images) -> (batch, max_detections, 4 + classes) of the
    detector's detections, each with its class-probability vector (module docstring)."""
    decoder = detector.prediction_decoder
    suppress = _suppression(decoder)
    held = weakref.ref(detector)  # plans hold this function: they must not keep the model

    def suppressed(corners: Any, scores: Any) -> tuple[Any, Any]:
        def one_batch(pair: tuple[Any, Any]) -> tuple[Any, Any]:
            return suppress(
                *pair,
                max_output_size=decoder.max_detections,
                iou_threshold=decoder.iou_threshold,
                score_threshold=decoder.confidence_threshold,
            )

        if corners.shape[0] is not None:
            return one_batch((corners, scores))
        # KerasHub's NMS needs a static batch size; a traced batch of any size goes one
        # image at a time.
        kept, count = ops.map(
            lambda pair: one_batch((pair[0][None], pair[1][None])), (corners, scores)
        )
        return kept[:, 0], count[:, 0]

    def detections(raw: Any, images: Any) -> Any:
        boxes = decoded_boxes(held(), raw, images)
        logits = ops.cast(class_logits(held(), raw), "float32")
        probabilities = ops.sigmoid(logits) if decoder.from_logits else logits
        corners = keras.utils.bounding_boxes.convert_format(boxes, source="xyxy", target="yxyx")
        kept, count = suppressed(corners, ops.max(probabilities, axis=-1))
        rows = ops.concatenate([ops.cast(boxes, "float32"), probabilities], axis=-1)
        rows = ops.take_along_axis(rows, ops.expand_dims(kept, -1), axis=1)
        valid = ops.arange(decoder.max_detections)[None, :] < ops.reshape(count, (-1, 1))
        return ops.where(ops.expand_dims(valid, -1), rows, ops.zeros_like(rows))

    return detections


def detection_count(rows: Any) -> list[int]:
    """How many detections each image's rows hold (the rows with a nonzero probability)."""
    probabilities = np.asarray(ops.convert_to_numpy(rows))[..., 4:]
    return [int(n) for n in (probabilities.max(axis=-1) > 0).sum(axis=-1)]
