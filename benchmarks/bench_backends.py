"""explainimg on the running Keras backend: Grad-CAM against that backend's compiled forward.

Run once per backend; every ratio in a table is measured in one process::

    KERAS_BACKEND=tensorflow .venv/bin/python benchmarks/bench_backends.py
    KERAS_BACKEND=jax .venv/bin/python benchmarks/bench_backends.py

The floor is the model's forward pass compiled the backend's way (``tf.function`` on
TensorFlow, ``jax.jit`` over the model's variables on JAX, eager under ``torch.no_grad`` on
PyTorch). Rows: ``model.predict`` and explainimg Grad-CAM top-1 and top-5, seconds per image
divided by the floor at the same batch size, each timed alternately with the floor (medians),
so that load from elsewhere on the machine hits both alike. Then the cold first call: a fresh
model explained once (find the layer, trace, explain) against the same fresh model's first
``predict``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
from timing import BATCH_SIZES, paired_ratio, seconds_per_call

import explainimg as ei


def vit_small(weights: None = None) -> keras.Model:
    """A KerasHub ViT classifier at 224x224 with random weights in ViT-Tiny's configuration:
    16-pixel patches (196 patch tokens + a class token), 12 blocks, 192 dims, 3 heads."""
    import keras_hub

    backbone = keras_hub.models.ViTBackbone(
        image_shape=(224, 224, 3),
        patch_size=16,
        num_layers=12,
        num_heads=3,
        hidden_dim=192,
        mlp_dim=768,
    )
    return keras_hub.models.ViTImageClassifier(
        backbone=backbone, num_classes=1000, preprocessor=None
    )


MODELS = {
    "MobileNetV2": keras.applications.MobileNetV2,
    "ResNet50": keras.applications.ResNet50,
    "ViT (KerasHub)": vit_small,
}


def compiled_forward(model: keras.Model) -> Callable[[np.ndarray], Any]:
    """The model's forward pass compiled the running backend's way; returns NumPy."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        forward = tf.function(lambda x: model(x, training=False))
        return lambda x: forward(x).numpy()
    if backend == "jax":
        # jax.jit over the model's variables, exactly as explainimg compiles its own functions.
        from explainimg.engine.backend_jax import compile_function

        forward = compile_function(lambda x: model(x, training=False), model, [])
        return lambda x: np.asarray(forward(x))
    import torch

    def eager(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return keras.ops.convert_to_numpy(model(x, training=False))

    return eager


def cold_first_call(constructor: Callable[..., keras.Model]) -> tuple[float, float]:
    """(explainimg's first explanation, the model's own first predict), fresh models each."""
    image = np.random.default_rng(0).uniform(-1, 1, (224, 224, 3)).astype(np.float32)
    model = constructor(weights=None)
    started = time.perf_counter()
    ei.explain_prediction(model, image)
    explain = time.perf_counter() - started
    model = constructor(weights=None)
    started = time.perf_counter()
    model.predict(image[None], verbose=0)
    predict = time.perf_counter() - started
    return explain, predict


def measure(name: str, min_reps: int, min_seconds: float) -> str:
    constructor = MODELS[name]
    cold_explain, cold_predict = cold_first_call(constructor)
    model = constructor(weights=None)
    forward = compiled_forward(model)
    explainer = ei.Explainer(model)
    rows: dict[str, list[float]] = {"`model.predict`": [], "Grad-CAM top-1": [], "top-5": []}
    floors = []
    for size in BATCH_SIZES:
        batch = np.random.default_rng(size).uniform(-1, 1, (size, 224, 224, 3))
        batch = batch.astype(np.float32)
        floors.append(seconds_per_call(lambda b=batch: forward(b), min_reps, 0) / size)
        timings = {
            "`model.predict`": lambda b=batch, s=size: model.predict(b, verbose=0, batch_size=s),
            "Grad-CAM top-1": lambda b=batch: explainer.explain_batch(b),
            "top-5": lambda b=batch: explainer.explain_batch(b, top=5),
        }
        for row, function in timings.items():
            floor = lambda b=batch: forward(b)  # noqa: E731
            rows[row].append(paired_ratio(floor, function, min_reps, min_seconds))
    header = " | ".join(f"batch {size}" for size in BATCH_SIZES)
    lines = [
        f"### {name} on {keras.backend.backend()} (layer `{explainer.layer}`)",
        "",
        f"| seconds per image / compiled forward | {header} |",
        "|---|" + "---|" * len(BATCH_SIZES),
        "| compiled forward pass (the floor) | " + " | ".join("1.00x" for _ in BATCH_SIZES) + " |",
    ]
    for row, ratios in rows.items():
        label = f"**explainimg** {row}" if row != "`model.predict`" else row
        lines.append(f"| {label} | " + " | ".join(f"{r:.2f}x" for r in ratios) + " |")
    lines += [
        "",
        "Floor in this run: "
        + " / ".join(f"{1000 * f:.1f}" for f in floors)
        + " ms per image at batch "
        + " / ".join(map(str, BATCH_SIZES))
        + ".",
        f"Cold first call: explainimg {cold_explain:.2f} s, the model's first `predict` "
        f"{cold_predict:.2f} s ({cold_explain / cold_predict:.1f}x).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--min-reps", type=int, default=5)
    parser.add_argument("--min-seconds", type=float, default=2.0)
    args = parser.parse_args()
    for name in args.models:
        print(measure(name, args.min_reps, args.min_seconds), flush=True)


if __name__ == "__main__":
    main()
