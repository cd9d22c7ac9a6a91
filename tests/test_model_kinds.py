"""Model kinds beyond keras.applications CNNs: KerasHub classifiers (CNNs and vision
transformers), transformer tokens, and subclassed models."""

from __future__ import annotations

import builders
import keras
import numpy as np
import pytest
from hub_models import HUB_FAMILIES, input_size
from keras import layers
from reference import requires_tensorflow
from tiny_vit import tiny_vit

import explainimg as ei
from explainimg.engine.probe import all_layers

pytestmark = pytest.mark.core

# Where the automatic rule must land on the transformers (docs/layers.md).
# (paths inside the backbone, whose name carries a counter when several are built).
TRANSFORMER_LAYERS = {
    "vit": "vit_encoder/transformer_block_2/ln_1",
    "deit": "deit_encoder/transformer_block_2/ln_1",
    "swin": "norm",
    "mit": "output_level_1",
}
# The JAX run of the suite checks every model kind, on fewer families and methods (compiling
# all of them under XLA takes minutes); TensorFlow runs them all.
ON_TENSORFLOW = keras.backend.backend() == "tensorflow"
JAX_FAMILIES = ("vit",)
# Ablation-CAM: the layer's channels are masked while the model runs (channels-first too).
JAX_METHODS = (
    "gradcam", "guided_gradcam", "integrated_gradients", "occlusion", "deconvnet", "ablationcam",
)  # fmt: skip


def _no_hooks_left(model: keras.Model) -> bool:
    return all("call" not in vars(ref.layer) for ref in all_layers(model))


def _assert_left_as_it_was(model: keras.Model, before: list[np.ndarray]) -> None:
    assert all(
        np.array_equal(a, b) for a, b in zip(before, builders.weights_of(model), strict=True)
    )
    assert _no_hooks_left(model)


def _hub_model_and_images(family: str, seed: int, count: int) -> tuple[keras.Model, np.ndarray]:
    """The tiny KerasHub classifier of ``family`` and ``count`` uniform [0, 1) images of its
    input size (skipped without KerasHub)."""
    pytest.importorskip("keras_hub")
    height, width = input_size(family)
    images = np.random.default_rng(seed).uniform(0, 1, (count, height, width, 3))
    return HUB_FAMILIES[family](), images.astype("float32")


def _families() -> list:
    return list(HUB_FAMILIES) if ON_TENSORFLOW else list(JAX_FAMILIES)


@pytest.mark.parametrize("family", _families())
def test_keras_hub_classifier_is_explained_in_one_call(family):
    model, images = _hub_model_and_images(family, seed=0, count=3)
    before = builders.weights_of(model)

    batch = ei.Explainer(model).explain_batch(images, top=2)
    single = ei.explain_prediction(model, images[1], top=2)

    logits = keras.ops.convert_to_numpy(model(images))
    for expl, row in zip(batch, logits, strict=True):
        assert expl.error is None
        top = expl.targets[0]
        assert top.target == int(np.argmax(row))
        np.testing.assert_allclose(top.score, row.max(), rtol=1e-4, atol=1e-4)
        # The classifier outputs logits: probabilities are their softmax, and say so.
        softmax = np.exp(row - row.max()) / np.exp(row - row.max()).sum()
        np.testing.assert_allclose(top.proba, softmax.max(), rtol=1e-4, atol=1e-6)
        assert "logits by design of a KerasHub ImageClassifier" in expl.description
        assert np.isfinite(top.heatmap).all() and top.heatmap.max() == pytest.approx(1.0)
    for ours, alone in zip(batch[1].targets, single.targets, strict=True):
        np.testing.assert_allclose(ours.heatmap, alone.heatmap, atol=1e-4)
    if family in TRANSFORMER_LAYERS:
        assert batch[0].layer == f"{model.backbone.name}/{TRANSFORMER_LAYERS[family]}"
    _assert_left_as_it_was(model, before)


def _gradcam_on_tokens(model, layer_name, image, class_id):
    """Independent reference: GradientTape through a two-output copy of the graph, the tokens
    reshaped to the patch grid by hand (class token dropped)."""
    import tensorflow as tf

    tokens_model = keras.Model(
        model.inputs, [model.get_layer(layer_name).output, model.get_layer("logits").output]
    )
    with tf.GradientTape() as tape:
        tokens, logits = tokens_model(image[None])
        score = logits[:, class_id]
    gradients = tape.gradient(score, tokens).numpy()[0, 1:].astype(np.float64)
    values = tokens.numpy()[0, 1:].astype(np.float64)
    side = int(np.sqrt(values.shape[0]))
    grid = values.reshape(side, side, -1)
    weights = gradients.reshape(side, side, -1).mean(axis=(0, 1))
    cam = np.maximum((grid * weights).sum(axis=-1), 0)
    return (cam / cam.max() if cam.max() > 0 else cam), float(score[0])


@requires_tensorflow
def test_gradcam_on_vit_tokens_matches_a_reference_on_the_reshaped_tokens():
    keras.utils.set_random_seed(3)
    model = tiny_vit()
    image = np.random.default_rng(1).uniform(0, 255, (64, 64, 3)).astype("float32")
    expl = ei.explain_prediction(model, image, targets=[0, 1, 2])
    assert expl.layer == "block1_ln1"  # the input of the last attention, not the final norm
    assert sum(target.heatmap.max() == 1.0 for target in expl.targets) >= 1
    for target in expl.targets:
        reference, score = _gradcam_on_tokens(model, "block1_ln1", image, target.target)
        assert target.heatmap.shape == (8, 8)
        np.testing.assert_allclose(target.heatmap, reference, atol=1e-5)
        assert target.score == pytest.approx(score, rel=1e-5, abs=1e-5)


def test_patch_tokens_after_the_last_attention_have_no_gradient_with_a_class_token():
    keras.utils.set_random_seed(3)
    model = tiny_vit()
    image = np.random.default_rng(1).uniform(0, 255, (64, 64, 3)).astype("float32")
    expl = ei.explain_prediction(model, image, layer="final_norm")
    assert expl.error == (
        "Every heatmap is all zero: nothing at layer 'final_norm' speaks for this class "
        "(try another layer or method)."
    )


def test_token_grid_option_and_its_errors():
    keras.utils.set_random_seed(3)
    model = tiny_vit()
    image = np.zeros((64, 64, 3), "float32")
    expl = ei.explain_prediction(model, image, layer="block0_ln1", token_grid=(8, 8))
    assert expl.targets[0].heatmap.shape == (8, 8)
    with pytest.raises(ValueError) as caught:
        ei.explain_prediction(model, image, layer="block0_ln1", token_grid=(9, 9))
    assert str(caught.value) == (
        "token_grid: expected (height, width) with height * width between 1 and the 65 "
        "tokens of layer 'block0_ln1', got (9, 9)"
    )
    with pytest.raises(ValueError) as caught:
        ei.explain_prediction(model, image, layer="patches", token_grid=(8, 8))
    assert str(caught.value) == (
        "token_grid: expected None for layer 'patches', whose output is already a 4-D map, "
        "got (8, 8)"
    )


def test_a_token_layer_without_a_grid_asks_for_token_grid():
    inputs = keras.Input((32, 48, 3))
    x = layers.Conv2D(8, 8, strides=8)(inputs)  # 4x6 patches
    x = layers.Reshape((24, 8))(x)
    x = layers.Dense(8, name="tokens")(x[:, :15])  # 15 tokens: no 2:3 grid
    outputs = layers.Dense(3)(layers.GlobalAveragePooling1D()(x))
    model = keras.Model(inputs, outputs)
    with pytest.raises(ValueError) as caught:
        ei.explain_prediction(model, np.zeros((32, 48, 3)), layer="tokens")
    assert str(caught.value) == (
        "token_grid: expected (height, width) of the patch grid, got None, and the 15 tokens "
        "of layer 'tokens' form no grid of the image's 32x48 shape after dropping up to 8 "
        "leading tokens"
    )
    expl = ei.explain_prediction(model, np.zeros((32, 48, 3)), layer="tokens", token_grid=(3, 5))
    assert expl.targets[0].heatmap.shape == (3, 5)


class SubclassedNet(keras.Model):
    """Conv -> ReLU -> Conv -> ReLU -> pooling -> softmax head, with its own call."""

    def __init__(self):
        super().__init__(name="subclassed_net")
        self.conv1 = layers.Conv2D(6, 3, padding="same", name="first_conv")
        self.relu1 = layers.ReLU()
        self.conv2 = layers.Conv2D(8, 3, padding="same", name="second_conv")
        self.relu2 = layers.ReLU(name="last_relu")
        self.pool = layers.GlobalAveragePooling2D()
        self.head = layers.Dense(4, activation="softmax", name="head")
        self.fail_after_first_conv = False

    def call(self, x):
        x = self.relu1(self.conv1(x))
        if self.fail_after_first_conv:
            raise RuntimeError("stopped halfway")
        return self.head(self.pool(self.relu2(self.conv2(x))))


def _subclassed_and_functional_twin():
    keras.utils.set_random_seed(5)
    net = SubclassedNet()
    net(np.zeros((1, 16, 16, 3), "float32"))
    inputs = keras.Input((16, 16, 3))
    x = net.relu1(net.conv1(inputs))
    x = net.relu2(net.conv2(x))
    twin = keras.Model(inputs, net.head(net.pool(x)), name="twin")
    return net, twin


METHODS = {
    "gradcam": "gradcam",
    "gradcam++": "gradcam++",
    "layercam": "layercam",
    "scorecam": ei.methods.ScoreCAM(batch_size=4),
    "saliency": "saliency",
    "smoothgrad": ei.methods.SmoothGrad(samples=3),
    "integrated_gradients": ei.methods.IntegratedGradients(steps=4),
    "guided_gradcam": "guided_gradcam",
    "occlusion": ei.methods.Occlusion(patch_size=4, stride=4),
    "rise": ei.methods.RISE(masks=16, cell_size=8),
    "hirescam": "hirescam",
    "xgradcam": "xgradcam",
    "gradcam_elementwise": "gradcam_elementwise",
    "eigencam": "eigencam",
    "eigengradcam": "eigengradcam",
    "input_x_gradient": "input_x_gradient",
    "guided_backprop": "guided_backprop",
    "deconvnet": "deconvnet",
    "vargrad": ei.methods.VarGrad(samples=3),
    "squaregrad": ei.methods.SquareGrad(samples=3),
    "ablationcam": ei.methods.AblationCAM(batch_size=4),
    "finercam": "finercam",
    "kpcacam": "kpcacam",
    "shapleycam": "shapleycam",
    "fullgrad": "fullgrad",
    "deeplift": "deeplift",
    "lrp": "lrp",
    "random": "random",
    "sobel": "sobel",
    "center": "center",
}
assert set(METHODS) == set(ei.methods.methods_for("subclassed")), "every method is compared"
BACKEND_METHODS = list(METHODS) if ON_TENSORFLOW else list(JAX_METHODS)


@pytest.mark.parametrize("method", BACKEND_METHODS)
def test_subclassed_model_equals_its_functional_twin(method):
    net, twin = _subclassed_and_functional_twin()
    images = np.random.default_rng(2).uniform(0, 1, (2, 16, 16, 3)).astype("float32")
    ours = ei.Explainer(net, method=METHODS[method]).explain_batch(images, top=2)
    theirs = ei.Explainer(twin, method=METHODS[method]).explain_batch(images, top=2)
    for a, b in zip(ours, theirs, strict=True):
        assert [t.target for t in a.targets] == [t.target for t in b.targets]
        for x, y in zip(a.targets, b.targets, strict=True):
            np.testing.assert_allclose(x.heatmap, y.heatmap, atol=1e-5)
            assert x.proba == pytest.approx(y.proba, abs=1e-6)
    if METHODS[method] == "gradcam":
        assert ours[0].layer == "last_relu"
    assert _no_hooks_left(net)


def test_subclassed_layer_by_attribute_name_or_instance():
    net, twin = _subclassed_and_functional_twin()
    image = np.random.default_rng(3).uniform(0, 1, (16, 16, 3)).astype("float32")
    by_attribute = ei.explain_prediction(net, image, layer="conv1")
    by_instance = ei.explain_prediction(net, image, layer=net.conv1)
    by_name = ei.explain_prediction(twin, image, layer="first_conv")
    assert by_attribute.layer == by_instance.layer == "first_conv"
    np.testing.assert_allclose(
        by_attribute.targets[0].heatmap, by_name.targets[0].heatmap, atol=1e-6
    )
    np.testing.assert_allclose(
        by_instance.targets[0].heatmap, by_name.targets[0].heatmap, atol=1e-6
    )


def test_subclassed_model_is_left_as_it_was_when_its_call_raises_halfway():
    net, _ = _subclassed_and_functional_twin()
    image = np.random.default_rng(4).uniform(0, 1, (16, 16, 3)).astype("float32")
    expected = keras.ops.convert_to_numpy(net(image[None]))
    before = builders.weights_of(net)
    net.fail_after_first_conv = True
    with pytest.raises(RuntimeError, match="stopped halfway"):
        ei.explain_prediction(net, image, method="saliency")
    assert _no_hooks_left(net)
    net.fail_after_first_conv = False
    assert all(np.array_equal(a, b) for a, b in zip(before, builders.weights_of(net), strict=True))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(net(image[None])), expected)
    assert ei.explain_prediction(net, image).layer == "last_relu"


def test_unbuilt_subclassed_model_is_refused_clearly():
    with pytest.raises(ValueError) as caught:
        ei.explain_prediction(SubclassedNet(), np.zeros((16, 16, 3)))
    assert str(caught.value) == (
        "model: expected a built model, got SubclassedNet 'subclassed_net', which has never "
        "been built or called. Give it a keras.Input(...) first layer, or call it once on a "
        "batch of images."
    )


def _cnn(data_format: str) -> keras.Model:
    shape = (3, 16, 16) if data_format == "channels_first" else (16, 16, 3)
    return keras.Sequential(
        [
            keras.Input(shape),
            layers.Conv2D(4, 3, activation="relu", data_format=data_format, name="conv"),
            layers.MaxPooling2D(data_format=data_format),
            layers.Conv2D(6, 3, activation="relu", data_format=data_format, name="conv2"),
            layers.GlobalAveragePooling2D(data_format=data_format),
            layers.Dense(3, activation="softmax"),
        ],
        name=data_format,
    )


@pytest.mark.skipif(
    keras.backend.backend() == "tensorflow",
    reason="TensorFlow's CPU kernels cannot run channels_first convolutions at all (not even "
    "model.predict); the JAX run of the suite checks them",
)
@pytest.mark.parametrize("method", JAX_METHODS)
def test_channels_first_model_equals_its_channels_last_twin(method):
    keras.utils.set_random_seed(6)
    last, first = _cnn("channels_last"), _cnn("channels_first")
    first.set_weights(last.get_weights())
    images = np.random.default_rng(7).uniform(0, 1, (2, 16, 16, 3)).astype("float32")
    ours = ei.Explainer(first, method=METHODS[method]).explain_batch(
        np.moveaxis(images, -1, 1), top=2
    )
    twin = ei.Explainer(last, method=METHODS[method]).explain_batch(images, top=2)
    # Occlusion maps are differences of probabilities, divided by their maximum: the two
    # convolution layouts round differently by about 1e-7, which that can scale to 3e-5.
    tolerance = 1e-4 if method == "occlusion" else 1e-5
    for a, b in zip(ours, twin, strict=True):
        assert a.layer == b.layer
        for x, y in zip(a.targets, b.targets, strict=True):
            assert x.target == y.target
            np.testing.assert_allclose(x.heatmap, y.heatmap, atol=tolerance)
    np.testing.assert_allclose(np.asarray(ours[0].image), np.asarray(twin[0].image))


def test_keras_hub_preprocessor_is_applied_once_with_preprocess_model():
    keras_hub = pytest.importorskip("keras_hub")
    model = HUB_FAMILIES["vit"]()
    converter = keras_hub.layers.ViTImageConverter(
        image_size=(32, 32), scale=1 / 127.5, offset=-1.0
    )
    model.preprocessor = keras_hub.models.ViTImageClassifierPreprocessor(image_converter=converter)
    raw = np.random.default_rng(9).uniform(0, 255, (32, 32, 3)).astype("float32")
    ours = ei.explain_prediction(model, raw, preprocess="model", top=2)
    by_hand = ei.explain_prediction(model, raw / 127.5 - 1.0, top=2)
    for a, b in zip(ours.targets, by_hand.targets, strict=True):
        assert a.target == b.target
        np.testing.assert_allclose(a.heatmap, b.heatmap, atol=1e-5)
        assert a.score == pytest.approx(b.score, abs=1e-5)
    np.testing.assert_array_equal(np.asarray(ours.image), np.round(raw).astype(np.uint8))


# Every method of the catalogue on a KerasHub CNN and vision transformer (issue 21); the same
# maps on TensorFlow, JAX and PyTorch for the new engine paths: tests/test_backends.py.
CATALOGUE_OPTIONS = {
    "scorecam": {"max_channels": 8},
    "ablationcam": {"max_channels": 8},
    "smoothgrad": {"samples": 2},
    "vargrad": {"samples": 2},
    "squaregrad": {"samples": 2},
    "integrated_gradients": {"steps": 2},
    "occlusion": {"patch_size": 16, "stride": 16},
    "rise": {"masks": 8},
}
LRP_ON_VIT = (
    "LRP has no rule for layer '{backbone}/vit_patching_and_embedding/position_embedding' "
    "(Embedding): no relevance rule covers this layer type. Its relevance would not be "
    "accounted for; use another method for this model."
)


@pytest.mark.slow
@requires_tensorflow
@pytest.mark.parametrize("family", ["resnet", "vit"])
def test_every_catalogue_method_explains_keras_hub_models(family):
    model, images = _hub_model_and_images(family, seed=4, count=2)
    height, width = input_size(family)
    before = builders.weights_of(model)
    for key in ei.methods.methods_for("graph"):
        method = ei.methods.METHODS[key](**CATALOGUE_OPTIONS.get(key, {}))
        if family == "vit" and key == "lrp":
            with pytest.raises(ei.ExplanationError) as caught:
                ei.Explainer(model, method=method).explain_batch(images, top=2)
            assert str(caught.value) == LRP_ON_VIT.format(backbone=model.backbone.name)
            continue
        expls = ei.Explainer(model, method=method).explain_batch(images, top=2)
        side = (height, width) if method.resolution == "input" else (4, 4)
        # A target may have an all-zero map (nothing at the layer speaks for it); not all.
        peaks = [target.heatmap.max() for expl in expls for target in expl.targets]
        assert max(peaks) == pytest.approx(1.0), key
        for expl in expls:
            assert expl.error is None, key
            for target in expl.targets:
                assert target.heatmap.shape == side, key
                assert np.isfinite(target.heatmap).all(), key
                assert target.heatmap.min() >= 0, key
                assert target.heatmap.max() in (0.0, pytest.approx(1.0)), key
                if method.signed:
                    assert target.attribution.shape == (height, width), key
                    assert np.isfinite(target.attribution).all(), key
    _assert_left_as_it_was(model, before)
