"""``explainimg explain``: explain image files with a saved model and write the results.

Images are read with PIL, converted to the model's channels and resized to its input size,
then explained in batches by an Explainer that applies its ``preprocess=`` (``--preprocess``).
A file that cannot be read (broken, not an image, a decompression bomb) is reported and
skipped; the others are still explained and written. Output files are written whole or not at
all (through a temporary file). The exit code is 1 when any file failed, else 0.

>>> image_files([])
[]
>>> overlay_name(Path("photos/dog.jpg"), 0, 235, "German shepherd")
'dog_0_class235_German_shepherd.png'
"""

from __future__ import annotations

import json
import sys
import zipfile
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import IO, Any

import attrs
import keras
from PIL import Image

from ..audit.explain import check_label_range, explain_labelled_batch
from ..errors import bad_argument, said
from ..explainer import Explainer
from ..explanation import Explanation
from ..formatters.as_dict import format_as_dict
from ..formatters.html import format_as_html
from ..formatters.image import format_as_image
from ..formatters.text import format_as_text
from ..inputs.arguments import image_batch
from ..inputs.images import read_image
from .atomic import write_atomically
from .run_outputs import overlay_name

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


@attrs.frozen
class Failure:
    path: str
    reason: str


def image_files(paths: Sequence[str | Path]) -> list[Path]:
    """The files named, and the image files inside named folders (sorted, not recursive)."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            found.append(path)
    return found


def load_model(path: str | Path) -> keras.Model:
    """A ``.keras`` model, loaded in Keras' safe mode (no arbitrary code from the file)."""
    if not Path(path).is_file():
        got = said(f"{str(path)!r}, which is not a file")
        raise bad_argument("model", "a .keras model file", got)
    if Path(path).suffix == ".keras" and not zipfile.is_zipfile(path):
        got = said(f"{str(path)!r}, which is not a saved Keras model (not a zip archive)")
        raise bad_argument("model", "a .keras model file", got)
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # Keras raises many types for a file that is not a model
        raise bad_argument(
            "model",
            "a .keras model file",
            said(f"{str(path)!r}, which Keras cannot load as a model ({error})"),
        ) from None


def _read(path: Path, shape: tuple[int | None, ...]) -> Image.Image:
    picture = read_image(path)
    channels = shape[3]
    if channels == 3 and picture.mode != "RGB":
        picture = picture.convert("RGB")
    return picture


def _readable_batches(
    paths: list[Path], shape: tuple[int | None, ...], batch_size: int, failures: list[Failure]
) -> Iterator[tuple[list[Path], list[Image.Image]]]:
    """(paths, pictures) of up to ``batch_size`` readable files; unreadable ones go to
    ``failures``."""
    chunk: tuple[list[Path], list[Image.Image]] = ([], [])
    for path in paths:
        try:
            picture = _read(path, shape)
        except Exception as error:  # one bad file (PIL raises many types) must not end the run
            failures.append(Failure(str(path), f"cannot read image ({error})"))
            continue
        chunk[0].append(path)
        chunk[1].append(picture)
        if len(chunk[0]) == batch_size:
            yield chunk
            chunk = ([], [])
    if chunk[0]:
        yield chunk


def explain_files(
    model: keras.Model,
    paths: list[Path],
    *,
    top: int | None = None,
    targets: list[int] | None = None,
    method: str = "gradcam",
    layer: Any = None,
    target_names: Any = None,
    batch_size: int = 16,
    progress: bool = True,
    labels: Sequence[int] | None = None,
    output: Any = None,
    preprocess: Any = None,
) -> tuple[list[tuple[Path, Explanation]], list[Failure]]:
    """Explain every readable file; returns (path, explanation) pairs and the failures.

    ``preprocess`` as for :class:`~explainimg.Explainer` (the pixels read are 0..255 RGB,
    converted and resized for the model).

    With ``labels`` (one class id per path) each file is explained for its predicted class,
    then its true class (see :func:`explainimg.explain_for_audit`)."""
    explainer = Explainer(
        model,
        layer=layer,
        method=method,
        target_names=target_names,
        output=output,
        preprocess=preprocess,
    )
    if labels is not None:
        check_label_range(labels, explainer.n_classes)
        label_of = dict(zip(paths, labels, strict=True))
    shape = tuple(model.inputs[0].shape)
    failures: list[Failure] = []
    results: list[tuple[Path, Explanation]] = []
    show = Progress(len(paths)) if progress else None
    for batch_paths, pictures in _readable_batches(paths, shape, batch_size, failures):
        batch, _ = image_batch(pictures, shape)  # converted and resized for the model
        if labels is None:
            expls = explainer.explain_batch(batch, targets=targets, top=top, images=pictures)
        else:
            batch_labels = [label_of[path] for path in batch_paths]
            expls = explain_labelled_batch(explainer, batch, batch_labels, images=pictures)
        for path, expl in zip(batch_paths, expls, strict=True):
            if expl.targets:
                results.append((path, expl))
            else:
                failures.append(Failure(str(path), str(expl.error)))
        if show is not None:
            show(len(results) + len(failures))
    if show is not None:
        show.close()
    return results, failures


class Progress:
    """ "explained 12/40 images" on stderr: redrawn in place on a terminal, else one plain
    line per update (no colour or control codes in a log file)."""

    def __init__(self, total: int, stream: IO[str] | None = None) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.live = self.stream.isatty()

    def __call__(self, done: int) -> None:
        text = f"explained {done}/{self.total} images"
        if self.live:
            self.stream.write(f"\r{text}")
        else:
            self.stream.write(f"{text}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.live:
            self.stream.write("\n")


def check_destinations(html: str | None, overlays: str | None, json_path: str | None) -> None:
    """An error before any work when an output cannot be written where it was asked for."""
    for option, file in (("--html", html), ("--json", json_path)):
        if file is None:
            continue
        folder = Path(file).parent
        if Path(file).is_dir() or not folder.is_dir():
            raise bad_argument(
                option,
                "a file path in an existing folder",
                said(f"{file!r} ({'a folder' if Path(file).is_dir() else 'no such folder'})"),
            )
    if overlays is not None and Path(overlays).exists() and not Path(overlays).is_dir():
        raise bad_argument("--overlays", "a folder", said(f"{overlays!r}, which is a file"))


def _save_png(picture: Image.Image, path: Path) -> None:
    picture.save(path, format="PNG")


def write_outputs(
    results: list[tuple[Path, Explanation]],
    failures: list[Failure],
    *,
    html: str | None,
    overlays: str | None,
    json_path: str | None,
    title: str,
    image_width: int | None = None,
    image_format: str | None = None,
) -> list[str]:
    """Write the requested files; returns what was written, for the summary. ``image_width``
    and ``image_format`` go to :func:`~explainimg.format_as_html` for the report."""
    written: list[str] = []
    if html:
        expls = [expl for _, expl in results]
        page = format_as_html(
            expls,
            title=title,
            captions=[path.name for path, _ in results],
            image_width=image_width,
            image_format=image_format,
        )
        write_atomically(html, lambda temporary: temporary.write_text(page, encoding="utf-8"))
        written.append(html)
    if overlays:
        folder = Path(overlays)
        folder.mkdir(parents=True, exist_ok=True)
        for path, expl in results:
            for position, target in enumerate(expl.targets):
                out = folder / overlay_name(path, position, target.target, target.target_name)
                picture = format_as_image(expl, target=position)
                write_atomically(out, partial(_save_png, picture))
        written.append(str(folder))
    if json_path:
        data = {
            "results": [{"file": str(path), **format_as_dict(expl)} for path, expl in results],
            "failures": [attrs.asdict(failure) for failure in failures],
        }
        text = json.dumps(data, indent=1)
        write_atomically(json_path, lambda temporary: temporary.write_text(text, encoding="utf-8"))
        written.append(json_path)
    return written


def print_summary(
    results: list[tuple[Path, Explanation]], failures: list[Failure], written: list[str]
) -> None:
    """Text summaries on stdout; failures on stderr."""
    for path, expl in results:
        print(f"== {path}")
        print(format_as_text(expl))
        print()
    for failure in failures:
        print(f"failed: {failure.path}: {failure.reason}", file=sys.stderr)
    print(f"{len(results)} explained, {len(failures)} failed.")
    for item in written:
        print(f"wrote {item}")
