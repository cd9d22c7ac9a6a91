"""FullGrad and Shapley-CAM (issue 21): each equals its paper's formula computed here
independently with GradientTapes (and jax.jvp of jax.grad under JAX), to 1e-4, and the
full-gradient decomposition the engine gives adds up to the score."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
import keras
import numpy as np
import pytest
from keras import layers, ops

import explainimg as ei
from explainimg.methods import FullGrad, ShapleyCAM, SignedMethod
from tests import builders
from tests.reference import requires_tensorflow, unit

pytestmark = pytest.mark.core

SIZE = 16
CLASSES = 4


def _image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 255, (SIZE, SIZE, 3)).astype(np.float32)


@pytest.fixture(scope="module")
def biased_model() -> keras.Model:
    """Rescaling with an offset, Conv+bias with a fused ReLU, Conv+bias, BatchNorm with
    non-trivial statistics, ReLU, GAP, Dense logits, a separate softmax."""
    keras.utils.set_random_seed(11)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = layers.Rescaling(1 / 127.5, offset=-1, name="rescale")(inputs)
    x = layers.Conv2D(6, 3, padding="same", activation="relu", name="c1")(x)
    x = layers.Conv2D(8, 3, name="c2")(x)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.ReLU(name="r")(x)
    logits = layers.Dense(CLASSES, name="logits")(layers.GlobalAveragePooling2D(name="gap")(x))
    model = keras.Model(inputs, layers.Activation("softmax")(logits))
    rng = np.random.default_rng(11)
    for layer in (model.get_layer("c1"), model.get_layer("c2"), model.get_layer("logits")):
        layer.bias.assign(rng.normal(0, 0.3, layer.bias.shape).astype("float32"))
    bn = model.get_layer("bn")
    bn.gamma.assign(rng.uniform(0.5, 1.5, 8).astype("float32"))
    bn.beta.assign(rng.normal(0, 0.3, 8).astype("float32"))
    bn.moving_mean.assign(rng.normal(0, 0.3, 8).astype("float32"))
    bn.moving_variance.assign(rng.uniform(0.5, 2.0, 8).astype("float32"))
    return model


@attrs.frozen
class _Decomposition(SignedMethod):
    """Test probe: x * dx plus every bias term's total spread evenly over the pixels, so
    that the attribution sums to the full-gradient decomposition of the score."""

    key: ClassVar[str] = "test_decomposition"
    title: ClassVar[str] = "full-gradient sum"
    needs_layer: ClassVar[bool] = False

    def attributions(self, ctx: Any, k: int) -> Any:
        input_gradients, terms = ctx.full_gradients(k)
        totals = [ops.sum(term, axis=tuple(range(1, len(term.shape)))) for term in terms]
        pixels = float(np.prod(ops.shape(ctx.images)[1:]))
        spread = ops.sum(ops.stack(totals, axis=1), axis=1) / pixels
        return ctx.images * input_gradients + spread[:, None, None, None]


def test_full_gradients_add_up_to_the_score(biased_model):
    """Completeness (Srinivas and Fleuret, 2019): for a ReLU network the input part and the
    bias parts (Rescaling's offset, both convolutions, BatchNorm's effective bias, the Dense
    bias) add up to the logit exactly."""
    images = np.stack([_image(1), _image(2)])
    for expl in ei.explain_predictions(biased_model, images, top=CLASSES, method=_Decomposition()):
        for target in expl.targets:
            total = float(target.attribution.astype(np.float64).sum())
            assert abs(total - target.score) <= 1e-4 * max(1.0, abs(target.score)), target
            assert abs(target.score) > 0.05  # a trivial score would prove nothing


def _bilinear(values: np.ndarray, size: int) -> np.ndarray:
    """(h, w) values resized to (size, size): bilinear, half-pixel centres, edges clamped."""

    def weights(n: int) -> np.ndarray:
        source = np.clip((np.arange(size) + 0.5) * n / size - 0.5, 0, n - 1)
        low = np.floor(source).astype(int)
        high = np.minimum(low + 1, n - 1)
        matrix = np.zeros((size, n))
        matrix[np.arange(size), low] += 1 - (source - low)
        matrix[np.arange(size), high] += source - low
        return matrix

    return weights(values.shape[0]) @ values @ weights(values.shape[1]).T


def _psi(values: np.ndarray) -> np.ndarray:
    """|values| rescaled to [0, 1] over the whole (h, w, c) tensor (the authors' code)."""
    magnitude = np.abs(values)
    span = magnitude.max() - magnitude.min()
    return (magnitude - magnitude.min()) / span if span > 0 else magnitude * 0


def _reference_fullgrad(model: keras.Model, x: np.ndarray, class_id: int) -> np.ndarray:
    """FullGrad written out with tf.nn ops and one GradientTape."""
    import tensorflow as tf

    get = model.get_layer
    c1, c2, bn, dense = get("c1"), get("c2"), get("bn"), get("logits")
    with tf.GradientTape(persistent=True) as tape:
        batch = tf.constant(x[None])
        tape.watch(batch)
        z0 = batch / 127.5 - 1.0
        z1 = tf.nn.conv2d(z0, c1.kernel, 1, "SAME") + c1.bias
        z2 = tf.nn.conv2d(tf.nn.relu(z1), c2.kernel, 1, "VALID") + c2.bias
        scale = bn.gamma / tf.sqrt(bn.moving_variance + bn.epsilon)
        z3 = (z2 - bn.moving_mean) * scale + bn.beta
        score = (tf.reduce_mean(tf.nn.relu(z3), axis=(1, 2)) @ dense.kernel + dense.bias)[
            0, class_id
        ]
    dx, d0, d1, d2, d3 = (
        tape.gradient(score, t).numpy()[0].astype(np.float64) for t in (batch, z0, z1, z2, z3)
    )
    bn_bias = (bn.beta - bn.moving_mean * scale).numpy()
    total = _psi(x * dx).sum(axis=-1)
    for gradient, bias in ((d0, -1.0), (d1, c1.bias.numpy()), (d2, c2.bias.numpy()), (d3, bn_bias)):
        total += _bilinear(_psi(gradient * bias).sum(axis=-1), SIZE)
    return unit(total - total.min())


@requires_tensorflow
def test_fullgrad_matches_its_formula(biased_model):
    x = _image(4)
    expl = ei.explain_prediction(biased_model, x, top=CLASSES, method="fullgrad")
    assert expl.layer is None and expl.targets[0].heatmap.shape == (SIZE, SIZE)
    for target in expl.targets:
        expected = _reference_fullgrad(biased_model, x, target.target)
        assert 0.1 < expected.mean() < 0.9
        np.testing.assert_allclose(target.heatmap, expected, atol=1e-4)
        assert target.attribution is None


def test_fullgrad_refuses_smoothing():
    with pytest.raises(ValueError, match="None for FullGrad, which has no smoothing"):
        FullGrad(smooth="eigen")


def test_shapleycam_equals_gradcam_for_a_piecewise_linear_tail():
    """After conv_a the model is convolutions, ReLU, an add, GAP and Dense: H A = 0."""
    model = builders.functional_activation_softmax()
    images = np.stack([builders.image(seed=5), builders.image(seed=6)])
    shapley = list(
        ei.explain_predictions(model, images, top=3, layer="conv_a", method="shapleycam")
    )
    grad = list(ei.explain_predictions(model, images, top=3, layer="conv_a", method="gradcam"))
    for one, other in zip(shapley, grad, strict=True):
        for a, b in zip(one.targets, other.targets, strict=True):
            assert a.target == b.target and 0.02 < b.heatmap.mean() < 0.98
            np.testing.assert_allclose(a.heatmap, b.heatmap, atol=1e-5)


@pytest.fixture(scope="module")
def curved_model() -> keras.Model:
    """A tail with curvature after layer "features": a gelu conv, GAP, a tanh Dense, logits."""
    keras.utils.set_random_seed(13)
    inputs = keras.Input((SIZE, SIZE, 3))
    x = layers.Rescaling(1 / 255.0)(inputs)
    x = layers.Conv2D(6, 3, activation="relu", name="features")(x)
    x = layers.Conv2D(8, 3, activation="gelu", name="curved")(x)
    x = layers.Dense(6, activation="tanh", name="mix")(layers.GlobalAveragePooling2D()(x))
    return keras.Model(inputs, layers.Dense(CLASSES, activation="softmax", name="probs")(x))


def _reference_gradient_and_hvp(model: keras.Model, x: np.ndarray, class_id: int):
    """(A, g, H A) at layer "features", g and H A by the running backend's own autodiff:
    nested GradientTapes on TensorFlow, jax.jvp of jax.grad on JAX."""
    features = keras.Model(model.inputs[0], model.get_layer("features").output)
    names = ("curved", "mix")
    probs = model.get_layer("probs")

    def score(a: Any) -> Any:
        gap = ops.mean(model.get_layer(names[0])(a), axis=(1, 2))
        hidden = model.get_layer(names[1])(gap)
        return ops.sum(ops.matmul(hidden, probs.kernel) + probs.bias, axis=0)[class_id]

    a = ops.convert_to_tensor(features(x[None]))
    if keras.backend.backend() == "jax":
        import jax

        g, hvp = jax.jvp(jax.grad(score), (a,), (a,))
    else:
        import tensorflow as tf

        with tf.GradientTape() as outer:
            outer.watch(a)
            with tf.GradientTape() as inner:
                inner.watch(a)
                s = score(a)
            g = inner.gradient(s, a)
        hvp = outer.gradient(g, a, output_gradients=a)
    return tuple(np.asarray(ops.convert_to_numpy(t), np.float64)[0] for t in (a, g, hvp))


@pytest.mark.skipif(
    keras.backend.backend() == "torch", reason="the reference uses TensorFlow's or JAX's autodiff"
)
def test_shapleycam_matches_its_formula_with_a_curved_tail(curved_model):
    x = builders.image(seed=7, size=SIZE)
    shapley = ei.explain_prediction(
        curved_model, x, top=CLASSES, layer="features", method="shapleycam"
    )
    grad = ei.explain_prediction(curved_model, x, top=CLASSES, layer="features", method="gradcam")
    differs = 0.0
    for target, plain in zip(shapley.targets, grad.targets, strict=True):
        a, g, hvp = _reference_gradient_and_hvp(curved_model, x, target.target)
        weights = (g - 0.5 * hvp).mean(axis=(0, 1))
        expected = unit(np.maximum((a * weights).sum(axis=-1), 0))
        np.testing.assert_allclose(target.heatmap, expected, atol=1e-4)
        differs = max(differs, float(np.abs(target.heatmap - plain.heatmap).max()))
    assert differs > 0.01, "the curvature term should change the map here"


def test_shapleycam_takes_the_cam_options(curved_model):
    method = ShapleyCAM(smooth="eigen")
    expl = ei.explain_prediction(curved_model, builders.image(seed=8, size=SIZE), method=method)
    assert expl.targets[0].heatmap.max() == 1.0
    assert ShapleyCAM.passes.startswith("1 forward + 1 backward and 1 Hessian-vector product")
