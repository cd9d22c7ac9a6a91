"""Text summaries (golden), JSON round trips and matplotlib figures."""

from __future__ import annotations

import json

import attrs
import matplotlib
import numpy as np
import pytest
from PIL import Image

from explainimg.formatters import (
    explanation_from_dict,
    format_as_dict,
    format_as_text,
    plot_explanation,
)
from explainimg.formatters.plot import COLORBAR_LABEL
from tests import fake

matplotlib.use("Agg")


def test_text_summary_golden():
    expected = """\
Explanation of model 'net' by Grad-CAM at layer 'block/conv' (7x7 map), image 140x70

#1 class 1 'tabby': score 5, probability 0.700
   heat peaks at x=10, y=5 (image pixels); 4.1% of the image is at or above half heat
   +--------------+
   |##==          |
   |              |
   |              |
   |              |
   |              |
   |              |
   |              |
   +--------------+

#2 class 11 'lynx': score 4, probability 0.350
   heat peaks at x=50, y=15 (image pixels); 4.1% of the image is at or above half heat
   +--------------+
   |              |
   |    ##==      |
   |              |
   |              |
   |              |
   |              |
   |              |
   +--------------+

#3 class 21: score 3, probability 0.233
   heat peaks at x=90, y=25 (image pixels); 4.1% of the image is at or above half heat
   +--------------+
   |              |
   |              |
   |        ##==  |
   |              |
   |              |
   |              |
   |              |
   +--------------+"""
    assert format_as_text(fake.explanation()) == expected


def test_text_without_grid_and_with_no_heat():
    expl = fake.explanation(names=("tabby",))
    assert format_as_text(expl, grid=False).splitlines()[2:] == [
        "#1 class 1 'tabby': score 5, probability 0.700",
        "   heat peaks at x=10, y=5 (image pixels); 4.1% of the image is at or above half heat",
    ]
    cold = fake.explanation(names=("tabby",))
    cold.targets[0].heatmap[:] = 0.0
    assert format_as_text(cold).splitlines()[-1] == (
        "   no heat: nothing at this layer speaks for this class"
    )


def test_text_grid_of_a_large_heatmap_is_shrunk():
    expl = fake.explanation(names=("tabby",))
    big = type(expl.targets[0])(1, "tabby", 1.0, None, np.random.default_rng(0).random((224, 224)))
    lines = format_as_text(attrs.evolve(expl, targets=[big])).splitlines()
    grid = [line for line in lines if line.startswith("   |")]
    assert len(grid) == 24 and all(len(line) == 3 + 2 + 2 * 24 for line in grid)


def test_dict_round_trips_through_json():
    expl = fake.explanation()
    data = json.loads(json.dumps(format_as_dict(expl, include_image=True)))
    assert data["image_size"] == [140, 70]
    assert data["targets"][1]["peak"] == {"x": 50.0, "y": 15.0}
    assert data["targets"][1]["hot_share"] == pytest.approx(2 / 49)
    back = explanation_from_dict(data)
    assert back == expl
    for original, restored in zip(expl.targets, back.targets, strict=True):
        assert restored.heatmap.dtype == np.float32
        assert restored.heatmap.tobytes() == original.heatmap.tobytes()
        assert restored.score == original.score and restored.proba == original.proba
    assert back.image.tobytes() == expl.image.tobytes()
    assert "image" not in format_as_dict(expl)


def test_figure_has_image_overlays_and_a_colour_bar():
    expl = fake.explanation()
    figure = plot_explanation(expl)
    images = [ax for ax in figure.axes if ax.images]
    assert [ax.get_title() for ax in images] == [
        "input",
        "1 tabby, p=0.700",
        "11 lynx, p=0.350",
        "21, p=0.233",
    ]
    colorbars = [ax for ax in figure.axes if ax.get_ylabel() == COLORBAR_LABEL]
    assert len(colorbars) == 1
    assert colorbars[0].get_ylim() == (0.0, 1.0)
    grid = plot_explanation(expl, columns=2, targets=[0])
    assert len([ax for ax in grid.axes if ax.images]) == 2
    figure.canvas.draw()  # renders with the Agg backend without error


def test_grey_images_plot_in_grey():
    expl = fake.explanation(image=Image.new("L", (30, 30), 128), names=("a",))
    figure = plot_explanation(expl)
    assert figure.axes[0].images[0].get_cmap().name == "gray"
