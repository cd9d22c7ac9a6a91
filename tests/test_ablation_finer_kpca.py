"""Ablation-CAM, Finer-CAM and KPCA-CAM (issue 21): each equals its paper's formula, computed
here independently (the model's head run by hand on ablated activations, a GradientTape on
a difference of logits, NumPy's eigh of the centred kernel matrix), to 1e-4."""

from __future__ import annotations

import attrs
import keras
import numpy as np
import pytest
import tensorflow as tf

import explainimg as ei
from explainimg.methods import KPCACAM, AblationCAM, FinerCAM
from explainimg.methods.components import first_component
from explainimg.methods.kpcacam import kernel_component
from tests import builders
from tests.reference import dense_logits, requires_tensorflow, run_layers, unit
from tests.test_cam_smoothing import COPIES

pytestmark = pytest.mark.core

LAYER = "conv_a"  # 8 channels, with a non-linear head (conv_b, ReLU, pooling, Dense) after it


@pytest.fixture(scope="module")
def sequential():
    """The Sequential test model explained at conv_a; ``head`` maps A to the logits."""
    model = builders.sequential_dense_softmax()
    get = model.get_layer
    features = keras.Model(model.inputs[0], get(LAYER).output)

    def head(a):  # keras.ops, so that the Ablation-CAM reference runs on every backend
        dense = get("probs")
        pooled = run_layers([get("conv_b"), get("pool"), get("flat")], a)
        return keras.ops.convert_to_numpy(keras.ops.matmul(pooled, dense.kernel) + dense.bias)

    return model, features, head


def _ablation_cam(features, head, x, class_id, kept=None):
    """Desai and Ramaswamy's weights by hand: each channel zeroed, the head rerun."""
    a = keras.ops.convert_to_numpy(features(x[np.newaxis]))
    channels = a.shape[-1]
    score = float(head(a)[0, class_id])
    kept = range(channels) if kept is None else kept
    weights = np.zeros(channels)
    for k in kept:
        ablated = a.copy()
        ablated[..., k] = 0.0
        weights[k] = (score - float(head(ablated)[0, class_id])) / score
    return unit(np.maximum((a[0].astype(np.float64) * weights).sum(axis=-1), 0))


def test_ablationcam_matches_the_head_rerun_on_each_ablated_channel(sequential):
    model, features, head = sequential
    x = builders.image(seed=51)
    every = ei.explain_prediction(
        model, x, top=2, layer=LAYER, method=AblationCAM(max_channels=None, batch_size=5)
    )
    for target in every.targets:
        expected = _ablation_cam(features, head, x, target.target)
        assert 0.05 < expected.mean() < 0.95, "the reference map should not be trivial"
        np.testing.assert_allclose(target.heatmap, expected, atol=1e-4)
    # max_channels: only the channels of largest spatial variance are ablated, others weigh 0.
    a = keras.ops.convert_to_numpy(features(x[np.newaxis]))[0]
    kept = np.argsort(a.var(axis=(0, 1)))[-3:]
    some = ei.explain_prediction(model, x, top=2, layer=LAYER, method=AblationCAM(max_channels=3))
    for target in some.targets:
        expected = _ablation_cam(features, head, x, target.target, kept)
        np.testing.assert_allclose(target.heatmap, expected, atol=1e-4)
    assert np.abs(some.targets[0].heatmap - every.targets[0].heatmap).max() > 1e-3


def test_ablationcam_with_aug_smoothing_is_the_mean_of_its_explained_copies(sequential):
    """The six copies' ablated runs are taken in one batch: each row must rerun its own copy."""
    model = sequential[0]
    x = builders.image(seed=55)
    method = AblationCAM(max_channels=3, batch_size=7)
    smoothed = ei.explain_prediction(
        model, x, targets=[1], layer=LAYER, method=attrs.evolve(method, smooth="aug")
    )
    maps = []
    for mirrored, factor in COPIES:
        copy = (x[:, ::-1] if mirrored else x) * factor
        heat = ei.explain_prediction(model, copy, targets=[1], layer=LAYER, method=method)
        maps.append(heat.targets[0].heatmap[:, ::-1] if mirrored else heat.targets[0].heatmap)
    np.testing.assert_allclose(smoothed.targets[0].heatmap, unit(np.mean(maps, 0)), atol=1e-5)


class _CountedDense(keras.layers.Dense):
    """A Dense layer that counts how often its ``call`` is traced or run."""

    calls = 0

    def call(self, inputs):
        _CountedDense.calls += 1
        return super().call(inputs)


def _wide_model(channels: int) -> keras.Model:
    keras.utils.set_random_seed(7)
    return keras.Sequential(
        [
            keras.Input((builders.SIZE, builders.SIZE, 3)),
            keras.layers.Rescaling(1 / 255.0),
            keras.layers.Conv2D(channels, 3, activation="relu", name="wide"),
            keras.layers.GlobalAveragePooling2D(),
            _CountedDense(builders.CLASSES, name="logits"),
        ]
    )


@pytest.mark.skipif(
    keras.backend.backend() == "torch", reason="PyTorch runs eagerly: every chunk is a call"
)
def test_ablationcam_traces_the_model_as_often_for_64_channels_as_for_8():
    x = builders.image(seed=52)
    counts = {}
    for channels in (8, 64):
        model = _wide_model(channels)
        _CountedDense.calls = 0
        expl = ei.explain_prediction(model, x, method=AblationCAM(max_channels=None, batch_size=8))
        counts[channels] = _CountedDense.calls
        assert expl.error is None and expl.targets[0].heatmap.max() == 1.0
    assert counts[8] == counts[64], counts


def _finer_cam(model, x, class_id, alpha, compared=None, count=None):
    """Grad-CAM of y_c - alpha * sum_s p_s y_s, by a GradientTape on the conv_b map."""
    get = model.get_layer
    features = keras.Model(model.inputs[0], get("conv_b").output)
    a = features(x[np.newaxis])
    logits = dense_logits(get("probs"), run_layers([get("pool"), get("flat")], a)).numpy()[0]
    if compared is None:
        distance = np.abs(logits - logits[class_id])
        distance[class_id] = np.inf
        compared = np.argsort(distance, kind="stable")[:count]
    p = np.exp(logits - logits.max())
    p = p[compared] / p[compared].sum()
    with tf.GradientTape() as tape:
        tape.watch(a)
        scores = dense_logits(get("probs"), run_layers([get("pool"), get("flat")], a))[0]
        difference = scores[class_id] - alpha * tf.reduce_sum(p * tf.gather(scores, compared))
    g = tape.gradient(difference, a)[0].numpy().astype(np.float64)
    a = a[0].numpy().astype(np.float64)
    return unit(np.maximum((a * g.mean(axis=(0, 1))).sum(axis=-1), 0))


@requires_tensorflow
@pytest.mark.parametrize(
    "method, compared, count",
    [
        (FinerCAM(), None, 3),
        (FinerCAM(alpha=0.6, comparison=1), None, 1),
        (FinerCAM(alpha=0.5, comparison=[3, 0]), [3, 0], None),
    ],
    ids=["default", "closest class", "given classes"],
)
def test_finercam_is_gradcam_of_the_score_difference(method, compared, count):
    model = builders.sequential_dense_softmax()
    x = builders.image(seed=53)
    expl = ei.explain_prediction(model, x, top=2, layer="conv_b", method=method)
    plain = ei.explain_prediction(model, x, top=2, layer="conv_b", method="gradcam")
    for target, gradcam in zip(expl.targets, plain.targets, strict=True):
        expected = _finer_cam(model, x, target.target, method.alpha, compared, count)
        np.testing.assert_allclose(target.heatmap, expected, atol=1e-4)
        assert np.abs(target.heatmap - gradcam.heatmap).max() > 1e-3, "nothing was compared"


def test_finercam_names_bad_options():
    with pytest.raises(TypeError, match=r"^alpha: expected a number >= 0.0, got str$"):
        FinerCAM(alpha="strong")
    with pytest.raises(TypeError, match=r"^comparison: expected None, an integer >= 1 or a"):
        FinerCAM(comparison=1.5)
    model = builders.sequential_dense_softmax()
    too_many = "comparison: expected at most 3 (the number of classes minus one), got 4"
    unknown = "comparison: expected class ids below the model's 4 classes, got (1, 4)"
    for method, message in [
        (FinerCAM(comparison=4), too_many),
        (FinerCAM(comparison=[1, 4]), unknown),
    ]:
        # Raised while the call is traced; str() leaves out the notes JAX adds to the error.
        with pytest.raises(ValueError) as caught:
            ei.explain_prediction(model, builders.image(), method=method)
        assert str(caught.value) == message


def _kernel_component(values: np.ndarray, gamma: float) -> np.ndarray:
    """KPCA-CAM by NumPy: RBF kernel of the positions, centred in feature space, eigh; the
    first component signed to correlate positively with the mean over channels, ReLU."""
    height, width, channels = values.shape
    flat = values.reshape(-1, channels).astype(np.float64)
    kernel = np.exp(-gamma * ((flat[:, None] - flat[None]) ** 2).sum(axis=-1))
    ones = np.full(kernel.shape, 1.0 / len(flat))
    centred = kernel - ones @ kernel - kernel @ ones + ones @ kernel @ ones
    eigenvalues, eigenvectors = np.linalg.eigh(centred)
    projection = eigenvectors[:, -1] * np.sqrt(eigenvalues[-1])
    if np.corrcoef(projection, flat.mean(axis=1))[0, 1] < 0:
        projection = -projection
    return unit(np.maximum(projection, 0).reshape(height, width))


@pytest.mark.parametrize("gamma", [None, 0.05])
def test_kpcacam_is_the_first_kernel_principal_component(gamma):
    model = builders.nested_sequential()  # explained inside the nested base, a 16x16 map
    x = builders.image(seed=54)
    expl = ei.explain_prediction(model, x, top=2, method=KPCACAM(gamma=gamma))
    assert expl.layer == "features/r2"
    rescaled = model.get_layer("rescale")(x[np.newaxis])
    a = keras.ops.convert_to_numpy(model.get_layer("features")(rescaled, training=False))[0]
    expected = _kernel_component(a, 1.0 / a.shape[-1] if gamma is None else gamma)
    assert 0.05 < expected.mean() < 0.95, "the reference map should not be trivial"
    for target in expl.targets:
        np.testing.assert_allclose(target.heatmap, expected, atol=1e-4)


def test_kpcacam_on_tiny_activations_is_their_linear_limit_eigencam():
    # An untrained MobileNetV2 ends in activations of about 1e-11: gamma d ~ 1e-23, where
    # exp(-gamma d) rounds to 1 and the kernel to a constant. The RBF kernel centred in feature
    # space is then 2 gamma times the centred Gram matrix: KPCA-CAM's map is Eigen-CAM's.
    a = np.random.default_rng(5).gamma(2.0, 1.0, (2, 7, 7, 64)).astype("float32")
    tiny = keras.ops.convert_to_numpy(kernel_component(a * 1e-11))
    linear = keras.ops.convert_to_numpy(first_component(a))
    for ours, theirs in zip(tiny, linear, strict=True):
        assert 0.05 < unit(theirs).mean() < 0.95, "the reference map should not be trivial"
        np.testing.assert_allclose(unit(ours), unit(theirs), atol=1e-3)


def test_kpcacam_names_a_bad_gamma():
    with pytest.raises(ValueError, match=r"^gamma: expected None or a number > 0, got 0$"):
        KPCACAM(gamma=0)
    with pytest.raises(TypeError, match=r"^gamma: expected None or a number > 0, got str$"):
        KPCACAM(gamma="scale")
