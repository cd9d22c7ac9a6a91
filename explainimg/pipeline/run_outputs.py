"""Where ``explainimg explain`` puts its results, written as they come (no TensorFlow here).

Each output is a small class with three steps: ``add_image`` (one image's files, called from
worker threads), ``add_batch`` (called in run order once a batch is finished: what must stay
ordered) and ``close`` (at the end; ``abort`` instead after an error).

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> log = ResultLines(folder / "results.jsonl", resume=False)
>>> log.add_batch(0, [Finished(0, "a.jpg", None, None, "cannot read image")])
>>> log.close()
>>> (folder / "results.jsonl").read_text()
'{"file": "a.jpg", "failure": "cannot read image"}\\n'
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any, TextIO

import attrs
import numpy as np

from ..explanation import Explanation
from ..formatters.as_dict import format_as_dict
from ..formatters.pictures import Pictures
from .atomic import file_mode, write_atomically
from .heatmap_shards import write_shard
from .report_files import StreamedReport

EXTENSIONS = {"jpeg": ".jpg", "png": ".png"}


@attrs.frozen
class Finished:
    """One image of a run, by its name in the run: its explanation and text summary, or why it
    failed (``failure``)."""

    position: int
    name: str
    expl: Explanation | None
    text: str | None
    failure: str | None = None


def overlay_name(
    path: Path, position: int, target: int, name: str | None, image_format: str = "png"
) -> str:
    """The overlay file name for target ``position`` of image ``path`` (the class name, made
    safe for file systems, when known).

    >>> overlay_name(Path("photos/dog.jpg"), 0, 235, "German shepherd", "jpeg")
    'dog_0_class235_German_shepherd.jpg'
    """
    label = f"class{target}"
    if name:
        label += "_" + re.sub(r"[^\w.-]+", "_", name).strip("_")[:60]
    return f"{path.stem}_{position}_{label}{EXTENSIONS[image_format]}"


def overlay_path(
    folder: Path,
    name: str,
    position: int,
    target: int,
    label: str | None,
    image_format: str = "png",
) -> Path:
    """Where the overlay of image ``name`` (a name in the run, see
    :func:`~explainimg.pipeline.image_files.find_images`) goes: in ``folder``, in the
    subfolders of ``name`` (created)."""
    path = Path(name)
    out = folder / path.parent / overlay_name(path, position, target, label, image_format)
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def result_record(name: str, expl: Explanation, *, heatmaps: bool = True) -> dict[str, Any]:
    """The JSON record of one explained file (without the heatmaps and attributions when
    ``heatmaps`` is False: runs keep those in NPZ shards)."""
    data = {"file": name, **format_as_dict(expl)}
    if not heatmaps:
        for target in data["targets"]:
            del target["heatmap"], target["attribution"]
    return data


class Output:
    """Does nothing at each step; outputs override the steps they need."""

    def add_image(self, position: int, name: str, expl: Explanation, pictures: Pictures) -> None:
        """Write what belongs to one image (from a worker thread)."""

    def add_batch(self, start: int, finished: list[Finished]) -> None:
        """Write what must stay in run order, once every image of a batch is done."""

    def close(self) -> None:
        """Finish the files after the last batch."""

    def abort(self) -> None:
        """Clean up after an error: leave nothing half-written."""


class OverlayFiles(Output):
    """One overlay picture per explained class in ``folder``."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def add_image(self, position: int, name: str, expl: Explanation, pictures: Pictures) -> None:
        for k, (target, data) in enumerate(zip(expl.targets, pictures.overlays, strict=True)):
            out = overlay_path(
                self.folder, name, k, target.target, target.target_name, pictures.image_format
            )
            write_atomically(out, lambda temporary, d=data: temporary.write_bytes(d))


class Report(Output):
    """The HTML report (see :class:`~explainimg.pipeline.report_files.StreamedReport`);
    unless ``resumable``, an error removes the pieces written so far."""

    def __init__(self, report: StreamedReport, *, resumable: bool) -> None:
        self.report = report
        self.resumable = resumable
        self.added = False

    def add_image(self, position: int, name: str, expl: Explanation, pictures: Pictures) -> None:
        self.report.add(position, name, expl, pictures)
        self.added = True

    def close(self) -> None:
        # A resumed run with nothing left to do keeps the report it finished with (the pieces
        # of a one-file report are gone once it is written).
        if self.added or not self.report.path.exists():
            self.report.close()

    def abort(self) -> None:
        if not self.resumable:
            shutil.rmtree(self.report.folder, ignore_errors=True)


class JsonDocument(Output):
    """One JSON document ``{"results": [...], "failures": [...]}``, heatmaps included, streamed
    to a temporary file that becomes ``path`` when the run ends."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        self.out = self.temporary.open("w", encoding="utf-8")
        self.out.write('{"results": [')
        self.first = True
        self.failures: list[dict[str, str]] = []

    def add_batch(self, start: int, finished: list[Finished]) -> None:
        for item in finished:
            if item.expl is None:
                self.failures.append({"path": item.name, "reason": str(item.failure)})
                continue
            self.out.write(
                ("\n" if self.first else ",\n") + json.dumps(result_record(item.name, item.expl))
            )
            self.first = False

    def close(self) -> None:
        self.out.write('\n], "failures": ' + json.dumps(self.failures) + "}\n")
        self.out.close()
        os.chmod(self.temporary, file_mode())
        os.replace(self.temporary, self.path)

    def abort(self) -> None:
        self.out.close()
        self.temporary.unlink(missing_ok=True)


class ResultLines(Output):
    """JSON Lines, one per image (results without heatmaps, and failures), appended as batches
    finish: the record of what is done that ``--resume`` reads. The file is ``<path>.partial``
    until the run ends."""

    def __init__(self, path: str | Path, *, resume: bool) -> None:
        self.path = Path(path)
        self.partial = self.path.with_name(self.path.name + ".partial")
        if resume and self.path.exists() and not self.partial.exists():
            os.replace(self.path, self.partial)
        self.done = done_files(self.partial) if resume else set()
        self.out: TextIO = self.partial.open("a" if resume else "w", encoding="utf-8")

    def add_batch(self, start: int, finished: list[Finished]) -> None:
        for item in finished:
            if item.expl is None:
                record: dict[str, Any] = {"file": item.name, "failure": item.failure}
            else:
                record = result_record(item.name, item.expl, heatmaps=False)
            self.out.write(json.dumps(record) + "\n")
        self.out.flush()
        os.fsync(self.out.fileno())  # the batch counts as done only once it is on disk

    def close(self) -> None:
        self.out.close()
        os.replace(self.partial, self.path)

    def abort(self) -> None:
        self.out.close()


def done_files(path: Path) -> set[str]:
    """The files a JSON Lines log lists; a last line cut short by a crash is removed."""
    if not path.exists():
        return set()
    data = path.read_bytes()
    complete = data[: data.rfind(b"\n") + 1]
    if len(complete) != len(data):
        with path.open("r+b") as log:
            log.truncate(len(complete))
    return {json.loads(line)["file"] for line in complete.decode("utf-8").splitlines()}


class HeatmapShards(Output):
    """The heatmaps of each batch as one NPZ shard (see
    :mod:`explainimg.pipeline.heatmap_shards`)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def add_batch(self, start: int, finished: list[Finished]) -> None:
        explained = [item for item in finished if item.expl is not None]
        if not explained:
            return
        write_shard(
            self.folder,
            start,
            [item.name for item in explained],
            padded([[t.target for t in item.expl.targets] for item in explained], -1),
            padded([[t.heatmap for t in item.expl.targets] for item in explained], 0.0),
            _attributions(explained),
        )


def padded(rows: list[list[Any]], fill: Any) -> np.ndarray:
    """Rows of targets' values (arrays or numbers) as one array, the shorter rows (an image
    with fewer detections) padded with ``fill`` (its value everywhere) to the longest.

    >>> padded([[1, 2], [3]], -1).tolist()
    [[1, 2], [3, -1]]
    """
    longest = max((len(row) for row in rows), default=0)
    shapes = {np.shape(value) for row in rows for value in row}
    blank = np.full(shapes.pop() if shapes else (), fill)
    return np.array([[*row, *[blank] * (longest - len(row))] for row in rows])


def _attributions(explained: list[Finished]) -> np.ndarray | None:
    """(N, K, H, W) signed attributions of a batch, or None when its method has none."""
    values = [[t.attribution for t in item.expl.targets] for item in explained]
    if any(a is None for row in values for a in row):
        return None
    return padded(values, 0.0)


class TextSummaries(Output):
    """Failures on stderr and, with ``texts``, each image's text summary on stdout, in run
    order."""

    def __init__(self, *, texts: bool = True) -> None:
        self.texts = texts

    def add_batch(self, start: int, finished: list[Finished]) -> None:
        for item in finished:
            if item.expl is None:
                print(f"failed: {item.name}: {item.failure}", file=sys.stderr)
            elif self.texts:
                print(f"== {item.name}\n{item.text}\n")
