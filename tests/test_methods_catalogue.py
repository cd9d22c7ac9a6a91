"""The peers' catalogue (issue 21, first part): each method equals its paper's formula,
computed here independently with NumPy and a GradientTape, to 1e-4."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import explainimg as ei
from explainimg.explanation import TargetExplanation
from explainimg.methods import EigenCAM, SquareGrad, VarGrad
from explainimg.methods.smoothgrad import standard_noise
from explainimg.pipeline.heatmap_shards import read_attributions, read_heatmaps
from explainimg.pipeline.run_outputs import Finished, HeatmapShards
from tests import builders
from tests.reference import (
    dense_logits,
    layer_and_gradients,
    principal_projection,
    requires_tensorflow,
    unit,
)

pytestmark = pytest.mark.core

CLASS = 2


@pytest.fixture(scope="module")
def residual():
    """A functional model with a residual block; head = GAP + logits Dense (+ softmax)."""
    model = builders.functional_activation_softmax()
    get = model.get_layer
    return model, "block_out", lambda a: get("logits")(get("gap")(a))


def _xgradcam(a: np.ndarray, g: np.ndarray) -> np.ndarray:
    weights = (g * a).sum(axis=(0, 1)) / a.sum(axis=(0, 1))
    return unit(np.maximum((a * weights).sum(axis=-1), 0))


CAM_FORMULAS = {
    "hirescam": lambda a, g: unit(np.maximum((g * a).sum(axis=-1), 0)),
    "xgradcam": _xgradcam,
    "gradcam_elementwise": lambda a, g: unit(np.maximum(g * a, 0).sum(axis=-1)),
    "eigencam": lambda a, g: principal_projection(a),
    "eigengradcam": lambda a, g: principal_projection(g * a),
}


@requires_tensorflow
@pytest.mark.parametrize("key", CAM_FORMULAS)
def test_cam_methods_match_their_formulas(residual, key):
    model, layer, head = residual
    x = builders.image(seed=41)
    expl = ei.explain_prediction(model, x, top=builders.CLASSES, method=key)
    assert expl.layer == layer
    varied = 0
    for target in expl.targets:
        a, g = layer_and_gradients(model, layer, head, x, target.target)
        expected = CAM_FORMULAS[key](a, g)
        varied += int(0.05 < expected.mean() < 0.95)
        np.testing.assert_allclose(target.heatmap, expected, atol=1e-4, err_msg=key)
        assert target.attribution is None
    assert varied >= 2, f"{key}: the reference maps should not be trivial"


def test_eigencam_is_one_map_for_every_target(residual):
    model, layer, _ = residual
    expl = ei.explain_prediction(model, builders.image(seed=42), top=3, method=EigenCAM())
    assert expl.layer == layer and expl.targets[0].heatmap.max() == 1.0
    for target in expl.targets[1:]:
        np.testing.assert_array_equal(target.heatmap, expl.targets[0].heatmap)


def _conv(layer, inputs, padding="VALID"):
    return tf.nn.conv2d(inputs, layer.kernel, 1, padding) + layer.bias


def _relu_with(gradient_rule):
    @tf.custom_gradient
    def relu(z):
        def gradient(upstream):
            return gradient_rule(upstream, z)

        return tf.nn.relu(z), gradient

    return relu


RELU_RULES = {
    "guided_backprop": lambda up, z: tf.nn.relu(up) * tf.cast(z > 0, z.dtype),
    "deconvnet": lambda up, z: tf.nn.relu(up),
    None: lambda up, z: up * tf.cast(z > 0, z.dtype),
}


def _sequential_score(model, batch, relu):
    """The logit of CLASS of the Sequential test model (fused ReLUs), written out."""
    get = model.get_layer
    a = relu(_conv(get("conv_b"), relu(_conv(get("conv_a"), get("rescale")(batch)))))
    return dense_logits(get("probs"), get("flat")(get("pool")(a)))[:, CLASS]


def _nested_score(model, batch, relu):
    """The logit of CLASS of the nested test model (ReLU layers after BatchNorm)."""
    base, get = model.get_layer("features"), model.get_layer
    x = get("rescale")(batch)
    x = relu(base.get_layer("bn1")(_conv(base.get_layer("c1"), x, "SAME"), training=False))
    x = base.get_layer("p1")(x)
    x = relu(base.get_layer("bn2")(_conv(base.get_layer("c2"), x, "SAME"), training=False))
    return dense_logits(get("probs"), get("gap")(x))[:, CLASS]


MODELS = {
    "fused ReLUs": (builders.sequential_dense_softmax, _sequential_score),
    "ReLU layers": (builders.nested_sequential, _nested_score),
}


def _gradients(score, model, images: np.ndarray, rule=None) -> np.ndarray:
    batch = tf.constant(images, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(batch)
        total = tf.reduce_sum(score(model, batch, _relu_with(RELU_RULES[rule])))
    return tape.gradient(total, batch).numpy().astype(np.float64)


def _min_max(values: np.ndarray) -> np.ndarray:
    low, high = values.min(), values.max()
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


def _close(actual: np.ndarray, expected: np.ndarray, what: str) -> None:
    """Equal to 1e-4 of the largest expected value (attributions are small numbers)."""
    scale = float(np.abs(expected).max())
    assert scale > 0, f"{what}: a zero reference proves nothing"
    np.testing.assert_allclose(actual, expected, atol=1e-4 * scale, err_msg=what)


@requires_tensorflow
@pytest.mark.parametrize("model_kind", MODELS)
@pytest.mark.parametrize("key", ["guided_backprop", "deconvnet"])
def test_relu_rules_match_gradients_written_by_hand(key, model_kind):
    build, score = MODELS[model_kind]
    model = build()
    x = builders.image(seed=43)
    gradients = _gradients(score, model, x[np.newaxis], key)[0]
    expl = ei.explain_prediction(model, x, targets=[CLASS], method=key)
    target = expl.targets[0]
    _close(target.attribution, gradients.sum(axis=-1), f"{key} attribution")
    np.testing.assert_allclose(target.heatmap, _min_max(np.abs(gradients).max(axis=-1)), atol=1e-4)
    plain = _gradients(score, model, x[np.newaxis])[0]
    assert np.abs(gradients - plain).max() > 1e-3 * np.abs(plain).max(), "the rule changed nothing"


@requires_tensorflow
def test_input_x_gradient_matches_the_formula():
    model = builders.sequential_dense_softmax()
    x = builders.image(seed=44)
    attributions = x * _gradients(_sequential_score, model, x[np.newaxis])[0]
    expl = ei.explain_prediction(model, x, targets=[CLASS], method="input_x_gradient")
    target = expl.targets[0]
    _close(target.attribution, attributions.sum(axis=-1), "input x gradient attribution")
    np.testing.assert_allclose(target.heatmap, unit(np.abs(attributions).sum(axis=-1)), atol=1e-4)


@requires_tensorflow
@pytest.mark.parametrize(
    "method, aggregate",
    [
        (VarGrad(samples=6, noise=0.2, seed=3), lambda g: g.var(axis=0)),
        (SquareGrad(samples=6, noise=0.2, seed=3), lambda g: (g**2).mean(axis=0)),
    ],
    ids=["vargrad", "squaregrad"],
)
def test_noise_methods_aggregate_smoothgrads_noisy_gradients(method, aggregate):
    model = builders.sequential_dense_softmax()
    x = builders.image(seed=45)
    draws = standard_noise(3, 6, x.shape).astype(np.float64)
    noisy = x + draws * 0.2 * (x.max() - x.min())
    gradients = _gradients(_sequential_score, model, noisy.astype(np.float32))
    expected = _min_max(np.abs(aggregate(gradients)).max(axis=-1))
    expl = ei.explain_prediction(model, x, targets=[CLASS], method=method)
    np.testing.assert_allclose(expl.targets[0].heatmap, expected, atol=1e-4)
    assert expl.targets[0].attribution is None


def test_integrated_gradients_attribution_adds_up_to_the_score_difference():
    model = builders.sequential_dense_softmax()
    x = builders.image(seed=46)
    method = ei.methods.IntegratedGradients(steps=16)
    expl = ei.explain_prediction(model, x, targets=[CLASS], method=method)
    at_baseline = ei.explain_prediction(model, np.zeros_like(x), targets=[CLASS], method=method)
    difference = expl.targets[0].score - at_baseline.targets[0].score
    assert abs(difference) > 0.02
    assert float(expl.targets[0].attribution.sum()) == pytest.approx(difference, rel=5e-2)


def test_signed_attributions_travel_in_dicts_and_shards(tmp_path):
    model = builders.sequential_dense_softmax()
    images = np.stack([builders.image(seed=47), builders.image(seed=48)])
    signed = ei.Explainer(model, method="input_x_gradient").explain_batch(images, top=2)
    unsigned = ei.explain_prediction(model, images[0], top=1, method="hirescam")
    attribution = signed[0].targets[1].attribution
    assert attribution.shape == (32, 32) and attribution.dtype == np.float32
    assert attribution.min() < 0 < attribution.max()

    data = ei.format_as_dict(signed[0])
    assert data["targets"][1]["attribution"] == attribution.tolist()
    assert ei.formatters.as_dict.explanation_from_dict(data) == signed[0]
    assert ei.format_as_dict(unsigned)["targets"][0]["attribution"] is None
    del data["targets"][0]["attribution"]  # a dict from before signed maps: None
    assert ei.formatters.as_dict.explanation_from_dict(data).targets[0].attribution is None

    shards = HeatmapShards(tmp_path / "signed")
    paths = [tmp_path / "a.png", tmp_path / "b.png"]
    shards.add_batch(0, [Finished(i, paths[i], expl, None) for i, expl in enumerate(signed)])
    read = list(read_attributions(tmp_path / "signed"))
    assert [file for file, _, _ in read] == [str(p) for p in paths]
    for (_, targets, values), expl in zip(read, signed, strict=True):
        assert targets.tolist() == [t.target for t in expl.targets]
        np.testing.assert_array_equal(values, [t.attribution for t in expl.targets])
    HeatmapShards(tmp_path / "unsigned").add_batch(0, [Finished(0, paths[0], unsigned, None)])
    assert list(read_attributions(tmp_path / "unsigned")) == []
    assert len(list(read_heatmaps(tmp_path / "unsigned"))) == 1


def test_a_bad_attribution_is_refused_by_name():
    heat = np.zeros((2, 2), "float32")
    with pytest.raises(ValueError) as caught:
        TargetExplanation(1, None, 1.0, None, heat, attribution=np.array([1.0, np.nan]))
    assert str(caught.value) == (
        "attribution: expected None or a non-empty 2-D array of finite values, got shape (2,)"
    )
    with pytest.raises(ValueError) as caught:
        TargetExplanation(1, None, 1.0, None, heat, attribution=np.full((2, 2), np.inf))
    assert str(caught.value) == (
        "attribution: expected None or a non-empty 2-D array of finite values, "
        "got an array containing NaN or inf"
    )


def test_deconvnet_leaves_fused_activations_and_calls_as_they_were():
    model = builders.sequential_dense_softmax()
    x = builders.image(seed=49)
    before = {layer.name: dict(vars(layer)) for layer in model.layers}
    expected = model.predict(x[np.newaxis], verbose=0)
    ei.explain_prediction(model, x, top=2, method="deconvnet")
    for layer in model.layers:
        assert "call" not in vars(layer), layer.name
        assert vars(layer).get("activation") is before[layer.name].get("activation"), layer.name
    np.testing.assert_array_equal(model.predict(x[np.newaxis], verbose=0), expected)
