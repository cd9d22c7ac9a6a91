"""KerasHub detectors (RetinaNet, D-FINE): a functional model whose explained output is its
raw class logits (``cls_logits``: anchors x classes; D-FINE's ``logits``: queries x
classes; the output a :class:`~explainimg.targets.DetectionScore` reads, named by
:mod:`~explainimg.engine.detector_families`) and whose layer, when none is named, is
:func:`~explainimg.engine.detections.detection_layer`. The user's ``output=`` and ``layer=``
win over both.

The kind supplies its own targets (:attr:`~explainimg.engine.anatomy.Anatomy.image_targets`):
with no ``targets=``, every detection of the image (at most
:data:`~explainimg.engine.detections.MAX_DETECTIONS`, or ``top``, the most confident first);
``targets=`` class ids give the detections of those classes; each
:class:`~explainimg.targets.Box` of ``targets=`` becomes the score of that box.

A method that scores perturbed images (``reads_confidences``: occlusion, RISE, D-RISE,
Score-CAM) explains the detections instead, decoded inside the compiled call
(:func:`~explainimg.engine.detection_view.detections_of`), each target being D-RISE's
similarity to one detection (:class:`~explainimg.targets.DetectionSimilarity`): the class
logits of anchors matched on the clean image say little once the image is masked.

>>> import keras
>>> from explainimg.engine.kinds import kind_of
>>> kind_of(keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3)])).name
'graph'

A RetinaNet is kind ``"detector"`` (tests/test_detection.py builds one).
"""

from __future__ import annotations

import weakref
from functools import partial
from typing import Any

import attrs
import keras
import numpy as np

from ..errors import bad_argument, bad_type, said
from ..inputs.arguments import name_of
from ..targets import Box, DetectionScore, DetectionTarget
from .anatomy import Anatomy, Choices
from .detection_view import detections_of
from .detections import (
    MAX_DETECTIONS,
    checked_classes,
    detection_layer,
    detection_targets,
    similarity_targets,
)
from .detector_families import family_of
from .kind_graph import graph_anatomy

NO_DETECTION = (
    "the detector found no object above its confidence threshold in this image; pass "
    "targets=[ei.targets.Box(x0, y0, x1, y1, class_id)] to explain a region"
)
"""The ``error`` of the Explanation of an image in which the detector finds nothing."""

NO_DETECTION_OF = (
    "the detector found no object of the classes {classes} in this image; pass "
    "targets=[ei.targets.Box(x0, y0, x1, y1, class_id)] to explain a region"
)
"""The ``error`` when ``targets=`` class ids and the image has no detection of them."""


def detector_anatomy(model: keras.Model, choices: Choices) -> Anatomy:
    """The Anatomy of a KerasHub detector: its graph's, with its class logits explained and
    the detection layer, unless the user chose others, and its detections as targets."""
    output = family_of(model).logits if choices.output is None else choices.output
    layer = choices.layer
    if layer is None and choices.needs_layer:
        layer = detection_layer(model)
    anatomy = graph_anatomy(model, attrs.evolve(choices, output=output, layer=layer))
    anatomy = attrs.evolve(anatomy, class_count=model.num_classes)
    held = weakref.ref(model)  # plans hold the anatomy: they must not keep the model alive
    if not choices.reads_confidences:
        return attrs.evolve(anatomy, image_targets=partial(_held_targets, held))
    _check_no_logit_scores(choices)
    return attrs.evolve(
        anatomy,
        io=attrs.evolve(anatomy.io, derive=detections_of(model)),
        image_targets=partial(_held_targets, held, similarity=True),
    )


def _held_targets(held: weakref.ref, *args: Any, **options: Any) -> tuple[list[Any], str | None]:
    return detection_image_targets(held(), *args, **options)


def _check_no_logit_scores(choices: Choices) -> None:
    """A DetectionScore reads anchors' logits, which a perturbing method does not see."""
    for function in choices.score_functions:
        kind = getattr(function, "score_type", type(function))  # a slot stands for its type
        if issubclass(kind, DetectionScore):
            raise bad_type(
                "targets",
                f"ei.targets.Box or DetectionSimilarity for method {choices.method!r}, which "
                "scores the detections of perturbed images",
                said(kind.__name__),
            )


def _checked_top(top: Any) -> int:
    expected = "an integer >= 1 (how many of the most confident detections to explain)"
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)):
        raise bad_type("top", expected, top)
    if top < 1:
        raise bad_argument("top", expected, int(top))
    return int(top)


def detection_image_targets(
    detector: keras.Model,
    batch: np.ndarray,
    targets: Any,
    top: Any,
    names: Any = None,
    *,
    similarity: bool = False,
) -> tuple[list[Any], str | None]:
    """The score functions that explain image ``batch`` (a batch of one) for the user's
    ``targets`` and ``top``, and :data:`NO_DETECTION` when there is none: with no
    ``targets``, the detections (``top`` of them, else at most ``MAX_DETECTIONS``); class
    ids, the detections of those classes (:data:`NO_DETECTION_OF` when there is none); each
    :class:`~explainimg.targets.Box` of ``targets`` as its box's score; anything else as
    given (the shared path checks it). ``names`` (the checked ``target_names``) name each
    detection's class; ``similarity``: D-RISE's similarities
    (:func:`~explainimg.engine.detections.similarity_targets`) instead of logit scores."""
    make = similarity_targets if similarity else detection_targets
    return own_targets(partial(make, detector, batch), detector.num_classes, targets, top, names)


def own_targets(
    make: Any, class_count: int, targets: Any, top: Any, names: Any
) -> tuple[list[Any], str | None]:
    """What :func:`detection_image_targets` returns, from ``make(boxes=, classes=,
    max_detections=)``, which gives an image's detections (or drawn boxes' scores) as score
    functions, and the number of classes the detector has (any detector kind)."""
    found, why = _targets_of(make, class_count, targets, top)
    return [_named(target, names) for target in found], why


def _named(target: Any, names: Any) -> Any:
    if not isinstance(target, DetectionTarget) or names is None:
        return target
    return attrs.evolve(target, class_name=name_of(target.class_id, names))


def _targets_of(
    make: Any, class_count: int, targets: Any, top: Any
) -> tuple[list[Any], str | None]:
    if targets is None:
        count = MAX_DETECTIONS if top is None else _checked_top(top)
        found = make(max_detections=count)
        return found, None if found else NO_DETECTION
    given = list(targets) if isinstance(targets, (list, tuple)) else [targets]
    if all(_is_class_id(target) for target in given):
        classes = checked_classes(given, class_count, "targets")
        found = make(classes=classes)
        return found, None if found else NO_DETECTION_OF.format(classes=list(classes))
    boxes = [target for target in given if isinstance(target, Box)]
    if not boxes:
        return targets, None
    scores = iter(make(boxes=boxes))
    return [next(scores) if isinstance(target, Box) else target for target in given], None


def _is_class_id(target: Any) -> bool:
    return isinstance(target, (int, np.integer)) and not isinstance(target, bool)
