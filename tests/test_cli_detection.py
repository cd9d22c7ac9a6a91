"""``explainimg explain`` on a saved KerasHub RetinaNet, in a fresh process (which must find
KerasHub's classes itself): each detection's box in results.jsonl equal to the in-process
explanation, overlays with the box drawn, heatmap shards read back per image, a rerun with
--resume leaving the run as it was, and a named error where KerasHub is missing."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import explainimg as ei
from explainimg.explanation import Explanation, TargetExplanation
from explainimg.formatters.image import BOX_COLOR
from explainimg.pipeline.heatmap_shards import read_heatmaps
from explainimg.pipeline.run_outputs import Finished, HeatmapShards

pytest.importorskip("keras_hub")

from detectors import SIZE, random_image, tiny_retinanet


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A saved tiny RetinaNet, three photos of it and a finished run folder."""
    folder = tmp_path_factory.mktemp("detector-run")
    detector = tiny_retinanet()
    detector.save(folder / "detector.keras")
    photos = folder / "photos"
    photos.mkdir()
    for seed in range(3):
        pixels = (random_image(seed) * 255).astype("uint8")
        Image.fromarray(pixels).save(photos / f"{seed}.png")
    run = subprocess.run(_command(folder), capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    return detector, folder


def _command(folder: Path, *more: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "explainimg.cli",
        "explain",
        str(folder / "detector.keras"),
        str(folder / "photos"),
        "--out",
        str(folder / "run"),
        "--top",
        "2",
        "--image-format",
        "png",
        "--no-progress",
        "--quiet",
        *more,
    ]


def _records(folder: Path) -> dict[str, dict]:
    lines = (folder / "run" / "results.jsonl").read_text().splitlines()
    return {record["file"]: record for record in map(json.loads, lines)}


def test_each_detection_box_is_written_as_explained_in_process(saved):
    detector, folder = saved
    records = _records(folder)
    assert sorted(records) == ["0.png", "1.png", "2.png"]
    for name, record in records.items():
        pixels = np.asarray(Image.open(folder / "photos" / name), "float32")
        expl = ei.explain_prediction(detector, pixels, top=2)
        assert [t["target_name"] for t in record["targets"]] == [
            t.target_name for t in expl.targets
        ]
        for written, target in zip(record["targets"], expl.targets, strict=True):
            assert written["box"] == pytest.approx(list(target.box), abs=1e-3)
    shards = {file: maps for file, _, maps in read_heatmaps(folder / "run" / "heatmaps")}
    assert {file: maps.shape for file, maps in shards.items()} == {
        name: (2, 4, 4) for name in records
    }


def test_the_overlays_show_each_box(saved):
    _, folder = saved
    record = _records(folder)["0.png"]
    overlays = sorted((folder / "run" / "overlays").glob("0_*.png"))
    assert len(overlays) == 2
    for path, target in zip(overlays, record["targets"], strict=True):
        pixels = np.asarray(Image.open(path).convert("RGB"))
        scale = pixels.shape[1] / SIZE
        x0, _, x1, y1 = (round(v * scale) for v in target["box"])
        bottom = min(y1, pixels.shape[0]) - 1
        middle = (max(x0, 0) + min(x1, pixels.shape[1])) // 2
        assert tuple(pixels[bottom, middle]) == BOX_COLOR
    report = (folder / "run" / "report.html").read_text()
    assert all(base64.b64encode(path.read_bytes()).decode() in report for path in overlays)


def test_resume_of_a_finished_run_changes_nothing(saved):
    _, folder = saved
    before = (folder / "run" / "results.jsonl").read_bytes()
    run = subprocess.run(_command(folder, "--resume"), capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    assert (folder / "run" / "results.jsonl").read_bytes() == before


def test_a_kerashub_model_without_kerashub_is_named(saved, tmp_path):
    _, folder = saved
    script = (
        "import sys, importlib.util\n"
        "real = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda name, *a: None if name == 'keras_hub' else "
        "real(name, *a)\n"
        "from explainimg.pipeline.batch_files import load_model\n"
        "try:\n"
        f"    load_model({str(folder / 'detector.keras')!r})\n"
        "except ValueError as error:\n"
        "    print(error)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip() == (
        "model: expected a .keras model whose classes can be loaded (it uses keras_hub), got "
        f"{str(folder / 'detector.keras')!r}, but keras_hub is not installed. "
        'pip install "explainimg[hub]"'
    )


def test_shards_pad_images_with_fewer_detections_and_read_back_without(tmp_path):
    def explained(count):
        maps = [np.full((4, 4), (k + 1) / 4, "float32") for k in range(count)]
        targets = [
            TargetExplanation(k, f"d{k}", 1.0, 0.5, maps[k], box=(0.0, 0.0, 8.0, 8.0))
            for k in range(count)
        ]
        return Explanation("det", "Grad-CAM", "", targets, image=Image.new("RGB", (8, 8)))

    shards = HeatmapShards(tmp_path)
    shards.add_batch(
        0, [Finished(0, "a.png", explained(2), None), Finished(1, "b.png", explained(1), None)]
    )
    with np.load(tmp_path / "0000000.npz") as data:
        assert data["targets"].tolist() == [[0, 1], [0, -1]]
        assert not data["heatmaps"][1, 1].any()
    read = {
        file: (ids.tolist(), maps[:, 0, 0].tolist()) for file, ids, maps in read_heatmaps(tmp_path)
    }
    assert read == {"a.png": ([0, 1], [0.25, 0.5]), "b.png": ([0], [0.25])}
