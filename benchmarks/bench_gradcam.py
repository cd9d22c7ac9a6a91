"""Grad-CAM speed: explainimg against the floor (a compiled forward pass) and its peers.

Prints markdown tables of seconds per image as a ratio to a ``tf.function``-compiled forward
pass measured in the same run, for MobileNetV2 and ResNet50 (``weights=None``, 224x224) at
batch 1, 8 and 32; then the cold first call and the memory growth while streaming images.

Set up once (peers live in their own environment; xplique must not pull its pinned TF)::

    bash benchmarks/setup.sh
    .venv-bench/bin/python benchmarks/bench_gradcam.py            # a few minutes on 2 cores

Peers are configured fairly: the same layer, scores from the logits (tf-keras-vis replaces the
softmax with its ``ReplaceToLinear`` modifier; xplique gets a logits twin of the model with the
same weights). A peer that is not installed is reported as such.
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import tensorflow as tf
from timing import BATCH_SIZES, seconds_per_call, table_head

import explainimg as ei

MODELS = {"MobileNetV2": keras.applications.MobileNetV2, "ResNet50": keras.applications.ResNet50}


def logits_twin(constructor: Callable[..., keras.Model], model: keras.Model) -> keras.Model:
    twin = constructor(weights=None, classifier_activation=None)
    twin.set_weights(model.get_weights())
    return twin


def plain_gradcam(twin: keras.Model, layer: str) -> Callable[[tf.Tensor], tf.Tensor]:
    """The textbook Grad-CAM (Keras example style) inside tf.function, top-1 class."""
    grad_model = keras.Model(twin.inputs, [twin.get_layer(layer).output, twin.output])

    @tf.function(input_signature=[tf.TensorSpec((None, 224, 224, 3), tf.float32)])
    def run(images: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            activations, logits = grad_model(images, training=False)
            score = tf.reduce_sum(tf.reduce_max(logits, axis=-1))
        gradients = tape.gradient(score, activations)
        weights = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)
        cam = tf.nn.relu(tf.reduce_sum(weights * activations, axis=-1))
        return tf.math.divide_no_nan(cam, tf.reduce_max(cam, axis=(1, 2), keepdims=True))

    return run


def xplique_runner(twin: keras.Model, layer: str, batch: np.ndarray) -> Callable[[], Any] | str:
    try:
        from xplique.attributions import GradCAM
    except Exception as error:
        return f"not installed ({type(error).__name__})"
    explainer = GradCAM(twin, conv_layer=layer, batch_size=len(batch))
    targets = tf.one_hot(np.zeros(len(batch), dtype=np.int32), twin.output_shape[-1])
    return lambda: explainer.explain(batch, targets)


def tf_keras_vis_runner(
    model: keras.Model, layer: str, batch: np.ndarray
) -> Callable[[], Any] | str:
    try:
        from tf_keras_vis.gradcam import Gradcam
        from tf_keras_vis.utils.model_modifiers import ReplaceToLinear
        from tf_keras_vis.utils.scores import CategoricalScore
    except Exception as error:
        return f"not installed ({type(error).__name__})"
    gradcam = Gradcam(model, model_modifier=ReplaceToLinear(), clone=True)
    score = CategoricalScore([0] * len(batch))
    return lambda: gradcam(score, batch, penultimate_layer=layer, seek_penultimate_conv_layer=False)


def resident_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def stream_memory(model: keras.Model, count: int, batch_size: int) -> tuple[float, float]:
    """(RSS after the first batch, growth of RSS from then to the end) in MB, streaming
    ``count`` images generated on the fly through explain_predictions."""

    def images():
        rng = np.random.default_rng(0)
        for _ in range(count):
            yield rng.uniform(-1, 1, (224, 224, 3)).astype(np.float32)

    gc.collect()
    after_first = peak = None
    for i, _ in enumerate(ei.explain_predictions(model, images(), batch_size=batch_size)):
        if i == batch_size - 1:
            after_first = peak = resident_mb()
        elif i % batch_size == batch_size - 1:
            peak = max(peak, resident_mb())
    return after_first, peak - after_first


def measure_model(name: str, min_reps: int, min_seconds: float, stream: int) -> dict[str, Any]:
    constructor = MODELS[name]
    keras.utils.set_random_seed(0)
    model = constructor(weights=None)
    twin = logits_twin(constructor, model)
    layer = ei.Explainer(model).layer
    forward = tf.function(
        lambda x: model(x, training=False),
        input_signature=[tf.TensorSpec((None, 224, 224, 3), tf.float32)],
    )

    cold_start = time.perf_counter()
    ei.explain_prediction(keras.models.clone_model(model), np.zeros((224, 224, 3), np.float32))
    cold = time.perf_counter() - cold_start

    rows: dict[str, dict[int, float | str]] = {}
    explainer = ei.Explainer(model)
    plain = plain_gradcam(twin, layer)
    for batch_size in BATCH_SIZES:
        batch = np.random.default_rng(batch_size).uniform(-1, 1, (batch_size, 224, 224, 3))
        batch = batch.astype(np.float32)
        runners = _runners(model, twin, layer, forward, plain, explainer, batch)
        for row, runner in runners.items():
            if isinstance(runner, str):
                rows.setdefault(row, {})[batch_size] = runner
                continue
            try:
                seconds = seconds_per_call(runner, min_reps, min_seconds)
            except Exception as error:
                rows.setdefault(row, {})[batch_size] = f"failed ({type(error).__name__})"
                continue
            rows.setdefault(row, {})[batch_size] = seconds / batch_size
            print(f"  {name} batch {batch_size}: {row}: {seconds / batch_size * 1000:.1f} ms/image")
    first_batch_mb, growth_mb = stream_memory(model, stream, 32) if stream else (None, None)
    return {"layer": layer, "rows": rows, "cold": cold, "memory": (first_batch_mb, growth_mb)}


def _runners(
    model: keras.Model,
    twin: keras.Model,
    layer: str,
    forward: Callable[[tf.Tensor], tf.Tensor],
    plain: Callable[[tf.Tensor], tf.Tensor],
    explainer: ei.Explainer,
    batch: np.ndarray,
) -> dict[str, Callable[[], Any] | str]:
    """Each row's work on one batch (or why that row cannot run)."""
    tensor = tf.constant(batch)
    return {
        "compiled forward pass (the floor)": lambda: forward(tensor).numpy(),
        "`model.predict`": lambda: model.predict(batch, verbose=0, batch_size=len(batch)),
        "plain Grad-CAM, GradientTape in `tf.function`": lambda: plain(tensor).numpy(),
        "**explainimg** Grad-CAM top-1": lambda: explainer.explain_batch(batch),
        "**explainimg** Grad-CAM top-5": lambda: explainer.explain_batch(batch, top=5),
        "xplique GradCAM": xplique_runner(twin, layer, batch),
        "tf-keras-vis Gradcam": tf_keras_vis_runner(model, layer, batch),
    }


def render(name: str, result: dict[str, Any], stream: int) -> str:
    rows = result["rows"]
    floor = rows["compiled forward pass (the floor)"]
    title = f"### {name} (layer `{result['layer']}`), seconds per image / compiled forward pass"
    lines = table_head(title, "", BATCH_SIZES)
    for row, values in rows.items():
        cells = []
        for batch_size in BATCH_SIZES:
            value = values[batch_size]
            cells.append(value if isinstance(value, str) else f"{value / floor[batch_size]:.2f}x")
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    floor_ms = " / ".join(f"{floor[b] * 1000:.1f}" for b in BATCH_SIZES)
    lines += ["", f"Floor in this run: {floor_ms} ms per image at batch 1 / 8 / 32."]
    ours = rows["**explainimg** Grad-CAM top-1"]
    for peer in ("xplique GradCAM", "tf-keras-vis Gradcam"):
        speedups = [
            f"{rows[peer][b] / ours[b]:.1f}x"
            for b in BATCH_SIZES
            if not isinstance(rows[peer][b], str)
        ]
        if speedups:
            lines.append(f"explainimg top-1 is faster than {peer} by {' / '.join(speedups)}.")
    lines.append(
        f"Cold first call (fresh model: find the layer, trace, explain one image): "
        f"{result['cold']:.1f} s."
    )
    first_batch_mb, growth_mb = result["memory"]
    if first_batch_mb is not None:
        lines.append(
            f"Streaming {stream} images with `explain_predictions(batch_size=32)`: resident "
            f"memory {first_batch_mb:.0f} MB after the first batch, grew by {growth_mb:.1f} MB "
            f"by the end."
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--min-reps", type=int, default=3)
    parser.add_argument("--min-seconds", type=float, default=2.0)
    parser.add_argument("--stream", type=int, default=1000, help="images to stream (0: skip)")
    args = parser.parse_args()
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} CPUs")
    tables = []
    for name in args.models:
        result = measure_model(name, args.min_reps, args.min_seconds, args.stream)
        tables.append(render(name, result, args.stream))
    print("\n\n".join(tables))


if __name__ == "__main__":
    main()
