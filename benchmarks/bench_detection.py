"""Detector speed (issue 19): Grad-CAM of every detection against the detector's ``predict``,
and D-RISE against its floor, in one run.

Two KerasHub RetinaNets with random weights (nothing downloaded): the small one of the tests
(64x64, 3 classes, levels P3-P4) and a ResNet-50-sized one (ResNet-50 encoder, 256x256,
80 classes, levels P3-P7). Their box deltas are scaled down and the confidence threshold is
0, so every image has ``max_detections`` (10) detections to explain.

- Grad-CAM: ``Explainer(detector).explain_batch(batch)`` (every detection of each image,
  the targets found by its own forward pass) against ``detector.predict(batch)``, at batch 1
  and 8, called alternately; the ratio of the medians. The predict function is rebuilt for
  each batch size: traced again for a second size, Keras leaves the batch size open, and
  KerasHub 0.32's NMS then fails (it needs a static batch size).
- Grad-CAM on a new image at every call (the first explanation of an image, as in a run
  over a folder) against ``predict`` on a new image.
- D-RISE: one image with N masks in batches of ``batch_size``, against the floor of one
  ``predict`` of N masked images in batches of ``batch_size`` (N / batch_size steps; each
  masked image through the detector's own ``predict``, as the paper runs it).

    .venv/bin/python benchmarks/bench_detection.py            # about 10 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import keras
import numpy as np
from timing import paired_times

import explainimg as ei
from explainimg.methods import DRISE


def resnet50_retinanet(size: int = 256, classes: int = 80) -> keras.Model:
    """A RetinaNet on a ResNet-50 encoder (KerasHub's ResNet-50 config), random weights."""
    import keras_hub
    from keras_hub.layers import AnchorGenerator, NonMaxSuppression

    keras.utils.set_random_seed(0)
    encoder = keras_hub.models.ResNetBackbone(
        input_conv_filters=[64],
        input_conv_kernel_sizes=[7],
        stackwise_num_filters=[64, 128, 256, 512],
        stackwise_num_blocks=[3, 4, 6, 3],
        stackwise_num_strides=[1, 2, 2, 2],
        image_shape=(size, size, 3),
        block_type="bottleneck_block",
        use_pre_activation=False,
    )
    backbone = keras_hub.models.RetinaNetBackbone(
        image_encoder=encoder, min_level=3, max_level=7, use_p5=False, image_shape=(size, size, 3)
    )
    detector = keras_hub.models.RetinaNetObjectDetector(
        backbone=backbone,
        anchor_generator=AnchorGenerator(
            "yxyx",
            min_level=3,
            max_level=7,
            num_scales=3,
            aspect_ratios=[0.5, 1.0, 2.0],
            anchor_size=4,
        ),
        num_classes=classes,
        bounding_box_format="yxyx",
        preprocessor=None,
        prediction_decoder=NonMaxSuppression(
            "yxyx", from_logits=True, confidence_threshold=0.0, max_detections=10
        ),
    )
    detector(np.zeros((1, size, size, 3), "float32"))
    head = detector.box_head.prediction_layer
    head.kernel.assign(head.kernel * 0.01)
    head.bias.assign(head.bias * 0.0)
    return detector


def small_retinanet() -> keras.Model:
    from detectors import tiny_retinanet

    return tiny_retinanet()


MODELS = {"small (64x64)": small_retinanet, "ResNet-50 (256x256)": resnet50_retinanet}


def gradcam_rows(name: str, detector: Any, reps: int) -> list[str]:
    size = int(detector.input_shape[1])
    explainer = ei.Explainer(detector)
    rows = []
    for batch_size in (1, 8):
        batch = np.random.default_rng(batch_size).uniform(0, 1, (batch_size, size, size, 3))
        batch = batch.astype("float32")
        found = sum(len(e.targets) for e in explainer.explain_batch(batch))
        detector.make_predict_function(force=True)  # a fresh trace for this batch size
        floor, ours = paired_times(
            lambda b=batch, n=batch_size: detector.predict(b, batch_size=n, verbose=0),
            lambda b=batch: explainer.explain_batch(b),
            reps,
            0,
        )
        rows.append(
            f"| {name} | Grad-CAM, every detection ({found / batch_size:.0f} per image) "
            f"| {batch_size} | {floor:.3f} | {ours:.3f} | **{ours / floor:.2f}** |"
        )
        print(rows[-1], flush=True)
    fresh = iter(
        np.random.default_rng(99).uniform(0, 1, (1000, 1, size, size, 3)).astype("float32")
    )
    detector.make_predict_function(force=True)
    floor, ours = paired_times(
        lambda: detector.predict(next(fresh), verbose=0),
        lambda: explainer.explain_batch(next(fresh)),
        reps,
        0,
    )
    rows.append(
        f"| {name} | Grad-CAM, every detection, a new image each call | 1 | {floor:.3f} "
        f"| {ours:.3f} | **{ours / floor:.2f}** |"
    )
    print(rows[-1], flush=True)
    return rows


def drise_row(name: str, detector: Any, masks: int, batch_size: int, reps: int) -> str:
    size = int(detector.input_shape[1])
    image = np.random.default_rng(0).uniform(0, 1, (size, size, 3)).astype("float32")
    explainer = ei.Explainer(detector, method=DRISE(masks=masks, batch_size=batch_size))
    masked = np.repeat(image[None] * 0.5, -(-masks // batch_size) * batch_size, axis=0)
    detector.make_predict_function(force=True)

    def floor() -> None:
        detector.predict(masked, batch_size=batch_size, verbose=0)

    floor_time, ours = paired_times(floor, lambda: explainer.explain(image), reps, 0)
    found = len(explainer.explain(image).targets)
    row = (
        f"| {name} | D-RISE, {masks} masks, {found} detections | {batch_size} (per pass) "
        f"| {floor_time:.3f} | {ours:.3f} | **{ours / floor_time:.2f}** |"
    )
    print(row, flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--masks", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    print(f"Keras {keras.__version__} on {keras.backend.backend()}, {os.cpu_count()} CPUs")
    header = (
        "| detector | explained | batch | floor s | explainimg s | ratio |\n"
        "|---|---|---|---|---|---|"
    )
    print(header, flush=True)
    rows = []
    for name in args.models:
        detector = MODELS[name]()
        rows += gradcam_rows(name, detector, args.reps)
        rows.append(drise_row(name, detector, args.masks, args.batch_size, args.reps))
    print("\n" + header + "\n" + "\n".join(rows))


if __name__ == "__main__":
    main()
