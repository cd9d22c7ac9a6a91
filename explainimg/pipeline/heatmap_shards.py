"""Heatmaps of a run as NPZ shards, one per batch, for programs (NumPy only, no TensorFlow).

Shard ``heatmaps/0000032.npz`` holds the batch that starts at image 32 of the run: ``files``
(N,) strings, ``targets`` (N, K) class ids and ``heatmaps`` (N, K, h, w) float32 in [0, 1];
for a method with signed values also ``attributions`` (N, K, H, W) float32 (each target's
``attribution``). An image with fewer targets than K (a detector's image with fewer
detections) is padded with target -1 and zero maps. Read a run's heatmaps back, without the
padding, with :func:`read_heatmaps`, its attributions with :func:`read_attributions`:

>>> import tempfile, numpy as np
>>> folder = Path(tempfile.mkdtemp())
>>> targets = np.array([[3, 1], [5, -1]])  # b.jpg has one target
>>> write_shard(folder, 0, ["a.jpg", "b.jpg"], targets, np.zeros((2, 2, 7, 7)))
>>> for file, targets, heatmaps in read_heatmaps(folder):
...     print(file, targets.tolist(), heatmaps.shape)
a.jpg [3, 1] (2, 7, 7)
b.jpg [5] (1, 7, 7)
>>> list(read_attributions(folder))  # a method without signed values
[]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from .atomic import write_atomically


def shard_path(folder: str | Path, start: int) -> Path:
    """The shard of the batch whose first image is image ``start`` of the run."""
    return Path(folder) / f"{start:07d}.npz"


def write_shard(
    folder: str | Path,
    start: int,
    files: Sequence[str],
    targets: np.ndarray,
    heatmaps: np.ndarray,
    attributions: np.ndarray | None = None,
) -> None:
    """Write one batch's heatmaps, and attributions when given (whole or not at all)."""
    arrays = {
        "files": np.array(list(files), dtype=str),
        "targets": np.asarray(targets, dtype=np.int64),
        "heatmaps": np.asarray(heatmaps, dtype=np.float32),
    }
    if attributions is not None:
        arrays["attributions"] = np.asarray(attributions, dtype=np.float32)

    def write(temporary: Path) -> None:
        with temporary.open("wb") as out:
            np.savez(out, **arrays)

    write_atomically(shard_path(folder, start), write)


def read_heatmaps(folder: str | Path) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(file, class ids (K,), heatmaps (K, h, w)) for every image of a run, in run order."""
    return _read(folder, "heatmaps")


def read_attributions(folder: str | Path) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(file, class ids (K,), attributions (K, H, W)) for every image of a run whose method
    has signed values, in run order (nothing for other methods)."""
    return _read(folder, "attributions")


def _read(folder: str | Path, key: str) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    for shard in sorted(Path(folder).glob("*.npz")):
        with np.load(shard) as data:
            if key in data.files:
                for file, targets, maps in zip(
                    data["files"].tolist(), data["targets"], data[key], strict=True
                ):
                    kept = targets >= 0
                    yield file, targets[kept], maps[kept]
