"""Runs of ``explainimg explain``: class subfolders, arguments checked before Keras, every
method, Ctrl-C then --resume, the run manifest and provenance, progress bars."""

from __future__ import annotations

import hashlib
import json
import math
import os
import signal
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import attrs
import keras
import numpy as np
import pytest
from PIL import Image

import explainimg
import explainimg as ei
from explainimg.cli import main
from explainimg.engine import progress
from explainimg.formatters.as_dict import explanation_from_dict, format_as_dict
from explainimg.methods import METHODS, RISE, ScoreCAM
from explainimg.pipeline.arguments import method_keys
from tests.test_bad_input import CLI_CASES, cli_layout
from tests.test_stream import _command, _lines, _run_files, tiny_images, tiny_model


def small_model(channels: int = 4, seed: int = 5) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Conv2D(channels, 3, activation="relu", name="conv"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3, activation="softmax"),
        ],
        name="small",
    )


def _picture(seed: int) -> Image.Image:
    pixels = np.random.default_rng(seed).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    return Image.fromarray(pixels)


def test_class_subfolders_are_searched_and_named_inside_the_folder(tmp_path, capsys):
    """The layout of keras.utils.image_dataset_from_directory; hidden folders are skipped."""
    photos = tmp_path / "photos"
    names = ["cat/1.png", "cat/2.png", "dog/1.png", "dog/deeper/3.png", ".ipynb_checkpoints/1.png"]
    for seed, name in enumerate(names):
        (photos / name).parent.mkdir(parents=True, exist_ok=True)
        _picture(seed).save(photos / name)
    (photos / "cat" / "notes.txt").write_text("not an image")
    small_model().save(tmp_path / "small.keras")
    run = tmp_path / "run"
    argv = ["explain", str(tmp_path / "small.keras"), str(photos), "--out", str(run)]
    assert main([*argv, "--no-progress"]) == 0
    out = capsys.readouterr().out
    records = [json.loads(line) for line in (run / "results.jsonl").open()]
    assert [record["file"] for record in records] == names[:4]
    overlays = sorted(p.relative_to(run / "overlays") for p in run.glob("overlays/**/*.jpg"))
    expected = [
        Path(r["file"]).parent / f"{Path(r['file']).stem}_0_class{r['targets'][0]['target']}.jpg"
        for r in records
    ]
    assert overlays == sorted(expected)
    html = (run / "report.html").read_text()
    assert all(f"<h2>{name}</h2>" in html for name in names[:4])
    assert out.splitlines() == [  # a short summary, no text heatmaps
        "4 explained, 0 failed.",
        f"wrote {run / 'overlays'}",
        f"wrote {run / 'report.html'}",
        f"wrote {run / 'heatmaps'}",
        f"wrote {run / 'results.jsonl'}",
    ]
    assert main([*argv[:-2], "--quiet", "--json", str(tmp_path / "r.json")]) == 0
    assert capsys.readouterr() == ("", "")


def test_argument_errors_come_before_keras_loads(tmp_path):
    """The bad-input table's command-line cases, and a mistyped --method, in a fresh process
    that must not have imported TensorFlow or Keras when it exits with code 2."""
    cli_layout(tmp_path)
    cases = [[a.format(root=tmp_path) for a in arguments] for arguments, _ in CLI_CASES.values()]
    cases.append([str(tmp_path / "photos"), "--method", "grad-cam"])
    script = (
        "import contextlib, io, json, sys\n"
        "from explainimg.cli import main\n"
        "results = []\n"
        "for arguments in json.loads(sys.argv[1]):\n"
        "    err = io.StringIO()\n"
        "    with contextlib.redirect_stderr(err):\n"
        "        try:\n"
        "            code = main(['explain', sys.argv[2], *arguments])\n"
        "        except SystemExit as exit:\n"
        "            code = exit.code\n"
        "    results.append([code, err.getvalue()])\n"
        "loaded = [name for name in ('tensorflow', 'keras', 'jax') if name in sys.modules]\n"
        "print(json.dumps([results, loaded]))\n"
    )
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-c", script, json.dumps(cases), str(tmp_path / "model.keras")],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    seconds = time.perf_counter() - started
    results, loaded = json.loads(run.stdout)
    assert loaded == []
    expected = [f"explainimg explain: {m.format(root=tmp_path)}\n" for _, m in CLI_CASES.values()]
    assert results[:-1] == [[2, message] for message in expected]
    code, err = results[-1]
    assert code == 2
    assert err.endswith(
        "argument --method: invalid choice: 'grad-cam' (choose from "
        + ", ".join(map(repr, METHODS))
        + ")\n"
    )
    print(f"{len(cases)} argument errors in a fresh process: {seconds:.2f} s")


def test_every_method_key_is_offered_and_runs_on_files(tmp_path, capsys):
    assert method_keys() == list(METHODS)
    model = small_model()
    model.save(tmp_path / "small.keras")
    _picture(1).save(tmp_path / "a.png")
    pixels = np.asarray(_picture(1), dtype=np.float32)
    for method in ("occlusion", "rise"):
        out = tmp_path / f"{method}.json"
        argv = ["explain", str(tmp_path / "small.keras"), str(tmp_path / "a.png")]
        assert main([*argv, "--method", method, "--json", str(out), "--no-progress"]) == 0
        (result,) = json.loads(out.read_text())["results"]
        expected = ei.explain_prediction(model, pixels, method=method).targets[0]
        assert result["targets"][0]["target"] == expected.target
        np.testing.assert_allclose(result["targets"][0]["heatmap"], expected.heatmap, atol=1e-5)
    capsys.readouterr()


def test_ctrl_c_stops_with_one_line_and_the_run_resumes_to_the_same_outputs(tmp_path):
    """Image 14 is a FIFO: its reading blocks, so the run is certainly midway when SIGINT
    reaches the command's process (as Ctrl-C in a terminal does); the FIFO is then fed so
    that the reader thread, which the process waits for on exit, can end."""
    photos = tmp_path / "photos"
    paths = tiny_images(photos, 24)
    model = tmp_path / "tiny.keras"
    tiny_model().save(model)
    subprocess.run(_command(model, photos, tmp_path / "whole"), check=True, capture_output=True)

    stalled = paths[14]
    picture = stalled.read_bytes()
    stalled.unlink()
    os.mkfifo(stalled)
    run = tmp_path / "run"
    log = run / "results.jsonl.partial"
    process = subprocess.Popen(
        _command(model, photos, run), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 240
    while _lines(log) < 4 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # the batches before the stalled one are written; the run waits for it
    process.send_signal(signal.SIGINT)
    with open(stalled, "wb") as fifo:
        fifo.write(picture)
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 130, err
    done = _lines(log)
    assert 4 <= done < 24
    assert err == f"interrupted after {done} images; rerun with --resume to continue\n"
    assert not (run / "results.jsonl").exists() and not (run / "report.html").exists()

    stalled.unlink()
    stalled.write_bytes(picture)
    resumed = subprocess.run(
        [*_command(model, photos, run), "--resume"], capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"({done} done before, skipped)" in resumed.stdout
    assert _run_files(run) == _run_files(tmp_path / "whole")


def _fingerprint(model: keras.Model) -> str:
    """SHA-256 of the weights as documented: each variable's shape, dtype and values."""
    digest = hashlib.sha256()
    for values in model.get_weights():
        digest.update(f"{values.shape}|{values.dtype}\n".encode())
        digest.update(values.tobytes())
    return digest.hexdigest()


def test_the_manifest_records_the_run_and_resume_names_what_differs(tmp_path, capsys):
    model = small_model(channels=6)
    model.save(tmp_path / "small.keras")
    for i in range(3):
        _picture(i).save(tmp_path / f"{i}.png")
    run = tmp_path / "run"
    argv = ["explain", str(tmp_path / "small.keras"), *(str(tmp_path / f"{i}.png") for i in "012")]
    argv += ["--out", str(run), "--no-progress"]
    assert main([*argv, "--method", "scorecam", "--top", "2"]) == 0
    manifest = json.loads((run / "manifest.json").read_text())
    backend = keras.backend.backend()
    assert manifest == {
        "explainimg": explainimg.__version__,
        "keras": keras.__version__,
        "backend": backend,
        "backend_version": metadata.version(backend),
        "numpy": np.__version__,
        "method": "scorecam",
        "settings": attrs.asdict(ScoreCAM()),
        "seed": None,
        "layer": "conv",
        "model": {
            "file": str((tmp_path / "small.keras").resolve()),
            "name": "small",
            "weights_sha256": _fingerprint(model),
        },
        "images": manifest["images"],
        "options": {
            "top": 2,
            "targets": None,
            "preprocess": "none",
            "output": None,
            "names": None,
            "batch_size": 16,
            "image_width": None,
            "image_format": "jpeg",
            "index_report": False,
        },
        "command": ["explainimg", *argv, "--method", "scorecam", "--top", "2"],
    }
    assert manifest["images"]["count"] == 3
    capsys.readouterr()

    assert main([*argv, "--method", "gradcam", "--top", "2", "--resume"]) == 2
    assert capsys.readouterr().err == (
        f"explainimg explain: --resume: expected the same method as the run in '{run}' "
        f"('scorecam'), got 'gradcam' (also different: settings.batch_size, "
        f"settings.max_channels)\n"
    )
    (run / "manifest.json").write_text(json.dumps({**manifest, "keras": "3.0.0"}))
    assert main([*argv, "--method", "scorecam", "--top", "2", "--resume"]) == 0
    assert capsys.readouterr().err == (
        f"warning: --resume: the run in '{run}' was made with keras '3.0.0', this run has "
        f"'{keras.__version__}'\n"
    )
    retrained = small_model(channels=6, seed=6)
    retrained.save(tmp_path / "small.keras")
    assert _fingerprint(retrained) != manifest["model"]["weights_sha256"]
    assert main([*argv, "--method", "scorecam", "--top", "2", "--resume"]) == 2
    assert capsys.readouterr().err.startswith(
        f"explainimg explain: --resume: expected the same model.weights_sha256 as the run in "
        f"'{run}' ('{manifest['model']['weights_sha256']}'), got '{_fingerprint(retrained)}'"
    )


def test_format_as_dict_carries_the_provenance():
    model = small_model()
    x = np.asarray(_picture(3), dtype=np.float32)
    expl = ei.explain_prediction(model, x, method=RISE(masks=40, seed=7, cell_size=8))
    data = json.loads(json.dumps(format_as_dict(expl)))
    backend = keras.backend.backend()
    assert data["provenance"] == {
        "explainimg": explainimg.__version__,
        "keras": keras.__version__,
        "backend": backend,
        "backend_version": metadata.version(backend),
        "numpy": np.__version__,
        "model": "small",
        "method": "rise",
        "settings": {
            "masks": 40,
            "cell_size": 8,
            "probability": 0.5,
            "seed": 7,
            "batch_size": RISE().batch_size,
        },
        "seed": 7,
        "layer": None,
    }
    assert explanation_from_dict(data).provenance == data["provenance"]
    hand_made = ei.Explanation("net", "Grad-CAM", "", [], error="none")
    assert format_as_dict(hand_made)["provenance"] is None


@pytest.mark.core
def test_a_long_call_shows_its_model_calls(monkeypatch, capsys):
    monkeypatch.setattr(progress, "LONG_CALL_DELAY", 0.0)
    model = small_model(channels=40)
    x = np.asarray(_picture(4), dtype=np.float32)
    capsys.readouterr()
    ei.explain_prediction(model, x, method=ScoreCAM(batch_size=4))
    chunks = math.ceil(40 / 4)  # one image, 40 channel masks, 4 per model call
    assert capsys.readouterr().err == f"explaining: model calls 0/{chunks} chunks " + (
        "(00:00 so far, ? left, ?chunk/s)\n"
    )
    ei.explain_prediction(model, x, method=ScoreCAM(batch_size=8))  # 5 chunks: no bar
    assert capsys.readouterr().err == ""
    shown = progress.show_long_calls(False)
    try:
        ei.explain_prediction(model, x, method=ScoreCAM(batch_size=4))
    finally:
        progress.show_long_calls(shown)
    assert capsys.readouterr().err == ""


def test_progress_true_shows_one_kind_of_bar_everywhere(capsys):
    model = small_model()
    xs = np.stack([np.asarray(_picture(i), dtype=np.float32) for i in range(5)])
    capsys.readouterr()
    list(ei.explain_predictions(model, xs, batch_size=2, progress=True))
    ei.explain_for_audit(model, xs, labels=[0, 1, 2, 0, 1], batch_size=2, progress=True)
    lines = capsys.readouterr().err.splitlines()
    starts = [line for line in lines if line.startswith("explained 0/5 images")]
    ends = [line for line in lines if line.startswith("explained 5/5 images (00:")]
    assert len(starts) == len(ends) == 2 and len(lines) == 4
