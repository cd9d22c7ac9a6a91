"""``explainimg explain --labels ...``: the true labels of image files and the audit report.

>>> from pathlib import Path
>>> file_labels("folders", [Path("photos/disc/1.png")], names=["square", "disc"])
[1]
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..audit.summary import Audit, audit_explanations, resolve_labels
from ..explanation import Explanation
from ..formatters.audit_html import format_audit_as_html
from ..metrics.localization import Box
from .atomic import write_atomically
from .label_files import folder_labels, read_labels_csv


def file_labels(option: str, paths: Sequence[Path], names: Sequence[str] | None) -> list[int]:
    """Class ids of ``paths`` from ``--labels`` (``folders`` or a CSV file); labels are ids or
    names from ``--names``."""
    labels = folder_labels(paths) if option == "folders" else read_labels_csv(option, paths)
    return resolve_labels(labels, names, argument="--labels", origins=paths)


def write_audit(
    results: list[tuple[str, Explanation]],
    names: Sequence[str],
    labels: Sequence[int],
    boxes: Sequence[Box | None] | None,
    *,
    html: str | None,
    title: str,
) -> tuple[Audit, list[str]]:
    """The audit of the explained files (by their ``names`` in the run, with their
    ``labels`` and ``boxes``), and its HTML report when ``html`` names a file."""
    label_of = dict(zip(names, labels, strict=True))
    box_of = dict(zip(names, boxes, strict=True)) if boxes is not None else {}
    audit = audit_explanations(
        [expl for _, expl in results],
        [label_of[name] for name, _ in results],
        files=[name for name, _ in results],
        boxes=[box_of.get(name) for name, _ in results],
    )
    if not html:
        return audit, []
    page = format_audit_as_html(audit, title=title)
    write_atomically(html, lambda temporary: temporary.write_text(page, encoding="utf-8"))
    return audit, [html]
