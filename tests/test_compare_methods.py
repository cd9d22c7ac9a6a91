"""compare_methods: one figure, rows = targets, columns = methods, each panel the overlay that
format_as_image draws for that method and target."""

from __future__ import annotations

import numpy as np
import pytest

import explainimg as ei
from explainimg.methods import SmoothGrad
from tests import builders

pytestmark = pytest.mark.core


@pytest.fixture(scope="module")
def model():
    return builders.sequential_dense_softmax()


def test_each_panel_is_the_overlay_of_its_method_and_target(model):
    x = builders.image(seed=4)
    methods = ["gradcam", "layercam", SmoothGrad(samples=4)]
    figure = ei.compare_methods(model, x, methods=methods, top=2, target_names=list("abcd"))
    grid = np.array(figure.axes[:-1]).reshape(2, 4)  # the last axes hold the colour bar
    assert [ax.get_title() for ax in grid[0]] == ["input", "Grad-CAM", "LayerCAM", "SmoothGrad"]
    for col, method in enumerate(methods, start=1):
        expl = ei.explain_prediction(model, x, method=method, top=2, target_names=list("abcd"))
        for row in range(2):
            expected = np.asarray(ei.format_as_image(expl, target=row))
            np.testing.assert_array_equal(grid[row, col].images[0].get_array(), expected)
    labels = [ax.get_ylabel() for ax in grid[:, 0]]
    assert [label.split(" ")[1].rstrip(",") for label in labels] == [
        t.target_name for t in expl.targets
    ]
    assert figure._repr_png_().startswith(b"\x89PNG")


def test_layer_goes_only_to_the_methods_that_use_one(model):
    figure = ei.compare_methods(
        model, builders.image(seed=5), methods=["gradcam", "saliency"], layer="conv_a"
    )
    gradcam = ei.explain_prediction(model, builders.image(seed=5), layer="conv_a")
    np.testing.assert_array_equal(
        figure.axes[1].images[0].get_array(), np.asarray(ei.format_as_image(gradcam))
    )


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        (dict(methods="gradcam"), TypeError,
         "methods: expected a non-empty list of method keys or methods, got str"),
        (dict(methods=[]), TypeError,
         "methods: expected a non-empty list of method keys or methods, got list"),
        (dict(methods=["gradcam", "magic"]), ValueError, "method: expected one of 'gradcam'"),
        (dict(method="gradcam"), TypeError,
         "compare_methods() got unexpected keyword argument(s) method;"),
    ],
)  # fmt: skip
def test_bad_arguments_are_named(model, options, error, message):
    with pytest.raises(error) as caught:
        ei.compare_methods(model, builders.image(seed=1), **options)
    assert str(caught.value).startswith(message)


def test_explanations_of_different_classes_are_refused(model):
    x = builders.image(seed=2)
    first = ei.explain_prediction(model, x, targets=[0])
    second = ei.explain_prediction(model, x, targets=[1], method="layercam")
    with pytest.raises(ValueError) as caught:
        ei.formatters.plot.plot_comparison([first, second])
    assert str(caught.value) == (
        "expls[1]: expected an explanation of the classes of expls[0], [0], got [1]"
    )
