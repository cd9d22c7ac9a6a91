"""A page of explanations over training: one row per image, one column per epoch, so that a
person sees the heat move as the model learns (what ``ExplainCallback(html=...)`` writes).

Self-contained like every HTML of :mod:`.html`: pictures embedded as data URIs, user strings
escaped.

>>> import numpy as np
>>> from PIL import Image
>>> from explainimg.explanation import Explanation, TargetExplanation
>>> def expl(heat):
...     return Explanation(estimator="net", method="Grad-CAM", description="", layer="conv",
...         image=Image.new("RGB", (16, 16)),
...         targets=[TargetExplanation(1, "cat", 2.0, 0.5, np.full((2, 2), heat, "float32"))])
>>> page = format_epochs_as_html([("epoch 1", [expl(0.2)]), ("epoch 2", [expl(0.9)])])
>>> page.count("<img"), "epoch 2" in page
(3, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PIL import Image

from ..errors import bad_argument, bad_type, describe, said
from ..explanation import Explanation
from .as_dict import bytes_to_data_uri
from .html import _ENVIRONMENT, explanation_item
from .image import Colormap
from .pictures import draw_pictures

Column = tuple[str, Sequence[Explanation]]


def format_epochs_as_html(
    columns: Sequence[Column],
    *,
    title: str = "explainimg: explanations during training",
    captions: Sequence[str] | None = None,
    alpha_limit: float = 0.65,
    colormap: str | Colormap = "viridis",
    image_width: int | None = None,
) -> str:
    """A complete page: one column per ``(heading, explanations)`` pair of ``columns`` (one
    Explanation per image, the same images in each), one row per image, led by the input.

    Each cell shows the overlay of the explanation's first target with its class, name and
    probability. ``captions``: one title per image (default "Image 0", "Image 1", ...).
    ``image_width``: pixel width of the pictures (default: the image's own, at most 384).
    """
    count = _image_count(columns)
    if captions is None:
        captions = [f"Image {i}" for i in range(count)]
    elif isinstance(captions, str) or not isinstance(captions, Sequence):
        raise bad_type("captions", f"{count} captions (one per image)", captions)
    elif len(captions) != count:
        raise bad_argument(
            "captions", f"{count} captions (one per image)", said(f"{len(captions)}")
        )
    options: dict[str, Any] = dict(
        alpha_limit=alpha_limit,
        colormap=colormap,
        resampling_filter=Image.LANCZOS,
        image_width=image_width,
        image_format="png",
    )
    rows = []
    for i in range(count):
        cells = [
            _cell(expls[i], show_original=position == 0, **options)
            for position, (_, expls) in enumerate(columns)
        ]
        first = cells[0]
        rows.append(
            {
                "caption": str(captions[i]),
                "original": first["original"],
                "width": first["width"],
                "height": first["height"],
                "cells": cells,
            }
        )
    expls = [expl for _, column in columns for expl in column]
    return _ENVIRONMENT.get_template("epochs.html.j2").render(
        title=title,
        heads=[str(heading) for heading, _ in columns],
        rows=rows,
        models=sorted({expl.estimator for expl in expls}),
        methods=sorted({expl.method for expl in expls}),
    )


def _cell(expl: Explanation, **options: Any) -> dict[str, Any]:
    # Only the first target is drawn per cell: the callback explains one class per image.
    pictures = draw_pictures(expl, targets=[0] if expl.targets else None, **options)
    return explanation_item(expl, pictures, lambda _, data: bytes_to_data_uri(data, "png"))


def _image_count(columns: Any) -> int:
    """The number of images, the same in every column (an error naming ``columns`` if not)."""
    expected = "a non-empty list of (heading, explanations) pairs, one Explanation per image"
    if isinstance(columns, (str, bytes)) or not isinstance(columns, Sequence) or not columns:
        raise bad_type("columns", expected, columns)
    counts = set()
    for column in columns:
        if not (isinstance(column, (tuple, list)) and len(column) == 2):
            raise bad_type("columns", expected, column)
        expls = column[1]
        if not isinstance(expls, Sequence) or not expls:
            raise bad_type("columns", expected, said(f"a column holding {describe(expls)}"))
        for expl in expls:
            if not isinstance(expl, Explanation):
                raise bad_type("columns", expected, said(f"a column holding {describe(expl)}"))
        counts.add(len(expls))
    if len(counts) != 1:
        raise bad_argument(
            "columns", "the same number of explanations in every column", sorted(counts)
        )
    return counts.pop()
