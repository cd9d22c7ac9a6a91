"""Occlusion and RISE speed: explainimg against xplique's Occlusion and Rise, same settings.

For each model (``weights=None``, 224x224, batch 8 by default) and method, the two libraries
explain the same batch for the same (top-1) class, called alternately; each pair gives a ratio
ours / xplique and the table reports the median ratio (below 1: explainimg is faster), with
the medians of the absolute times. Both run ``batch_size`` perturbed images per forward pass
and score the softmax output (the model's own probabilities). Set up with
``bash benchmarks/setup.sh``, then::

    .venv-bench/bin/python benchmarks/bench_blackbox.py --pairs 5

Settings: occlusion patch 56, stride 28, baseline 0 (7 x 7 = 49 patch positions; xplique's
anchors and ours coincide here); RISE 64 masks of a 7 x 7 grid (cell 32 pixels), keep
probability 0.5, masked value 0.
"""

from __future__ import annotations

import argparse
import os
import statistics
from collections.abc import Callable
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import tensorflow as tf
from timing import alternate_times

import explainimg as ei
from explainimg.methods import RISE, Occlusion

MODELS = {"MobileNetV2": keras.applications.MobileNetV2, "ResNet50": keras.applications.ResNet50}
PATCH, STRIDE, BASELINE = 56, 28, 0.0
MASKS, GRID, PROBABILITY = 64, 7, 0.5
PASS_BATCH = 32


def runners(model: keras.Model, batch: np.ndarray) -> dict[str, tuple[Callable[[], Any], ...]]:
    """Per method, (explainimg, xplique) callables explaining ``batch`` for its top-1 class."""
    from xplique.attributions import Occlusion as XOcclusion
    from xplique.attributions import Rise as XRise

    classes = np.argmax(model.predict(batch, verbose=0), axis=-1)
    one_hot = tf.one_hot(classes, model.output_shape[-1])
    ours = {
        "occlusion": Occlusion(
            patch_size=PATCH, stride=STRIDE, baseline=BASELINE, batch_size=PASS_BATCH
        ),
        "rise": RISE(
            masks=MASKS,
            cell_size=batch.shape[1] // GRID,
            probability=PROBABILITY,
            batch_size=PASS_BATCH,
        ),
    }
    theirs = {
        "occlusion": XOcclusion(
            model,
            batch_size=PASS_BATCH,
            patch_size=PATCH,
            patch_stride=STRIDE,
            occlusion_value=BASELINE,
        ),
        "rise": XRise(
            model,
            batch_size=PASS_BATCH,
            nb_samples=MASKS,
            grid_size=GRID,
            preservation_probability=PROBABILITY,
            mask_value=0.0,
        ),
    }
    targets = [[int(c)] for c in classes]
    result = {}
    for key, method in ours.items():
        explainer = ei.Explainer(model, method=method)
        result[key] = (
            lambda e=explainer: e.explain_batch(batch, targets=targets),
            lambda x=theirs[key]: np.asarray(x.explain(batch, one_hot)),
        )
    return result


def measure(name: str, batch_size: int, pairs: int) -> list[str]:
    """Markdown rows ``| model | method | ours s | xplique s | median ratio | ratios |``."""
    keras.utils.set_random_seed(0)
    model = MODELS[name](weights=None)
    rng = np.random.default_rng(batch_size)
    batch = rng.uniform(-1, 1, (batch_size, 224, 224, 3)).astype(np.float32)
    rows = []
    for key, (ours, theirs) in runners(model, batch).items():
        ours_times, their_times = alternate_times(ours, theirs, pairs)
        ratios = [a / b for a, b in zip(ours_times, their_times, strict=True)]
        row = (
            f"| {name} | {key} | {batch_size} | {statistics.median(ours_times):.2f} "
            f"| {statistics.median(their_times):.2f} | **{statistics.median(ratios):.2f}** "
            f"| {' '.join(f'{r:.2f}' for r in ratios)} |"
        )
        print(row, flush=True)
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} CPUs")
    header = (
        "| model | method | batch | explainimg s | xplique s | ours / xplique (median) "
        "| per-pair ratios |\n|---|---|---|---|---|---|---|"
    )
    print(header, flush=True)
    rows = [row for name in args.models for row in measure(name, args.batch, args.pairs)]
    print("\n" + header + "\n" + "\n".join(rows))


if __name__ == "__main__":
    main()
