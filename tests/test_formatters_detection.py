"""Formatters on a detection's target (one with a ``box``): the dict carries the box both
ways, the text gives the share of heat inside it (checked against NumPy), the picture
outlines it (off with ``box=False``), as do the HTML overlay and the plot; a classifier's
target, without a box, is drawn as before. Explanations are built by hand: no model is needed."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from explainimg.explanation import Explanation, TargetExplanation
from explainimg.formatters import (
    format_as_dict,
    format_as_html,
    format_as_image,
    format_as_text,
    plot_explanation,
)
from explainimg.formatters.as_dict import explanation_from_dict
from explainimg.formatters.image import BOX_COLOR
from explainimg.formatters.pictures import draw_pictures
from explainimg.formatters.summary import box_share

BOX = (8.0, 16.0, 40.0, 56.0)


def _explanation(box=BOX, proba=0.875):
    heatmap = np.random.default_rng(0).uniform(0, 1, (4, 4)).astype("float32")
    picture = Image.fromarray(np.full((64, 64, 3), 90, "uint8"))
    target = TargetExplanation(1, "square", 2.5, proba, heatmap, box=box)
    return Explanation("det", "Grad-CAM", "d", [target], image=picture, layer="conv")


def _numpy_share(heatmap, box):
    """The share of the heat inside ``box`` on the heatmap repeated to 64x64 pixels (each
    cell 16x16): the box's corners fall on whole pixels."""
    pixels = np.repeat(np.repeat(heatmap.astype(np.float64), 16, axis=0), 16, axis=1)
    x0, y0, x1, y1 = (int(v) for v in box)
    return pixels[y0:y1, x0:x1].sum() / pixels.sum()


def test_the_dict_carries_the_box_both_ways():
    expl = _explanation()
    data = json.loads(json.dumps(format_as_dict(expl)))
    assert data["targets"][0]["box"] == list(BOX)
    back = explanation_from_dict(data)
    assert back == expl and back.targets[0].box == BOX


def test_a_class_target_has_no_box_key():
    data = format_as_dict(_explanation(box=None))
    assert "box" not in data["targets"][0]
    assert explanation_from_dict(data).targets[0].box is None


def test_a_bad_box_in_a_dict_is_named():
    data = format_as_dict(_explanation())
    data["targets"][0]["box"] = [8, 16, 4]
    with pytest.raises(ValueError) as error:
        explanation_from_dict(data)
    assert str(error.value) == (
        "data['targets'][0]: box: expected None or a box (x0, y0, x1, y1) of finite numbers "
        "with x0 <= x1 and y0 <= y1, got (8.0, 16.0, 4.0)"
    )


def test_the_text_gives_the_box_and_the_share_of_heat_inside_it():
    expl = _explanation()
    share = _numpy_share(expl.targets[0].heatmap, BOX)
    assert box_share(expl.targets[0].heatmap, (64, 64), BOX) == pytest.approx(share, abs=1e-9)
    lines = format_as_text(expl, grid=False).splitlines()
    assert lines[2] == "#1 class 1 'square': score 2.5, confidence 0.875"
    assert lines[3] == (
        f"   box (8.0, 16.0, 40.0, 56.0) (x0, y0, x1, y1, image pixels); "
        f"{share * 100:.1f}% of the heat is inside it"
    )
    assert lines[4].startswith("   heat peaks at ") and len(lines) == 5


def test_the_share_counts_the_part_of_a_cell_inside_the_box():
    heatmap = np.array([[1.0, 3.0]])
    assert box_share(heatmap, (20, 10), (5, 0, 15, 10)) == pytest.approx(0.5)
    assert box_share(heatmap, (20, 10), (-5, -5, 30, 30)) == pytest.approx(1.0)
    assert box_share(np.zeros((2, 2)), (20, 10), (0, 0, 5, 5)) == 0.0


def test_the_picture_outlines_the_box_unless_told_not_to():
    expl = _explanation()
    plain = np.asarray(format_as_image(expl, box=False))
    boxed = np.asarray(format_as_image(expl))
    x0, y0, x1, y1 = (int(v) for v in BOX)
    edges = [
        boxed[y1 - 1, x0 + 5],
        boxed[y0 + 20, x1 - 1],
        boxed[y0 + 20, x0],
        boxed[y1 - 2, x1 - 5],
    ]
    assert all(tuple(pixel) == BOX_COLOR for pixel in edges)
    inside = boxed[y0 + 15 : y1 - 2, x0 + 2 : x1 - 2]
    np.testing.assert_array_equal(inside, plain[y0 + 15 : y1 - 2, x0 + 2 : x1 - 2])
    outside = np.ones(plain.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    outside[y0 : y0 + 14, x0:] = False  # the label strip may be wider than the box
    np.testing.assert_array_equal(boxed[outside], plain[outside])
    without = _explanation(box=None)
    np.testing.assert_array_equal(np.asarray(format_as_image(without)), plain)


def test_a_box_past_the_edge_is_drawn_inside_the_picture():
    boxed = np.asarray(format_as_image(_explanation(box=(-3.0, 30.0, 80.0, 70.0))))
    assert tuple(boxed[63, 20]) == BOX_COLOR and tuple(boxed[45, 63]) == BOX_COLOR
    assert tuple(boxed[45, 0]) == BOX_COLOR


def test_box_must_be_true_or_false():
    with pytest.raises(TypeError) as error:
        format_as_image(_explanation(), box="yes")
    assert str(error.value) == "box: expected True or False, got str"


def test_the_html_overlay_and_the_plot_outline_the_box_at_their_size():
    expl = _explanation()
    pictures = draw_pictures(expl, image_width=128)  # twice the image's 64 pixels
    overlay = np.asarray(Image.open(io.BytesIO(pictures.overlays[0])).convert("RGB"))
    x0, y0, x1, y1 = (int(2 * v) for v in BOX)
    assert tuple(overlay[y1 - 1, x0 + 10]) == BOX_COLOR
    assert tuple(overlay[y0 + 40, x1 - 1]) == BOX_COLOR
    assert tuple(overlay[y0 + 40, x0 + 4]) != BOX_COLOR  # inside the 2-pixel outline
    page = format_as_html(expl)
    assert base64.b64encode(draw_pictures(expl).overlays[0]).decode() in page
    figure = plot_explanation(expl)
    drawn = np.asarray(figure.axes[1].images[0].get_array())
    np.testing.assert_array_equal(drawn, np.asarray(format_as_image(expl)))
