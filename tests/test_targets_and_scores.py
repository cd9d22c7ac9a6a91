"""Targets, top-k, scores from logits and probabilities for every kind of output (issue test 7)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import explainimg as ei
from tests import builders

pytestmark = pytest.mark.core


def _logits_twin(model: keras.Model) -> keras.Model:
    """The same Sequential model with its last Dense's activation removed (a reference)."""
    config = model.get_config()
    config["layers"][-1]["config"]["activation"] = "linear"
    twin = keras.Sequential.from_config(config)
    twin.set_weights(model.get_weights())
    return twin


@pytest.fixture(scope="module")
def model() -> keras.Model:
    return builders.sequential_dense_softmax()


def test_targets_come_back_in_the_order_asked(model):
    x = builders.image(seed=2)
    expl = ei.explain_prediction(model, x, targets=[3, 0, 2])
    assert [t.target for t in expl.targets] == [3, 0, 2]
    single = {c: ei.explain_prediction(model, x, targets=[c]).targets[0] for c in (3, 0, 2)}
    for target in expl.targets:
        assert target == single[target.target]


def test_top_k_is_sorted_by_probability_and_matches_predict(model):
    x = builders.image(seed=3)
    probabilities = model.predict(x[np.newaxis], verbose=0)[0]
    logits = _logits_twin(model).predict(x[np.newaxis], verbose=0)[0]
    expl = ei.explain_prediction(model, x, top=3)
    assert [t.target for t in expl.targets] == list(np.argsort(-probabilities)[:3])
    for target in expl.targets:
        assert target.proba == pytest.approx(float(probabilities[target.target]), rel=1e-5)
        assert target.score == pytest.approx(float(logits[target.target]), rel=1e-4, abs=1e-5)
    everything = ei.explain_prediction(model, x, top=builders.CLASSES)
    assert sum(t.proba for t in everything.targets) == pytest.approx(1.0, abs=1e-5)
    assert ei.explain_prediction(model, x).targets[0] == expl.targets[0]


def test_single_int_target_and_numpy_ids(model):
    x = builders.image(seed=4)
    assert [t.target for t in ei.explain_prediction(model, x, targets=2).targets] == [2]
    assert [t.target for t in ei.explain_prediction(model, x, targets=np.array([1])).targets] == [1]


def test_target_names_from_list_and_dict(model):
    x = builders.image(seed=5)
    names = ["ant", "bee", "cat", "dog"]
    expl = ei.explain_prediction(model, x, targets=[2, 1], target_names=names)
    assert [t.target_name for t in expl.targets] == ["cat", "bee"]
    expl = ei.explain_prediction(model, x, targets=[2, 1], target_names={2: "cat"})
    assert [t.target_name for t in expl.targets] == ["cat", None]


def test_binary_sigmoid_has_two_classes():
    model = builders.with_head("sigmoid", 1)
    x = builders.image(seed=6)
    p = float(model.predict(x[np.newaxis], verbose=0)[0, 0])
    expl = ei.explain_prediction(model, x, top=2)
    assert [t.target for t in expl.targets] == ([1, 0] if p > 0.5 else [0, 1])
    assert {t.target: t.proba for t in expl.targets} == pytest.approx({0: 1 - p, 1: p}, rel=1e-5)
    assert not expl.is_regression


def test_multi_label_sigmoid_scores_are_logits():
    model = builders.with_head("sigmoid", 3)
    x = builders.image(seed=7)
    p = model.predict(x[np.newaxis], verbose=0)[0]
    expl = ei.explain_prediction(model, x, targets=[0, 1, 2])
    for target in expl.targets:
        assert target.proba == pytest.approx(float(p[target.target]), rel=1e-5)
        assert target.score == pytest.approx(
            float(np.log(p[target.target] / (1 - p[target.target]))), rel=1e-3
        )


def test_raw_scores_model_has_no_proba():
    model = builders.with_head(None, 3)
    x = builders.image(seed=8)
    out = model.predict(x[np.newaxis], verbose=0)[0]
    expl = ei.explain_prediction(model, x, top=3)
    assert [t.target for t in expl.targets] == list(np.argsort(-out))
    assert all(t.proba is None for t in expl.targets)
    assert [t.score for t in expl.targets] == pytest.approx(sorted(out, reverse=True), rel=1e-5)
    assert not expl.is_regression


def test_regression_model():
    model = builders.with_head(None, 1)
    x = builders.image(seed=9)
    out = float(model.predict(x[np.newaxis], verbose=0)[0, 0])
    expl = ei.explain_prediction(model, x)
    assert expl.is_regression
    assert [(t.target, t.proba) for t in expl.targets] == [(0, None)]
    assert expl.targets[0].score == pytest.approx(out, rel=1e-5)
    with pytest.raises(ValueError, match=r"^targets: expected class ids between 0 and 0"):
        ei.explain_prediction(model, x, targets=[1])


def test_all_zero_map_stays_zero_without_nan_or_warnings():
    dead = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(4, 3, activation="relu", kernel_initializer="zeros", name="dead"),
            keras.layers.Flatten(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    with np.errstate(all="raise"):
        expl = ei.explain_prediction(dead, np.ones((8, 8, 3)), top=2)
    for target in expl.targets:
        assert target.heatmap.shape == (6, 6)
        assert not target.heatmap.any()
        assert np.isfinite(target.heatmap).all()


def test_non_finite_model_output_is_an_error_not_nan():
    exploding = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(
                2, 3, name="conv", kernel_initializer=keras.initializers.Constant(1e38)
            ),
            keras.layers.Flatten(),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    with pytest.raises(ei.ExplanationError, match="non-finite values"):
        ei.explain_prediction(exploding, np.full((8, 8, 3), 1e3))


def test_heatmaps_are_float32_in_unit_range(model):
    expl = ei.explain_prediction(model, builders.image(seed=10), top=4)
    for target in expl.targets:
        assert target.heatmap.dtype == np.float32
        assert target.heatmap.min() >= 0.0 and target.heatmap.max() <= 1.0
        assert target.heatmap.max() in (0.0, 1.0)
