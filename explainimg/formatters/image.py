"""Heatmaps as pictures: grey heatmaps, upsampled heatmaps, and coloured overlays (no TensorFlow).

>>> import numpy as np
>>> from PIL import Image, ImageDraw, ImageFont
>>> heatmap = np.array([[0.0, 1.0], [0.5, 0.0]], dtype="float32")
>>> heatmap_to_image(heatmap).size
(2, 2)
>>> expand_heatmap(heatmap, Image.new("RGB", (64, 48))).size
(64, 48)
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..errors import bad_argument, bad_type, said
from ..explanation import Explanation, TargetExplanation, checked_explanation, target_at
from ..heatmaps import checked_heatmap, upsample_heatmap

Colormap = Callable[[np.ndarray], np.ndarray]

STRIPE_PIXELS = 1 << 18
"""Overlays are drawn about this many pixels at a time."""


def heatmap_to_image(heatmap: np.ndarray) -> Image.Image:
    """A grey (mode "L") picture of a [0, 1] heatmap at its own resolution (1.0 is white)."""
    values = checked_heatmap(heatmap)
    return Image.fromarray(np.rint(values * 255.0).astype(np.uint8))


def expand_heatmap(
    heatmap: np.ndarray, image: Image.Image, resampling_filter: int = Image.LANCZOS
) -> Image.Image:
    """The heatmap as a grey picture of the same size as ``image``."""
    if not isinstance(image, Image.Image):
        raise bad_type("image", "a PIL image", image)
    return heatmap_to_image(upsample_heatmap(heatmap, image.size, resampling_filter))


def _checked_colormap(colormap: str | Colormap) -> Colormap:
    if isinstance(colormap, str):
        if colormap in matplotlib.colormaps:
            return matplotlib.colormaps[colormap]
        close = difflib.get_close_matches(colormap, list(matplotlib.colormaps), n=3)
        hint = f"Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise bad_argument(
            "colormap", "a matplotlib colormap name or a callable", colormap, hint=hint
        )
    if callable(colormap):
        return colormap
    raise bad_type("colormap", "a matplotlib colormap name or a callable", colormap)


def colorize(heat: np.ndarray, colormap: str | Colormap = "viridis") -> np.ndarray:
    """RGB colours (H, W, 3) in [0, 1] for a [0, 1] heat array, via a colormap name or callable.

    The callable gets the heat array and returns (H, W, 3) or (H, W, 4) colours, as floats in
    [0, 1] or as uint8 (matplotlib colormaps do the former).
    """
    colors = np.asarray(_checked_colormap(colormap)(heat))
    if colors.shape[:2] != heat.shape or colors.ndim != 3 or colors.shape[2] not in (3, 4):
        raise bad_argument(
            "colormap",
            f"a callable returning colours of shape {(*heat.shape, 3)} or {(*heat.shape, 4)}",
            said(f"colours of shape {colors.shape}"),
        )
    rgb = colors[..., :3].astype(np.float32)
    return rgb / 255.0 if colors.dtype == np.uint8 else np.clip(rgb, 0.0, 1.0)


def _colorize_unit(heat: np.ndarray, colormap: str | Colormap) -> np.ndarray:
    """:func:`colorize` for heat known to lie in [0, 1]: for a matplotlib colormap, its
    lookup table indexed as matplotlib indexes it (the same colours, without matplotlib's
    checks for values out of range, NaN and masks, which cost as much as the lookup)."""
    chosen = _checked_colormap(colormap)
    if not isinstance(chosen, matplotlib.colors.Colormap):
        return colorize(heat, colormap)
    chosen._ensure_inited()  # matplotlib builds the table on first use
    table = np.clip(chosen._lut[: chosen.N, :3].astype(np.float32), 0.0, 1.0)
    return table.take(np.minimum((heat * chosen.N).astype(np.intp), chosen.N - 1), axis=0)


def overlay(
    image: Image.Image,
    heatmap: np.ndarray,
    *,
    alpha_limit: float = 0.65,
    colormap: str | Colormap = "viridis",
    resampling_filter: int = Image.LANCZOS,
) -> Image.Image:
    """``image`` with the coloured heatmap blended on top; the heat is the opacity, capped.

    Each pixel's opacity is min(heat, alpha_limit). The result has the size of ``image``; it
    is RGB, or RGBA when ``image`` has transparency (which is kept).
    """
    if isinstance(alpha_limit, bool) or not isinstance(alpha_limit, (int, float, np.floating)):
        raise bad_type("alpha_limit", "a number between 0.0 and 1.0", alpha_limit)
    if not 0.0 <= float(alpha_limit) <= 1.0:
        raise bad_argument("alpha_limit", "a number between 0.0 and 1.0", alpha_limit)
    has_alpha = image.mode in ("RGBA", "LA") or "transparency" in image.info
    mode = "RGBA" if has_alpha else "RGB"
    result = Image.new(mode, image.size)
    # A stripe of rows at a time: memory stays flat however big the picture is.
    step = max(1, STRIPE_PIXELS // image.width)
    for first in range(0, image.height, step):
        stop = min(first + step, image.height)
        heat = upsample_heatmap(heatmap, image.size, resampling_filter, rows=(first, stop))
        stripe = image.crop((0, first, image.width, stop)).convert(mode)
        base = np.asarray(stripe, dtype=np.float32)
        alpha = np.minimum(heat, float(alpha_limit))[..., np.newaxis]
        # base * (1 - alpha) + colour * 255 * alpha, in place: the same sums, fewer arrays.
        blended = base[..., :3] * (1.0 - alpha)
        colour = _colorize_unit(heat, colormap)
        colour *= 255.0
        colour *= alpha
        blended += colour
        pixels = np.clip(np.rint(blended, out=blended), 0, 255, out=blended).astype(np.uint8)
        if has_alpha:
            pixels = np.concatenate([pixels, base[..., 3:].astype(np.uint8)], axis=-1)
        result.paste(Image.fromarray(pixels), (0, first))
    return result


CLIP_PERCENTILE = 99.0
"""With ``clip="auto"``, sparse maps are drawn clipped at this percentile."""

SPARSE_MIN_PIXELS = 1024
"""``clip="auto"`` only clips maps of at least this many values (32 x 32): a layer's 7 x 7
map has too few for its 99th percentile to say it is sparse."""

Clip = float | str | None


def clipped_heatmap(heatmap: np.ndarray, percentile: float | None) -> np.ndarray:
    """``heatmap`` with values above its ``percentile``-th percentile set to 1 and the rest
    scaled to [0, 1] by it, so that a map whose heat sits in a few pixels is visible (as
    Captum's ``outlier_perc`` and xplique's ``clip_percentile`` do). Where that percentile
    is 0 (most of the map is cold), the percentile of the warm pixels is used.

    >>> clipped_heatmap(np.array([[0.0, 0.1], [0.2, 1.0]]), 50).tolist()
    [[0.0, 0.6666666666666666], [1.0, 1.0]]
    """
    heatmap = np.asarray(heatmap)
    if percentile is None or not heatmap.any():
        return heatmap
    limit = np.percentile(heatmap, percentile)
    if limit <= 0:
        limit = np.percentile(heatmap[heatmap > 0], percentile)
    return np.minimum(heatmap / limit, 1.0).astype(heatmap.dtype, copy=False)


def clip_percentile(heatmap: np.ndarray, clip: Clip) -> float | None:
    """The percentile ``clip`` asks for: a number in (0, 100], None for none, or ``"auto"``:
    :data:`CLIP_PERCENTILE` for a sparse map of many pixels (at least
    :data:`SPARSE_MIN_PIXELS`, and its 99th percentile under half its peak: saliency,
    SmoothGrad, Integrated Gradients and Guided Grad-CAM give such maps), else none (maps at
    a layer's few positions, and smooth maps such as RISE's, are drawn as they are).

    >>> sparse = np.zeros((40, 40)); sparse[3, 4] = 1.0; sparse[5, 5] = 0.5
    >>> clip_percentile(sparse, "auto"), clip_percentile(sparse[:7, :7], "auto")
    (99.0, None)
    """
    if clip == "auto":
        if np.size(heatmap) < SPARSE_MIN_PIXELS or not np.any(heatmap):
            return None
        sparse = np.percentile(heatmap, CLIP_PERCENTILE) < 0.5 * float(np.max(heatmap))
        return CLIP_PERCENTILE if sparse else None
    if clip is None:
        return None
    expected = "a percentile in (0, 100], 'auto' or None"
    if isinstance(clip, bool) or not isinstance(clip, (int, float, np.number)):
        raise bad_type("clip", expected, clip)
    if not 0 < float(clip) <= 100:
        raise bad_argument("clip", expected, clip)
    return float(clip)


def shown_heatmap(expl: Explanation, position: int, clip: Clip) -> np.ndarray:
    """The heatmap of ``expl.targets[position]`` as drawn: clipped as ``clip`` asks (the
    Explanation's own heatmap is left as it is)."""
    heatmap = target_at(expl, position).heatmap
    return clipped_heatmap(heatmap, clip_percentile(heatmap, clip))


def format_as_image(
    expl: Explanation,
    target: int = 0,
    alpha_limit: float = 0.65,
    colormap: str | Colormap = "viridis",
    resampling_filter: int = Image.LANCZOS,
    clip: Clip = "auto",
    box: bool = True,
) -> Image.Image:
    """The heatmap of ``expl.targets[target]`` over ``expl.image``, the size of ``expl.image``.

    ``target`` is a position in ``expl.targets`` (0 = the first explained class). ``clip``:
    the percentile above which heat is drawn as full (see :func:`clip_percentile`; the
    default clips sparse maps of many pixels at the 99th, so that they show). A detection's
    target (one with a ``box``) has its box outlined in :data:`BOX_COLOR` and labelled
    (:func:`box_label`, :func:`draw_box`), unless ``box=False``.

    >>> import numpy as np
    >>> from PIL import Image
    >>> from explainimg.explanation import Explanation, TargetExplanation
    >>> expl = Explanation(estimator="m", method="Grad-CAM", description="",
    ...                    image=Image.new("RGB", (32, 32)),
    ...                    targets=[TargetExplanation(1, None, 2.0, None, np.ones((4, 4)))])
    >>> format_as_image(expl, alpha_limit=0.5).size
    (32, 32)
    """
    expl = checked_explanation(expl, needs_image=True)
    if not isinstance(box, (bool, np.bool_)):
        raise bad_type("box", "True or False", box)
    drawn = overlay(
        expl.image,
        shown_heatmap(expl, target, clip),
        alpha_limit=alpha_limit,
        colormap=colormap,
        resampling_filter=resampling_filter,
    )
    explained = expl.targets[target]
    if box and explained.box is not None:
        draw_box(drawn, explained.box, box_label(explained))
    return drawn


BOX_COLOR = (255, 0, 0)
"""The colour of a detection's box outline and label strip on :func:`format_as_image`."""

BOX_WIDTH = 2
"""Pixels of a detection's box outline."""


def box_label(target: TargetExplanation) -> str:
    """A detection's label: its class name (else "class" and its id), with its confidence
    when known.

    >>> box_label(TargetExplanation(2, "cat", 1.0, 0.91, np.ones((2, 2)), box=(0, 0, 4, 4)))
    'cat, p=0.91'
    >>> box_label(TargetExplanation(1, None, 1.0, None, np.ones((2, 2)), box=(0, 0, 4, 4)))
    'class 1'
    """
    name = target.target_name or f"class {target.target}"
    return name if target.proba is None else f"{name}, p={target.proba:.2f}"


def draw_box(
    picture: Image.Image, box: tuple[float, float, float, float], label: str
) -> Image.Image:
    """``picture`` with ``box`` (x0, y0, x1, y1, its pixels; the part inside the picture)
    outlined ``BOX_WIDTH`` pixels wide in ``BOX_COLOR``, inside the box's edges, and
    ``label`` in white on a strip of that colour at its top-left corner (drawn in place).

    >>> draw_box(Image.new("RGB", (20, 20)), (2, 2, 12, 12), "x").getpixel((2, 7))
    (255, 0, 0)
    """
    width, height = picture.size
    x0, y0 = max(0, round(box[0])), max(0, round(box[1]))
    x1, y1 = min(width, round(box[2])) - 1, min(height, round(box[3])) - 1
    if x1 < x0 or y1 < y0:
        return picture  # the box lies outside the picture
    draw = ImageDraw.Draw(picture)
    draw.rectangle((x0, y0, x1, y1), outline=BOX_COLOR, width=BOX_WIDTH)
    font = ImageFont.load_default(size=10)
    _, _, right, bottom = draw.textbbox((x0 + 1, y0), label, font=font)
    draw.rectangle((x0, y0, right + 1, bottom + 1), fill=BOX_COLOR)  # flush with the box
    draw.text((x0 + 1, y0), label, fill="white", font=font)
    return picture


LABEL_HEIGHT = 18
"""Pixels of the white strip :func:`labelled` adds under a picture for its label."""


def labelled(picture: Image.Image, label: str) -> Image.Image:
    """``picture`` (as RGB) above a white strip with ``label`` written in black, cut to the
    picture's width.

    >>> labelled(Image.new("RGB", (40, 30)), "281 tabby").size
    (40, 48)
    """
    result = Image.new("RGB", (picture.width, picture.height + LABEL_HEIGHT), "white")
    result.paste(picture.convert("RGB"), (0, 0))
    font = ImageFont.load_default(size=LABEL_HEIGHT - 6)
    ImageDraw.Draw(result).text((2, picture.height + 2), label, fill="black", font=font)
    return result


ROW_GAP = 4
"""Pixels of white between the pictures of :func:`side_by_side`."""


def side_by_side(pictures: list[Image.Image]) -> Image.Image:
    """One RGB picture with ``pictures`` in a row, top-aligned, ``ROW_GAP`` pixels apart.

    >>> side_by_side([Image.new("RGB", (10, 8)), Image.new("RGB", (6, 4))]).size
    (20, 8)
    """
    width = sum(picture.width for picture in pictures) + ROW_GAP * (len(pictures) - 1)
    row = Image.new("RGB", (width, max(picture.height for picture in pictures)), "white")
    left = 0
    for picture in pictures:
        row.paste(picture.convert("RGB"), (left, 0))
        left += picture.width + ROW_GAP
    return row
