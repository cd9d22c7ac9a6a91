"""Explanations as self-contained HTML: one fragment, or a report page for many images.

Every picture is embedded as a base64 data URI and every user-provided string (class names,
model names, titles) is escaped by jinja2's autoescaping, so the output can be saved, mailed
or shown in Jupyter as it is.

>>> import numpy as np
>>> from PIL import Image
>>> from explainimg.explanation import Explanation, TargetExplanation
>>> expl = Explanation(estimator="net", method="Grad-CAM", description="", layer="conv",
...     image=Image.new("RGB", (32, 32)),
...     targets=[TargetExplanation(1, "<b>cat</b>", 2.0, 0.5, np.ones((4, 4), "float32"))])
>>> html = format_as_html(expl)
>>> html.count("<img"), "&lt;b&gt;cat&lt;/b&gt;" in html
(2, True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import PurePath
from typing import Any

import jinja2
from PIL import Image

from ..errors import bad_argument, bad_type, said
from ..explanation import Explanation, register_html_view
from .as_dict import bytes_to_data_uri
from .image import Clip, Colormap
from .pictures import Pictures, draw_pictures

PNG_REPORT_LIMIT = 100
"""Reports of more images than this use JPEG by default, to stay small (see format_as_html)."""

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("explainimg.formatters", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def explanation_item(
    expl: Explanation, pictures: Pictures, uris: Callable[[str, bytes], str]
) -> dict[str, Any]:
    """What the templates need for one explanation: its fields, the formatted numbers and, for
    each picture, ``uris(role, data)`` (role "original", "overlay0", ..., "thumbnail")."""
    rows = [
        {**row, "overlay": uris(f"overlay{k}", data)}
        for k, (row, data) in enumerate(zip(pictures.rows, pictures.overlays, strict=True))
    ]
    item: dict[str, Any] = {
        "estimator": expl.estimator,
        "method": expl.method,
        "layer": expl.layer,
        "description": expl.description,
        "error": expl.error,
        "width": pictures.width,
        "height": pictures.height,
        "original": None if pictures.original is None else uris("original", pictures.original),
        "rows": rows,
        "thumbnail": None,
    }
    if pictures.thumbnail is not None:
        item.update(
            thumbnail=uris("thumbnail", pictures.thumbnail),
            thumb_width=pictures.thumbnail_size[0],
            thumb_height=pictures.thumbnail_size[1],
        )
    return item


def _item(expl: Explanation, **options: Any) -> dict[str, Any]:
    pictures = draw_pictures(expl, **options)
    return explanation_item(
        expl, pictures, lambda _, data: bytes_to_data_uri(data, pictures.image_format)
    )


def format_as_html(
    expls: Explanation | Iterable[Explanation],
    *,
    title: str = "explainimg report",
    targets: Sequence[int] | None = None,
    alpha_limit: float = 0.65,
    colormap: str | Colormap = "viridis",
    resampling_filter: int = Image.LANCZOS,
    image_width: int | None = None,
    image_format: str | None = None,
    show_original: bool = True,
    captions: Sequence[str] | None = None,
    clip: Clip = "auto",
) -> str:
    """HTML for one explanation (a fragment) or many (a complete page).

    - One Explanation: a ``<div>`` with the input image, one overlay per target and a table
      of class, name, score, probability, heat peak (image pixels) and the share of the image
      at or above half heat. ``Explanation._repr_html_`` uses this in Jupyter.
    - A list (or any iterable) of Explanations: a page titled ``title`` with a summary table
      (thumbnail, predicted class, probability) linking to one section per image.

    ``targets``: positions in ``expl.targets`` to show (default all). ``alpha_limit``,
    ``colormap``, ``resampling_filter`` and ``clip`` go to the overlay (see
    :func:`~explainimg.formatters.image.format_as_image`). ``image_width``: pixel width of
    the pictures (default: the image's own, at most 384). ``image_format``: "png" or "jpeg";
    by default PNG, or JPEG for reports of more than 100 images to keep them small.
    ``captions``: for a page, one title per explanation; by default the file name of images
    read from files, else "Image 0 (224 x 224)", ... (see :func:`default_caption`).
    """
    if image_format not in (None, "png", "jpeg"):
        raise bad_argument("image_format", "'png', 'jpeg' or None", image_format)
    if image_width is not None and (
        isinstance(image_width, bool) or not isinstance(image_width, int) or image_width < 1
    ):
        raise bad_argument("image_width", "a positive number of pixels or None", image_width)
    options = dict(
        targets=targets,
        alpha_limit=alpha_limit,
        colormap=colormap,
        resampling_filter=resampling_filter,
        image_width=image_width,
        show_original=show_original,
        clip=clip,
    )
    if isinstance(expls, Explanation):
        if captions is not None:
            expected = "None for one Explanation (captions title the images of a page)"
            raise bad_argument("captions", expected, captions)
        item = _item(expls, image_format=image_format or "png", thumbnail=False, **options)
        return _ENVIRONMENT.get_template("fragment.html.j2").render(item=item)
    if isinstance(expls, (str, bytes)) or not isinstance(expls, Iterable):
        raise bad_type("expls", "an Explanation or a list of Explanations", expls)
    collected = list(expls)
    if image_format is None:
        image_format = "png" if len(collected) <= PNG_REPORT_LIMIT else "jpeg"
    items = [
        _item(expl, image_format=image_format, thumbnail=True, **options) for expl in collected
    ]
    for item, caption in zip(items, _captions(captions, collected), strict=True):
        item["caption"] = caption
    models = sorted({expl.estimator for expl in collected})
    return _ENVIRONMENT.get_template("report.html.j2").render(
        title=title, items=items, models=models
    )


def _captions(captions: Sequence[str] | None, expls: list[Explanation]) -> list[str]:
    """One title per image of a page: ``captions`` checked, or the file name of each image
    read from a file, else "Image 3 (224 x 224)"."""
    count = len(expls)
    if captions is None:
        return [default_caption(expl, i) for i, expl in enumerate(expls)]
    if isinstance(captions, str) or not isinstance(captions, Sequence):
        raise bad_type("captions", "a list of strings, one per explanation", captions)
    if len(captions) != count:
        raise bad_argument(
            "captions", f"{count} captions (one per explanation)", said(f"{len(captions)}")
        )
    for caption in captions:
        if not isinstance(caption, str):
            raise bad_type("captions", "a list of strings, one per explanation", caption)
    return list(captions)


def default_caption(expl: Explanation, position: int) -> str:
    """The file name of the image when it was read from a file, else its position and size.

    >>> import attrs
    >>> from PIL import Image
    >>> from explainimg.explanation import Explanation
    >>> expl = Explanation(estimator="m", method="Grad-CAM", description="", targets=[],
    ...                    image=Image.new("RGB", (64, 48)), error="none")
    >>> default_caption(expl, 3), default_caption(attrs.evolve(expl, source="a/cat.jpg"), 3)
    ('Image 3 (64 x 48)', 'cat.jpg')
    """
    if expl.source is not None:
        return PurePath(expl.source).name
    if expl.image is None:
        return f"Image {position}"
    return f"Image {position} ({expl.image.width} x {expl.image.height})"


register_html_view(format_as_html)
