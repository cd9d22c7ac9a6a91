"""Every method against an independent reference of its paper formula (issue 4 tests)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import explainimg as ei
from explainimg.demo.shapes import make_shapes
from explainimg.methods import (
    METHODS,
    RISE,
    AblationCAM,
    IntegratedGradients,
    LayerCAM,
    Occlusion,
    Saliency,
    ScoreCAM,
    SmoothGrad,
    SquareGrad,
    VarGrad,
    methods_for,
)
from explainimg.methods.integrated_gradients import integrated_gradients
from explainimg.methods.smoothing import gaussian_smooth
from tests import builders
from tests.reference import (
    ONE_PER_ENGINE_PATH,
    dense_logits,
    layer_and_gradients,
    requires_tensorflow,
    trained_under_tensorflow,
    unit,
)

pytestmark = pytest.mark.core


@pytest.fixture(scope="module")
def residual():
    """A functional model with a residual block; head = GAP + logits Dense (+ softmax)."""
    model = builders.functional_activation_softmax()
    get = model.get_layer
    return model, "block_out", lambda a: get("logits")(get("gap")(a))


def _input_gradients(model, x, class_id):
    """d logit / d x of the Sequential test model, the logits written out by hand."""
    get = model.get_layer
    batch = tf.constant(x[np.newaxis])
    with tf.GradientTape() as tape:
        tape.watch(batch)
        a = get("conv_b")(get("conv_a")(get("rescale")(batch)))
        score = dense_logits(get("probs"), get("flat")(get("pool")(a)))[0, class_id]
    return tape.gradient(score, batch)[0].numpy().astype(np.float64)


@requires_tensorflow
def test_gradcam_plus_plus_matches_the_formula(residual):
    model, layer, head = residual
    x = builders.image(seed=21)
    expl = ei.explain_prediction(model, x, top=builders.CLASSES, method="gradcam++")
    for target in expl.targets:
        a, g = layer_and_gradients(model, layer, head, x, target.target)
        denominator = 2 * g**2 + a.sum(axis=(0, 1)) * g**3
        alpha = np.divide(g**2, denominator, out=np.zeros_like(g), where=denominator != 0)
        weights = (alpha * np.maximum(g, 0)).sum(axis=(0, 1))
        expected = unit(np.maximum((a * weights).sum(axis=-1), 0))
        np.testing.assert_allclose(target.heatmap, expected, atol=1e-4)
    assert expl.method == "Grad-CAM++"


@requires_tensorflow
def test_layercam_matches_the_formula_on_an_early_layer(residual):
    model, _, _ = residual
    get = model.get_layer
    head = lambda a: get("logits")(  # noqa: E731
        get("gap")(get("block_out")(get("add")([a, get("conv_b")(a)])))
    )
    x = builders.image(seed=22)
    expl = ei.explain_prediction(model, x, top=2, method=LayerCAM(), layer="conv_a")
    for target in expl.targets:
        a, g = layer_and_gradients(model, "conv_a", head, x, target.target)
        expected = unit(np.maximum((np.maximum(g, 0) * a).sum(axis=-1), 0))
        np.testing.assert_allclose(target.heatmap, expected, atol=1e-4)


@requires_tensorflow
@pytest.mark.parametrize("max_channels", [None, 3], ids=["exact", "top-3"])
def test_scorecam_matches_the_formula(residual, max_channels):
    model, layer, _ = residual
    x = builders.image(seed=23)
    features = keras.Model(model.inputs, model.get_layer(layer).output)
    a = features(x[np.newaxis])[0].numpy().astype(np.float64)
    channels = np.arange(a.shape[-1])
    if max_channels is not None:
        channels = np.argsort(-a.var(axis=(0, 1)), kind="stable")[:max_channels]
    masked = []
    for k in channels:
        up = tf.image.resize(a[None, :, :, k, None], x.shape[:2]).numpy()[0, :, :, 0]
        span = up.max() - up.min()
        mask = (up - up.min()) / span if span > 0 else np.zeros_like(up)
        masked.append(x * mask[..., None])
    probabilities = model.predict(np.stack(masked).astype(np.float32), verbose=0)
    method = ScoreCAM(max_channels=max_channels, batch_size=2)
    expl = ei.explain_prediction(model, x, top=builders.CLASSES, method=method)
    for target in expl.targets:
        confidence = probabilities[:, target.target].astype(np.float64)
        weights = np.exp(confidence - confidence.max())
        weights /= weights.sum()
        expected = unit(np.maximum((a[..., channels] * weights).sum(axis=-1), 0))
        np.testing.assert_allclose(target.heatmap, expected, atol=1e-4)


def _raw_pixel_model() -> tuple[keras.Model, keras.Model]:
    """A model on raw pixels (gradients well above seed 000's 1e-7 epsilon), and its logits."""
    keras.utils.set_random_seed(9)
    inputs = keras.Input((24, 24, 3))
    big = keras.initializers.RandomNormal(stddev=1.0)
    x = keras.layers.Conv2D(6, 3, activation="relu", kernel_initializer=big)(inputs)
    x = keras.layers.Conv2D(6, 3, activation="relu", kernel_initializer=big)(x)
    pooled = keras.layers.GlobalAveragePooling2D()(x)
    logits = keras.layers.Dense(4, name="logits", kernel_initializer=big)(pooled)
    model = keras.Model(inputs, keras.layers.Activation("softmax")(logits))
    return model, keras.Model(inputs, logits)


@requires_tensorflow
def test_saliency_equals_the_hand_computations_of_seeds_000_and_002():
    model, logits = _raw_pixel_model()
    x = np.random.default_rng(24).uniform(0, 1, (24, 24, 3)).astype(np.float32)
    for class_id in range(4):
        batch = tf.constant(x[np.newaxis])
        with tf.GradientTape() as tape:
            tape.watch(batch)
            score = logits(batch)[0, class_id]
        gradients = tape.gradient(score, batch)[0].numpy().astype(np.float64)
        by_hand = np.abs(gradients).max(axis=-1)  # seed 000: |grad|, max over channels
        by_hand = (by_hand - by_hand.min()) / (by_hand.max() - by_hand.min() + 1e-7)
        expl = ei.explain_prediction(model, x, targets=[class_id], method="saliency")
        assert expl.targets[0].heatmap.shape == (24, 24)
        np.testing.assert_allclose(expl.targets[0].heatmap, by_hand, atol=1e-5)
        summed = gradients.sum(axis=-1)  # seed 002: channels summed, min-max
        summed = (summed - summed.min()) / (summed.max() - summed.min())
        expl = ei.explain_prediction(model, x, targets=[class_id], method=Saliency("sum"))
        np.testing.assert_allclose(expl.targets[0].heatmap, summed, atol=1e-5)


def _reflect_smooth(maps: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian with reflected edges (scipy's gaussian_filter), in NumPy."""
    radius = int(np.ceil(4 * sigma))
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    kernel /= kernel.sum()
    out = maps.astype(np.float64)
    for axis in (1, 2):
        pad = [(0, 0)] * 3
        pad[axis] = (radius, radius)
        padded = np.pad(out, pad, mode="symmetric")
        out = np.apply_along_axis(lambda v: np.convolve(v, kernel, mode="valid"), axis, padded)
    return out


@pytest.mark.parametrize(("shape", "sigma"), [((2, 17, 23), 2.0), ((1, 8, 3), 3.0), ((1, 5, 5), 1)])
def test_gaussian_smoothing_matches_a_reflected_convolution(shape, sigma):
    maps = np.random.default_rng(0).random(shape).astype(np.float32)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(gaussian_smooth(maps, sigma)),
        _reflect_smooth(maps, sigma),
        atol=1e-6,
    )


@requires_tensorflow
def test_saliency_smoothing_is_applied_before_normalising():
    model = builders.sequential_dense_softmax()
    x = builders.image(seed=25)
    gradients = _input_gradients(model, x, 1)
    smoothed = _reflect_smooth(np.abs(gradients).max(axis=-1)[None], 1.5)[0]
    expected = (smoothed - smoothed.min()) / (smoothed.max() - smoothed.min())
    expl = ei.explain_prediction(model, x, targets=[1], method=Saliency(smooth_sigma=1.5))
    np.testing.assert_allclose(expl.targets[0].heatmap, expected, atol=1e-5)


def test_smoothgrad_is_seeded_and_equals_saliency_without_noise():
    model = builders.sequential_dense_softmax()
    x = builders.image(seed=26)

    def heat(method):
        return ei.explain_prediction(model, x, targets=[2], method=method).targets[0].heatmap

    first, again = heat(SmoothGrad(samples=8, seed=3)), heat(SmoothGrad(samples=8, seed=3))
    assert first.tobytes() == again.tobytes()
    assert not np.allclose(first, heat(SmoothGrad(samples=8, seed=4)))
    np.testing.assert_allclose(heat(SmoothGrad(samples=4, noise=0.0)), heat("saliency"), atol=1e-6)


@requires_tensorflow
def test_integrated_gradients_completeness():
    model = builders.sequential_dense_softmax()
    get = model.get_layer
    x = builders.image(seed=27)[np.newaxis]

    def logits(images):
        a = get("conv_b")(get("conv_a")(get("rescale")(images)))
        return dense_logits(get("probs"), get("flat")(get("pool")(a)))

    for class_id in range(builders.CLASSES):

        def gradients_at(points, class_id=class_id):
            with tf.GradientTape() as tape:
                tape.watch(points)
                score = tf.reduce_sum(logits(points)[:, class_id])
            return tape.gradient(score, points)

        baseline = tf.zeros_like(x)
        attributions = integrated_gradients(gradients_at, tf.constant(x), baseline, 64).numpy()
        difference = float(logits(x)[0, class_id] - logits(baseline)[0, class_id])
        assert attributions.sum() == pytest.approx(difference, rel=0.02)


@requires_tensorflow
def test_integrated_gradients_heatmap_is_the_normalised_attribution_magnitude():
    model = builders.sequential_dense_softmax()
    x = builders.image(seed=28)
    steps, baseline = 8, 20.0
    path = [baseline + (x - baseline) * i / steps for i in range(steps + 1)]
    gradients = np.stack([_input_gradients(model, p.astype(np.float32), 3) for p in path])
    average = (gradients.sum(axis=0) - 0.5 * (gradients[0] + gradients[-1])) / steps
    expected = unit(np.abs((x - baseline) * average).sum(axis=-1))
    method = IntegratedGradients(steps=steps, baseline=baseline)
    expl = ei.explain_prediction(model, x, targets=[3], method=method)
    np.testing.assert_allclose(expl.targets[0].heatmap, expected, atol=1e-4)


@requires_tensorflow
def test_guided_gradcam_matches_guided_backprop_written_by_hand():
    model = builders.sequential_dense_softmax()
    get = model.get_layer
    x = builders.image(seed=29)

    @tf.custom_gradient
    def guided_relu(z):
        def gradient(upstream):
            return upstream * tf.cast(upstream > 0, z.dtype) * tf.cast(z > 0, z.dtype)

        return tf.nn.relu(z), gradient

    def conv(layer, inputs):
        return tf.nn.conv2d(inputs, layer.kernel, 1, "VALID") + layer.bias

    batch = tf.constant(x[np.newaxis])
    with tf.GradientTape() as tape:
        tape.watch(batch)
        a = guided_relu(
            conv(get("conv_b"), guided_relu(conv(get("conv_a"), get("rescale")(batch))))
        )
        score = dense_logits(get("probs"), get("flat")(get("pool")(a)))[0, 2]
    guided = np.abs(tape.gradient(score, batch)[0].numpy()).max(axis=-1)
    cam = ei.explain_prediction(model, x, targets=[2]).targets[0].heatmap
    upsampled = tf.image.resize(cam[None, :, :, None], (32, 32)).numpy()[0, :, :, 0]
    expected = unit(guided * upsampled)
    expl = ei.explain_prediction(model, x, targets=[2], method="guided_gradcam")
    assert expl.targets[0].heatmap.shape == (32, 32)
    np.testing.assert_allclose(expl.targets[0].heatmap, expected, atol=1e-4)


@pytest.mark.parametrize("method", ["guided_gradcam", "scorecam"])
def test_model_unchanged_by_guided_and_masking_methods(method):
    model = builders.nested_sequential()
    weights = builders.weights_of(model)
    activations = [getattr(x, "activation", None) for x in model.get_layer("features").layers]
    x = builders.image(seed=30)
    before = model.predict(x[np.newaxis], verbose=0)
    ei.explain_prediction(model, x, top=2, method=method)
    for old, new in zip(weights, builders.weights_of(model), strict=True):
        assert old.tobytes() == new.tobytes()
    assert [
        getattr(x, "activation", None) for x in model.get_layer("features").layers
    ] == activations
    np.testing.assert_array_equal(model.predict(x[np.newaxis], verbose=0), before)


CLASSIFIER_METHODS = methods_for("graph")
ON_OBJECT_IMAGES = 50
# RISE's 1000 default masks are 50,000 forward passes here; 500 keep the test short, and
# 16-pixel cells keeping 3/4 of the image suit these 64 x 64 images (tests/test_blackbox.py).
ON_OBJECT_OPTIONS = {"rise": RISE(masks=500, cell_size=16, probability=0.75)}
# Statistics of noisy input gradients: on the shapes model trained under JAX, VarGrad put
# more heat on the object for 10/50 images and SquareGrad for 29/50 (their maps equal
# TensorFlow's for the same weights, tests/test_backends.py).
_NOISY_GRADIENTS = {"smoothgrad", "vargrad", "squaregrad"}


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(k, marks=trained_under_tensorflow) if k in _NOISY_GRADIENTS else k
        for k in CLASSIFIER_METHODS
        if not METHODS[k].baseline  # they know nothing of the model, by design
    ],
)
def test_every_method_puts_more_heat_on_the_object(shapes_model, key):
    data = make_shapes(ON_OBJECT_IMAGES, seed=8080)
    targets = [[int(label)] for label in data.labels]
    method = ON_OBJECT_OPTIONS.get(key, key)
    expls = ei.Explainer(shapes_model, method=method).explain_batch(data.images, targets=targets)
    wins = 0
    for expl, mask in zip(expls, data.masks, strict=True):
        heat = np.asarray(Image.fromarray(expl.targets[0].heatmap).resize((64, 64), Image.BILINEAR))
        wins += heat[mask].mean() > heat[~mask].mean()
    assert wins / ON_OBJECT_IMAGES >= 0.8, f"{key}: {wins}/{ON_OBJECT_IMAGES}"


CHEAP = {
    "smoothgrad": SmoothGrad(samples=2),
    "vargrad": VarGrad(samples=2),
    "squaregrad": SquareGrad(samples=2),
    "integrated_gradients": IntegratedGradients(steps=2),
    "scorecam": ScoreCAM(max_channels=8, batch_size=16),
    "ablationcam": AblationCAM(max_channels=8, batch_size=16),
    "occlusion": Occlusion(patch_size=32, stride=32),
    "rise": RISE(masks=8),
}


# Every method on MobileNetV2; one method per engine path on ResNet50 and the nested model.
# Under JAX, MobileNetV2 only, and only the methods tests/test_backends.py does not already
# run on it under JAX (compiling every method for every architecture costs minutes of CI).
_ARCHITECTURES = ["MobileNetV2", "ResNet50", "nested"]
_JAX = keras.backend.backend() == "jax"
if _JAX:
    _ARCHITECTURES = ["MobileNetV2"]


def _methods_on(architecture: str) -> list[str]:
    if _JAX:
        return [key for key in CLASSIFIER_METHODS if key not in ONE_PER_ENGINE_PATH]
    if architecture == "MobileNetV2":
        return list(CLASSIFIER_METHODS)
    return [key for key in CLASSIFIER_METHODS if key in ONE_PER_ENGINE_PATH]


@pytest.mark.slow
@pytest.mark.parametrize("architecture", _ARCHITECTURES)
def test_every_method_runs_on_real_architectures(architecture):
    if architecture == "nested":
        base = keras.applications.MobileNetV2(
            include_top=False, weights=None, input_shape=(64, 64, 3)
        )
        model = keras.Sequential(
            [
                keras.Input((64, 64, 3)),
                base,
                keras.layers.GlobalAveragePooling2D(),
                keras.layers.Dense(3, activation="softmax"),
            ]
        )
    else:
        model = getattr(keras.applications, architecture)(weights=None, input_shape=(64, 64, 3))
    x = np.random.default_rng(1).uniform(-1, 1, (64, 64, 3)).astype(np.float32)
    for key in _methods_on(architecture):
        expl = ei.explain_prediction(model, x, top=2, method=CHEAP.get(key, key))
        expected = (64, 64) if METHODS[key].resolution == "input" else (2, 2)
        for target in expl.targets:
            assert target.heatmap.shape == expected, key
            assert np.isfinite(target.heatmap).all(), key
            assert target.heatmap.min() >= 0.0 and target.heatmap.max() <= 1.0, key


def test_method_errors_name_the_option():
    model = builders.sequential_dense_softmax()
    with pytest.raises(ValueError) as caught:
        ei.explain_prediction(model, builders.image(), method="saliency", layer="conv_a")
    assert str(caught.value) == (
        "layer: expected None for method 'saliency', which explains the input pixels, got 'conv_a'"
    )
    cases = [
        (lambda: SmoothGrad(samples=0), "samples: expected an integer >= 1, got 0"),
        (
            lambda: Saliency(reduction="mean"),
            "reduction: expected one of 'max_abs', 'sum', 'sum_abs', got 'mean'",
        ),
        (lambda: ScoreCAM(max_channels=0), "max_channels: expected an integer >= 1, got 0"),
        (lambda: IntegratedGradients(steps=-3), "steps: expected an integer >= 1, got -3"),
        (lambda: Saliency(smooth_sigma=-1), "smooth_sigma: expected a number >= 0, got -1"),
    ]
    for make, message in cases:
        with pytest.raises(ValueError) as caught:
            make()
        assert str(caught.value) == message
