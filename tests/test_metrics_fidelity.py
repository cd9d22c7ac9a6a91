"""MuFidelity and infidelity (issue 23): each against a plain loop over model.predict with
the documented draws, Grad-CAM against a random map on the trained shapes model, a model
that ignores the image, and the named errors."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

import explainimg as ei
from explainimg import metrics
from explainimg.demo.shapes import make_shapes
from tests import builders

pytestmark = pytest.mark.core


def _with_heatmap(expl, heatmap, attribution=None):
    target = attrs.evolve(expl.targets[0], heatmap=heatmap, attribution=attribution)
    return attrs.evolve(expl, targets=[target])


def _case():
    model = builders.tiny_softmax(4, filters=6)
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 1, (8, 8, 3)).astype(np.float32)
    expl = _with_heatmap(ei.explain_prediction(model, x), rng.uniform(0, 1, (8, 8)))
    return model, x, expl, expl.targets[0].target


def _confidence(model, image, class_id):
    return float(model.predict(image[None], verbose=0)[0, class_id])


def _mufidelity_by_hand(model, x, values, class_id, *, samples, size, seed):
    generator = np.random.default_rng(seed)
    full = _confidence(model, x, class_id)
    sums, drops = [], []
    for _ in range(samples):
        subset = generator.permutation(64)[:size]
        removed = x.copy().reshape(64, 3)
        removed[subset] = 0.0
        drops.append(full - _confidence(model, removed.reshape(8, 8, 3), class_id))
        sums.append(values.ravel()[subset].sum())
    return np.corrcoef(sums, drops)[0, 1]


def test_mufidelity_is_the_correlation_of_subset_sums_and_drops():
    model, x, expl, class_id = _case()
    heat = expl.targets[0].heatmap.astype(np.float64)
    expected = _mufidelity_by_hand(model, x, heat, class_id, samples=20, size=16, seed=3)
    got = metrics.mufidelity(model, x, expl, samples=20, subset_size=16, seed=3, batch_size=7)
    assert got == pytest.approx(expected, abs=1e-5)  # float32 predict, batched or not


def test_infidelity_is_the_least_squares_residual_of_noisy_drops():
    model, x, expl, class_id = _case()
    heat = expl.targets[0].heatmap.astype(np.float64)
    generator = np.random.default_rng(5)
    full = _confidence(model, x, class_id)
    predicted, drops = [], []
    for _ in range(12):
        noise = generator.normal(0.0, 0.2, (8, 8, 3))
        drops.append(full - _confidence(model, (x - noise).astype(np.float32), class_id))
        predicted.append((noise * heat[..., None]).sum())
    predicted, drops = np.array(predicted), np.array(drops)
    (beta,), *_ = np.linalg.lstsq(predicted[:, None], drops, rcond=None)
    expected = np.mean((beta * predicted - drops) ** 2)
    got = metrics.infidelity(model, x, expl, samples=12, noise=0.2, seed=5, batch_size=5)
    assert got == pytest.approx(expected, rel=1e-5, abs=1e-12)


def test_a_signed_attribution_at_the_input_size_is_read_instead_of_the_heatmap():
    model, x, expl, class_id = _case()
    signed = np.random.default_rng(8).normal(0, 1, (8, 8))
    with_sign = _with_heatmap(expl, np.abs(signed) / np.abs(signed).max(), attribution=signed)
    expected = _mufidelity_by_hand(model, x, signed, class_id, samples=16, size=8, seed=1)
    got = metrics.mufidelity(model, x, with_sign, samples=16, subset_size=8, seed=1)
    assert got == pytest.approx(expected, abs=1e-5)  # float32 predict, batched or not
    coarse = _with_heatmap(expl, np.ones((2, 2)), attribution=np.ones((2, 2)))
    assert metrics.mufidelity(model, x, coarse, samples=16, subset_size=8, seed=1) == 0.0


def test_a_model_that_ignores_the_image_gives_zero_not_nan():
    flat = builders.ignoring_the_image()
    heatmap = np.random.default_rng(0).uniform(0, 1, (8, 8)).astype(np.float32)
    expl = ei.Explanation(
        "flat", "Grad-CAM", "", [ei.TargetExplanation(0, None, 0.0, 0.5, heatmap)]
    )
    x = np.ones((8, 8, 3), np.float32)
    assert metrics.mufidelity(flat, x, expl, samples=8) == 0.0
    assert metrics.infidelity(flat, x, expl, samples=8) == 0.0


def test_gradcam_is_more_faithful_than_a_random_map_on_the_shapes_model(shapes_model):
    data = make_shapes(12, seed=911)
    rng = np.random.default_rng(9)
    better_mu, better_inf = [], []
    for image, label in zip(data.images, data.labels, strict=True):
        expl = ei.explain_prediction(shapes_model, image, targets=[int(label)])
        random = _with_heatmap(expl, rng.random((16, 16)).astype(np.float32))
        mu = [metrics.mufidelity(shapes_model, image, e, samples=64) for e in (expl, random)]
        inf = [metrics.infidelity(shapes_model, image, e, samples=32) for e in (expl, random)]
        better_mu.append(mu[0] > mu[1])
        better_inf.append(inf[0] < inf[1])
    print(
        f"Grad-CAM beats a random map: MuFidelity {np.mean(better_mu):.2f}, "
        f"infidelity {np.mean(better_inf):.2f} of the images"
    )
    assert np.mean(better_mu) >= 0.75
    assert np.mean(better_inf) >= 0.75


def test_bad_arguments_are_named():
    model, x, expl, _ = _case()
    cases = [
        (
            lambda: metrics.mufidelity(model, x, expl, subset_size=64),
            "subset_size: expected an integer between 1 and 63 pixels, got 64",
        ),
        (
            lambda: metrics.mufidelity(model, x, expl, samples=0),
            "samples: expected a positive integer, got 0",
        ),
        (
            lambda: metrics.infidelity(model, x, expl, noise=-1.0),
            "noise: expected a positive number (the noise's standard deviation), got -1.0",
        ),
        (
            lambda: metrics.mufidelity(model, x, expl, baseline="grey"),
            "baseline: expected one of 'zeros', 'blur', 'mean' or a finite number, got 'grey'",
        ),
    ]
    for call, message in cases:
        with pytest.raises(ValueError) as error:
            call()
        assert str(error.value) == message
