"""The cheap CAMs against Grad-CAM, in one run: seconds per image as a ratio to Grad-CAM's.

HiResCAM, XGrad-CAM, Grad-CAM element-wise, Eigen-CAM and Eigen-Grad-CAM each cost one
forward pass and one backward pass to the layer per target (Eigen-CAM no backward pass at
all), as Grad-CAM does; issue 21 asks for at most 1.1x Grad-CAM. Each method is timed
alternately with Grad-CAM on the same batch (``timing.paired_times``), so a change of the
machine's load hits both, for MobileNetV2 and ResNet50 (``weights=None``) at batch 1, 8 and
32, top-1 class::

    .venv/bin/python benchmarks/bench_cams.py                    # 224 x 224, a few minutes
    .venv/bin/python benchmarks/bench_cams.py --size 64 --batch-sizes 1 --min-reps 1 \\
        --min-seconds 0 --models MobileNetV2                      # a quick check that it runs
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
from timing import BATCH_SIZES, paired_times, table_head

import explainimg as ei

MODELS = {"MobileNetV2": keras.applications.MobileNetV2, "ResNet50": keras.applications.ResNet50}
CHEAP_CAMS = ("hirescam", "xgradcam", "gradcam_elementwise", "eigencam", "eigengradcam")


def measure(
    name: str,
    size: int,
    batch_sizes: list[int],
    methods: list[str],
    min_reps: int,
    min_seconds: float,
) -> dict[str, dict[int, float]]:
    """{method: {batch size: seconds per image / Grad-CAM's}}, plus Grad-CAM's own
    seconds per image under "gradcam"."""
    keras.utils.set_random_seed(0)
    model = MODELS[name](weights=None, input_shape=(size, size, 3))
    gradcam = ei.Explainer(model, method="gradcam")
    explainers = {key: ei.Explainer(model, method=key) for key in methods}
    rows: dict[str, dict[int, float]] = {"gradcam": {}, **{key: {} for key in methods}}
    for batch_size in batch_sizes:
        rng = np.random.default_rng(batch_size)
        batch = rng.uniform(-1, 1, (batch_size, size, size, 3)).astype(np.float32)
        floors = []
        for key, explainer in explainers.items():
            floor, seconds = paired_times(
                lambda batch=batch: gradcam.explain_batch(batch),
                lambda explainer=explainer, batch=batch: explainer.explain_batch(batch),
                min_reps,
                min_seconds,
            )
            floors.append(floor)
            rows[key][batch_size] = seconds / floor
            print(f"  {name} batch {batch_size}: {key}: {seconds / floor:.2f}x Grad-CAM")
        rows["gradcam"][batch_size] = float(np.median(floors)) / batch_size
    return rows


def render(name: str, size: int, batch_sizes: list[int], rows: dict) -> str:
    title = f"### {name} ({size}x{size}, `weights=None`, top-1), seconds per image / Grad-CAM's"
    lines = table_head(title, "method", batch_sizes)
    for key, values in rows.items():
        if key != "gradcam":
            cells = " | ".join(f"{values[b]:.2f}x" for b in batch_sizes)
            lines.append(f"| `{key}` | {cells} |")
    grad_ms = " / ".join(f"{rows['gradcam'][b] * 1000:.1f}" for b in batch_sizes)
    sizes = " / ".join(map(str, batch_sizes))
    lines += ["", f"Grad-CAM in this run: {grad_ms} ms per image at batch {sizes}."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--methods", nargs="+", default=list(CHEAP_CAMS))
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=list(BATCH_SIZES))
    parser.add_argument("--min-reps", type=int, default=5)
    parser.add_argument("--min-seconds", type=float, default=2.0)
    args = parser.parse_args()
    print(f"Keras {keras.__version__} on {keras.backend.backend()}, {os.cpu_count()} CPUs")
    tables = []
    for name in args.models:
        rows = measure(
            name, args.size, args.batch_sizes, args.methods, args.min_reps, args.min_seconds
        )
        tables.append(render(name, args.size, args.batch_sizes, rows))
    print("\n\n".join(tables))


if __name__ == "__main__":
    main()
