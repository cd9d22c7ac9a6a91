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


DFINE_SIZE = 32


def tiny_dfine(*, seed: int = 0, threshold: float = 0.0) -> keras.Model:
    """A DFineObjectDetector for (DFINE_SIZE, DFINE_SIZE, 3) images and NUM_CLASSES classes,
    10 queries, an HGNetV2 backbone of two stages (strides 4 and 8), one encoder and one
    decoder layer (keras-hub's ``d_fine_object_detector_test.py`` config, no denoising),
    with an NMS decoder whose ``confidence_threshold`` is ``threshold``."""
    import keras_hub
    from keras_hub.layers import NonMaxSuppression

    keras.utils.set_random_seed(seed)
    stages = ["stage1", "stage2"]
    encoder = keras_hub.models.HGNetV2Backbone(
        stem_channels=[3, 8, 8],
        stackwise_stage_filters=[[8, 8, 16, 1, 1, 3], [16, 8, 32, 1, 1, 3]],
        apply_downsample=[False, True],
        use_lightweight_conv_block=[False, False],
        depths=[1, 1],
        hidden_sizes=[16, 32],
        embedding_size=8,
        use_learnable_affine_block=True,
        hidden_act="relu",
        image_shape=(DFINE_SIZE, DFINE_SIZE, 3),
        out_features=stages,
    )
    backbone = keras_hub.models.DFineBackbone(
        backbone=encoder,
        decoder_in_channels=[16, 16],
        encoder_hidden_dim=16,
        num_denoising=0,
        num_labels=NUM_CLASSES,
        hidden_dim=16,
        learn_initial_query=False,
        num_queries=10,
        anchor_image_size=(DFINE_SIZE, DFINE_SIZE),
        feat_strides=[4, 8],
        num_feature_levels=2,
        encoder_in_channels=[16, 32],
        encode_proj_layers=[1],
        num_attention_heads=2,
        encoder_ffn_dim=32,
        num_encoder_layers=1,
        hidden_expansion=0.5,
        depth_multiplier=0.5,
        eval_idx=-1,
        num_decoder_layers=1,
        decoder_attention_heads=2,
        decoder_ffn_dim=32,
        decoder_method="default",
        decoder_n_points=[2, 2],
        lqe_hidden_dim=16,
        num_lqe_layers=1,
        out_features=stages,
        image_shape=(DFINE_SIZE, DFINE_SIZE, 3),
        seed=seed,
    )
    return keras_hub.models.DFineObjectDetector(
        backbone=backbone,
        num_classes=NUM_CLASSES,
        bounding_box_format="yxyx",
        preprocessor=None,
        prediction_decoder=NonMaxSuppression(
            "yxyx", from_logits=True, confidence_threshold=threshold, max_detections=10
        ),
    )


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


def numpy_query_boxes(detector, image):
    """Each D-FINE query's box (x0, y0, x1, y1) in NumPy from the raw ``pred_boxes``
    (centre x, centre y, width, height as fractions of the image), and its logits."""
    raw = {k: ops.convert_to_numpy(v)[0] for k, v in detector(image[None], training=False).items()}
    height, width = image.shape[:2]
    cx, cy, w, h = (raw["pred_boxes"] * (width, height, width, height)).T
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    return boxes, raw["logits"]


def numpy_boxes(detector, image):
    """(boxes (A, 4), logits (A, classes)) of every anchor or query, by the detector's kind."""
    if type(detector).__name__ == "DFineObjectDetector":
        return numpy_query_boxes(detector, image)
    return numpy_anchor_boxes(detector, image)


def sigmoid(values):
    return 1 / (1 + np.exp(-values))


def predicted_rows(detector, image):
    """The detections of ``predict`` on ``image``, each as (x0, y0, x1, y1, probabilities):
    the probability vector is the sigmoid of the logits of the anchor (or query) whose
    NumPy-decoded box is the detection's box."""
    predicted = detector.predict(image[None], verbose=0)
    boxes, logits = numpy_boxes(detector, image)
    rows = []
    for k in range(int(predicted["num_detections"][0])):
        y0, x0, y1, x1 = predicted["boxes"][0, k]
        anchor = np.abs(boxes - (x0, y0, x1, y1)).sum(axis=1).argmin()
        rows.append(np.concatenate([(x0, y0, x1, y1), sigmoid(logits[anchor])]))
    return np.array(rows, np.float64).reshape(-1, 4 + NUM_CLASSES)


def numpy_similarity(rows, box, probabilities):
    """max over rows of IoU(row box, box) x cosine(row probabilities, probabilities)."""
    if len(rows) == 0:
        return 0.0
    x0, y0, x1, y1 = box
    width = np.clip(np.minimum(rows[:, 2], x1) - np.maximum(rows[:, 0], x0), 0, None)
    height = np.clip(np.minimum(rows[:, 3], y1) - np.maximum(rows[:, 1], y0), 0, None)
    areas = (rows[:, 2] - rows[:, 0]) * (rows[:, 3] - rows[:, 1])
    iou = width * height / (areas + (x1 - x0) * (y1 - y0) - width * height)
    target = np.asarray(probabilities)
    cosine = rows[:, 4:] @ target / (np.linalg.norm(rows[:, 4:], axis=1) * np.linalg.norm(target))
    return float((iou * cosine).max())
