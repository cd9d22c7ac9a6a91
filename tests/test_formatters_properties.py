"""Any heatmap in [0, 1] on any image formats without error (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from explainimg.explanation import Explanation, TargetExplanation
from explainimg.formatters import format_as_dict, format_as_html, format_as_image, format_as_text

unit_floats = st.floats(0.0, 1.0, allow_nan=False, width=32)
heatmaps = st.one_of(
    arrays(np.float32, st.tuples(st.integers(1, 12), st.integers(1, 12)), elements=unit_floats),
    st.tuples(st.integers(1, 9), st.integers(1, 9), st.sampled_from([0.0, 1.0])).map(
        lambda t: np.full(t[:2], t[2], dtype=np.float32)
    ),
    st.tuples(st.integers(1, 9), st.integers(1, 9), st.data()).map(lambda t: _single_hot(*t)),
)
images = st.builds(
    lambda mode, width, height, shade: Image.new(mode, (width, height), shade),
    st.sampled_from(["RGB", "RGBA", "L"]),
    st.integers(1, 80),
    st.integers(1, 80),
    st.integers(0, 255),
)


def _single_hot(rows: int, cols: int, data) -> np.ndarray:
    heatmap = np.zeros((rows, cols), dtype=np.float32)
    heatmap[data.draw(st.integers(0, rows - 1)), data.draw(st.integers(0, cols - 1))] = 1.0
    return heatmap


@settings(max_examples=60, deadline=None)
@given(heatmap=heatmaps, image=images, proba=st.one_of(st.none(), unit_floats))
def test_every_formatter_accepts_any_heatmap_and_image(heatmap, image, proba):
    expl = Explanation(
        estimator="m",
        method="Grad-CAM",
        description="",
        targets=[TargetExplanation(0, "zero", 1.0, proba, heatmap)],
        image=image,
        layer="conv",
    )
    overlay = format_as_image(expl)
    assert overlay.size == image.size
    assert overlay.mode == ("RGBA" if image.mode == "RGBA" else "RGB")
    assert format_as_html(expl).count("<img") == 2
    text = format_as_text(expl)
    assert ("no heat" in text) == (not heatmap.any())
    assert len(format_as_dict(expl)["targets"][0]["heatmap"]) == heatmap.shape[0]
