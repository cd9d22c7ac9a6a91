"""Auditing a classifier on labelled images: accuracy, confusions, where it looks per class.

NumPy only. Each explanation must hold the predicted class first and the true class among its
targets, as :func:`explainimg.explain_for_audit` makes them (``targets=[predicted, true]`` in
one pass). Boxes are ``(top, left, bottom, right)`` in pixels of ``expl.image``, bounds
included, as in :mod:`explainimg.metrics`.

>>> import numpy as np
>>> from PIL import Image
>>> from explainimg.explanation import Explanation, TargetExplanation
>>> def expl(predicted, label, heat):
...     targets = [TargetExplanation(c, None, 1.0, 0.9, heat) for c in (predicted, label)]
...     return Explanation("net", "Grad-CAM", "", targets, image=Image.new("RGB", (8, 8)))
>>> corner = np.zeros((4, 4), "float32"); corner[0, 0] = 1.0
>>> audit = audit_explanations([expl(0, 0, corner), expl(1, 0, corner)], labels=[0, 0],
...     boxes=[(4, 4, 7, 7), None])
>>> audit.accuracy, [(p.label, p.predicted, p.count) for p in audit.pairs]
(0.5, [(0, 1, 1)])
>>> [item.index for item in audit.off_object], audit.classes[0].off_centre > 0.5
([0], True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from PIL import Image

from ..errors import bad_argument, bad_type, said
from ..explanation import Explanation, TargetExplanation, checked_explanation
from ..heatmaps import upsample_heatmap

if TYPE_CHECKING:
    from ..metrics.localization import Box

FRAME = (64, 64)
"""(width, height) every heatmap is resized to before the per-class mean."""
OFF_OBJECT = 0.5
"""An image is listed as off-object when more than this share of its heat is outside its box."""


@attrs.frozen(eq=False)
class AuditItem:
    """One labelled image: what the model said, and where it looked.

    ``proba`` is the probability of the predicted class, ``label_proba`` that of the true one.
    ``off_object``: share of the predicted class's heat outside ``box`` (None without a box or
    when the map is all zero). ``explanation`` holds the heatmaps (predicted class first).
    """

    index: int
    file: str
    label: int
    label_name: str | None
    predicted: int
    predicted_name: str | None
    proba: float | None
    label_proba: float | None
    box: Box | None
    off_object: float | None
    explanation: Explanation = attrs.field(repr=False)

    @property
    def correct(self) -> bool:
        return self.label == self.predicted


@attrs.frozen(eq=False)
class ClassSummary:
    """Where the model looks for one class, over the images labelled with it.

    ``mean_heatmap``: mean of the true class's heatmaps, each resized to :data:`FRAME` (the
    image frame: (0, 0) is the top-left corner of every image). ``centroid``: (x, y) of its
    heat as fractions of the width and height. ``off_centre``: distance of the centroid from
    the image centre, 0 at the centre and 1 in a corner. ``spread``: share of the frame at or
    above half of the mean map's peak. ``mean_off_object``: mean of the images' off-object
    shares (None without boxes).
    """

    target: int
    name: str | None
    count: int
    correct: int
    mean_heatmap: np.ndarray = attrs.field(repr=False)
    centroid: tuple[float, float]
    off_centre: float
    spread: float
    mean_off_object: float | None

    @property
    def accuracy(self) -> float:
        return self.correct / self.count


@attrs.frozen
class ConfusionPair:
    """``count`` images of class ``label`` predicted as ``predicted``; ``share`` of the
    images of ``label``."""

    label: int
    label_name: str | None
    predicted: int
    predicted_name: str | None
    count: int
    share: float


@attrs.frozen(eq=False)
class Audit:
    """Everything an audit report shows, as plain numbers and arrays.

    ``class_ids``: the classes seen as labels or predictions, sorted; ``confusion[i, j]``
    counts images of ``class_ids[i]`` predicted as ``class_ids[j]``. ``pairs``: the off-
    diagonal cells, most frequent first. ``classes``: one summary per label, by class id.
    """

    items: list[AuditItem]
    classes: list[ClassSummary]
    class_ids: list[int]
    confusion: np.ndarray = attrs.field(repr=False)
    pairs: list[ConfusionPair]
    off_object_threshold: float = OFF_OBJECT

    @property
    def accuracy(self) -> float:
        return sum(item.correct for item in self.items) / len(self.items)

    @property
    def mistakes(self) -> list[AuditItem]:
        """Misclassified images, the most confident mistakes first."""
        wrong = [item for item in self.items if not item.correct]
        return sorted(wrong, key=lambda item: -(item.proba or 0.0))

    @property
    def off_object(self) -> list[AuditItem]:
        """Images with more than ``off_object_threshold`` of their heat outside the box,
        the most off first."""
        off = [
            item
            for item in self.items
            if item.off_object is not None and item.off_object > self.off_object_threshold
        ]
        return sorted(off, key=lambda item: -item.off_object)


def resolve_labels(
    labels: Any,
    names: Sequence[str] | Mapping[int, str] | None,
    *,
    argument: str = "labels",
    origins: Sequence[Any] | None = None,
) -> list[int]:
    """Class ids from ``labels``: ids, or class names when ``names`` (a list or {id: name})
    has them; digit strings are ids. Errors name ``argument`` and the label's position, or
    its origin (e.g. the file) when ``origins`` are given.

    >>> resolve_labels(["cat", "7", 2], ["dog", "cat"])
    [1, 7, 2]
    """
    if isinstance(labels, (str, bytes)) or not isinstance(labels, (Sequence, np.ndarray)):
        raise bad_type(argument, "a list of class ids or names, one per image", labels)
    ids = {}
    if names is not None:
        pairs = names.items() if isinstance(names, Mapping) else enumerate(names)
        ids = {str(name): int(class_id) for class_id, name in pairs}
    resolved = []
    for position, label in enumerate(labels):
        if isinstance(label, (int, np.integer)) and not isinstance(label, bool) and label >= 0:
            resolved.append(int(label))
        elif isinstance(label, str) and label in ids:
            resolved.append(ids[label])
        elif isinstance(label, str) and label.isdigit():
            resolved.append(int(label))
        else:
            known = f" or one of the {len(ids)} class names" if ids else ""
            where = f"[{position}]" if origins is None else f" ({origins[position]})"
            raise bad_argument(f"{argument}{where}", f"a class id{known}", label)
    return resolved


def _true_target(expl: Explanation, label: int, position: int) -> TargetExplanation:
    for target in expl.targets:
        if target.target == label:
            return target
    raise bad_argument(
        f"expls[{position}]",
        f"an explanation of the true class {label} too (explain_for_audit makes them)",
        said(f"classes {[t.target for t in expl.targets]}"),
    )


def _checked_list(value: Any, name: str, count: int, expected: str) -> list[Any]:
    if value is None:
        return [None] * count
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise bad_type(name, expected, value)
    if len(value) != count:
        raise bad_argument(name, f"{expected}: {count} (one per image)", said(f"{len(value)}"))
    return list(value)


def _off_object(expl: Explanation, box: Box | None, position: int) -> float | None:
    heatmap = expl.targets[0].heatmap
    if box is None or not heatmap.any():
        return None
    # Imported here: explainimg.metrics also holds Keras-based metrics, and formatters (which
    # use this module) must not import Keras.
    from ..metrics.localization import energy_in_box

    try:
        return 1.0 - energy_in_box(expl, box=box)
    except ValueError as error:
        raise bad_argument(
            f"boxes[{position}]", "a box inside its image", said(str(error))
        ) from None


def _item(expl: Any, label: int, file: str | None, box: Box | None, position: int) -> AuditItem:
    expl = checked_explanation(expl, needs_image=True)
    if not expl.targets:
        raise bad_argument(f"expls[{position}]", "an explanation with targets", expl.error)
    predicted = expl.targets[0]
    true = _true_target(expl, label, position)
    return AuditItem(
        index=position,
        file=f"image {position}" if file is None else str(file),
        label=label,
        label_name=true.target_name,
        predicted=predicted.target,
        predicted_name=predicted.target_name,
        proba=predicted.proba,
        label_proba=true.proba,
        box=None if box is None else tuple(int(v) for v in box),
        off_object=_off_object(expl, box, position),
        explanation=expl,
    )


def heat_centroid(heat: np.ndarray) -> tuple[float, float]:
    """(x, y) of the heat's centre of mass as fractions of the width and height (the middle
    for an all-zero map).

    >>> heat = np.zeros((4, 4)); heat[0, 3] = 1.0
    >>> heat_centroid(heat)
    (0.875, 0.125)
    """
    total = float(heat.sum())
    if total <= 0:
        return 0.5, 0.5
    height, width = heat.shape
    ys = (np.arange(height) + 0.5) / height
    xs = (np.arange(width) + 0.5) / width
    return float(heat.sum(axis=0) @ xs / total), float(heat.sum(axis=1) @ ys / total)


def _class_summary(target: int, items: list[AuditItem]) -> ClassSummary:
    maps = [
        upsample_heatmap(item.explanation.target(target).heatmap, FRAME, Image.BILINEAR)
        for item in items
    ]
    mean = np.mean(maps, axis=0, dtype=np.float64).astype(np.float32)
    x, y = heat_centroid(mean)
    peak = float(mean.max())
    offs = [item.off_object for item in items if item.off_object is not None]
    return ClassSummary(
        target=target,
        name=items[0].label_name,
        count=len(items),
        correct=sum(item.correct for item in items),
        mean_heatmap=mean,
        centroid=(x, y),
        off_centre=float(np.hypot(x - 0.5, y - 0.5) / np.hypot(0.5, 0.5)),
        spread=float(np.mean(mean >= peak / 2)) if peak > 0 else 0.0,
        mean_off_object=float(np.mean(offs)) if offs else None,
    )


def _confusion(items: list[AuditItem]) -> tuple[list[int], np.ndarray, list[ConfusionPair]]:
    class_ids = sorted({item.label for item in items} | {item.predicted for item in items})
    row = {class_id: i for i, class_id in enumerate(class_ids)}
    matrix = np.zeros((len(class_ids), len(class_ids)), dtype=np.int64)
    names: dict[int, str | None] = {}
    for item in items:
        matrix[row[item.label], row[item.predicted]] += 1
        names.setdefault(item.label, item.label_name)
        names.setdefault(item.predicted, item.predicted_name)
    pairs = [
        ConfusionPair(
            label=a,
            label_name=names[a],
            predicted=b,
            predicted_name=names[b],
            count=int(matrix[row[a], row[b]]),
            share=float(matrix[row[a], row[b]] / matrix[row[a]].sum()),
        )
        for a in class_ids
        for b in class_ids
        if a != b and matrix[row[a], row[b]] > 0
    ]
    pairs.sort(key=lambda pair: (-pair.count, pair.label, pair.predicted))
    return class_ids, matrix, pairs


def audit_explanations(
    expls: Sequence[Explanation],
    labels: Sequence[int | str],
    *,
    files: Sequence[str] | None = None,
    boxes: Sequence[Box | None] | None = None,
    names: Sequence[str] | Mapping[int, str] | None = None,
    off_object_threshold: float = OFF_OBJECT,
) -> Audit:
    """The audit of labelled explanations: accuracy, confusions, per-class mean heatmaps and
    off-object shares.

    ``labels``: the true class of each image, as an id or (with ``names``) a class name.
    ``files``: names shown for the images (default "image 0", ...). ``boxes``: one object box
    per image (``(top, left, bottom, right)``) or None where there is none.
    """
    if isinstance(expls, Explanation) or not isinstance(expls, Sequence):
        raise bad_type("expls", "a list of Explanations", expls)
    if not expls:
        raise bad_argument("expls", "at least one explanation", said("an empty list"))
    count = len(expls)
    labels = _checked_list(labels, "labels", count, "a list of class ids or names")
    label_ids = resolve_labels(labels, names)
    files = _checked_list(files, "files", count, "a list of file names")
    boxes = _checked_list(boxes, "boxes", count, "a list of boxes or None")
    if not 0.0 <= off_object_threshold <= 1.0:
        raise bad_argument(
            "off_object_threshold", "a share between 0.0 and 1.0", off_object_threshold
        )
    items = [
        _item(expl, label, file, box, i)
        for i, (expl, label, file, box) in enumerate(
            zip(expls, label_ids, files, boxes, strict=True)
        )
    ]
    by_class: dict[int, list[AuditItem]] = {}
    for item in items:
        by_class.setdefault(item.label, []).append(item)
    class_ids, matrix, pairs = _confusion(items)
    return Audit(
        items=items,
        classes=[_class_summary(target, by_class[target]) for target in sorted(by_class)],
        class_ids=class_ids,
        confusion=matrix,
        pairs=pairs,
        off_object_threshold=float(off_object_threshold),
    )
