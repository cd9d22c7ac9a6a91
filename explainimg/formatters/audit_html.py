"""An audit report as one self-contained HTML page you can filter, sort and search.

The page shows the accuracy, the most confused pairs of classes, the mean heatmap of every
class drawn over its mean image, the images where the model looked mostly outside the object,
then every image, mistakes first (the predicted class's heatmap next to the true class's).
Filtering and sorting run in a few lines of inline JavaScript reading ``data-`` attributes;
nothing is loaded from the network and every user string is escaped by jinja2.

>>> import numpy as np
>>> from PIL import Image
>>> from explainimg.explanation import Explanation, TargetExplanation
>>> heat = np.ones((4, 4), "float32")
>>> expl = Explanation("net", "Grad-CAM", "", image=Image.new("RGB", (32, 32)),
...     targets=[TargetExplanation(c, f"<{c}>", 1.0, 0.5, heat) for c in (1, 0)])
>>> page = format_audit_as_html([expl], labels=[0], files=["a.png"])
>>> 'data-correct="0"' in page, "&lt;1&gt;" in page, "<1>" in page
(True, True, False)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from ..audit.summary import FRAME, OFF_OBJECT, Audit, AuditItem, ClassSummary, audit_explanations
from ..errors import bad_argument, said
from ..explanation import Explanation
from .as_dict import image_to_data_uri
from .html import _ENVIRONMENT, PNG_REPORT_LIMIT
from .image import Colormap, overlay
from .pictures import resized
from .summary import format_proba, format_share

if TYPE_CHECKING:
    from ..metrics.localization import Box

CLASS_MAP_WIDTH = 128


def _class_label(target: int, name: str | None) -> str:
    return str(target) if name is None else f"{target} {name}"


def _card(item: AuditItem, order: int, width: int, image_format: str, draw: Any) -> dict:
    picture = resized(item.explanation.image, width)
    heatmaps = [(item.explanation.targets[0].heatmap, "predicted", item.predicted_name)]
    if not item.correct:
        heatmaps.append((item.explanation.target(item.label).heatmap, "true", item.label_name))
    return {
        "index": item.index,
        "order": order,
        "file": item.file,
        "label": item.label,
        "label_text": _class_label(item.label, item.label_name),
        "predicted": item.predicted,
        "predicted_text": _class_label(item.predicted, item.predicted_name),
        "correct": item.correct,
        "proba": "" if item.proba is None else f"{item.proba:.6g}",
        "proba_text": format_proba(item.proba),
        "label_proba_text": format_proba(item.label_proba),
        "off": "" if item.off_object is None else f"{item.off_object:.6g}",
        "off_text": "-" if item.off_object is None else format_share(item.off_object),
        "width": picture.width,
        "height": picture.height,
        "overlays": [
            {"uri": image_to_data_uri(draw(picture, heatmap), image_format), "kind": kind}
            for heatmap, kind, _ in heatmaps
        ],
    }


def _to_peak(heat: np.ndarray) -> np.ndarray:
    """``heat`` scaled so its peak is 1 (shown that way; the numbers use the mean itself)."""
    peak = float(heat.max())
    return heat / peak if peak > 0 else heat


def _class_card(summary: ClassSummary, items: list[AuditItem], draw: Any) -> dict:
    frames = [
        np.asarray(item.explanation.image.convert("RGB").resize(FRAME, Image.BILINEAR))
        for item in items
    ]
    mean_image = Image.fromarray(np.mean(frames, axis=0).round().astype(np.uint8))
    big = mean_image.resize((CLASS_MAP_WIDTH, CLASS_MAP_WIDTH), Image.BILINEAR)
    return {
        "text": _class_label(summary.target, summary.name),
        "count": summary.count,
        "accuracy": format_share(summary.accuracy),
        "off_centre": f"{summary.off_centre:.2f}",
        "spread": format_share(summary.spread),
        "off_object": "-"
        if summary.mean_off_object is None
        else format_share(summary.mean_off_object),
        "uri": image_to_data_uri(draw(big, _to_peak(summary.mean_heatmap)), "png"),
        "size": CLASS_MAP_WIDTH,
    }


def _ordered(audit: Audit) -> list[AuditItem]:
    """Mistakes first (most confident first), then the rest in their order."""
    return audit.mistakes + [item for item in audit.items if item.correct]


def format_audit_as_html(
    expls: Sequence[Explanation] | Audit,
    labels: Sequence[int | str] | None = None,
    *,
    files: Sequence[str] | None = None,
    boxes: Sequence[Box | None] | None = None,
    names: Sequence[str] | Mapping[int, str] | None = None,
    title: str = "explainimg audit",
    alpha_limit: float = 0.65,
    colormap: str | Colormap = "viridis",
    image_width: int = 128,
    image_format: str | None = None,
    off_object_threshold: float = OFF_OBJECT,
) -> str:
    """A complete HTML audit page for labelled explanations (or a ready :class:`Audit`).

    ``expls`` as :func:`explainimg.explain_for_audit` makes them (predicted class first, the
    true class among the targets); ``labels``, ``files``, ``boxes``, ``names`` and
    ``off_object_threshold`` go to :func:`explainimg.audit_explanations`. ``image_width``:
    pixel width of each image's pictures. ``image_format``: "png" or "jpeg"; by default PNG
    up to 100 images, else JPEG.
    """
    if isinstance(expls, Audit):
        if labels is not None or files is not None or boxes is not None:
            raise bad_argument(
                "labels", "no labels, files or boxes with a ready Audit", said("some")
            )
        audit = expls
    else:
        audit = audit_explanations(
            expls,
            labels,
            files=files,
            boxes=boxes,
            names=names,
            off_object_threshold=off_object_threshold,
        )
    if image_format not in (None, "png", "jpeg"):
        raise bad_argument("image_format", "'png', 'jpeg' or None", image_format)
    if isinstance(image_width, bool) or not isinstance(image_width, int) or image_width < 1:
        raise bad_argument("image_width", "a positive number of pixels", image_width)
    image_format = image_format or ("png" if len(audit.items) <= PNG_REPORT_LIMIT else "jpeg")

    def draw(picture: Image.Image, heatmap: np.ndarray) -> Image.Image:
        return overlay(picture, heatmap, alpha_limit=alpha_limit, colormap=colormap)

    by_class: dict[int, list[AuditItem]] = {}
    for item in audit.items:
        by_class.setdefault(item.label, []).append(item)
    names_of = {item.label: item.label_name for item in audit.items}
    names_of.update({item.predicted: item.predicted_name for item in audit.items})
    cards = [
        _card(item, order, image_width, image_format, draw)
        for order, item in enumerate(_ordered(audit))
    ]
    return _ENVIRONMENT.get_template("audit.html.j2").render(
        title=title,
        count=len(audit.items),
        mistakes=len(audit.mistakes),
        accuracy=format_share(audit.accuracy),
        models=sorted({item.explanation.estimator for item in audit.items}),
        pairs=[
            {
                "label": _class_label(pair.label, pair.label_name),
                "predicted": _class_label(pair.predicted, pair.predicted_name),
                "count": pair.count,
                "share": format_share(pair.share),
            }
            for pair in audit.pairs[:10]
        ],
        classes=[_class_card(summary, by_class[summary.target], draw) for summary in audit.classes],
        class_options=[
            {"id": class_id, "text": _class_label(class_id, names_of.get(class_id))}
            for class_id in audit.class_ids
        ],
        has_boxes=any(item.box is not None for item in audit.items),
        threshold=format_share(audit.off_object_threshold),
        off_object=[
            {
                "index": item.index,
                "file": item.file,
                "off": format_share(item.off_object),
                "predicted": _class_label(item.predicted, item.predicted_name),
                "label": _class_label(item.label, item.label_name),
            }
            for item in audit.off_object
        ],
        cards=cards,
    )
