"""Overlays: size, mode, alpha cap, colormaps (issue test 6), and the images explanations carry."""

from __future__ import annotations

import attrs
import matplotlib
import numpy as np
import pytest
from PIL import Image

import explainimg as ei
from explainimg.explanation import Explanation, TargetExplanation
from explainimg.formatters.image import (
    expand_heatmap,
    format_as_image,
    heatmap_to_image,
)
from explainimg.heatmaps import upsample_heatmap
from tests import builders


def _explanation(image: Image.Image, heatmap: np.ndarray) -> Explanation:
    target = TargetExplanation(target=1, target_name="one", score=2.0, proba=0.5, heatmap=heatmap)
    return Explanation(
        estimator="m", method="Grad-CAM", description="", targets=[target], image=image
    )


def _white(heat: np.ndarray) -> np.ndarray:
    return np.ones((*heat.shape, 3))


@pytest.mark.parametrize(
    ("mode", "expected_mode"), [("RGB", "RGB"), ("L", "RGB"), ("RGBA", "RGBA")]
)
def test_output_has_the_image_size_and_a_sensible_mode(mode, expected_mode):
    image = Image.new(mode, (90, 60))
    result = format_as_image(_explanation(image, np.random.default_rng(0).random((7, 7))))
    assert result.size == (90, 60)
    assert result.mode == expected_mode


def test_alpha_limit_caps_the_opacity():
    black = Image.new("RGB", (40, 40))
    full_heat = np.ones((5, 5), dtype=np.float32)
    for limit in (0.0, 0.3, 0.65, 1.0):
        pixels = np.asarray(
            format_as_image(_explanation(black, full_heat), alpha_limit=limit, colormap=_white)
        )
        assert np.all(pixels == round(255 * limit))


def test_opacity_follows_the_heat_below_the_cap():
    black = Image.new("RGB", (2, 1))
    heat = np.array([[0.2, 0.9]], dtype=np.float32)
    pixels = np.asarray(
        format_as_image(
            _explanation(black, heat),
            alpha_limit=0.5,
            colormap=_white,
            resampling_filter=Image.NEAREST,
        )
    )
    assert pixels[0, 0].tolist() == [51, 51, 51]  # opacity 0.2
    assert pixels[0, 1].tolist() == [128, 128, 128]  # opacity capped at 0.5


def test_zero_heat_leaves_the_image_untouched():
    image = Image.fromarray(builders.image(seed=3, size=20).astype(np.uint8))
    result = format_as_image(_explanation(image, np.zeros((4, 4))), alpha_limit=1.0)
    assert result.tobytes() == image.tobytes()


def test_colormap_by_name_matches_matplotlib():
    black = Image.new("RGB", (3, 1))
    heat = np.array([[0.0, 0.5, 1.0]], dtype=np.float32)
    result = np.asarray(
        format_as_image(
            _explanation(black, heat),
            alpha_limit=1.0,
            colormap="magma",
            resampling_filter=Image.NEAREST,
        )
    )
    expected = matplotlib.colormaps["magma"](heat)[..., :3] * 255 * heat[..., None]
    np.testing.assert_allclose(result, expected, atol=1.0)


def test_colormap_callable_returning_uint8():
    def red(heat):
        colors = np.zeros((*heat.shape, 3), dtype=np.uint8)
        colors[..., 0] = 255
        return colors

    black = Image.new("RGB", (10, 10))
    pixels = np.asarray(
        format_as_image(_explanation(black, np.ones((2, 2))), alpha_limit=1.0, colormap=red)
    )
    assert pixels[..., 0].min() == 255 and pixels[..., 1:].max() == 0


def test_rgba_transparency_is_kept():
    image = Image.new("RGBA", (8, 8), (10, 20, 30, 77))
    result = format_as_image(_explanation(image, np.ones((2, 2))))
    assert np.all(np.asarray(result)[..., 3] == 77)


def test_formatting_errors_name_the_argument():
    expl = _explanation(Image.new("RGB", (8, 8)), np.ones((2, 2)))
    with pytest.raises(ValueError) as caught:
        format_as_image(expl, alpha_limit=1.5)
    assert str(caught.value) == "alpha_limit: expected a number between 0.0 and 1.0, got 1.5"
    with pytest.raises(ValueError) as caught:
        format_as_image(expl, colormap="viridiss")
    assert str(caught.value).startswith(
        "colormap: expected a matplotlib colormap name or a callable, got 'viridiss'. "
        "Did you mean 'viridis'"
    )
    with pytest.raises(ValueError) as caught:
        format_as_image(expl, target=1)
    assert str(caught.value) == (
        "target: expected a position in expl.targets between 0 and 0 (classes [1]), got 1"
    )
    with pytest.raises(ValueError, match=r"^resampling_filter: expected a PIL resampling filter"):
        format_as_image(expl, resampling_filter=99)


def test_heatmap_to_image_and_expand_heatmap():
    heatmap = np.array([[0.0, 1.0], [0.5, 0.25]], dtype=np.float32)
    grey = heatmap_to_image(heatmap)
    assert grey.mode == "L" and np.asarray(grey).tolist() == [[0, 255], [128, 64]]
    expanded = expand_heatmap(heatmap, Image.new("RGB", (40, 20)), resampling_filter=Image.BOX)
    assert expanded.size == (40, 20)
    assert np.asarray(expanded)[0, 30] == 255 and np.asarray(expanded)[15, 5] == 128


def test_lanczos_overshoot_is_clipped():
    spike = np.zeros((5, 5), dtype=np.float32)
    spike[2, 2] = 1.0
    ringing = np.asarray(Image.fromarray(spike).resize((50, 50), Image.LANCZOS))
    assert ringing.min() < 0  # what clipping protects against
    values = upsample_heatmap(spike, (50, 50))
    assert values.min() == 0.0 and 0.9 < values.max() <= 1.0


def test_explanation_image_is_made_from_x():
    model = builders.sequential_dense_softmax()
    raw = builders.image(seed=5)
    from_raw = ei.explain_prediction(model, raw).image
    assert from_raw.mode == "RGB" and from_raw.size == (32, 32)
    np.testing.assert_array_equal(np.asarray(from_raw), np.rint(raw).astype(np.uint8))
    scaled = raw / 127.5 - 1.0  # preprocessed to -1..1: shown rescaled to 0..255
    shown = np.asarray(ei.explain_prediction(model, scaled).image).astype(float)
    assert shown.min() == 0 and shown.max() == 255
    assert np.corrcoef(shown.ravel(), raw.ravel())[0, 1] > 0.999


def test_pil_input_is_resized_for_the_model_and_shown_as_given():
    model = builders.sequential_dense_softmax()
    picture = Image.fromarray(builders.image(seed=6, size=80).astype(np.uint8))
    expl = ei.explain_prediction(model, picture)
    assert expl.image is picture
    assert ei.format_as_image(expl).size == (80, 80)


def test_show_prediction_routes_options_and_rejects_unknown_ones():
    model = builders.sequential_dense_softmax()
    x = builders.image(seed=7)
    big = Image.new("RGB", (64, 64))
    shown = ei.show_prediction(
        model,
        x,
        targets=[1, 2],
        target=1,
        image=big,
        alpha_limit=0.4,
        colormap="jet",
        resampling_filter=Image.BOX,
    )
    expl = ei.explain_prediction(model, x, targets=[1, 2], image=big)
    expected = format_as_image(
        expl, target=1, alpha_limit=0.4, colormap="jet", resampling_filter=Image.BOX
    )
    assert shown.tobytes() == expected.tobytes()
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) alpha;"):
        ei.show_prediction(model, x, alpha=0.3)


def test_several_classes_are_shown_in_a_row_each_labelled():
    model = builders.sequential_dense_softmax()
    x = builders.image(seed=7)
    names = ["zero", "one", "two", "three"]
    shown = ei.show_prediction(model, x, top=3, target_names=names)
    expl = ei.explain_prediction(model, x, top=3, target_names=names)
    panels = [format_as_image(expl, target=i) for i in range(3)]
    assert shown.size == (3 * 32 + 2 * 4, 32 + 18)
    for i, panel in enumerate(panels):
        left = i * (32 + 4)
        np.testing.assert_array_equal(np.asarray(shown)[:32, left : left + 32], np.asarray(panel))
        label = np.asarray(shown)[32:, left : left + 32]
        assert (label < 128).any()  # dark text on the white strip
    first = np.asarray(shown)[32:, :32]
    second = np.asarray(shown)[32:, 36:68]
    assert not np.array_equal(first, second)  # each panel has its own label
    assert expl.targets[0].target_name in ei.formatters.summary.target_label(expl.targets[0])


def _sparse_explanation(layer: str | None) -> Explanation:
    heat = np.zeros((32, 32), dtype=np.float32)
    heat[4, 5], heat[20, 9], heat[11, 30] = 1.0, 0.4, 0.2  # a few pixels hold all the heat
    heat[heat == 0] = np.linspace(0.0, 0.01, int((heat == 0).sum()), dtype=np.float32)
    expl = _explanation(Image.new("RGB", (32, 32)), heat)
    return Explanation(**{**attrs.asdict(expl, recurse=False), "layer": layer})


def test_sparse_input_maps_are_drawn_clipped_and_the_raw_map_stays():
    expl = _sparse_explanation(layer=None)
    raw = expl.targets[0].heatmap.copy()
    limit = np.percentile(raw, 99)
    expected = np.minimum(raw / limit, 1.0)
    pixels = np.asarray(
        format_as_image(expl, colormap=_white, alpha_limit=1.0, resampling_filter=Image.NEAREST)
    )
    np.testing.assert_allclose(pixels[..., 0], np.rint(expected * 255), atol=1)
    assert (pixels[..., 0] > 0).mean() > 0.4  # visible, where unclipped only 3 pixels showed
    unclipped = format_as_image(
        expl, colormap=_white, alpha_limit=1.0, resampling_filter=Image.NEAREST, clip=None
    )
    assert (np.asarray(unclipped)[..., 0] > 128).sum() == 1
    np.testing.assert_array_equal(expl.targets[0].heatmap, raw)
    at_100 = format_as_image(expl, resampling_filter=Image.NEAREST, clip=100)
    assert (
        at_100.tobytes()
        == format_as_image(expl, resampling_filter=Image.NEAREST, clip=None).tobytes()
    )


def test_small_maps_and_smooth_maps_are_not_clipped_by_default():
    # Guided Grad-CAM names a layer but its map is of the input's pixels, and sparse: clipped.
    guided = _sparse_explanation(layer="conv")
    assert format_as_image(guided).tobytes() != format_as_image(guided, clip=None).tobytes()
    one_cell = np.zeros((7, 7), dtype=np.float32)
    one_cell[3, 3] = 1.0
    cam = _explanation(Image.new("RGB", (16, 16)), one_cell)
    assert format_as_image(cam).tobytes() == format_as_image(cam, clip=None).tobytes()
    smooth = _explanation(Image.new("RGB", (16, 16)), np.linspace(0, 1, 4096).reshape(64, 64))
    assert format_as_image(smooth).tobytes() == format_as_image(smooth, clip=None).tobytes()


def test_saliency_explanations_are_clipped_everywhere_they_are_drawn():
    model = builders.sequential_dense_softmax()
    expl = ei.explain_prediction(model, builders.image(seed=2), method="saliency")
    clipped = format_as_image(expl, clip=95)
    assert clipped.tobytes() != format_as_image(expl, clip=None).tobytes()
    html = ei.format_as_html(expl, clip=95)
    assert html != ei.format_as_html(expl, clip=None)
    figure = ei.plot_explanation(expl, clip=95)
    drawn = figure.axes[1].images[0].get_array()
    np.testing.assert_array_equal(np.asarray(drawn), np.asarray(clipped))


@pytest.mark.parametrize(
    ("clip", "error", "message"),
    [
        ("high", TypeError, "clip: expected a percentile in (0, 100], 'auto' or None, got str"),
        (0, ValueError, "clip: expected a percentile in (0, 100], 'auto' or None, got 0"),
        (101.0, ValueError, "clip: expected a percentile in (0, 100], 'auto' or None, got 101.0"),
    ],
)
def test_clip_errors_name_the_argument(clip, error, message):
    with pytest.raises(error) as caught:
        format_as_image(_sparse_explanation(None), clip=clip)
    assert str(caught.value) == message
