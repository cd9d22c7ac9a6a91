"""The outputs of ``explainimg explain``: files named by options, or a run folder (``--out``).

A run folder holds ``run.json`` (what the run is: model, images, options), ``results.jsonl``
(one line per image, written as batches finish), ``heatmaps/`` (NPZ shards), ``overlays/``
and ``report.html``. ``--resume`` checks that ``run.json`` describes the same run, then skips
the images ``results.jsonl`` lists.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp()) / "run"
>>> settings = {"model": "m.keras", "top": 3}
>>> start_run_folder(folder, settings, resume=False)
>>> sorted(p.name for p in folder.iterdir())
['run.json']
>>> start_run_folder(folder, {**settings, "top": 1}, resume=True)
Traceback (most recent call last):
...
ValueError: --resume: expected the model, images and options of the run in ..., got a different top
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import bad_argument, said
from .atomic import write_atomically
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

RUN_FILE = "run.json"


def images_digest(paths: Sequence[Path]) -> str:
    """A short fingerprint of the list of images of a run (their order included)."""
    return hashlib.sha256("\n".join(map(str, paths)).encode()).hexdigest()[:16]


def start_run_folder(folder: str | Path, settings: dict[str, Any], *, resume: bool) -> None:
    """Create the run folder, or with ``resume`` check that it holds the same run."""
    folder = Path(folder)
    run_file = folder / RUN_FILE
    if resume:
        if not run_file.is_file():
            got = said(f"{str(folder)!r}, which holds no run ({RUN_FILE} is missing)")
            raise bad_argument("--resume", "an --out folder of an earlier run", got)
        before = json.loads(run_file.read_text())
        changed = sorted(
            key for key in {*before, *settings} if before.get(key) != settings.get(key)
        )
        if changed:
            raise bad_argument(
                "--resume",
                f"the model, images and options of the run in {str(folder)!r}",
                said(f"a different {', '.join(changed)}"),
            )
        for stale in folder.rglob(".*.tmp"):  # left by a killed run's unfinished writes
            stale.unlink()
        return
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        got = said(f"{str(folder)!r}, which is not an empty folder")
        raise bad_argument("--out", "a new or empty folder (--resume continues a run)", got)
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(settings, indent=1)
    write_atomically(run_file, lambda temporary: temporary.write_text(text, encoding="utf-8"))


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
) -> tuple[list[Output], set[str], list[str]]:
    """The outputs asked for, the files already done (with ``resume``) and what is written
    (for the summary). The run log comes last: a batch is done once everything else of it is
    on disk."""
    if out is not None:
        folder = Path(out)
        html, overlays = str(folder / "report.html"), str(folder / "overlays")
    outputs: list[Output] = [TextSummaries()]
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
