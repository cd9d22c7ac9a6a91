"""The user's model and arrays are bit-identical after explaining (issue test 4)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import explainimg as ei
from tests import builders

pytestmark = pytest.mark.core

BUILDERS = {
    "sequential": builders.sequential_dense_softmax,
    "functional": builders.functional_activation_softmax,
    "nested": builders.nested_sequential,
    "nested functional": builders.nested_functional,
}


def _structure(model):
    return [
        (
            layer.name,
            type(layer).__name__,
            len(layer._inbound_nodes),
            layer.trainable,
            getattr(getattr(layer, "activation", None), "__name__", None),
        )
        for layer in model._flatten_layers(include_self=True, recursive=True)
    ]


@pytest.mark.parametrize("name", BUILDERS)
def test_weights_structure_and_input_unchanged(name):
    model = BUILDERS[name]()
    x = builders.image(seed=11)
    x_before = x.copy()
    weights = builders.weights_of(model)
    structure = _structure(model)
    prediction = model.predict(x[np.newaxis], verbose=0)

    ei.explain_prediction(model, x, top=3)
    ei.explain_prediction(model, x[np.newaxis], targets=[0, 1])
    ei.show_prediction(model, x, alpha_limit=1.0)

    assert x.tobytes() == x_before.tobytes()
    for old, new in zip(weights, builders.weights_of(model), strict=True):
        assert old.tobytes() == new.tobytes()
    assert _structure(model) == structure
    np.testing.assert_array_equal(model.predict(x[np.newaxis], verbose=0), prediction)


def test_pil_input_and_image_argument_are_not_modified():
    model = builders.sequential_dense_softmax()
    picture = Image.fromarray(builders.image(seed=12, size=50).astype(np.uint8))
    original = picture.copy()
    expl = ei.explain_prediction(model, picture, image=picture)
    assert picture.size == (50, 50)
    assert picture.tobytes() == original.tobytes()
    assert expl.image is picture
