"""Grad-CAM equals the independent reference on every kind of model (issue test 1)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import explainimg as ei
from tests import builders
from tests.reference import dense_logits, reference_gradcam, run_layers


def _case_sequential_dense_softmax():
    model = builders.sequential_dense_softmax()
    get = model.get_layer
    features = lambda b: run_layers([get("rescale"), get("conv_a"), get("conv_b")], b)  # noqa: E731
    head = lambda a: dense_logits(get("probs"), get("flat")(get("pool")(a)))  # noqa: E731
    return model, None, "conv_b", features, head


def _case_functional_activation_softmax():
    model = builders.functional_activation_softmax()
    get = model.get_layer
    features = keras.Model(model.inputs, get("block_out").output)
    head = lambda a: get("logits")(get("gap")(a))  # noqa: E731
    return model, None, "block_out", features, head


def _case_functional_skip_connection_layer():
    """An earlier layer whose output feeds both the residual branch and the add."""
    model = builders.functional_activation_softmax()
    get = model.get_layer
    features = keras.Model(model.inputs, get("conv_a").output)
    head = lambda a: get("logits")(  # noqa: E731
        get("gap")(get("block_out")(get("add")([a, get("conv_b")(a)])))
    )
    return model, "conv_a", "conv_a", features, head


def _case_functional_softmax_layer():
    model = builders.functional_softmax_layer()
    get = model.get_layer
    pooling = next(x for x in model.layers if isinstance(x, keras.layers.GlobalMaxPooling2D))
    features = keras.Model(model.inputs, get("conv").output)
    head = lambda a: get("logits")(pooling(a))  # noqa: E731
    return model, None, "conv", features, head


def _nested_case(builder, layer, path):
    model = builder()
    base = model.get_layer("features")
    rescale = model.get_layer("rescale")
    probs, gap = model.get_layer("probs"), model.get_layer("gap")
    if layer is None:
        features = lambda b: base(rescale(b))  # noqa: E731
        head = lambda a: dense_logits(probs, gap(a))  # noqa: E731
    else:
        inner = keras.Model(base.inputs, base.get_layer("c2").output)
        features = lambda b: inner(rescale(b))  # noqa: E731
        head = lambda a: dense_logits(  # noqa: E731
            probs, gap(run_layers([base.get_layer("bn2"), base.get_layer("r2")], a))
        )
    return model, layer, path, features, head


CASES = {
    "sequential, softmax in Dense": _case_sequential_dense_softmax,
    "functional, separate softmax Activation": _case_functional_activation_softmax,
    "functional, layer with a skip connection": _case_functional_skip_connection_layer,
    "functional, Softmax layer": _case_functional_softmax_layer,
    "nested Sequential (transfer learning)": lambda: _nested_case(
        builders.nested_sequential, None, "features/r2"
    ),
    "nested functional (transfer learning)": lambda: _nested_case(
        builders.nested_functional, None, "features/r2"
    ),
    "nested, inner layer by path": lambda: _nested_case(
        builders.nested_sequential, "features/c2", "features/c2"
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_gradcam_matches_reference_for_every_class(case):
    model, layer, expected_path, features, head = CASES[case]()
    x = builders.image(seed=7)
    expl = ei.explain_prediction(model, x, top=builders.CLASSES, layer=layer)
    assert expl.layer == expected_path
    assert sorted(t.target for t in expl.targets) == list(range(builders.CLASSES))
    non_trivial = 0
    for target in expl.targets:
        heatmap, score = reference_gradcam(features, head, x, target.target)
        non_trivial += int(0 < heatmap.mean() < 1)
        assert target.heatmap.dtype == np.float32
        np.testing.assert_allclose(target.heatmap, heatmap, atol=1e-5)
        assert target.score == pytest.approx(score, rel=1e-5, abs=1e-6)
    assert non_trivial >= 2, "the reference maps should not be trivial for this case"


def test_binary_sigmoid_class_0_is_the_negated_logit():
    model = builders.with_head("sigmoid", 1)
    x = builders.image(seed=3)
    get = model.get_layer
    features = keras.Model(model.inputs, get("conv").output)
    gap = model.layers[2]
    logit = lambda a: dense_logits(get("head"), gap(a))  # noqa: E731
    both = lambda a: tf.concat([-logit(a), logit(a)], axis=-1)  # noqa: E731
    expl = ei.explain_prediction(model, x, targets=[0, 1])
    p = float(model.predict(x[np.newaxis], verbose=0)[0, 0])
    for target, proba in zip(expl.targets, (1 - p, p), strict=True):
        heatmap, score = reference_gradcam(features, both, x, target.target)
        np.testing.assert_allclose(target.heatmap, heatmap, atol=1e-5)
        assert target.score == pytest.approx(score, rel=1e-5)
        assert target.proba == pytest.approx(proba, rel=1e-5)
    assert expl.targets[0].score == pytest.approx(-expl.targets[1].score)
