"""Compare every method with the faithfulness metrics on the generated-shapes model.

Trains the demo architecture (as the test suite does, seed 1), explains held-out images for
their true class with each method, and prints a markdown table for docs/metrics.md::

    .venv/bin/python benchmarks/metrics_table.py
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

import explainimg as ei
from explainimg import metrics
from explainimg.methods import METHODS
from explainimg.shapes import make_shapes
from explainimg.toy import train_shapes_model

IMAGES = 40
RANDOMIZED_IMAGES = 10


def main() -> None:
    model = train_shapes_model(seed=1)
    data = make_shapes(IMAGES, seed=2468)
    print(
        "| method | deletion AUC (lower is better) | insertion AUC (higher) | pointing game "
        "| energy on the shape | randomisation Spearman (lower) |"
    )
    print("|---|---|---|---|---|---|")
    for key in METHODS:
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
