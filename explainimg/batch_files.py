"""``explainimg explain``: explain image files with a saved model and write the results.

Images are read with PIL, converted to the model's channels, resized to its input size and
preprocessed like keras.applications models expect (``--preprocess``); then explained in
batches. A file that cannot be read is reported and skipped; the others are still explained
and written. The exit code is 1 when any file failed, else 0.

>>> image_files([])
[]
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
import keras
import numpy as np
from PIL import Image, UnidentifiedImageError

from .arguments import image_batch
from .explain_audit import check_label_range, explain_labelled_batch
from .explainer import Explainer
from .explanation import Explanation
from .formatters.as_dict import format_as_dict
from .formatters.html import format_as_html
from .formatters.image import format_as_image
from .formatters.text import format_as_text

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


def preprocess(pixels: np.ndarray, mode: str) -> np.ndarray:
    """Apply keras.applications' preprocessing ``mode`` ("tf": -1..1, "torch": ImageNet mean
    and std, "caffe": BGR minus ImageNet means) to 0..255 RGB pixels; "none" keeps them."""
    if mode == "none":
        return pixels
    return keras.applications.imagenet_utils.preprocess_input(pixels.copy(), mode=mode)


def load_model(path: str | Path) -> keras.Model:
    """A ``.keras`` model, loaded in Keras' safe mode (no arbitrary code from the file)."""
    return keras.saving.load_model(path, safe_mode=True)


def _read(path: Path, shape: tuple[int | None, ...]) -> Image.Image:
    with Image.open(path) as opened:
        opened.load()
        picture = opened.copy()
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
        except (OSError, UnidentifiedImageError, ValueError) as error:
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
    preprocess_mode: str = "none",
    top: int | None = None,
    targets: list[int] | None = None,
    method: str = "gradcam",
    layer: Any = None,
    target_names: Any = None,
    batch_size: int = 16,
    progress: bool = True,
    labels: Sequence[int] | None = None,
) -> tuple[list[tuple[Path, Explanation]], list[Failure]]:
    """Explain every readable file; returns (path, explanation) pairs and the failures.

    With ``labels`` (one class id per path) each file is explained for its predicted class,
    then its true class (see :func:`explainimg.explain_for_audit`)."""
    explainer = Explainer(model, layer=layer, method=method, target_names=target_names)
    if labels is not None:
        check_label_range(labels, explainer.n_classes)
        label_of = dict(zip(paths, labels, strict=True))
    shape = tuple(model.inputs[0].shape)
    failures: list[Failure] = []
    results: list[tuple[Path, Explanation]] = []
    bar = keras.utils.Progbar(len(paths), unit_name="image") if progress else None
    for batch_paths, pictures in _readable_batches(paths, shape, batch_size, failures):
        pixels, _ = image_batch(pictures, shape)  # converted and resized for the model
        batch = preprocess(pixels, preprocess_mode)
        if labels is None:
            expls = explainer.explain_batch(batch, targets=targets, top=top, images=pictures)
        else:
            batch_labels = [label_of[path] for path in batch_paths]
            expls = explain_labelled_batch(explainer, batch, batch_labels, images=pictures)
        for path, expl in zip(batch_paths, expls, strict=True):
            if expl.error:
                failures.append(Failure(str(path), expl.error))
            else:
                results.append((path, expl))
        if bar is not None:
            bar.update(len(results) + len(failures))
    return results, failures


def write_outputs(
    results: list[tuple[Path, Explanation]],
    failures: list[Failure],
    *,
    html: str | None,
    overlays: str | None,
    json_path: str | None,
    title: str,
) -> list[str]:
    """Write the requested files; returns what was written, for the summary."""
    written: list[str] = []
    if html:
        Path(html).write_text(format_as_html([expl for _, expl in results], title=title))
        written.append(html)
    if overlays:
        folder = Path(overlays)
        folder.mkdir(parents=True, exist_ok=True)
        for path, expl in results:
            for position, target in enumerate(expl.targets):
                out = folder / f"{path.stem}_{position}_class{target.target}.png"
                format_as_image(expl, target=position).save(out)
        written.append(str(folder))
    if json_path:
        data = {
            "results": [{"file": str(path), **format_as_dict(expl)} for path, expl in results],
            "failures": [attrs.asdict(failure) for failure in failures],
        }
        Path(json_path).write_text(json.dumps(data, indent=1))
        written.append(json_path)
    return written


def print_summary(
    results: list[tuple[Path, Explanation]], failures: list[Failure], written: list[str]
) -> None:
    """Text summaries on stdout; failures on stderr."""
    for path, expl in results:
        print(f"== {path}")
        print(format_as_text(expl, grid=False))
        print()
    for failure in failures:
        print(f"failed: {failure.path}: {failure.reason}", file=sys.stderr)
    print(f"{len(results)} explained, {len(failures)} failed.")
    for item in written:
        print(f"wrote {item}")
