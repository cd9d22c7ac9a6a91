"""The catalogue's methods against a reference method, in one run: seconds per image as a
ratio to the reference's (Grad-CAM for the CAM methods, saliency for the input methods).

Issue 21 asks for the cheap CAMs (HiResCAM, XGrad-CAM, Grad-CAM element-wise, Eigen-CAM and
Eigen-Grad-CAM: Grad-CAM's passes, other arithmetic) at most 1.1x Grad-CAM, and for LRP and
DeepLIFT at most 1.5x saliency. Each method is timed alternately with the reference on the
same batch (``timing.paired_times``), so a change of the machine's load hits both, for
MobileNetV2 and ResNet50 (``weights=None``) at batch 1, 8 and 32, top-1 class. A method is
named by its key, optionally with a CAM smoothing after a ``+`` (``gradcam+aug``)::

    .venv/bin/python benchmarks/bench_cams.py                    # the cheap CAMs, 224 x 224
    .venv/bin/python benchmarks/bench_cams.py --against saliency --methods lrp deeplift
    .venv/bin/python benchmarks/bench_cams.py --size 64 --batch-sizes 1 --min-reps 1 \\
        --min-seconds 0 --models MobileNetV2                      # a quick check that it runs
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
from specs import method_of
from timing import BATCH_SIZES, paired_times, table_head

import explainimg as ei

MODELS = {"MobileNetV2": keras.applications.MobileNetV2, "ResNet50": keras.applications.ResNet50}
CHEAP_CAMS = ("hirescam", "xgradcam", "gradcam_elementwise", "eigencam", "eigengradcam")


def measure(
    name: str,
    size: int,
    batch_sizes: list[int],
    specs: list[str],
    against: str,
    min_reps: int,
    min_seconds: float,
) -> dict[str, dict[int, float]]:
    """{method: {batch size: seconds per image / the reference's}}, plus the reference's own
    seconds per image under ``against``."""
    keras.utils.set_random_seed(0)
    model = MODELS[name](weights=None, input_shape=(size, size, 3))
    reference = ei.Explainer(model, method=method_of(against))
    explainers = {spec: ei.Explainer(model, method=method_of(spec)) for spec in specs}
    rows: dict[str, dict[int, float]] = {against: {}, **{spec: {} for spec in specs}}
    for batch_size in batch_sizes:
        rng = np.random.default_rng(batch_size)
        batch = rng.uniform(-1, 1, (batch_size, size, size, 3)).astype(np.float32)
        floors = []
        for spec, explainer in explainers.items():
            floor, seconds = paired_times(
                lambda batch=batch: reference.explain_batch(batch),
                lambda explainer=explainer, batch=batch: explainer.explain_batch(batch),
                min_reps,
                min_seconds,
            )
            floors.append(floor)
            rows[spec][batch_size] = seconds / floor
            print(f"  {name} batch {batch_size}: {spec}: {seconds / floor:.2f}x {against}")
        rows[against][batch_size] = float(np.median(floors)) / batch_size
    return rows


def render(name: str, size: int, batch_sizes: list[int], against: str, rows: dict) -> str:
    title = f"### {name} ({size}x{size}, `weights=None`, top-1), seconds per image / `{against}`'s"
    lines = table_head(title, "method", batch_sizes)
    for spec, values in rows.items():
        if spec != against:
            cells = " | ".join(f"{values[b]:.2f}x" for b in batch_sizes)
            lines.append(f"| `{spec}` | {cells} |")
    reference_ms = " / ".join(f"{rows[against][b] * 1000:.1f}" for b in batch_sizes)
    sizes = " / ".join(map(str, batch_sizes))
    lines += ["", f"`{against}` in this run: {reference_ms} ms per image at batch {sizes}."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--methods", nargs="+", default=list(CHEAP_CAMS))
    parser.add_argument("--against", default="gradcam", help="the reference method")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=list(BATCH_SIZES))
    parser.add_argument("--min-reps", type=int, default=5)
    parser.add_argument("--min-seconds", type=float, default=2.0)
    args = parser.parse_args()
    print(f"Keras {keras.__version__} on {keras.backend.backend()}, {os.cpu_count()} CPUs")
    tables = []
    for name in args.models:
        rows = measure(
            name,
            args.size,
            args.batch_sizes,
            args.methods,
            args.against,
            args.min_reps,
            args.min_seconds,
        )
        tables.append(render(name, args.size, args.batch_sizes, args.against, rows))
    print("\n\n".join(tables))


if __name__ == "__main__":
    main()
