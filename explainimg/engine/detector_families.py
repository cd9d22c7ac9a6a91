"""The KerasHub detectors explainimg explains, each described once: which raw output holds
the class logits, how each of its anchors (RetinaNet) or queries (D-FINE) gets its box, the
layer Grad-CAM explains, and how a detection's score picks the logits it sums
(:mod:`explainimg.engine.detections`).

- **RetinaNet** (``RetinaNetObjectDetector``): ``cls_logits`` (anchors x classes); an
  anchor's box is the anchor moved by its ``bbox_regression`` deltas; a detection's score
  sums the anchors that decode to it (IoU and class). Layer: the image encoder's output at
  the deepest pyramid level.
- **D-FINE** (``DFineObjectDetector``): ``logits`` (queries x classes); a query's box is its
  ``pred_boxes`` (centre, size, as fractions of the image); a detection's score is the logit
  of the one query behind it. Layer: the projection of the backbone's deepest stage into
  the hybrid encoder (``encoder_input_proj_bn_{last}``).

Both decode through KerasHub's ``NonMaxSuppression`` (``prediction_decoder``).

>>> import keras
>>> family_of(keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])) is None
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import keras
from keras import ops


@attrs.frozen
class DetectorFamily:
    """One kind of KerasHub detector: its class name, the raw output of class ``logits``,
    ``boxes(detector, raw, images)`` -> (batch, anchors, 4) boxes (x0, y0, x1, y1, input
    pixels), the default ``layer(detector)`` path, and whether a detection's score is the
    logit of its own query (``own_query``) or of every anchor that decodes to it."""

    class_name: str
    logits: str
    boxes: Callable[[Any, Any, Any], Any]
    layer: Callable[[Any], str]
    own_query: bool


def _image_size(images: Any) -> tuple[int, int, int]:
    height, width, channels = (int(d) for d in images.shape[1:])
    return height, width, channels


def retinanet_boxes(detector: keras.Model, raw: Any, images: Any) -> Any:
    """Every anchor moved by its ``bbox_regression`` deltas, as the decoder moves it."""
    height, width, channels = _image_size(images)
    anchors = detector.anchor_generator(images)
    anchors = ops.concatenate(list(anchors.values()), axis=0)
    boxes = keras.utils.bounding_boxes.decode_deltas_to_boxes(
        anchors=anchors,
        boxes_delta=raw["bbox_regression"],
        encoded_format="center_xywh",
        anchor_format=detector.anchor_generator.bounding_box_format,
        box_format=detector.bounding_box_format,
        image_shape=(height, width, channels),
    )
    return keras.utils.bounding_boxes.convert_format(
        boxes, source=detector.bounding_box_format, target="xyxy", height=height, width=width
    )


def retinanet_layer(detector: keras.Model) -> str:
    """The image encoder's output at pyramid level ``P{max_level}`` (else its deepest)."""
    backbone = detector.backbone
    pyramid = backbone.image_encoder.pyramid_outputs
    level = f"P{backbone.max_level}"
    if level not in pyramid:
        level = max(pyramid, key=lambda name: int(name[1:]))
    encoder = next(
        layer for layer in backbone.layers if isinstance(layer, keras.Model) and layer.name != "fpn"
    )
    return f"{backbone.name}/{encoder.name}/{pyramid[level]._keras_history.operation.name}"


def dfine_boxes(detector: keras.Model, raw: Any, images: Any) -> Any:
    """Every query's ``pred_boxes`` (centre x, centre y, width, height as fractions of the
    image) in input pixels, as ``decode_predictions`` scales them."""
    height, width, _ = _image_size(images)
    scale = ops.convert_to_tensor([width, height, width, height], "float32")
    boxes = ops.cast(raw["pred_boxes"], "float32") * scale
    return keras.utils.bounding_boxes.convert_format(boxes, source="center_xywh", target="xyxy")


def dfine_layer(detector: keras.Model) -> str:
    """The last ``encoder_input_proj_bn_*`` layer: the deepest backbone stage projected into
    the hybrid encoder (stride 32 in KerasHub's presets)."""
    backbone = detector.backbone
    projections = [
        layer.name for layer in backbone.layers if "encoder_input_proj_bn_" in layer.name
    ]
    deepest = max(projections, key=lambda name: int(name.rsplit("_", 1)[1]))
    return f"{backbone.name}/{deepest}"


FAMILIES = (
    DetectorFamily(
        "RetinaNetObjectDetector", "cls_logits", retinanet_boxes, retinanet_layer, False
    ),
    DetectorFamily("DFineObjectDetector", "logits", dfine_boxes, dfine_layer, True),
)


def family_of(model: Any) -> DetectorFamily | None:
    """The family of a KerasHub detector (found by its class, so KerasHub need not be
    imported), or None for any other model."""
    for cls in type(model).__mro__:
        if cls.__module__.startswith("keras_hub"):
            for family in FAMILIES:
                if cls.__name__ == family.class_name:
                    return family
    return None
