"""Per method: how often the map puts more heat on the object than off it, and its cost.

Trains the demo architecture on generated shapes (as the test suite does, seed 1), explains
held-out images for their true class with every method, and prints a markdown table for
docs/methods.md::

    .venv/bin/python benchmarks/methods_on_object.py            # every method
    .venv/bin/python benchmarks/methods_on_object.py occlusion rise  # only these
    .venv/bin/python benchmarks/methods_on_object.py gradcam+aug      # with a CAM smoothing
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
from PIL import Image
from specs import method_of

import explainimg as ei
from explainimg.demo.shapes import make_shapes
from explainimg.demo.toy import train_shapes_model
from explainimg.methods import methods_for

IMAGES = 200


def main() -> None:
    model = train_shapes_model(seed=1)
    data = make_shapes(IMAGES, seed=8080)
    targets = [[int(label)] for label in data.labels]
    print("| method | map | on-object share | seconds per image |")
    print("|---|---|---|---|")
    for key in sys.argv[1:] or methods_for("graph"):
        explainer = ei.Explainer(model, method=method_of(key))
        explainer.explain_batch(data.images[:2], targets=targets[:2])  # trace once
        started = time.perf_counter()
        expls = explainer.explain_batch(data.images, targets=targets)
        seconds = (time.perf_counter() - started) / IMAGES
        wins = 0
        for expl, mask in zip(expls, data.masks, strict=True):
            heatmap = expl.targets[0].heatmap
            heat = np.asarray(Image.fromarray(heatmap).resize((64, 64), Image.BILINEAR))
            wins += heat[mask].mean() > heat[~mask].mean()
        shape = "x".join(map(str, expls[0].targets[0].heatmap.shape))
        print(f"| `{key}` | {shape} | {wins}/{IMAGES} ({wins / IMAGES:.0%}) | {seconds:.4f} |")


if __name__ == "__main__":
    main()
