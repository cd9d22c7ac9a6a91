"""ROAD (issue 23): the noisy linear imputation against a dense solve of the paper's linear
system, the curve against predict on images imputed by hand, Grad-CAM against a random map
on the trained shapes model, and the named errors."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

import explainimg as ei
from explainimg import metrics
from explainimg.demo.shapes import make_shapes
from tests import builders

pytestmark = pytest.mark.core

WEIGHTS = {(-1, 0): 1 / 6, (1, 0): 1 / 6, (0, -1): 1 / 6, (0, 1): 1 / 6}
WEIGHTS |= {(dy, dx): 1 / 12 for dy in (-1, 1) for dx in (-1, 1)}


def _dense_imputation(image, removed):
    """Rong et al.'s system, one equation per removed pixel i of each channel:
    sum_n w_n (x_i - x_n) = 0 over its neighbours n inside the image, known x_n fixed."""
    height, width, channels = image.shape
    unknown = [(y, x) for y in range(height) for x in range(width) if removed[y, x]]
    index = {pixel: k for k, pixel in enumerate(unknown)}
    filled = image.astype(np.float64).copy()
    for c in range(channels):
        a = np.zeros((len(unknown), len(unknown)))
        b = np.zeros(len(unknown))
        for k, (y, x) in enumerate(unknown):
            for (dy, dx), w in WEIGHTS.items():
                ny, nx = y + dy, x + dx
                if 0 <= ny < height and 0 <= nx < width:
                    a[k, k] += w
                    if (ny, nx) in index:
                        a[k, index[(ny, nx)]] -= w
                    else:
                        b[k] += w * image[ny, nx, c]
        for (y, x), value in zip(unknown, np.linalg.solve(a, b), strict=True):
            filled[y, x, c] = value
    return filled


def test_the_imputation_solves_the_papers_linear_system():
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 1, (7, 6, 2))
    for share in (0.2, 0.6, 0.95):
        removed = rng.random((7, 6)) < share
        got = metrics.impute(image, removed, noise=0.0)
        np.testing.assert_allclose(got, _dense_imputation(image, removed), atol=1e-10)
        np.testing.assert_array_equal(got[~removed], image[~removed])


def test_the_noise_is_added_to_the_imputed_pixels_only():
    rng = np.random.default_rng(1)
    image = rng.uniform(0, 1, (20, 20, 3))
    removed = rng.random((20, 20)) < 0.5
    noisy = metrics.impute(image, removed, noise=0.05, seed=3)
    plain = metrics.impute(image, removed, noise=0.0)
    np.testing.assert_array_equal(noisy[~removed], image[~removed])
    assert np.std(noisy[removed] - plain[removed]) == pytest.approx(0.05, rel=0.1)


def _case():
    model = builders.tiny_softmax(6, filters=6)
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 1, (8, 8, 3)).astype(np.float32)
    expl = ei.explain_prediction(model, x)
    heat = rng.uniform(0, 1, (8, 8)).astype(np.float32)  # distinct values: no ties to break
    expl = attrs.evolve(expl, targets=[attrs.evolve(expl.targets[0], heatmap=heat)])
    return model, x, expl, heat


@pytest.mark.parametrize("order", ["morf", "lerf"])
def test_the_curve_is_the_confidence_on_images_imputed_by_hand(order):
    model, x, expl, heat = _case()
    class_id = expl.targets[0].target
    hottest_first = np.argsort(-heat.ravel())
    ranked = hottest_first if order == "morf" else hottest_first[::-1]
    fractions = [0.25, 0.5, 0.75]
    expected = []
    for fraction in fractions:
        removed = np.zeros(64, bool)
        removed[ranked[: round(fraction * 64)]] = True
        filled = _dense_imputation(x, removed.reshape(8, 8)).astype(np.float32)
        expected.append(model.predict(filled[None], verbose=0)[0, class_id])
    curve = metrics.road(model, x, expl, order=order, fractions=fractions, noise=0.0)
    assert curve.kind == f"road-{order}"
    np.testing.assert_allclose(curve.values, expected, atol=1e-5)
    assert curve.auc == pytest.approx(
        metrics.auc(np.array(fractions), np.array(expected)), abs=1e-5
    )


def test_gradcam_beats_a_random_map_on_road_on_the_shapes_model(shapes_model):
    data = make_shapes(50, seed=914)
    rng = np.random.default_rng(10)
    wins = []
    for image, label in zip(data.images, data.labels, strict=True):
        expl = ei.explain_prediction(shapes_model, image, targets=[int(label)])
        heat = rng.random((16, 16)).astype(np.float32)
        random = attrs.evolve(expl, targets=[attrs.evolve(expl.targets[0], heatmap=heat)])
        ours, theirs = (metrics.road(shapes_model, image, e).auc for e in (expl, random))
        wins.append(ours < theirs)
    print(f"Grad-CAM's ROAD MoRF AUC is below a random map's on {np.mean(wins):.2f} of the images")
    assert np.mean(wins) >= 0.9


def test_without_scipy_the_error_says_what_to_install(monkeypatch):
    from explainimg.metrics import remove_and_debias as road

    real = road.importlib.util.find_spec
    monkeypatch.setattr(
        road.importlib.util, "find_spec", lambda name: None if name == "scipy" else real(name)
    )
    with pytest.raises(ImportError) as error:
        metrics.impute(np.zeros((4, 4, 1)), np.eye(4, dtype=bool), noise=0.0)
    assert str(error.value) == (
        "road: the imputation solves a sparse linear system with SciPy, which is not "
        'installed: pip install "explainimg[metrics]" (or pip install scipy)'
    )


def test_bad_arguments_are_named():
    model, x, expl, _ = _case()
    expected = "at least 2 increasing fractions strictly between 0 and 1"
    cases = [
        (
            lambda: metrics.road(model, x, expl, order="best"),
            "order: expected 'morf' or 'lerf', got 'best'",
        ),
        (
            lambda: metrics.road(model, x, expl, fractions=[0.5, 0.2]),
            f"fractions: expected {expected}, got [0.5, 0.2]",
        ),
        (
            lambda: metrics.road(model, x, expl, fractions=[0.0, 0.5]),
            f"fractions: expected {expected}, got [0.0, 0.5]",
        ),
        (
            lambda: metrics.road(model, x, expl, fractions=[0.5, 1.0]),
            f"fractions: expected {expected}, got [0.5, 1.0]",
        ),
        (
            lambda: metrics.road(model, x, expl, noise=-1.0),
            "noise: expected a number >= 0 (the imputation noise's std), got -1.0",
        ),
    ]
    for call, message in cases:
        with pytest.raises(ValueError) as error:
            call()
        assert str(error.value) == message
