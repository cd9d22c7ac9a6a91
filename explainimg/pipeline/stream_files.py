"""Explain image files as a stream: read and draw on worker threads around the compiled calls.

Files are read, converted and resized for the model on a thread pool a couple of batches
ahead; each batch goes through the compiled explainer on the calling thread; the pictures of
its images are drawn, encoded and written on the pool while the next batch is explained (PIL
and the compiled call both release the GIL). At most a few batches are in memory at a time,
whatever the number of files. A file that cannot be read (broken, not an image, a
decompression bomb) becomes a failure of its own; the run goes on.

>>> import keras, numpy as np, tempfile
>>> from PIL import Image
>>> from explainimg.explainer import Explainer
>>> from explainimg.pipeline.run_outputs import Output
>>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3),
...     keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")])
>>> folder = Path(tempfile.mkdtemp())
>>> Image.new("RGB", (16, 16)).save(folder / "a.png")
>>> (folder / "b.png").write_text("not a picture")
13
>>> class Count(Output):
...     def add_batch(self, start, finished):
...         print([item.failure is None for item in finished])
>>> explain_stream_files(Explainer(model), sorted(folder.iterdir()), [Count()], StreamOptions())
[True, False]
(1, 1)
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import attrs
import numpy as np
from PIL import Image

from ..explainer import Explainer
from ..explanation import Explanation
from ..formatters.pictures import draw_pictures
from ..formatters.text import format_as_text
from ..inputs.arguments import image_batch
from ..inputs.images import read_image
from .run_outputs import Finished, Output

READ_AHEAD = 2
"""Batches read ahead of the one being explained, and batches being drawn behind it."""


@attrs.frozen
class StreamOptions:
    """How to explain and draw: see ``explainimg explain --help`` for each."""

    top: int | None = None
    targets: list[int] | None = None
    batch_size: int = 16
    image_width: int | None = None
    image_format: str = "jpeg"
    pictures: bool = True
    thumbnails: bool = False
    text: bool = False
    workers: int = attrs.field(factory=lambda: min(4, os.cpu_count() or 1))


def read_for_model(
    source: Path | BinaryIO, shape: tuple[int | None, ...]
) -> tuple[Image.Image, np.ndarray]:
    """The picture in ``source`` (a path or an open file) and its pixels for the explainer:
    converted and resized as the command line does (the explainer applies ``preprocess=``)."""
    picture = read_image(source)
    if shape[3] == 3 and picture.mode != "RGB":
        picture = picture.convert("RGB")
    pixels, _ = image_batch(picture, shape)  # converted and resized for the model
    return picture, pixels


Pending = list[tuple[int, str, Future]]
"""(position, name, future) of each image of a batch."""
Todo = list[tuple[int, Path, str]]
"""(position, path, name) of each image of a batch left to do."""


def _batches(
    paths: Sequence[Path], names: Sequence[str], size: int, skip: set[str]
) -> Iterator[tuple[int, Todo]]:
    """(first position, todo) of each batch of the run with work left in it."""
    for start in range(0, len(paths), size):
        todo = [
            (position, paths[position], names[position])
            for position in range(start, min(start + size, len(paths)))
            if names[position] not in skip
        ]
        if todo:
            yield start, todo


def explain_stream_files(
    explainer: Explainer,
    paths: Sequence[Path],
    outputs: Sequence[Output],
    options: StreamOptions,
    *,
    names: Sequence[str] | None = None,
    skip: set[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Explain ``paths`` (but those whose names are in ``skip``) into ``outputs``; returns
    (explained, failed). ``names``: how outputs name the files (default: their paths; see
    :func:`~explainimg.pipeline.image_files.find_images`).

    ``progress(done)`` is called after each batch with the number of files done so far (the
    skipped ones included). On an error or Ctrl-C the outputs are aborted, leaving only whole
    files, and every batch done so far recorded.
    """
    skip = skip or set()
    names = [str(path) for path in paths] if names is None else list(names)
    shape = tuple(explainer.model.inputs[0].shape)
    counts = [0, 0]
    done = sum(1 for name in names if name in skip)
    with ThreadPoolExecutor(options.workers, thread_name_prefix="explainimg") as pool:
        try:
            reading: deque[tuple[int, Pending]] = deque()
            drawing: deque[tuple[int, Pending]] = deque()
            batches = _batches(paths, names, options.batch_size, skip)
            for start, todo in batches:
                reading.append((start, _submit_reads(pool, todo, shape)))
                if len(reading) <= READ_AHEAD:
                    continue
                drawing.append(_explain(pool, explainer, *reading.popleft(), options, outputs))
                if len(drawing) > READ_AHEAD:
                    done += _finish(*drawing.popleft(), outputs, counts)
                    _report(progress, done)
            while reading:
                drawing.append(_explain(pool, explainer, *reading.popleft(), options, outputs))
            while drawing:
                done += _finish(*drawing.popleft(), outputs, counts)
                _report(progress, done)
        except BaseException:
            pool.shutdown(cancel_futures=True)
            for output in outputs:
                output.abort()
            raise
    for position, output in enumerate(outputs):
        try:
            output.close()
        except BaseException:
            for rest in outputs[position + 1 :]:
                rest.abort()
            raise
    return counts[0], counts[1]


def _report(progress: Callable[[int], None] | None, done: int) -> None:
    if progress is not None:
        progress(done)


def _submit_reads(pool: ThreadPoolExecutor, todo: Todo, shape: tuple[int | None, ...]) -> Pending:
    return [
        (position, name, pool.submit(read_for_model, path, shape)) for position, path, name in todo
    ]


def _explain(
    pool: ThreadPoolExecutor,
    explainer: Explainer,
    start: int,
    reads: Pending,
    options: StreamOptions,
    outputs: Sequence[Output],
) -> tuple[int, Pending]:
    """Explain the readable files of one batch; start drawing each explained image."""
    drawn: Pending = []
    readable: list[tuple[int, str, Image.Image, np.ndarray]] = []
    for position, name, future in reads:
        try:
            picture, pixels = future.result()
        except Exception as error:  # one bad file (PIL raises many types) must not end the run
            drawn.append((position, name, _failed(position, name, f"cannot read image ({error})")))
            continue
        readable.append((position, name, picture, pixels))
    if readable:
        expls = explainer.explain_batch(
            np.concatenate([pixels for *_, pixels in readable]),
            targets=options.targets,
            top=options.top,
            images=[picture for _, _, picture, _ in readable],
        )
        for (position, name, _, _), expl in zip(readable, expls, strict=True):
            drawn.append(
                (position, name, pool.submit(_draw, position, name, expl, options, outputs))
            )
    drawn.sort(key=lambda entry: entry[0])
    return start, drawn


def _failed(position: int, name: str, reason: str) -> Future:
    future: Future = Future()
    future.set_result(Finished(position, name, None, None, reason))
    return future


def _draw(
    position: int,
    name: str,
    expl: Explanation,
    options: StreamOptions,
    outputs: Sequence[Output],
) -> Finished:
    """Draw and write one image's pictures (on a worker thread)."""
    if not expl.targets:
        return Finished(position, name, None, None, str(expl.error))
    if options.pictures:
        pictures = draw_pictures(
            expl,
            image_width=options.image_width,
            image_format=options.image_format,
            show_original=options.thumbnails,
            thumbnail=options.thumbnails,
        )
        for output in outputs:
            output.add_image(position, name, expl, pictures)
    return Finished(position, name, expl, format_as_text(expl) if options.text else None, None)


def _finish(start: int, drawn: Pending, outputs: Sequence[Output], counts: list[int]) -> int:
    finished = [future.result() for _, _, future in drawn]
    for output in outputs:
        output.add_batch(start, finished)
    for item in finished:
        counts[item.expl is None] += 1
    return len(finished)
