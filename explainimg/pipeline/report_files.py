"""A report written while a run goes on: one self-contained page, or an index of many pages.

Each image's pieces are written to ``<report>_files/`` as soon as it is explained (from
worker threads: every piece is its own file), and :meth:`StreamedReport.close` puts the page
together by copying them in order, so memory stays flat and a resumed run keeps what was
written before. Small runs get one self-contained HTML file (pictures as data URIs, the
folder removed at the end); large ones an index page with lazily loaded thumbnails linking
to one page per image, the pictures as files beside them.

>>> import tempfile, numpy as np
>>> from pathlib import Path
>>> from PIL import Image
>>> from explainimg.explanation import Explanation, TargetExplanation
>>> from explainimg.formatters.pictures import draw_pictures
>>> expl = Explanation(estimator="net", method="Grad-CAM", description="", layer="conv",
...     image=Image.new("RGB", (32, 32)),
...     targets=[TargetExplanation(1, "cat", 2.0, 0.5, np.ones((4, 4), "float32"))])
>>> folder = Path(tempfile.mkdtemp())
>>> report = StreamedReport(folder / "report.html", title="run", models=["net"], index=True)
>>> report.add(0, "<cat>.jpg", expl, draw_pictures(expl, image_format="jpeg", thumbnail=True))
>>> report.close()
>>> sorted(p.name for p in (folder / "report_files").iterdir())
['0000000.html', '0000000_original.jpg', '0000000_overlay0.jpg', '0000000_thumbnail.jpg', 'parts']
>>> "&lt;cat&gt;.jpg" in (folder / "report.html").read_text()
True
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from ..explanation import Explanation
from ..formatters.as_dict import bytes_to_data_uri
from ..formatters.html import _ENVIRONMENT, explanation_item
from ..formatters.pictures import Pictures
from .atomic import write_atomically

INDEX_REPORT_THRESHOLD = 200
"""Runs of more images than this get an index report (see :class:`StreamedReport`)."""

_PARTS = _ENVIRONMENT.get_template("report_parts.html.j2").module
_EXTENSIONS = {"jpeg": "jpg", "png": "png"}


class StreamedReport:
    """The HTML report at ``path``, built one image at a time.

    ``index``: False for one self-contained page (images embedded), True for an index page
    linking to one page per image (pictures as files, thumbnails loaded lazily). ``add`` may
    be called from several threads for different positions.
    """

    def __init__(self, path: str | Path, *, title: str, models: Sequence[str], index: bool):
        self.path = Path(path)
        self.title = title
        self.models = list(models)
        self.index = index
        self.folder = self.path.parent / f"{self.path.stem}_files"
        self.parts = self.folder / "parts"
        self.parts.mkdir(parents=True, exist_ok=True)

    def add(self, position: int, caption: str, expl: Explanation, pictures: Pictures) -> None:
        """Write the pieces of image number ``position`` (its place in the run)."""
        name = f"{position:07d}"
        if self.index:
            item = explanation_item(expl, pictures, self._picture_files(name, pictures))
            item["caption"] = caption
            item["thumbnail"] = f"{self.folder.name}/{item['thumbnail']}"
            page = _ENVIRONMENT.get_template("image_page.html.j2").render(
                item=item, title=self.title, index=f"../{self.path.name}"
            )
            _write_text(self.folder / f"{name}.html", page)
            href = f"{self.folder.name}/{name}.html"
        else:
            kind = pictures.image_format
            item = explanation_item(expl, pictures, lambda _, data: bytes_to_data_uri(data, kind))
            item["caption"] = caption
            _write_text(self.parts / f"{name}.section", str(_PARTS.section(item, position)))
            href = f"#image-{position}"
        row = str(_PARTS.summary_row(item, position, href, lazy=self.index))
        _write_text(self.parts / f"{name}.row", row)

    def _picture_files(self, name: str, pictures: Pictures) -> Callable[[str, bytes], str]:
        extension = _EXTENSIONS[pictures.image_format]

        def write(role: str, data: bytes) -> str:
            file = f"{name}_{role}.{extension}"
            write_atomically(self.folder / file, lambda temporary: temporary.write_bytes(data))
            return file

        return write

    def close(self) -> None:
        """Write the page from every image's pieces (those of earlier runs included)."""
        rows = sorted(self.parts.glob("*.row"))
        sections = [] if self.index else sorted(self.parts.glob("*.section"))

        def write(temporary: Path) -> None:
            with temporary.open("w", encoding="utf-8") as out:
                out.write(str(_PARTS.page_head(self.title, len(rows), self.models)))
                _copy(rows, out)
                out.write(str(_PARTS.table_end()))
                _copy(sections, out)
                out.write(str(_PARTS.page_foot()))

        write_atomically(self.path, write)
        if not self.index:
            shutil.rmtree(self.folder)


def _write_text(path: Path, text: str) -> None:
    write_atomically(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def _copy(files: list[Path], out: IO[str]) -> None:
    for file in files:
        out.write(file.read_text(encoding="utf-8"))
