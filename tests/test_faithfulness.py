"""On a model trained here, the heatmap peak lands on the object (issue test 2)."""

from __future__ import annotations

import numpy as np
import pytest

import explainimg as ei
from explainimg.demo.shapes import CLASS_NAMES, make_shapes

pytestmark = pytest.mark.core

HELD_OUT = 120
TOLERANCE_PX = 2  # half a heatmap cell: the 16x16 map covers 64x64 pixels


def _peak_in_pixels(heatmap: np.ndarray, size: int) -> tuple[float, float]:
    row, col = np.unravel_index(int(np.argmax(heatmap)), heatmap.shape)
    cell = size / heatmap.shape[0]
    return (row + 0.5) * cell, (col + 0.5) * cell


def test_heatmap_peak_lands_on_the_object_for_90_percent(shapes_model):
    data = make_shapes(HELD_OUT, seed=12345)
    hits = 0
    for image, label, (top, left, bottom, right) in zip(
        data.images, data.labels, data.boxes, strict=True
    ):
        expl = ei.explain_prediction(shapes_model, image, targets=[int(label)])
        y, x = _peak_in_pixels(expl.targets[0].heatmap, image.shape[0])
        hits += (top - TOLERANCE_PX <= y <= bottom + TOLERANCE_PX) and (
            left - TOLERANCE_PX <= x <= right + TOLERANCE_PX
        )
    assert hits / HELD_OUT >= 0.9, f"peak on the object for only {hits}/{HELD_OUT} images"


def test_more_heat_on_the_object_than_off_it(shapes_model):
    data = make_shapes(40, seed=777)
    for image, mask in zip(data.images, data.masks, strict=True):
        expl = ei.explain_prediction(shapes_model, image)
        heat = np.kron(expl.targets[0].heatmap, np.ones((4, 4)))  # 16x16 cells -> 64x64 pixels
        assert heat[mask].mean() > 3 * heat[~mask].mean()


def test_trained_model_predicts_and_names_the_shape(shapes_model):
    data = make_shapes(30, seed=4242)
    predicted = [
        ei.explain_prediction(shapes_model, image, target_names=CLASS_NAMES).targets[0]
        for image in data.images
    ]
    accuracy = np.mean([t.target == label for t, label in zip(predicted, data.labels, strict=True)])
    assert accuracy >= 0.9
    assert all(t.target_name == CLASS_NAMES[t.target] for t in predicted)
    assert all(0.0 <= t.proba <= 1.0 for t in predicted)
