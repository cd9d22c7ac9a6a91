"""Black-box methods on models that only give scores: a plain function, and a TensorFlow
SavedModel behind ``keras.layers.TFSMLayer``."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers, ops
from reference import requires_tensorflow

import explainimg as ei

pytestmark = pytest.mark.core

CHEAP = {
    "occlusion": ei.methods.Occlusion(patch_size=4, stride=4),
    "rise": ei.methods.RISE(masks=24, cell_size=8),
}


def _linear_model() -> keras.Model:
    keras.utils.set_random_seed(9)
    return keras.Sequential(
        [keras.Input((16, 16, 3)), layers.Flatten(), layers.Dense(3, use_bias=False)],
        name="linear",
    )


def _images(count: int) -> np.ndarray:
    return np.random.default_rng(10).uniform(0, 1, (count, 16, 16, 3)).astype("float32")


@pytest.mark.parametrize("method", CHEAP)
def test_a_plain_function_is_explained_like_the_same_keras_model(method):
    model = _linear_model()
    kernel = ops.convert_to_tensor(model.layers[-1].get_weights()[0])

    def linear_scores(images):
        return ops.matmul(ops.reshape(images, (ops.shape(images)[0], -1)), kernel)

    images = _images(3)
    ours = list(ei.explain_predictions(linear_scores, images, method=CHEAP[method], top=2))
    theirs = list(ei.explain_predictions(model, images, method=CHEAP[method], top=2))
    for a, b in zip(ours, theirs, strict=True):
        assert a.estimator == "linear_scores"
        for x, y in zip(a.targets, b.targets, strict=True):
            assert x.target == y.target
            np.testing.assert_allclose(x.heatmap, y.heatmap, atol=1e-5)
    single = ei.explain_prediction(linear_scores, images[1], method=CHEAP[method], top=2)
    np.testing.assert_allclose(single.targets[0].heatmap, ours[1].targets[0].heatmap, atol=1e-5)


def test_a_function_has_no_layer_to_explain():
    def scores(images):
        return ops.stack([ops.mean(images, axis=(1, 2, 3)), ops.max(images, axis=(1, 2, 3))], 1)

    with pytest.raises(ValueError) as caught:
        ei.explain_prediction(scores, _images(1)[0])
    assert str(caught.value) == (
        "method: expected a method that explains the input pixels (such as 'occlusion', 'rise' "
        "or 'saliency') for a model given as a function, which has no layers, got 'gradcam'"
    )
    from PIL import Image

    with pytest.raises(ValueError) as caught:
        ei.explain_prediction(scores, Image.new("RGB", (16, 16)), method="occlusion")
    assert str(caught.value) == (
        "x: expected image arrays or tensors (height, width, channels) for a model given as "
        "a function, got images whose size is not known before reading them"
    )


@requires_tensorflow
@pytest.mark.parametrize("method", CHEAP)
def test_a_saved_model_behind_tfsmlayer_equals_the_model_it_was_saved_from(method, tmp_path):
    model = _linear_model()
    model.export(str(tmp_path / "saved"), verbose=False)
    wrapped = keras.Sequential(
        [keras.Input((16, 16, 3)), layers.TFSMLayer(str(tmp_path / "saved"), call_endpoint="serve")]
    )
    images = _images(2)
    ours = ei.Explainer(wrapped, method=CHEAP[method]).explain_batch(images, top=2)
    theirs = ei.Explainer(model, method=CHEAP[method]).explain_batch(images, top=2)
    for a, b in zip(ours, theirs, strict=True):
        for x, y in zip(a.targets, b.targets, strict=True):
            assert x.target == y.target
            np.testing.assert_allclose(x.heatmap, y.heatmap, atol=1e-5)
