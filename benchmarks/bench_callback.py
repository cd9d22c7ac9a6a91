"""What ExplainCallback costs per epoch, next to the epoch's training.

.venv/bin/python benchmarks/bench_callback.py [--train 1024] [--shown 8] [--epochs 5]

The toy shapes CNN (64x64 RGB, three conv layers) trains on generated shape images, batch
32; the callback explains ``--shown`` validation images after every epoch. Reported: the
median over epochs 2.. (the first one compiles) of the seconds spent training an epoch and
of the seconds spent in the callback, for three settings: the page only, the page and
TensorBoard, and both with the box and deletion-AUC scalars.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras

from explainimg.callbacks import ExplainCallback
from explainimg.demo.shapes import make_shapes
from explainimg.demo.toy import build_shapes_model


class _Timed(ExplainCallback):
    """The callback, with the seconds of each of its epochs and of the training before it."""

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        trained = time.perf_counter()
        super().on_epoch_end(epoch, logs)
        self.times.append((trained - self.started, time.perf_counter() - trained))


def measure(setting: str, options: dict, args: argparse.Namespace, folder: Path) -> None:
    data = make_shapes(args.train, size=64, seed=0)
    shown = make_shapes(args.shown, size=64, seed=1)
    keras.utils.set_random_seed(0)
    model = build_shapes_model(64)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    callback = _Timed(
        shown.images,
        targets=shown.labels,
        html=folder / f"{setting}.html",
        **{key: (shown.boxes if value == "boxes" else value) for key, value in options.items()},
    )
    callback.times = []
    model.fit(
        data.images, data.labels, epochs=args.epochs, batch_size=32, verbose=0, callbacks=[callback]
    )
    train = statistics.median(t for t, _ in callback.times[1:])
    explain = statistics.median(c for _, c in callback.times[1:])
    print(f"| {setting} | {train:.2f} | {explain:.3f} | {explain / train:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=1024)
    parser.add_argument("--shown", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    print(
        f"backend {keras.backend.backend()}, {args.train} training images, {args.shown} explained"
    )
    print("| callback | training s/epoch | callback s/epoch | ratio |\n|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        measure("page", {}, args, folder)
        measure("page + TensorBoard", {"log_dir": folder / "logs"}, args, folder)
        measure(
            "page + TensorBoard + scalars",
            {"log_dir": folder / "logs2", "boxes": "boxes", "deletion_auc": True},
            args,
            folder,
        )


if __name__ == "__main__":
    main()
