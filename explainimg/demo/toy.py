"""The toy demo: a small CNN trained on generated shapes, explained offline.

Needs nothing beyond explainimg itself. ``explainimg demo --toy`` loads the bundled model
(``data/shapes_cnn.keras``, made by ``python -m explainimg.demo.toy --retrain``), explains a few
fresh generated images, writes one overlay PNG per image and prints where the model looked
compared with where the shape is. The tests train the same architecture to check that
explanations land on the object.

>>> model = build_shapes_model()
>>> model.output_shape
(None, 3)
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np
from PIL import Image

from ..explain import explain_prediction
from ..formatters.image import format_as_image
from ..heatmaps import peak_location
from .shapes import CLASS_NAMES, make_shapes

DEMO_MODEL_FILE = Path(__file__).parent.parent / "data" / "shapes_cnn.keras"
IMAGE_SIZE = 64
_DISPLAY_SCALE = 4


def build_shapes_model(size: int = IMAGE_SIZE) -> keras.Model:
    """An untrained small CNN for the shapes data: raw 0..255 RGB in, softmax over 3 shapes out."""
    return keras.Sequential(
        [
            keras.Input((size, size, 3)),
            keras.layers.Rescaling(1.0 / 255.0, name="rescale"),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv1"),
            keras.layers.MaxPooling2D(name="pool1"),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="conv2"),
            keras.layers.MaxPooling2D(name="pool2"),
            keras.layers.Conv2D(64, 3, padding="same", activation="relu", name="conv3"),
            keras.layers.GlobalAveragePooling2D(name="gap"),
            keras.layers.Dense(len(CLASS_NAMES), activation="softmax", name="shape"),
        ],
        name="shapes_cnn",
    )


def train_shapes_model(seed: int = 0, count: int = 3000, epochs: int = 8) -> keras.Model:
    """Train :func:`build_shapes_model` on ``count`` generated images (about half a minute)."""
    keras.utils.set_random_seed(seed)
    data = make_shapes(count, IMAGE_SIZE, seed=seed)
    model = build_shapes_model()
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(data.images, data.labels, epochs=epochs, batch_size=64, verbose=0)
    return model


def load_toy_model() -> keras.Model:
    """The bundled trained shapes model (loaded in Keras safe mode)."""
    return keras.saving.load_model(DEMO_MODEL_FILE, safe_mode=True)


def run_toy_demo(out_dir: Path, count: int = 4, seed: int = 2024) -> list[Path]:
    """Explain ``count`` fresh shape images, write overlays into ``out_dir``, print a summary."""
    out_dir.mkdir(parents=True, exist_ok=True)
    model = load_toy_model()
    data = make_shapes(count, IMAGE_SIZE, seed=seed)
    written = []
    print(f"Model {model.name!r} (bundled, trained on generated shapes); method Grad-CAM.")
    for i in range(count):
        picture = Image.fromarray(data.images[i].astype(np.uint8))
        big = picture.resize((IMAGE_SIZE * _DISPLAY_SCALE,) * 2, Image.NEAREST)
        expl = explain_prediction(
            model, data.images[i], image=big, target_names=CLASS_NAMES, top=len(CLASS_NAMES)
        )
        best = expl.targets[0]
        y, x = peak_location(best.heatmap, (IMAGE_SIZE, IMAGE_SIZE))
        top, left, bottom, right = data.boxes[i]
        on_object = top - 2 <= y <= bottom + 2 and left - 2 <= x <= right + 2
        path = out_dir / f"shape_{i}_{best.target_name}.png"
        format_as_image(expl, target=0).save(path)
        written.append(path)
        print(
            f"image {i}: a {CLASS_NAMES[data.labels[i]]} at rows {top}-{bottom}, "
            f"cols {left}-{right}; predicted {best.target_name!r} (p={best.proba:.2f}, "
            f"layer {expl.layer}); heat peaks at row {y:.0f}, col {x:.0f}: "
            f"{'on the shape' if on_object else 'off the shape'}"
        )
    print(f"Overlays written to {out_dir.resolve()}")
    return written


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m explainimg.demo.toy --retrain`` rebuilds the bundled model file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--retrain", action="store_true", help="retrain and save the model")
    args = parser.parse_args(argv)
    if args.retrain:
        model = train_shapes_model()
        DEMO_MODEL_FILE.parent.mkdir(parents=True, exist_ok=True)
        model.save(DEMO_MODEL_FILE)
        print(f"saved {DEMO_MODEL_FILE}")


if __name__ == "__main__":
    main()
