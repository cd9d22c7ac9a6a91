"""``explainimg explain`` as a stream: flat memory, bad files, a killed run resumed."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from explainimg.cli import main
from explainimg.explainer import Explainer
from explainimg.pipeline.heatmap_shards import read_heatmaps
from explainimg.pipeline.run_folder import build_outputs
from explainimg.pipeline.stream_files import StreamOptions, explain_stream_files


def tiny_model() -> keras.Model:
    keras.utils.set_random_seed(3)
    return keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3, activation="softmax"),
        ],
        name="tiny",
    )


def tiny_images(folder: Path, count: int, seed: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (count, 8, 8, 3), dtype=np.uint8)
    paths = [folder / f"img{i:05d}.png" for i in range(count)]
    for path, image in zip(paths, pixels, strict=True):
        Image.fromarray(image).save(path, compress_level=0)
    return paths


def resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.slow  # about 50 s on a loaded 2-core machine
@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_memory_stays_flat_over_10000_images(tmp_path, capsys):
    paths = tiny_images(tmp_path / "images", 10_000)
    explainer = Explainer(tiny_model())
    outputs, _, _ = build_outputs(
        out=str(tmp_path / "run"),
        html=None,
        overlays=None,
        json_path=None,
        resume=False,
        title="memory",
        models=["tiny"],
        index=True,
    )
    seen: dict[int, float] = {}

    def measure(done: int) -> None:
        if done >= 1_000 and not seen:
            seen[done] = resident_mb()

    options = StreamOptions(top=2, batch_size=64, thumbnails=True, text=True)
    counts = explain_stream_files(explainer, paths, outputs, options, progress=measure)
    growth = resident_mb() - next(iter(seen.values()))
    capsys.readouterr()
    assert counts == (10_000, 0)
    assert sum(1 for _ in (tmp_path / "run" / "results.jsonl").open()) == 10_000
    assert growth < 150, f"resident memory grew by {growth:.0f} MB from image 1,000 to 10,000"
    print(f"memory growth from image {next(iter(seen))} to 10,000: {growth:.1f} MB")


def test_bad_files_are_reported_and_the_run_goes_on(tmp_path, capsys, monkeypatch):
    photos = tmp_path / "photos"
    tiny_images(photos, 5)
    good = io.BytesIO()
    Image.new("RGB", (40, 40), (200, 10, 10)).save(good, format="JPEG")
    (photos / "cut.jpg").write_bytes(good.getvalue()[: len(good.getvalue()) // 2])
    (photos / "letter.jpg").write_text("Dear reader, this is not a photo.")
    Image.new("RGB", (200, 200)).save(photos / "bomb.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 12_000)  # 200x200 counts as a bomb
    tiny_model().save(tmp_path / "tiny.keras")
    run = tmp_path / "run"
    code = main(["explain", str(tmp_path / "tiny.keras"), str(photos), "--out", str(run)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "5 explained, 3 failed." in out
    records = [json.loads(line) for line in (run / "results.jsonl").open()]
    failures = {Path(r["file"]).name: r["failure"] for r in records if "failure" in r}
    assert sorted(failures) == ["bomb.png", "cut.jpg", "letter.jpg"]
    assert "exceeds limit" in failures["bomb.png"]
    assert "cannot identify image file" in failures["letter.jpg"]
    assert "failed: cut.jpg: cannot read image" in err  # named inside the folder given
    assert sorted(file for file, _, _ in read_heatmaps(run / "heatmaps")) == sorted(
        p.name for p in photos.glob("img*.png")
    )


def _run_files(folder: Path) -> dict[str, bytes]:
    """Every file of a run folder; the manifest without its command line (which names the
    folder and says --resume)."""
    files = {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
    if "manifest.json" in files:
        manifest = json.loads(files["manifest.json"])
        del manifest["command"]
        files["manifest.json"] = json.dumps(manifest).encode()
    return files


def _command(model: Path, photos: Path, run: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "explainimg.cli",
        "explain",
        str(model),
        str(photos),
        "--out",
        str(run),
        "--top",
        "2",
        "--batch-size",
        "4",
        "--no-progress",
    ]


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def test_a_killed_run_resumes_to_the_same_outputs(tmp_path):
    """The run is stopped for certain midway: image 30 is a FIFO, whose reading blocks until
    the process is killed; then it is replaced by a picture and the run resumed."""
    photos = tmp_path / "photos"
    paths = tiny_images(photos, 48)
    model = tmp_path / "tiny.keras"
    tiny_model().save(model)
    whole = tmp_path / "whole"
    subprocess.run(_command(model, photos, whole), check=True, capture_output=True)

    stalled = paths[30]
    picture = stalled.read_bytes()
    stalled.unlink()
    os.mkfifo(stalled)
    run = tmp_path / "run"
    process = subprocess.Popen(
        _command(model, photos, run), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    log = run / "results.jsonl.partial"
    deadline = time.monotonic() + 240
    while _lines(log) < 20 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # let the batches behind the blocked one be drawn too
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 20 <= _lines(log) < 48, process.stderr.read().decode()
    assert not (run / "results.jsonl").exists() and not (run / "report.html").exists()

    stalled.unlink()
    stalled.write_bytes(picture)
    resumed = subprocess.run(
        [*_command(model, photos, run), "--resume"], capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "done before, skipped" in resumed.stdout
    before, after = _run_files(whole), _run_files(run)
    assert sorted(before) == sorted(after)
    for name in before:
        assert before[name] == after[name], f"{name} differs from the uninterrupted run's"


@pytest.mark.parametrize("index", [False, True], ids=["one file", "index"])
def test_reports_name_images_by_file_and_escape_them(tmp_path, capsys, index):
    photos = tmp_path / "photos"
    tiny_images(photos, 3)
    os.rename(photos / "img00001.png", photos / "<i>bold&.png")
    tiny_model().save(tmp_path / "tiny.keras")
    run = tmp_path / "run"
    extra = ["--index-report"] if index else []
    assert (
        main(["explain", str(tmp_path / "tiny.keras"), str(photos), "--out", str(run), *extra]) == 0
    )
    capsys.readouterr()
    html = (run / "report.html").read_text()
    assert "&lt;i&gt;bold&amp;.png" in html and "<i>bold" not in html
    assert "img00002.png" in html and "Image 0" not in html
    assert html.count('loading="lazy"') == (3 if index else 0)
    pages = sorted(p.name for p in (run / "report_files").glob("*.html")) if index else []
    assert pages == (["0000000.html", "0000001.html", "0000002.html"] if index else [])
    assert (run / "report_files").exists() == index  # a small report is one self-contained file
    if index:
        page = (run / "report_files" / "0000000.html").read_text()
        assert "<h1>&lt;i&gt;bold&amp;.png</h1>" in page
        assert 'src="0000000_overlay0.jpg"' in page and 'href="../report.html"' in page


def test_resuming_a_finished_run_changes_nothing(tmp_path, capsys):
    tiny_images(tmp_path / "photos", 3)
    tiny_model().save(tmp_path / "tiny.keras")
    command = ["explain", str(tmp_path / "tiny.keras"), str(tmp_path / "photos")]
    run = tmp_path / "run"
    assert main([*command, "--out", str(run), "--no-progress"]) == 0
    before = _run_files(run)
    assert main([*command, "--out", str(run), "--no-progress", "--resume"]) == 0
    assert "0 explained, 0 failed. (3 done before, skipped)" in capsys.readouterr().out
    assert _run_files(run) == before
    assert main([*command, "--out", str(run), "--resume", "--top", "2"]) == 2
    assert capsys.readouterr().err == (
        f"explainimg explain: --resume: expected the same options.top as the run in '{run}' "
        f"(None), got 2\n"
    )
    assert main([*command, "--out", str(run)]) == 2
    assert capsys.readouterr().err == (
        f"explainimg explain: --out: expected a new or empty folder (--resume continues a "
        f"run), got '{run}', which is not an empty folder\n"
    )
    assert _run_files(run) == before
