"""DeepLIFT's reference pass (run forward only before the pass on the images): a model with
another input and a nonlinearity called twice still gets summation-to-delta, against the
model's own logits on the baseline with each row's other input."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

import explainimg as ei
from explainimg.methods import DeepLIFT

pytestmark = pytest.mark.core


def _image_and_vector() -> tuple[keras.Model, keras.Model]:
    """(softmax model, its logits): one ReLU layer instance called twice, the second time
    after the image and the vector are mixed."""
    keras.utils.set_random_seed(4)
    image = keras.Input((8, 8, 3), name="image")
    meta = keras.Input((4,), name="meta")
    shared = layers.ReLU(name="shared")
    x = layers.GlobalAveragePooling2D()(shared(layers.Conv2D(5, 3, name="conv")(image)))
    x = layers.Concatenate()([x, layers.Dense(5, activation="tanh", name="meta_dense")(meta)])
    logits = layers.Dense(3, name="logits")(shared(layers.Dense(6, name="mix")(x)))
    inputs = {"image": image, "meta": meta}
    return keras.Model(inputs, layers.Softmax()(logits)), keras.Model(inputs, logits)


def test_deeplift_sums_to_the_delta_with_other_inputs_and_a_layer_called_twice():
    model, logits = _image_and_vector()
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (4, 8, 8, 3)).astype("float32")
    meta = rng.normal(size=(4, 4)).astype("float32")
    method = DeepLIFT(baseline=0.3)
    expls = ei.Explainer(model, method=method).explain_batch(
        {"image": images, "meta": meta}, targets=[1]
    )
    scores = keras.ops.convert_to_numpy(logits({"image": images, "meta": meta}))[:, 1]
    baseline = np.full_like(images, 0.3)
    references = keras.ops.convert_to_numpy(logits({"image": baseline, "meta": meta}))[:, 1]
    sums = np.array([expl.targets[0].attribution.sum() for expl in expls])
    np.testing.assert_allclose(sums, scores - references, atol=1e-5)
    alone = ei.explain_prediction(
        model, {"image": images[2], "meta": meta[2]}, targets=[1], method=method
    )
    np.testing.assert_allclose(
        alone.targets[0].attribution, expls[2].targets[0].attribution, atol=1e-6
    )
