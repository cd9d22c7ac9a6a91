"""The pictures of one explanation, drawn once at the size they are shown and encoded.

The HTML formatters embed them as data URIs; the command line writes the same bytes to files,
so no overlay is drawn or encoded twice.

>>> import numpy as np
>>> from PIL import Image
>>> from explainimg.explanation import Explanation, TargetExplanation
>>> expl = Explanation(estimator="net", method="Grad-CAM", description="", layer="conv",
...     image=Image.new("RGB", (800, 600)),
...     targets=[TargetExplanation(1, "cat", 2.0, 0.5, np.ones((4, 4), "float32"))])
>>> drawn = draw_pictures(expl, image_format="jpeg", thumbnail=True)
>>> (drawn.width, drawn.height), len(drawn.overlays), drawn.thumbnail_size
((384, 288), 1, (64, 48))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
from PIL import Image

from ..explanation import Explanation, checked_explanation
from .as_dict import image_bytes
from .image import Clip, Colormap, box_label, draw_box, overlay, shown_heatmap
from .summary import (
    format_peak,
    format_proba,
    format_score,
    format_share,
    summarize,
    target_positions,
)

DEFAULT_MAX_WIDTH = 384
THUMBNAIL_WIDTH = 64
REDUCING_GAP = 1.0
"""Big pictures are first reduced by whole factors (box averages) to no less than the wanted
size, then resampled: for a 1000-pixel photo shown 384 wide, 40% less time than resampling
all of it, and 0.4 of 255 levels apart on average (7 at most): nothing to see on a screen."""


@attrs.frozen
class Pictures:
    """Encoded pictures (``image_format`` bytes) and formatted numbers of one explanation."""

    image_format: str
    width: int
    height: int
    original: bytes | None
    overlays: list[bytes]
    rows: list[dict[str, Any]]
    thumbnail: bytes | None = None
    thumbnail_size: tuple[int, int] = (0, 0)


def resized(image: Image.Image, width: int) -> Image.Image:
    """``image`` scaled to ``width`` pixels wide, aspect ratio kept (itself if already so).

    >>> resized(Image.new("RGB", (100, 50)), 10).size
    (10, 5)
    """
    if image.width == width:
        return image
    height = max(1, round(image.height * width / image.width))
    return image.resize((width, height), Image.LANCZOS, reducing_gap=REDUCING_GAP)


def draw_pictures(
    expl: Explanation,
    *,
    targets: Sequence[int] | None = None,
    alpha_limit: float = 0.65,
    colormap: str | Colormap = "viridis",
    resampling_filter: int = Image.LANCZOS,
    image_width: int | None = None,
    image_format: str = "png",
    show_original: bool = True,
    thumbnail: bool = False,
    clip: Clip = "auto",
) -> Pictures:
    """The input (if ``show_original``), one overlay per shown target and, with ``thumbnail``,
    a small copy of the first overlay, all ``image_width`` pixels wide (default: the image's
    own width, at most 384; the thumbnail 64) and encoded as ``image_format``; ``clip`` as
    in :func:`~explainimg.formatters.image.format_as_image`. A detection's overlay has its
    box outlined and labelled, as ``format_as_image`` draws it."""
    expl = checked_explanation(expl, needs_image=True)
    width = image_width or min(expl.image.width, DEFAULT_MAX_WIDTH)
    picture = resized(expl.image, width)
    rows, overlays, first = [], [], None
    for position in target_positions(targets, expl):
        target = expl.targets[position]
        drawn = overlay(
            picture,
            shown_heatmap(expl, position, clip),
            alpha_limit=alpha_limit,
            colormap=colormap,
            resampling_filter=resampling_filter,
        )
        if target.box is not None:
            scale = picture.width / expl.image.width
            draw_box(drawn, tuple(v * scale for v in target.box), box_label(target))
        first = drawn if first is None else first
        overlays.append(image_bytes(drawn, image_format))
        summary = summarize(target.heatmap, expl.image.size)
        rows.append(
            {
                "target": target.target,
                "name": target.target_name,
                "score": format_score(target.score),
                "proba": format_proba(target.proba),
                "peak": format_peak(summary) if target.heatmap.any() else "-",
                "share": format_share(summary.hot_share),
            }
        )
    small = None
    if thumbnail:
        small = resized(picture if first is None else first, THUMBNAIL_WIDTH)
    return Pictures(
        image_format=image_format,
        width=picture.width,
        height=picture.height,
        original=image_bytes(picture, image_format) if show_original else None,
        overlays=overlays,
        rows=rows,
        thumbnail=None if small is None else image_bytes(small, image_format),
        thumbnail_size=(0, 0) if small is None else small.size,
    )
