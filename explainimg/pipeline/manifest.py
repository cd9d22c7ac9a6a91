"""The manifest of a run folder (``manifest.json``): what made the run, for auditors and for
``--resume``.

It records the explainimg, Keras, backend and NumPy versions; the model file, its name and the
SHA-256 of its weights; the method, its settings, its seed and the layer; a fingerprint of the
image list; the options; and the command line. ``--resume`` compares the manifest it finds
with the one the resumed run would write: any difference in the model, the images, the method
or the options refuses to go on, naming it; different software versions only warn (the same
weights, images and method give the same maps up to floating-point noise, and a run should
survive an upgrade). The command line itself is not compared (``--resume`` is added to it).

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp()) / "run"
>>> made = {"keras": "3.15.1", "method": "gradcam", "options": {"top": 3}, "command": ["a"]}
>>> record_manifest(folder, made, resume=False)
[]
>>> record_manifest(folder, {**made, "keras": "3.16.0", "command": ["b"]}, resume=True)
["the run in '...' was made with keras '3.15.1', this run has '3.16.0'"]
>>> record_manifest(folder, {**made, "method": "scorecam"}, resume=True)
Traceback (most recent call last):
...
ValueError: --resume: expected the same method as the run in '...' ('gradcam'), got 'scorecam'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import bad_argument, said
from .atomic import write_atomically

MANIFEST_FILE = "manifest.json"
VERSION_KEYS = ("explainimg", "keras", "backend_version", "numpy")
"""Manifest entries whose differences only warn on ``--resume`` (``backend`` refuses)."""
UNCOMPARED_KEYS = ("command",)


def images_digest(paths: Sequence[Path]) -> str:
    """A short fingerprint of the list of images of a run (their order included)."""
    return hashlib.sha256("\n".join(map(str, paths)).encode()).hexdigest()[:16]


def run_manifest(
    *,
    provenance: dict[str, Any],
    model_file: str | Path,
    weights_sha256: str,
    paths: Sequence[Path],
    options: dict[str, Any],
    command: Sequence[str],
) -> dict[str, Any]:
    """The manifest of a run: the explainer's ``provenance`` (versions, model name, method,
    settings, seed, layer), the model file and weights, the images, options and command."""
    manifest = {key: value for key, value in provenance.items() if key != "model"}
    manifest["model"] = {
        "file": str(Path(model_file).resolve()),
        "name": provenance["model"],
        "weights_sha256": weights_sha256,
    }
    manifest["images"] = {"count": len(paths), "digest": images_digest(paths)}
    manifest["options"] = dict(options)
    manifest["command"] = list(command)
    return manifest


_UNSET = object()


def _shown(flat: dict[str, Any], key: str) -> str:
    return repr(flat[key]) if key in flat else "unset"


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def record_manifest(folder: str | Path, manifest: dict[str, Any], *, resume: bool) -> list[str]:
    """Write ``manifest`` into a new run ``folder``; with ``resume``, check it against the
    one there (refusing differences, see the module docstring). Returns the warnings."""
    folder = Path(folder)
    path = folder / MANIFEST_FILE
    if not resume:
        folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps(manifest, indent=1)
        write_atomically(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))
        return []
    before, after = _flat(json.loads(path.read_text(encoding="utf-8"))), _flat(manifest)
    changed = [
        key
        for key in sorted({*before, *after})
        if before.get(key, _UNSET) != after.get(key, _UNSET)
        and key.split(".")[0] not in UNCOMPARED_KEYS
    ]
    refused = [key for key in changed if key not in VERSION_KEYS]
    if refused:
        first = refused[0]
        others = f" (also different: {', '.join(refused[1:])})" if refused[1:] else ""
        raise bad_argument(
            "--resume",
            f"the same {first} as the run in {str(folder)!r} ({_shown(before, first)})",
            said(f"{_shown(after, first)}{others}"),
        )
    for stale in folder.rglob(".*.tmp"):  # left by a killed run's unfinished writes
        stale.unlink()
    return [
        f"the run in {str(folder)!r} was made with {key} {_shown(before, key)}, "
        f"this run has {_shown(after, key)}"
        for key in changed
    ]
