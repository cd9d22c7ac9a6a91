"""The outputs of ``explainimg explain``: files named by options, or a run folder (``--out``).

A run folder holds ``manifest.json`` (what made the run: versions, model, method, images,
options; :mod:`explainimg.pipeline.manifest`), ``results.jsonl`` (one line per image, written
as batches finish), ``heatmaps/`` (NPZ shards), ``overlays/`` and ``report.html``.
``--resume`` checks the manifest, then skips the images ``results.jsonl`` lists.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp()) / "run"
>>> outputs, done, written = build_outputs(out=str(folder), html=None, overlays=None,
...     json_path=None, resume=False, title="run", models=["net"], index=False)
>>> [type(output).__name__ for output in outputs], done
(['TextSummaries', 'OverlayFiles', 'Report', 'HeatmapShards', 'ResultLines'], set())
>>> for output in outputs:
...     output.close()
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .report_files import StreamedReport
from .run_outputs import (
    HeatmapShards,
    JsonDocument,
    OverlayFiles,
    Report,
    ResultLines,
    TextSummaries,
)
from .run_outputs import (
    Output as Output,
)


def build_outputs(
    *,
    out: str | None,
    html: str | None,
    overlays: str | None,
    json_path: str | None,
    resume: bool,
    title: str,
    models: Sequence[str],
    index: bool,
    texts: bool = True,
) -> tuple[list[Output], set[str], list[str]]:
    """The outputs asked for, the files already done (with ``resume``) and what is written
    (for the summary); ``texts``: each image's text summary on stdout. The run log comes
    last: a batch is done once everything else of it is on disk."""
    if out is not None:
        folder = Path(out)
        html, overlays = str(folder / "report.html"), str(folder / "overlays")
    outputs: list[Output] = [TextSummaries(texts=texts)]
    written: list[str] = []
    if overlays:
        outputs.append(OverlayFiles(overlays))
        written.append(overlays)
    if html:
        report = StreamedReport(html, title=title, models=models, index=index)
        outputs.append(Report(report, resumable=out is not None))
        written += [html, str(report.folder)] if index else [html]
    if json_path:
        outputs.append(JsonDocument(json_path))
        written.append(json_path)
    done: set[str] = set()
    if out is not None:
        outputs.append(HeatmapShards(folder / "heatmaps"))
        log = ResultLines(folder / "results.jsonl", resume=resume)
        outputs.append(log)
        done = log.done
        written += [str(folder / "heatmaps"), str(log.path)]
    return outputs, done, written
