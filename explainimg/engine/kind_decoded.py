"""Detectors that are not KerasHub's, explained through the user's ``decode=`` function.

The protocol (docs/detection.md): ``decode(outputs)`` gets the model's raw outputs for a
batch of images, as the model returns them (a tensor, a list or a dict), and returns a dict
of three tensors, computed with ``keras.ops`` (it is traced inside the compiled call, as a
score function is):

- ``"boxes"``: (batch, D, 4), each detection's box as (x0, y0, x1, y1) in input pixels;
- ``"labels"``: (batch, D), its class id;
- ``"confidences"``: (batch, D), its confidence. A row whose confidence is 0 or whose label
  is negative (KerasHub's padding) is no detection.

D, the most detections an image can have, is fixed. A detection's score is a
:class:`~explainimg.targets.BoxMatchScore` on the decoded detections: the confidences of the
detections of its class whose box overlaps its box (IoU >= 0.5), summed, so that a gradient
method differentiates the confidences through ``decode`` and a perturbing method (occlusion,
RISE, D-RISE) reads the same score on each perturbed image. The explained output, whose
last axis counts the classes, is ``output=`` (the class scores, default: the model's last
output). Targets are chosen as for a KerasHub detector
(:func:`~explainimg.engine.kind_detector.own_targets`); Grad-CAM's layer, unless
``layer=`` names one, is where the heads branch off (:func:`branch_layer`).

>>> from keras import ops
>>> rows = decoded_rows(lambda out: {"boxes": ops.ones((1, 2, 4)), "labels": ops.zeros((1, 2)),
...     "confidences": ops.convert_to_tensor([[0.5, 0.0]])})(None, None)
>>> ops.convert_to_numpy(rows)[0, :, 4:].tolist()
[[0.0, 0.5], [0.0, 0.0]]
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from functools import partial
from typing import Any

import attrs
import keras
import numpy as np
from keras import ops

from ..errors import bad_argument, bad_type, said
from ..targets import BoxMatchScore
from .anatomy import Anatomy, Choices
from .backend import current
from .detections import MAX_DETECTIONS, checked_classes, given_boxes
from .graph import layers_feeding
from .kind_detector import own_targets
from .layers import is_feature_map, is_spatial

Resolver = Callable[[keras.Model, Choices], Anatomy]

PARTS = ("boxes", "labels", "confidences")
"""The keys of what ``decode`` returns."""

_EXPECTED = (
    'a dict {"boxes": (batch, D, 4), "labels": (batch, D), "confidences": (batch, D)} from decode'
)


def decoded_rows(decode: Callable[[Any], Any]) -> Callable[[Any, Any], Any]:
    """The function (raw outputs, images) -> (batch, D, 6) rows of the detections
    ``decode`` finds: box, class id, confidence (0 where a row is no detection)."""

    def rows(outputs: Any, images: Any) -> Any:
        parts = decode(outputs)
        if not isinstance(parts, dict) or set(parts) != set(PARTS):
            got = sorted(parts) if isinstance(parts, dict) else type(parts).__name__
            raise bad_type("decode", _EXPECTED, said(f"{got}"))
        boxes, labels, confidences = (ops.cast(parts[name], "float32") for name in PARTS)
        if len(boxes.shape) != 3 or boxes.shape[-1] != 4 or len(labels.shape) != 2:
            shapes = ", ".join(f"{name} {tuple(parts[name].shape)}" for name in PARTS)
            raise bad_argument("decode", _EXPECTED, said(shapes))
        valid = ops.logical_and(labels >= 0, confidences > 0)
        kept = ops.where(valid, confidences, ops.zeros_like(confidences))
        return ops.concatenate([boxes, labels[..., None], kept[..., None]], axis=-1)

    return rows


def is_decoded(model: Any, choices: Choices) -> bool:
    """True when the user gave ``decode=``: the model is explained as a detector."""
    return choices.decode is not None


def decoded_anatomy(
    model: keras.Model, choices: Choices, resolve: Resolver, *, from_graph: bool
) -> Anatomy:
    """The Anatomy of a model explained through ``decode``: the one ``resolve`` (the
    resolver of the kind the model has without ``decode``; ``from_graph``: a graph model's)
    works out, the explained output the class scores, and its decoded detections as
    targets."""
    if not callable(choices.decode):
        expected = "a function from the model's outputs to its detections"
        raise bad_type("decode", expected, choices.decode)
    output, layer = choices.output, choices.layer
    if from_graph:
        output = len(keras.tree.flatten(model.outputs)) - 1 if output is None else output
        if layer is None and choices.needs_layer:
            layer = branch_layer(model)
    anatomy = resolve(model, attrs.evolve(choices, output=output, layer=layer, decode=None))
    shape = anatomy.head.shape or ()
    classes = int(shape[-1]) if len(shape) == 3 and shape[-1] is not None else None
    if classes is None:
        raise bad_argument(
            "output",
            "the detector's class scores (batch, anchors, classes), with decode=",
            said(f"an output of shape {anatomy.head.shape}"),
        )
    return attrs.evolve(
        anatomy,
        class_count=classes,
        io=attrs.evolve(anatomy.io, derive=decoded_rows(choices.decode)),
        image_targets=partial(
            _image_targets, _Detector(weakref.ref(model), choices.decode, classes)
        ),
    )


def branch_layer(model: keras.Model) -> str | None:
    """Grad-CAM's default layer: the deepest layer that every output depends on whose output
    is a 4-D map larger than 1x1, where a detector's heads branch off (None when there is
    none: the rule for any model, :mod:`explainimg.engine.layers`, then applies).

    >>> images = keras.Input((8, 8, 3))
    >>> trunk = keras.layers.Conv2D(4, 3, name="trunk")(images)
    >>> heads = [keras.layers.Conv2D(2, 1, name=name)(trunk) for name in ("boxes", "scores")]
    >>> branch_layer(keras.Model(images, heads))
    'trunk'
    """
    feeding = [layers_feeding(model, tensor) for tensor in keras.tree.flatten(model.outputs)]
    shared = set.intersection(*feeding)
    maps = [
        layer
        for layer in model.layers
        if id(layer) in shared and _is_map(getattr(layer, "output", None))
    ]
    return maps[-1].name if maps else None


def _is_map(output: Any) -> bool:
    shape = getattr(output, "shape", None)
    return shape is not None and is_feature_map(tuple(shape)) and is_spatial(tuple(shape))


@attrs.frozen(eq=False)
class _Detector:
    """A model (held weakly: plans must not keep it alive) with its ``decode`` and its
    number of ``classes``."""

    model_ref: weakref.ref
    decode: Callable[[Any], Any]
    classes: int

    @property
    def model(self) -> keras.Model:
        return self.model_ref()


def _image_targets(
    detector: _Detector, batch: np.ndarray, targets: Any, top: Any, names: Any
) -> tuple[list[Any], str | None]:
    make = partial(_detections, detector, batch)
    return own_targets(make, detector.classes, targets, top, names)


def _detections(
    detector: _Detector,
    batch: np.ndarray,
    *,
    boxes: Any = None,
    classes: Any = None,
    max_detections: int = MAX_DETECTIONS,
) -> list[BoxMatchScore]:
    """One BoxMatchScore per decoded detection of image ``batch`` (of ``classes``, None:
    any; at most ``max_detections``, the most confident first), or per drawn Box of
    ``boxes``."""
    if boxes is not None:
        return [
            BoxMatchScore(box.class_id, (box.x0, box.y0, box.x1, box.y1))
            for box in given_boxes(boxes, batch, detector.classes)
        ]
    wanted = checked_classes(classes, detector.classes)
    found = _compiled(detector.model, detector.decode, batch.shape[1:])(batch)
    rows = np.asarray(ops.convert_to_numpy(found), np.float32)[0]
    rows = rows[(rows[:, 5] > 0) & np.isin(rows[:, 4].round(), wanted)]
    rows = rows[np.argsort(-rows[:, 5], kind="stable")][:max_detections]
    return [
        BoxMatchScore(int(np.rint(row[4])), tuple(float(v) for v in row[:4]), float(row[5]))
        for row in rows
    ]


_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _compiled(model: keras.Model, decode: Any, shape: tuple[int, ...]) -> Callable[[Any], Any]:
    """The model's forward pass and ``decode`` on images of ``shape``, compiled once per
    (model, decode)."""
    per_model = _COMPILED.setdefault(model, {})
    if decode not in per_model:
        rows_of, model_ref = decoded_rows(decode), weakref.ref(model)

        def detect(images: Any) -> Any:  # the model held weakly, as the cache holds it
            return rows_of(model_ref()(images, training=False), images)

        spec = ((None, *shape), "float32")
        per_model[decode] = current().compile_function(detect, model, [spec])
    return per_model[decode]
