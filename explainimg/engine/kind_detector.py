"""KerasHub RetinaNet detectors: a functional model whose explained output is its raw class
logits ``cls_logits`` (anchors x classes, the output a
:class:`~explainimg.targets.DetectionScore` reads) and whose layer, when none is named, is
:func:`~explainimg.engine.detections.detection_layer`. The user's ``output=`` and ``layer=``
win over both.

>>> import keras
>>> from explainimg.engine.kinds import kind_of
>>> kind_of(keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3)])).name
'graph'

A RetinaNet is kind ``"detector"`` (tests/test_detection.py builds one).
"""

from __future__ import annotations

import attrs
import keras

from .anatomy import Anatomy, Choices
from .detections import detection_layer
from .kind_graph import graph_anatomy


def detector_anatomy(model: keras.Model, choices: Choices) -> Anatomy:
    """The Anatomy of a KerasHub RetinaNet: its graph's, with ``cls_logits`` explained and
    the detection layer, unless the user chose others."""
    output = "cls_logits" if choices.output is None else choices.output
    layer = choices.layer
    if layer is None and choices.needs_layer:
        layer = detection_layer(model)
    return graph_anatomy(model, attrs.evolve(choices, output=output, layer=layer))
