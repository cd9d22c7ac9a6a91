"""Per method, at its defaults: the cost of explaining one 224 x 224 image with a real-size
model, as seconds and as a multiple of one plain forward pass (``model.predict_on_batch``),
for the timing table of docs/methods.md::

    .venv/bin/python benchmarks/methods_real_model.py               # every method
    .venv/bin/python benchmarks/methods_real_model.py scorecam rise  # only these

The model is MobileNetV2 with ``weights=None`` (the same architecture family as the demo's
EfficientNet-Lite0, no download); its 1280-channel ``out_relu`` map is what made Score-CAM
cost 1280 passes before ``max_channels`` defaulted to 100. Each method is traced once, then
timed alternately with the forward pass (median of the repeats), so the ratio holds on a
loaded machine.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
from timing import paired_times

import explainimg as ei
from explainimg.methods import methods_for


def main() -> None:
    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3))
    x = np.random.default_rng(0).uniform(-1, 1, (224, 224, 3)).astype("float32")
    batch = x[np.newaxis]
    print("| method | seconds per image (MobileNetV2, 224) | / forward pass |")
    print("|---|---|---|")
    for key in sys.argv[1:] or methods_for("graph"):
        explainer = ei.Explainer(model, method=key)
        forward, explain = paired_times(
            lambda: model.predict_on_batch(batch),
            lambda explainer=explainer: explainer.explain(x),
            min_reps=3,
            min_seconds=5.0,
        )
        print(f"| `{key}` | {explain:.3f} | {explain / forward:.0f} |", flush=True)


if __name__ == "__main__":
    main()
