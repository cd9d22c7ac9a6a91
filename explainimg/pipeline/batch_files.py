"""``explainimg explain``: explain image files with a saved model and write the results.

Images are read with PIL, converted to the model's channels and resized to its input size,
then explained in batches by an Explainer that applies its ``preprocess=`` (``--preprocess``).
A file that cannot be read (broken, not an image, a decompression bomb) is reported and
skipped; the others are still explained and written. Output files are written whole or not at
all (through a temporary file). The exit code is 1 when any file failed, else 0.

>>> overlay_path(Path("overlays"), "cat/dog.jpg", 0, 235, "German shepherd").as_posix()
'overlays/cat/dog_0_class235_German_shepherd.png'
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import attrs
import keras
from PIL import Image

from ..audit.explain import check_label_range, explain_labelled_batch
from ..engine.progress import progress_bar
from ..engine.transport import import_packages_of
from ..errors import bad_argument, said
from ..explainer import Explainer
from ..explanation import Explanation
from ..formatters.as_dict import format_as_dict
from ..formatters.html import format_as_html
from ..formatters.image import format_as_image
from ..formatters.text import format_as_text
from ..inputs.arguments import image_batch
from ..inputs.images import read_image
from .arguments import check_model_file
from .atomic import write_atomically
from .run_outputs import overlay_path


@attrs.frozen
class Failure:
    path: str
    reason: str


def load_model(path: str | Path) -> keras.Model:
    """A ``.keras`` model, loaded in Keras' safe mode (no arbitrary code from the file)."""
    check_model_file(path)
    import_packages_of(path)
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
    paths: list[Path],
    names: list[str],
    shape: tuple[int | None, ...],
    batch_size: int,
    failures: list[Failure],
) -> Iterator[tuple[list[str], list[Image.Image]]]:
    """(names, pictures) of up to ``batch_size`` readable files; unreadable ones go to
    ``failures``."""
    chunk: tuple[list[str], list[Image.Image]] = ([], [])
    for path, name in zip(paths, names, strict=True):
        try:
            picture = _read(path, shape)
        except Exception as error:  # one bad file (PIL raises many types) must not end the run
            failures.append(Failure(name, f"cannot read image ({error})"))
            continue
        chunk[0].append(name)
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
    names: list[str] | None = None,
    top: int | None = None,
    targets: list[int] | None = None,
    method: Any = "gradcam",
    layer: Any = None,
    target_names: Any = None,
    batch_size: int = 16,
    progress: bool = True,
    labels: Sequence[int] | None = None,
    output: Any = None,
    preprocess: Any = None,
) -> tuple[list[tuple[str, Explanation]], list[Failure]]:
    """Explain every readable file; returns (name, explanation) pairs and the failures.

    ``names``: how results name the files (default: their paths, see
    :func:`~explainimg.pipeline.image_files.find_images`). ``preprocess`` as for
    :class:`~explainimg.Explainer` (the pixels read are 0..255 RGB, converted and resized
    for the model).

    With ``labels`` (one class id per path) each file is explained for its predicted class,
    then its true class (see :func:`explainimg.explain_for_audit`)."""
    names = [str(path) for path in paths] if names is None else list(names)
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
        label_of = dict(zip(names, labels, strict=True))
    shape = tuple(model.inputs[0].shape)
    failures: list[Failure] = []
    results: list[tuple[str, Explanation]] = []
    with progress_bar(len(paths), enabled=progress) as bar:
        batches = _readable_batches(paths, names, shape, batch_size, failures)
        for batch_names, pictures in batches:
            batch, _ = image_batch(pictures, shape)  # converted and resized for the model
            if labels is None:
                expls = explainer.explain_batch(batch, targets=targets, top=top, images=pictures)
            else:
                batch_labels = [label_of[name] for name in batch_names]
                expls = explain_labelled_batch(explainer, batch, batch_labels, images=pictures)
            for name, expl in zip(batch_names, expls, strict=True):
                if expl.targets:
                    results.append((name, expl))
                else:
                    failures.append(Failure(name, str(expl.error)))
            bar.update(len(results) + len(failures) - bar.n)
    return results, failures


def _save_png(picture: Image.Image, path: Path) -> None:
    picture.save(path, format="PNG")


def write_outputs(
    results: list[tuple[str, Explanation]],
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
            captions=[name for name, _ in results],
            image_width=image_width,
            image_format=image_format,
        )
        write_atomically(html, lambda temporary: temporary.write_text(page, encoding="utf-8"))
        written.append(html)
    if overlays:
        folder = Path(overlays)
        folder.mkdir(parents=True, exist_ok=True)
        for name, expl in results:
            for position, target in enumerate(expl.targets):
                out = overlay_path(folder, name, position, target.target, target.target_name)
                picture = format_as_image(expl, target=position)
                write_atomically(out, partial(_save_png, picture))
        written.append(str(folder))
    if json_path:
        data = {
            "results": [{"file": name, **format_as_dict(expl)} for name, expl in results],
            "failures": [attrs.asdict(failure) for failure in failures],
        }
        text = json.dumps(data, indent=1)
        write_atomically(json_path, lambda temporary: temporary.write_text(text, encoding="utf-8"))
        written.append(json_path)
    return written


def print_summary(
    results: list[tuple[str, Explanation]],
    failures: list[Failure],
    written: list[str],
    *,
    texts: bool = True,
) -> None:
    """Text summaries on stdout (each image's only with ``texts``); failures on stderr."""
    for name, expl in results if texts else ():
        print(f"== {name}")
        print(format_as_text(expl))
        print()
    for failure in failures:
        print(f"failed: {failure.path}: {failure.reason}", file=sys.stderr)
    print(f"{len(results)} explained, {len(failures)} failed.")
    for item in written:
        print(f"wrote {item}")
