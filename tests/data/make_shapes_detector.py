"""Train the small KerasHub RetinaNet of ``shapes_detector.keras`` on generated shape scenes.

``python tests/data/make_shapes_detector.py`` builds a ``RetinaNetObjectDetector`` for 64 x 64
images and the 3 classes of :func:`explainimg.demo.shapes.make_scenes` (0 square, 1 disc,
2 triangle; 1 to 3 shapes of 13 to 21 pixels an image, on noise: the detector takes the
pixels in 0..255 as they are), trains it with KerasHub's own losses (``compile`` + ``fit``:
focal loss on the classes, Huber on the box deltas) for STEPS steps of BATCH fresh scenes
(each seen once, drawn from seeds TRAIN_SEED and up) with Adam, prints how many of the shapes
of HELD_OUT held-out scenes (``seed=HELD_OUT_SEED``) it finds at a few confidence thresholds,
and saves it, without optimizer state (``--out``, next to this script by default). About
10 minutes on 2 CPU cores, a 3.7 MB file. ``--check`` trains 2 steps of 4 scenes into a
temporary file instead (seconds: the test suite runs it to know the script still works).
Reproducible: the seeds are fixed and TensorFlow's ops are made deterministic.

The architecture, kept small enough for a file of a few MB and for CPU training:

- image encoder: a ``ResNetBackbone`` of two basic-block stacks (64 filters at stride 4, two
  blocks of 64 at stride 8), its stride-8 output being pyramid level P3 (8 x 8 cells);
- ``RetinaNetBackbone`` with the one level P3 (``min_level = max_level = 3``): KerasHub's
  feature pyramid and heads have 256 channels whatever the encoder, and each level (or
  convolution before the heads' logits) adds a 3 x 3 x 256 x 256 convolution, 2.4 MB: a
  second level (P4 would hold no anchor of these sizes anyway) would take the file to 6 MB;
- anchors: 3 squares a cell, 16, 20 and 25 pixels (``anchor_size=2``: 2 x stride 8, times
  2^(k/3)), matching the 13 to 21 pixel shapes; the label encoder takes an anchor with IoU
  >= 0.4 as positive (below 0.3 as background), so every shape has one;
- heads: the logits convolution alone (``pre_logits_num_conv_layers=0``);
- decoder: ``NonMaxSuppression`` in ``"yxyx"`` (the detector's box format), from logits, at
  most 5 detections, ``confidence_threshold=THRESHOLD`` (0.5) and ``iou_threshold=NMS_IOU``
  (0.3: the shapes of a scene never overlap, and with KerasHub's 0.5 a second, shifted box
  of the same shape, IoU 0.35 to 0.5 with the first, is kept now and then).

Loads with ``keras.saving.load_model(path, compile=False)`` once ``keras_hub`` is imported.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SIZE = 64
NUM_CLASSES = 3
MAX_SHAPES = 3
THRESHOLD = 0.5
NMS_IOU = 0.3
MAX_DETECTIONS = 5
BATCH = 32
STEPS = 1500
CHUNK = 100
LEARNING_RATE = 2e-3
SEED = 0
TRAIN_SEED = 1_000_000
HELD_OUT_SEED = 7
HELD_OUT = 50
PREDICT_BATCH = 10
OUT = Path(__file__).with_name("shapes_detector.keras")


def build_detector(seed: int = SEED, threshold: float = THRESHOLD):
    """The untrained detector (weights drawn from ``seed``), built on a (1, 64, 64, 3) batch."""
    import keras
    from keras_hub.layers import AnchorGenerator
    from keras_hub.models import ResNetBackbone, RetinaNetBackbone, RetinaNetObjectDetector
    from keras_hub.src.models.retinanet.retinanet_label_encoder import RetinaNetLabelEncoder

    keras.utils.set_random_seed(seed)
    encoder = ResNetBackbone(
        input_conv_filters=[64],
        input_conv_kernel_sizes=[3],
        stackwise_num_filters=[64, 64],
        stackwise_num_blocks=[1, 2],
        stackwise_num_strides=[1, 2],
        image_shape=(SIZE, SIZE, 3),
        block_type="basic_block",
        use_pre_activation=False,
    )
    backbone = RetinaNetBackbone(
        image_encoder=encoder, min_level=3, max_level=3, use_p5=False, image_shape=(SIZE, SIZE, 3)
    )
    anchors = AnchorGenerator(
        bounding_box_format="yxyx",
        min_level=3,
        max_level=3,
        num_scales=3,
        aspect_ratios=[1.0],
        anchor_size=2,
    )
    label_encoder = RetinaNetLabelEncoder(
        anchors,
        bounding_box_format="yxyx",
        encoding_format="center_xywh",
        positive_threshold=0.4,
        negative_threshold=0.3,
    )
    detector = RetinaNetObjectDetector(
        backbone=backbone,
        anchor_generator=anchors,
        label_encoder=label_encoder,
        num_classes=NUM_CLASSES,
        bounding_box_format="yxyx",
        preprocessor=None,
        prediction_decoder=decoder(threshold),
        pre_logits_num_conv_layers=0,
    )
    detector(np.zeros((1, SIZE, SIZE, 3), "float32"))
    return detector


def decoder(threshold: float):
    """The detector's NMS decoder, keeping detections of confidence >= ``threshold``."""
    from keras_hub.layers import NonMaxSuppression

    return NonMaxSuppression(
        bounding_box_format="yxyx",
        from_logits=True,
        iou_threshold=NMS_IOU,
        confidence_threshold=threshold,
        max_detections=MAX_DETECTIONS,
    )


def targets(scenes) -> dict[str, np.ndarray]:
    """The ``y`` of ``fit``: boxes (N, MAX_SHAPES, 4) in "yxyx" pixels and labels (N,
    MAX_SHAPES), -1 where an image holds fewer shapes."""
    x0, y0, x1, y1 = np.moveaxis(scenes.boxes.astype("float32"), -1, 0)
    boxes = np.stack([y0, x0, y1, x1], axis=-1)
    return {"boxes": boxes, "labels": scenes.labels.astype("float32")}


def train(detector, steps: int = STEPS, batch: int = BATCH, learning_rate: float = LEARNING_RATE):
    """``steps`` Adam steps of ``batch`` scenes (a cosine-decayed rate after a warm-up) on
    fresh scenes, drawn a chunk of CHUNK steps at a time (chunk ``c`` with ``seed=TRAIN_SEED
    + c``, each scene seen once); returns the training time in seconds."""
    import keras

    from explainimg.demo.shapes import make_scenes

    schedule = keras.optimizers.schedules.CosineDecay(
        learning_rate * 0.1, steps, warmup_target=learning_rate, warmup_steps=min(100, steps // 10)
    )
    detector.compile(optimizer=keras.optimizers.Adam(schedule, global_clipnorm=10.0))
    start = time.perf_counter()
    chunks = -(-steps // CHUNK)
    for chunk in range(chunks):
        count = min(CHUNK, steps - chunk * CHUNK) * batch
        scenes = make_scenes(count, SIZE, MAX_SHAPES, seed=TRAIN_SEED + chunk)
        detector.fit(
            scenes.images,
            targets(scenes),
            batch_size=batch,
            epochs=chunk + 1,
            initial_epoch=chunk,
            shuffle=False,
            verbose=2 if steps > CHUNK else 0,
        )
    return time.perf_counter() - start


def iou(box, boxes) -> np.ndarray:
    """IoU of ``box`` (x0, y0, x1, y1) with each row of ``boxes`` (n, 4), same format."""
    boxes = np.asarray(boxes, "float64").reshape(-1, 4)
    width = np.clip(np.minimum(boxes[:, 2], box[2]) - np.maximum(boxes[:, 0], box[0]), 0, None)
    height = np.clip(np.minimum(boxes[:, 3], box[3]) - np.maximum(boxes[:, 1], box[1]), 0, None)
    inter = width * height
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / (areas + (box[2] - box[0]) * (box[3] - box[1]) - inter)


def detections(detector, images) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per image, (boxes (D, 4) as x0, y0, x1, y1, class ids (D,), confidences (D,)).

    ``predict`` runs on batches of PREDICT_BATCH images (the last one padded with blank
    images): a second batch size would retrace the decoder with an unknown batch size, which
    KerasHub's NonMaxSuppression fails on."""
    padded = -len(images) % PREDICT_BATCH
    images = np.concatenate([images, np.zeros((padded, *images.shape[1:]), images.dtype)])
    found = detector.predict(images, verbose=0, batch_size=PREDICT_BATCH)
    out = []
    for i, count in enumerate(np.asarray(found["num_detections"][: len(images) - padded])):
        count = int(count)
        y0, x0, y1, x1 = np.asarray(found["boxes"][i, :count], "float64").T
        out.append(
            (
                np.stack([x0, y0, x1, y1], axis=1),
                np.asarray(found["labels"][i, :count]).astype(int),
                np.asarray(found["confidence"][i, :count], "float64"),
            )
        )
    return out


def quality(detector, scenes, threshold: float = THRESHOLD) -> tuple[float, float]:
    """(recall, precision) on ``scenes`` of the detections of confidence >= ``threshold``: a
    shape is found by a detection of its class with IoU >= 0.5 (each detection finds one)."""
    shapes = found = kept = 0
    for i, (boxes, labels, confidences) in enumerate(detections(detector, scenes.images)):
        keep = confidences >= threshold
        boxes, labels = boxes[keep], labels[keep]
        free = np.ones(len(boxes), bool)
        truth, classes = scenes.scene(i)
        for box, label in zip(truth, classes, strict=True):
            hits = (iou(box, boxes) >= 0.5) & (labels == label) & free
            if hits.any():
                free[np.argmax(hits)] = False
                found += 1
        shapes, kept = shapes + len(truth), kept + len(boxes)
    return found / shapes, (found / kept if kept else 0.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=STEPS, help="training steps")
    parser.add_argument("--out", type=Path, default=OUT, help="the .keras file written")
    parser.add_argument(
        "--check", action="store_true", help="train 2 steps of 4 images into a temporary file"
    )
    args = parser.parse_args(argv)
    try:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    except ImportError:
        pass
    import keras
    import keras_hub  # noqa: F401  (registers the KerasHub classes for load_model)

    from explainimg.demo.shapes import make_scenes

    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "check.keras" if args.check else args.out
        detector = build_detector(threshold=0.05)
        seconds = train(detector, steps=2, batch=4) if args.check else train(detector, args.steps)
        held_out = make_scenes(10 if args.check else HELD_OUT, SIZE, MAX_SHAPES, HELD_OUT_SEED)
        for threshold in () if args.check else (0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
            recall, precision = quality(detector, held_out, threshold)
            print(f"confidence >= {threshold:.1f}: recall {recall:.3f}, precision {precision:.3f}")
        # A fresh detector holding the trained weights: saved without the optimizer's state.
        trained = build_detector(threshold=THRESHOLD)
        trained.set_weights(detector.get_weights())
        trained.save(out)
        loaded = keras.saving.load_model(out, compile=False)
        recall, precision = quality(loaded, held_out)
        print(
            f"trained {seconds:.0f} s; {out} ({out.stat().st_size / 1e6:.2f} MB): on "
            f"{len(held_out.images)} held-out scenes, {recall:.1%} of the shapes found "
            f"(IoU >= 0.5, right class) at confidence >= {THRESHOLD}, precision {precision:.1%}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
