"""What each metric costs against the forward passes it needs.

.venv/bin/python benchmarks/bench_metrics.py [--reps 3] [--seconds 5]

For one image of MobileNetV2 (``weights=None``, 224 x 224) and of the toy shapes CNN
(64 x 64), each metric at its defaults is timed against its floor: the model's
``confidences`` on as many images as the metric sends through it, in batches of 32, called
alternately with it (median over the calls). ROAD's imputation (SciPy's sparse LU solve of
its 9 fractions) is also timed alone, so that its ratio can be read as the
passes plus the imputation. Prints one Markdown table.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras
import numpy as np

import explainimg as ei
from benchmarks.timing import paired_times, seconds_per_call
from explainimg import metrics
from explainimg.demo.shapes import make_shapes
from explainimg.demo.toy import DEMO_MODEL_FILE
from explainimg.metrics.curves import ranking
from explainimg.metrics.remove_and_debias import FRACTIONS

# metric name: (call, forward passes it makes)
METRICS = {
    "deletion (20 steps)": (lambda m, x, e: metrics.deletion(m, x, e), 21),
    "road MoRF (9 fractions)": (lambda m, x, e: metrics.road(m, x, e), 9),
    "average_drop": (lambda m, x, e: metrics.average_drop(m, x, e), 2),
    "mufidelity (128 subsets)": (lambda m, x, e: metrics.mufidelity(m, x, e), 129),
    "infidelity (64 draws)": (lambda m, x, e: metrics.infidelity(m, x, e), 65),
}


def models() -> dict[str, tuple[keras.Model, np.ndarray]]:
    mobilenet = keras.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3))
    photo = np.random.default_rng(0).uniform(-1, 1, (224, 224, 3)).astype("float32")
    shapes = keras.saving.load_model(DEMO_MODEL_FILE)
    return {
        "MobileNetV2 224": (mobilenet, photo),
        "shapes CNN 64": (shapes, make_shapes(1, seed=3).images[0]),
    }


def imputation_seconds(image: np.ndarray, heatmap: np.ndarray, reps: int) -> float:
    height, width = image.shape[:2]
    order = ranking(heatmap, height, width, 0)
    removed = np.zeros((len(FRACTIONS), height * width), bool)
    for row, fraction in enumerate(FRACTIONS):
        removed[row, order[: round(fraction * height * width)]] = True
    stack = np.broadcast_to(image, (len(FRACTIONS), *image.shape))
    masks = removed.reshape(-1, height, width)
    return seconds_per_call(lambda: metrics.impute(stack, masks, noise=0.01), reps, 0.0)


def timed(model, x, expl, reader, call, passes, args) -> tuple[float, float]:
    """(floor, metric) median seconds, called alternately."""
    batch = np.repeat(x[None], passes, axis=0)
    return paired_times(
        lambda: reader.confidences(batch), lambda: call(model, x, expl), args.reps, args.seconds
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    print("| model | metric | passes | floor s | metric s | ratio |")
    print("|---|---|---|---|---|---|")
    for model_name, (model, x) in models().items():
        expl = ei.explain_prediction(model, x)
        reader = ei.Explainer(model, method="occlusion")
        for name, (call, passes) in METRICS.items():
            floor, taken = timed(model, x, expl, reader, call, passes, args)
            print(
                f"| {model_name} | {name} | {passes} | {floor:.3f} | {taken:.3f} | "
                f"**{taken / floor:.2f}** |"
            )
        solve = imputation_seconds(x, expl.targets[0].heatmap, args.reps)
        print(f"| {model_name} | ROAD's imputation alone | 0 | - | {solve:.3f} | - |")


if __name__ == "__main__":
    main()
