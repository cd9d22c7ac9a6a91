"""Batched, streamed and multi-target paths equal the single-image reference (issue 5 tests)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import explainimg as ei
from tests import builders
from tests.reference import dense_logits, reference_gradcam, requires_tensorflow

pytestmark = pytest.mark.core


@pytest.fixture(scope="module")
def model() -> keras.Model:
    return builders.nested_sequential()


def _images(count: int, seed: int = 0) -> np.ndarray:
    return np.stack([builders.image(seed=seed + i) for i in range(count)])


def _heatmaps(expls) -> np.ndarray:
    return np.stack([[t.heatmap for t in e.targets] for e in expls])


@requires_tensorflow
def test_batch_with_several_targets_equals_the_reference(model):
    base, rescale = model.get_layer("features"), model.get_layer("rescale")
    gap, probs = model.get_layer("gap"), model.get_layer("probs")
    xs = _images(6, seed=40)
    expls = ei.Explainer(model).explain_batch(xs, top=3)
    for x, expl in zip(xs, expls, strict=True):
        assert len(expl.targets) == 3
        for target in expl.targets:
            heatmap, score = reference_gradcam(
                lambda b: base(rescale(b)), lambda a: dense_logits(probs, gap(a)), x, target.target
            )
            np.testing.assert_allclose(target.heatmap, heatmap, atol=1e-5)
            assert target.score == pytest.approx(score, rel=1e-5, abs=1e-6)


def test_stream_of_200_images_equals_one_by_one_calls(model):
    xs = _images(200, seed=1000)
    streamed = list(ei.explain_predictions(model, xs, batch_size=32, top=2))
    assert len(streamed) == 200
    for i in (0, 31, 32, 63, 150, 199):
        single = ei.explain_prediction(model, xs[i], top=2)
        assert [t.target for t in streamed[i].targets] == [t.target for t in single.targets]
        np.testing.assert_allclose(_heatmaps([streamed[i]]), _heatmaps([single]), atol=1e-5)
        assert [t.score for t in streamed[i].targets] == pytest.approx(
            [t.score for t in single.targets], rel=1e-5, abs=1e-6
        )
    batch_of_all = ei.Explainer(model).explain_batch(xs[:50], top=2)
    np.testing.assert_allclose(_heatmaps(streamed[:50]), _heatmaps(batch_of_all), atol=1e-5)


@pytest.mark.parametrize("batched", [False, True], ids=["images", "batched"])
@pytest.mark.parametrize("with_labels", [False, True], ids=["x", "x,y"])
def test_tf_data_dataset_input(model, batched, with_labels):
    xs = _images(10, seed=7)
    dataset = tf.data.Dataset.from_tensor_slices((xs, np.arange(10)) if with_labels else xs)
    if batched:
        dataset = dataset.batch(3)
    from_dataset = list(ei.explain_predictions(model, dataset, batch_size=4))
    from_array = list(ei.explain_predictions(model, xs, batch_size=4))
    assert len(from_dataset) == 10
    np.testing.assert_allclose(_heatmaps(from_dataset), _heatmaps(from_array), atol=1e-6)


def test_tensor_list_and_pil_inputs(model):
    xs = _images(3, seed=3)
    from_array = _heatmaps(ei.explain_predictions(model, xs))
    np.testing.assert_allclose(
        _heatmaps(ei.explain_predictions(model, tf.constant(xs))), from_array, atol=1e-6
    )
    np.testing.assert_allclose(
        _heatmaps(ei.explain_predictions(model, list(xs))), from_array, atol=1e-6
    )
    pictures = [Image.fromarray(x.astype(np.uint8)).resize((64, 64)) for x in xs]
    expls = list(ei.explain_predictions(model, pictures))
    assert [e.image for e in expls] == pictures
    assert all(e.targets[0].heatmap.shape == (16, 16) for e in expls)


def test_per_image_targets(model):
    xs = _images(4, seed=9)
    per_image = [[0, 1], [2, 3], [1, 0], [3, 3]]
    expls = list(ei.explain_predictions(model, xs, batch_size=3, targets=per_image))
    assert [[t.target for t in e.targets] for e in expls] == per_image
    single = ei.explain_prediction(model, xs[1], targets=[2, 3])
    np.testing.assert_allclose(_heatmaps([expls[1]]), _heatmaps([single]), atol=1e-6)
    same_for_all = list(ei.explain_predictions(model, xs, targets=[3]))
    assert [e.targets[0].target for e in same_for_all] == [3, 3, 3, 3]


def test_image_that_breaks_the_model_gets_an_error_and_the_others_survive():
    exploding = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(2, 3, kernel_initializer=keras.initializers.Constant(1e38)),
            keras.layers.Flatten(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    xs = np.stack([np.zeros((8, 8, 3)), np.full((8, 8, 3), 1e3), np.zeros((8, 8, 3))])
    expls = ei.Explainer(exploding).explain_batch(xs)
    assert [bool(e.targets) for e in expls] == [True, False, True]
    assert "non-finite values" in expls[1].error
    # the zero images give no heat at all, which is said too
    assert expls[0].error.startswith("Every heatmap is all zero: nothing at layer")
    assert all(np.isfinite(e.targets[0].heatmap).all() for e in (expls[0], expls[2]))


def test_batch_errors_name_the_image(model):
    xs = list(_images(3))
    xs[2] = np.zeros((32, 32, 1))
    with pytest.raises(ValueError) as caught:
        list(ei.explain_predictions(model, xs, batch_size=2))
    assert str(caught.value) == (
        "xs[2]: expected an image with 3 channels (the model's input), got 1 channels, "
        "shape (1, 32, 32, 1). For a greyscale image, repeat it into three channels: "
        "np.repeat(xs[2][..., np.newaxis], 3, axis=-1), or open the file with PIL's "
        "Image.open(path).convert('RGB')."
    )
    bad = _images(5)
    bad[3, 0, 0, 0] = np.nan
    with pytest.raises(ValueError) as caught:
        list(ei.explain_predictions(model, bad, batch_size=2))
    assert (
        str(caught.value)
        == "xs[3]: expected finite pixel values, got an image containing NaN or inf"
    )
    with pytest.raises(ValueError) as caught:
        ei.explain_predictions(model, bad, batch_size=0)
    assert str(caught.value) == "batch_size: expected a positive integer, got 0"
    with pytest.raises(ValueError) as caught:
        ei.explain_predictions(model, bad, targets=[1], top=2)
    assert (
        str(caught.value)
        == "targets: expected either targets or top, not both, got targets=[1] and top=2"
    )
    with pytest.raises(ValueError) as caught:
        ei.Explainer(model).explain_batch(_images(2), targets=[[1], [2], [3]])
    assert str(caught.value) == (
        "targets: expected one list of class ids per image (2 images), got 3 lists"
    )


def test_progress_bar_is_opt_in(model, capsys):
    list(ei.explain_predictions(model, _images(5), batch_size=2))
    assert capsys.readouterr() == ("", "")
    list(ei.explain_predictions(model, _images(5), batch_size=2, progress=True))
    out, err = capsys.readouterr()
    assert out == "" and "explained 5/5 images" in err  # tqdm, on stderr


def _open_size_model() -> keras.Model:
    inputs = keras.Input((None, None, 3))
    features = keras.layers.Conv2D(4, 3, strides=2, name="conv")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D()(features)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(pooled))


def test_open_size_model_takes_a_pil_image_at_its_size_or_at_size():
    model = _open_size_model()
    picture = Image.fromarray(np.random.default_rng(3).integers(0, 255, (40, 60, 3), "uint8"))
    own = ei.explain_prediction(model, picture)
    assert own.targets[0].heatmap.shape == (19, 29)  # conv of stride 2 over 40 x 60
    resized = ei.explain_prediction(model, picture, size=(32, 24))
    assert resized.targets[0].heatmap.shape == (11, 15)
    pixels = np.asarray(picture.resize((32, 24), Image.BILINEAR), dtype="float32")
    expected = model.predict(pixels[np.newaxis], verbose=0)[0]
    assert resized.targets[0].proba == pytest.approx(float(expected.max()), rel=1e-5)
    assert resized.image.size == (60, 40)  # shown on the picture as it came


def test_size_must_agree_with_a_fixed_input(model):
    with pytest.raises(ValueError) as caught:
        ei.explain_prediction(model, builders.image(seed=1), size=(64, 64))
    assert str(caught.value) == (
        "size: expected None or the model's input size (32, 32) as (width, height), got (64, 64)"
    )
    with pytest.raises(TypeError) as caught:
        ei.explain_prediction(model, builders.image(seed=1), size=32)
    assert str(caught.value) == (
        "size: expected (width, height) in pixels, two positive integers, got int"
    )
