"""A tiny KerasHub RetinaNet with random weights, built from a small config (nothing is
downloaded), as keras-hub's own ``retinanet_object_detector_test.py`` builds one, smaller.

``keras_hub`` is imported inside :func:`tiny_retinanet`, so this module imports without it;
tests guard with ``pytest.importorskip("keras_hub")``.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

NUM_CLASSES = 3
SIZE = 64


def tiny_retinanet(*, seed: int = 0, threshold: float = 0.0) -> keras.Model:
    """A RetinaNetObjectDetector for (SIZE, SIZE, 3) images and NUM_CLASSES classes, pyramid
    levels P3 and P4 (8x8 and 4x4 maps, 9 anchors a cell), built and with an NMS decoder
    whose ``confidence_threshold`` is ``threshold`` (0: every image has detections)."""
    import keras_hub
    from keras_hub.layers import AnchorGenerator, NonMaxSuppression

    keras.utils.set_random_seed(seed)
    encoder = keras_hub.models.ResNetBackbone(
        input_conv_filters=[64],
        input_conv_kernel_sizes=[3],
        stackwise_num_filters=[64, 16, 16],
        stackwise_num_blocks=[1, 1, 1],
        stackwise_num_strides=[1, 2, 2],
        image_shape=(SIZE, SIZE, 3),
        block_type="basic_block",
        use_pre_activation=False,
    )
    backbone = keras_hub.models.RetinaNetBackbone(
        image_encoder=encoder,
        min_level=3,
        max_level=4,
        use_p5=False,
        image_shape=(SIZE, SIZE, 3),
    )
    anchors = AnchorGenerator(
        bounding_box_format="yxyx",
        min_level=3,
        max_level=4,
        num_scales=3,
        aspect_ratios=[0.5, 1.0, 2.0],
        anchor_size=4,
    )
    decoder = NonMaxSuppression(
        bounding_box_format="yxyx",
        from_logits=True,
        confidence_threshold=threshold,
        max_detections=5,
    )
    detector = keras_hub.models.RetinaNetObjectDetector(
        backbone=backbone,
        anchor_generator=anchors,
        num_classes=NUM_CLASSES,
        bounding_box_format="yxyx",
        preprocessor=None,
        prediction_decoder=decoder,
        pre_logits_num_conv_layers=1,
    )
    detector(np.zeros((1, SIZE, SIZE, 3), "float32"))
    # Random box deltas of a few units make boxes e^6 times their anchors, which NMS drops;
    # small deltas keep boxes near their anchors, as a trained head does.
    logits = detector.box_head.prediction_layer
    logits.kernel.assign(logits.kernel * 0.01)
    logits.bias.assign(logits.bias * 0.0)
    return detector


def random_image(seed: int = 0) -> np.ndarray:
    """A (SIZE, SIZE, 3) float32 image of uniform noise in [0, 1]."""
    return np.random.default_rng(seed).uniform(0, 1, (SIZE, SIZE, 3)).astype("float32")


def numpy_anchor_boxes(detector, image):
    """Each anchor's decoded box (x0, y0, x1, y1), in NumPy from the raw deltas: the
    anchors' centres moved by dx * w, dy * h, sizes scaled by exp(dw), exp(dh)."""
    batch = image[None]
    raw = {k: ops.convert_to_numpy(v)[0] for k, v in detector(batch, training=False).items()}
    anchors = detector.anchor_generator(batch)
    y0, x0, y1, x1 = np.concatenate([ops.convert_to_numpy(a) for a in anchors.values()]).T
    w, h = x1 - x0, y1 - y0
    dx, dy, dw, dh = raw["bbox_regression"].T
    cx, cy = x0 + w / 2 + dx * w, y0 + h / 2 + dy * h
    w, h = np.exp(dw) * w, np.exp(dh) * h
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    return boxes, raw["cls_logits"]
