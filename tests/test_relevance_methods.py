"""DeepLIFT (rescale rule) and LRP (epsilon, z_plus, alpha_beta, composites) against an
independent NumPy computation: every layer of a tiny model written out as a matrix (the
convolutions built from their kernels by loops), the rules applied layer by layer."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

import explainimg as ei
from explainimg.engine.derivatives import derivative_of
from explainimg.errors import ExplanationError
from explainimg.methods import LRP, DeepLIFT

pytestmark = pytest.mark.core

SIZE, CHANNELS, CLASSES = 6, 2, 3


def _model(bias: bool = True, norm: bool = True) -> keras.Model:
    """Conv -> (BatchNorm) -> ReLU -> Conv(relu) -> GAP -> Dense(softmax), healthy weights."""
    keras.utils.set_random_seed(3)
    inputs = keras.Input((SIZE, SIZE, CHANNELS))
    x = layers.Conv2D(3, 3, padding="same", use_bias=bias, name="c1")(inputs)
    if norm:
        x = layers.BatchNormalization(name="bn")(x)
    x = layers.ReLU(name="r1")(x)
    x = layers.Conv2D(4, 3, activation="relu", use_bias=bias, name="c2")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = layers.Dense(CLASSES, activation="softmax", use_bias=bias, name="head")(x)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(0)
    for layer in model.layers:
        weights = layer.get_weights()
        if isinstance(layer, layers.BatchNormalization):
            gamma, beta = rng.uniform(0.5, 1.5, 3), rng.normal(0, 0.3, 3)
            mean, variance = rng.normal(0, 0.3, 3), rng.uniform(0.5, 2.0, 3)
            layer.set_weights([gamma, beta, mean, variance])
        elif weights:
            layer.set_weights([rng.normal(0, 0.6, w.shape).astype("float32") for w in weights])
    return model


def _conv_matrix(kernel: np.ndarray, size: int, same: bool) -> np.ndarray:
    """The (out positions x filters, in positions x channels) matrix of a stride-1 conv."""
    kh, kw, channels, filters = kernel.shape
    pad = kh // 2 if same else 0
    out = size if same else size - kh + 1
    matrix = np.zeros((out, out, filters, size, size, channels))
    for i in range(out):
        for j in range(out):
            for di in range(kh):
                for dj in range(kw):
                    r, c = i + di - pad, j + dj - pad
                    if 0 <= r < size and 0 <= c < size:
                        matrix[i, j, :, r, c, :] = kernel[di, dj].T
    return matrix.reshape(out * out * filters, size * size * channels)


def _layers(model: keras.Model) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """The model as (kind, matrix or scale, bias): affine maps and elementwise ReLUs."""
    get = {layer.name: layer.get_weights() for layer in model.layers}
    bias = "c1" in get and len(get["c1"]) == 2
    zero = np.zeros
    c1 = get["c1"]
    steps = [
        ("linear", _conv_matrix(c1[0], SIZE, True), np.tile(c1[1] if bias else zero(3), SIZE**2))
    ]
    if "bn" in get:
        gamma, beta, mean, variance = get["bn"]
        scale = gamma / np.sqrt(variance + 1e-3)
        steps.append(
            ("affine", np.tile(scale, SIZE * SIZE), np.tile(beta - mean * scale, SIZE * SIZE))
        )
    steps.append(("relu", None, None))
    c2 = get["c2"]
    out = SIZE - 2
    steps.append(
        ("linear", _conv_matrix(c2[0], SIZE, False), np.tile(c2[1] if bias else zero(4), out**2))
    )
    steps.append(("relu", None, None))
    gap = np.tile(np.eye(4), out * out) / out**2
    steps.append(("pool", gap, zero(4)))
    head = get["head"]
    steps.append(("linear", head[0].T, head[1] if bias else zero(CLASSES)))
    return steps


def _forward(steps: list, x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """(input, output) of every step, float64."""
    values, a = [], x.reshape(-1).astype(np.float64)
    for kind, matrix, bias in steps:
        if kind == "relu":
            out = np.maximum(a, 0)
        elif kind == "affine":
            out = matrix * a + bias
        else:
            out = matrix @ a + bias
        values.append((a, out))
        a = out
    return values


def _deeplift(steps: list, x: np.ndarray, baseline: float, target: int) -> np.ndarray:
    forward = _forward(steps, x)
    reference = _forward(steps, np.full_like(x, baseline))
    gradient = np.eye(CLASSES)[target]
    for (kind, matrix, _), (z, y), (z_ref, y_ref) in zip(
        reversed(steps), reversed(forward), reversed(reference), strict=True
    ):
        if kind == "relu":
            delta = z - z_ref
            small = np.abs(delta) < 1e-6
            gradient = gradient * np.where(small, z > 0, (y - y_ref) / np.where(small, 1, delta))
        elif kind == "affine":
            gradient = gradient * matrix
        else:
            gradient = matrix.T @ gradient
    return ((x.reshape(-1) - baseline) * gradient).reshape(x.shape).sum(-1)


def _stabilised(z: np.ndarray, epsilon: float) -> np.ndarray:
    return z + epsilon * np.where(z >= 0, 1.0, -1.0)


def _alpha_beta(matrix, a, relevance, alpha, beta):
    up, down = np.maximum(matrix, 0), np.minimum(matrix, 0)
    ap, an = np.maximum(a, 0), np.minimum(a, 0)
    positive, negative = up @ ap + down @ an, down @ ap + up @ an
    ratio_p = np.divide(relevance, positive, out=np.zeros_like(positive), where=positive != 0)
    ratio_n = np.divide(relevance, negative, out=np.zeros_like(negative), where=negative != 0)
    kept = ap * (up.T @ ratio_p) + an * (down.T @ ratio_p)
    taken = ap * (down.T @ ratio_n) + an * (up.T @ ratio_n)
    return alpha * kept - beta * taken


def _lrp(steps: list, x: np.ndarray, target: int, rules: dict, epsilon: float) -> np.ndarray:
    """Relevance at the input; ``rules`` maps "conv"/"dense" to a rule name."""
    forward = _forward(steps, x)
    relevance = np.eye(CLASSES)[target] * forward[-1][1]
    for index, ((kind, matrix, _), (a, z)) in enumerate(
        zip(reversed(steps), reversed(forward), strict=True)
    ):
        if kind == "relu":
            continue  # relevance passes unchanged
        if kind == "affine":  # LRP-0 on y = s x + t: the shift takes its share
            per_unit = np.divide(relevance, z, out=np.zeros_like(z), where=z != 0)
            relevance = a * matrix * per_unit
            continue
        rule = "epsilon" if kind == "pool" else rules["dense" if index == 0 else "conv"]
        if rule == "epsilon":
            relevance = a * (matrix.T @ (relevance / _stabilised(z, epsilon)))
        else:
            alpha, beta = (1.0, 0.0) if rule == "z_plus" else (2.0, 1.0)
            relevance = _alpha_beta(matrix, a, relevance, alpha, beta)
    return relevance.reshape(x.shape).sum(-1)


def _explained(model, x, method, target):
    expl = ei.Explainer(model, method=method).explain_batch(x[np.newaxis], targets=[[target]])
    return expl[0].targets[0]


@pytest.fixture(scope="module")
def model() -> keras.Model:
    return _model()


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return np.random.default_rng(5).uniform(-1, 1, (SIZE, SIZE, CHANNELS)).astype(np.float32)


def test_deeplift_sums_to_the_score_difference_and_equals_the_rescale_rule(model, image):
    steps = _layers(model)
    for target, baseline in ((0, 0.0), (2, 0.5)):
        explained = _explained(model, image, DeepLIFT(baseline=baseline), target)
        reference = _explained(model, np.full_like(image, baseline), DeepLIFT(), target)
        delta = explained.score - reference.score
        assert abs(explained.attribution.sum() - delta) < 1e-3, (target, baseline)
        expected = _deeplift(steps, image, baseline, target)
        np.testing.assert_allclose(explained.attribution, expected, atol=1e-4)


def test_deeplift_takes_the_derivative_where_a_unit_equals_its_reference(model, image):
    # The left half is the baseline: units that see only it have Δz = 0 exactly, where the
    # rescale rule takes f'(z) (ReLU's, from its closed form for the ReLU layer and the
    # fused activation).
    half = image.copy()
    half[:, : SIZE // 2] = 0.5
    steps = _layers(model)
    z, z_ref = (_forward(steps, x)[2][0] for x in (half, np.full_like(half, 0.5)))
    assert (np.abs(z - z_ref) < 1e-6).sum() >= 6, "the case should occur"
    explained = _explained(model, half, DeepLIFT(baseline=0.5), 0)
    np.testing.assert_allclose(explained.attribution, _deeplift(steps, half, 0.5, 0), atol=1e-4)


@pytest.mark.parametrize("name", ["relu", "relu6", "sigmoid", "tanh"])
def test_closed_form_derivatives_equal_finite_differences(name):
    function = keras.activations.get(name)
    derivative = derivative_of(layers.Activation(name))
    z = np.linspace(-7.0, 7.0, 57).astype("float32")  # 0 and 6 are in it: the kinks
    step = 1e-3
    numeric = (np.asarray(function(z + step)) - np.asarray(function(z - step))) / (2 * step)
    ours = keras.ops.convert_to_numpy(derivative(z, function(z)))
    kinks = np.isin(z, {"relu": [0.0], "relu6": [0.0, 6.0]}.get(name, []))
    np.testing.assert_allclose(ours[~kinks], numeric[~kinks], atol=2e-3)
    assert (ours[kinks] == 0).all()  # the backends' gradient there


@pytest.mark.parametrize(
    ("rule", "rules"),
    [
        ("epsilon", {"conv": "epsilon", "dense": "epsilon"}),
        ("z_plus", {"conv": "z_plus", "dense": "z_plus"}),
        ("alpha_beta", {"conv": "alpha_beta", "dense": "alpha_beta"}),
        ({"Conv2D": "z_plus"}, {"conv": "z_plus", "dense": "epsilon"}),
    ],
)
def test_lrp_equals_the_rules_applied_layer_by_layer(model, image, rule, rules):
    epsilon = 0.01
    explained = _explained(model, image, LRP(rule=rule, epsilon=epsilon), 1)
    expected = _lrp(_layers(model), image, 1, rules, epsilon)
    scale = np.abs(expected).max()
    np.testing.assert_allclose(explained.attribution / scale, expected / scale, atol=1e-4)


def test_lrp_epsilon_conserves_the_score_without_biases(image):
    model = _model(bias=False, norm=False)
    explained = _explained(model, image, LRP(epsilon=1e-9), 0)
    assert abs(explained.attribution.sum() - explained.score) < 1e-4 * abs(explained.score)
    steps = _layers(model)
    # Layer by layer: each rule's input relevance adds up to its output relevance.
    forward = _forward(steps, image)
    relevance = np.eye(CLASSES)[0] * forward[-1][1]
    for (kind, matrix, _), (a, z) in zip(reversed(steps), reversed(forward), strict=True):
        if kind == "relu":
            continue
        passed = a * (matrix.T @ (relevance / _stabilised(z, 1e-9)))
        assert abs(passed.sum() - relevance.sum()) < 1e-6 * abs(relevance.sum())
        relevance = passed


def test_lrp_refuses_a_layer_without_a_rule(image):
    inputs = keras.Input((SIZE, SIZE, CHANNELS))
    x = layers.Conv2D(3, 3, name="conv")(inputs)
    x = layers.LayerNormalization(name="norm")(x)
    x = layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, layers.Dense(CLASSES, activation="softmax")(x))
    with pytest.raises(ExplanationError) as caught:
        _explained(model, image, "lrp", 0)
    assert "LRP has no rule for layer 'norm' (LayerNormalization)" in str(caught.value)


def test_bad_options_are_named():
    cases = [
        (
            lambda: LRP(rule="gamma"),
            "rule: expected one of 'epsilon', 'z_plus', 'alpha_beta', 'epsilon_plus' or a dict "
            "{layer type: one of 'epsilon', 'z_plus', 'alpha_beta'}, got 'gamma'",
        ),
        (
            lambda: LRP(rule={"Conv2D": "flat"}),
            "rule['Conv2D']: expected one of 'epsilon', 'z_plus', 'alpha_beta', 'epsilon_plus' "
            "or a dict {layer type: one of 'epsilon', 'z_plus', 'alpha_beta'}, got 'flat'",
        ),
        (
            lambda: LRP(rule="alpha_beta", alpha=3.0, beta=1.0),
            "alpha, beta: expected alpha - beta == 1 (the alpha_beta rule then conserves "
            "relevance), got alpha=3.0, beta=1.0",
        ),
        (lambda: LRP(epsilon=-1.0), "epsilon: expected a number >= 0, got -1.0"),
    ]
    for make, message in cases:
        with pytest.raises(ValueError) as caught:
            make()
        assert str(caught.value) == message
    with pytest.raises(TypeError) as caught:
        DeepLIFT(baseline="black")
    assert str(caught.value) == (
        "baseline: expected a number (the value of every baseline pixel), got str"
    )
    assert LRP(rule={"Conv2D": "z_plus"}) == LRP(rule={"Conv2D": "z_plus"})
