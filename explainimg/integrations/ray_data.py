"""Explain images on a cluster with Ray Data (``pip install "explainimg[ray]"``).

:class:`ExplainBatches` is a callable class for ``ray.data.Dataset.map_batches`` with an
actor pool: each actor loads the model once (it travels as a ``.keras`` path, loaded in safe
mode) and explains batches of rows with a ``path`` column (image files every node can read)
or ``bytes`` and ``path`` columns (as ``ray.data.read_binary_files(..., include_paths=True)``
gives). It returns a pyarrow table, one row per image, ready for ``write_parquet``:

- ``file`` (string), ``failure`` (string, null when explained),
- ``targets`` (list of int64), ``target_names`` (list of string), ``scores``, ``probas``
  (lists of float64; probas null when the model gives none),
- ``heatmaps`` (list of K heatmaps, each a list of rows of float32).

Files are read, converted, resized and preprocessed (``preprocess=``) as ``explainimg
explain`` does, so the numbers match a single-process run. A file that cannot be read gets a
``failure`` and the batch goes on. See docs/pipeline.md for a complete example and a
multi-node recipe.

>>> import keras, numpy as np, tempfile
>>> from PIL import Image
>>> folder = Path(tempfile.mkdtemp())
>>> keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3),
...     keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")]
... ).save(folder / "m.keras")
>>> Image.new("RGB", (16, 16)).save(folder / "a.png")
>>> explain = ExplainBatches(str(folder / "m.keras"), top=2)
>>> table = explain({"path": np.array([str(folder / "a.png"), str(folder / "gone.png")])})
>>> table.column("failure").to_pylist()[0], len(table.column("targets")[0])
(None, 2)
>>> "No such file" in table.column("failure").to_pylist()[1]
True
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import bad_argument, said
from ..explainer import Explainer
from ..pipeline.batch_files import load_model
from ..pipeline.stream_files import read_for_model


def _pyarrow() -> Any:
    try:
        import pyarrow
    except ImportError:
        raise ImportError('ExplainBatches needs pyarrow: pip install "explainimg[ray]"') from None
    return pyarrow


class ExplainBatches:
    """Explain Ray Data batches with the model in ``model_path`` (see the module docs).

    ``top``, ``targets``, ``method``, ``layer``, ``target_names``, ``preprocess`` as for
    :func:`explainimg.explain_prediction` (``explainimg explain --preprocess MODE`` is
    ``preprocess=preprocess_for_mode(MODE)``, from :mod:`explainimg.inputs.preprocessing`;
    a function must pickle, to reach the actors).
    """

    def __init__(
        self,
        model_path: str,
        *,
        top: int | None = None,
        targets: Sequence[int] | None = None,
        method: str = "gradcam",
        layer: Any = None,
        target_names: Any = None,
        preprocess: Any = None,
    ) -> None:
        self.explainer = Explainer(
            load_model(model_path),
            layer=layer,
            method=method,
            target_names=target_names,
            preprocess=preprocess,
        )
        self.top = top
        self.targets = None if targets is None else list(targets)
        self.shape = tuple(self.explainer.model.inputs[0].shape)

    def __call__(self, batch: Mapping[str, Any]) -> Any:
        """One pyarrow table row per row of ``batch`` (a dict of columns)."""
        if "path" not in batch:
            got = said(f"columns {sorted(batch)}")
            raise bad_argument("batch", "a 'path' column (and optionally 'bytes')", got)
        files = [str(path) for path in batch["path"]]
        sources = [io.BytesIO(data) for data in batch["bytes"]] if "bytes" in batch else files
        rows: list[dict[str, Any]] = [{"file": file, "failure": None} for file in files]
        readable, pixels = [], []
        for row, source in zip(rows, sources, strict=True):
            try:
                _, resized = read_for_model(
                    source if isinstance(source, io.BytesIO) else Path(source), self.shape
                )
            except Exception as error:  # one bad file (PIL raises many types) must not end a batch
                row["failure"] = f"cannot read image ({error})"
                continue
            readable.append(row)
            pixels.append(resized)
        if pixels:
            expls = self.explainer.explain_batch(
                np.concatenate(pixels), targets=self.targets, top=self.top
            )
            for row, expl in zip(readable, expls, strict=True):
                if not expl.targets:
                    row["failure"] = str(expl.error)
                row["targets"] = [t.target for t in expl.targets]
                row["target_names"] = [t.target_name for t in expl.targets]
                row["scores"] = [t.score for t in expl.targets]
                row["probas"] = (
                    None
                    if not expl.targets or expl.targets[0].proba is None
                    else [t.proba for t in expl.targets]
                )
                row["heatmaps"] = [t.heatmap.tolist() for t in expl.targets]
        return _table(rows)


def _table(rows: list[dict[str, Any]]) -> Any:
    pa = _pyarrow()
    schema = pa.schema(
        [
            ("file", pa.string()),
            ("failure", pa.string()),
            ("targets", pa.list_(pa.int64())),
            ("target_names", pa.list_(pa.string())),
            ("scores", pa.list_(pa.float64())),
            ("probas", pa.list_(pa.float64())),
            ("heatmaps", pa.list_(pa.list_(pa.list_(pa.float32())))),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)
