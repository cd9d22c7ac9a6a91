"""Compare every method with the faithfulness metrics, on generated shapes and real photos.

Part 1 trains the toy architecture (as the test suite does, seed 1) and explains held-out
images for their true class. Part 2 (``--real``) explains the photos shipped with explainimg
with the real EfficientNet-Lite0 (needs ``explainimg[demo]``), with hand-drawn object boxes.
Prints markdown tables for docs/metrics.md::

    .venv/bin/python benchmarks/metrics_table.py [--real] [--methods occlusion rise]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

import explainimg as ei
from explainimg import metrics
from explainimg.demo.shapes import make_shapes
from explainimg.demo.toy import train_shapes_model
from explainimg.methods import ScoreCAM, methods_for

IMAGES = 40
RANDOMIZED_IMAGES = 10


# Objects in the 224x224 inputs (top, left, bottom, right): the cat's face, the cup.
PHOTO_BOXES = {"chelsea": (64, 56, 208, 176), "coffee": (0, 56, 144, 160)}


def real_photos(keys: list[str]) -> None:
    """Deletion, insertion and pointing game per method on the shipped photos."""
    from explainimg.demo.zoo import SAMPLE_PHOTO_CLASSES, efficientnet_lite0, sample_photos

    model = efficientnet_lite0()
    photos = sample_photos()
    print("| method | deletion AUC (lower) | insertion AUC (higher) | pointing game |")
    print("|---|---|---|---|")
    for key in keys:
        method = ScoreCAM(max_channels=256) if key == "scorecam" else key
        deletion, insertion, pointing = [], [], []
        for name, photo in photos.items():
            x = np.asarray(photo.convert("RGB").resize((224, 224)), dtype=np.float32)
            expl = ei.explain_prediction(
                model, x, method=method, targets=[SAMPLE_PHOTO_CLASSES[name]]
            )
            deletion.append(metrics.deletion(model, x, expl).auc)
            insertion.append(metrics.insertion(model, x, expl).auc)
            pointing.append(metrics.pointing_game(expl, box=PHOTO_BOXES[name]))
        label = "scorecam` (256 channels)" if key == "scorecam" else f"{key}`"
        print(
            f"| `{label} | {np.mean(deletion):.3f} | {np.mean(insertion):.3f} "
            f"| {sum(pointing)}/{len(pointing)} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", action="store_true", help="only the real-photo table")
    parser.add_argument(
        "--methods",
        nargs="+",
        default=methods_for("graph"),
        choices=methods_for("graph"),
        help="rows to make",
    )
    args = parser.parse_args()
    if args.real:
        real_photos(args.methods)
        return
    model = train_shapes_model(seed=1)
    data = make_shapes(IMAGES, seed=2468)
    print(
        "| method | deletion AUC (lower is better) | insertion AUC (higher) | pointing game "
        "| energy on the shape | randomisation Spearman (lower) |"
    )
    print("|---|---|---|---|---|---|")
    for key in args.methods:
        explainer = ei.Explainer(model, method=key)
        deletion, insertion, pointing, energy = [], [], [], []
        for image, label, mask in zip(data.images, data.labels, data.masks, strict=True):
            expl = explainer.explain(image, targets=[int(label)])
            deletion.append(metrics.deletion(model, image, expl).auc)
            insertion.append(metrics.insertion(model, image, expl).auc)
            pointing.append(metrics.pointing_game(expl, mask=mask))
            energy.append(metrics.energy_in_box(expl, mask=mask))
        randomized = [
            metrics.randomization_check(model, image, method=key).spearman
            for image in data.images[:RANDOMIZED_IMAGES]
        ]
        print(
            f"| `{key}` | {np.mean(deletion):.3f} | {np.mean(insertion):.3f} "
            f"| {np.mean(pointing):.0%} | {np.mean(energy):.2f} | {np.mean(randomized):.2f} |"
        )


if __name__ == "__main__":
    main()
