"""The command line: explain a folder with a broken image, JSON equal to the library call."""

from __future__ import annotations

import json
import os
import pickle
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

import explainimg as ei
from explainimg.cli import PREPROCESS_MODES, build_parser, main
from explainimg.demo.shapes import CLASS_NAMES, make_shapes
from explainimg.explainer import Explainer
from explainimg.inputs.preprocessing import KERAS_APPLICATIONS_MODES, preprocess_for_mode


@pytest.fixture(scope="module")
def folder(tmp_path_factory, shapes_model):
    root = tmp_path_factory.mktemp("cli")
    shapes_model.save(root / "shapes.keras")
    photos = root / "photos"
    photos.mkdir()
    data = make_shapes(3, seed=515)
    for i, image in enumerate(data.images):
        Image.fromarray(image.astype(np.uint8)).resize((96, 96)).save(photos / f"shape{i}.png")
    (photos / "broken.png").write_bytes(b"this is not a png")
    (photos / "notes.txt").write_text("ignored: not an image suffix")
    (root / "names.txt").write_text("\n".join(CLASS_NAMES) + "\n")
    return root


def test_folder_with_a_broken_image(folder, capsys):
    code = main(
        [
            "explain",
            str(folder / "shapes.keras"),
            str(folder / "photos"),
            "--top",
            "2",
            "--names",
            str(folder / "names.txt"),
            "--html",
            str(folder / "report.html"),
            "--overlays",
            str(folder / "overlays"),
            "--json",
            str(folder / "out.json"),
            "--no-progress",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1
    assert "failed: " in err and "broken.png: cannot read image" in err
    assert "3 explained, 1 failed." in out
    assert sorted(p.name for p in (folder / "overlays").iterdir()) == sorted(
        f"shape{i}_{k}_class{t['target']}_{t['target_name']}.jpg"
        for i, expl in enumerate(json.loads((folder / "out.json").read_text())["results"])
        for k, t in enumerate(expl["targets"])
    )
    images = []

    class Images(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "img":
                images.append(dict(attrs))

    Images().feed((folder / "report.html").read_text())
    assert len(images) == 3 * (1 + 1 + 2)  # thumbnail, input, two overlays per image
    overlay = Image.open(
        folder
        / "overlays"
        / "shape0_0_class{target}_{target_name}.jpg".format(
            **json.loads((folder / "out.json").read_text())["results"][0]["targets"][0]
        )
    )
    assert overlay.size == (96, 96)  # drawn on the original file, not the resized input


def test_json_matches_the_library_call(folder, shapes_model):
    main(
        [
            "explain",
            str(folder / "shapes.keras"),
            str(folder / "photos" / "shape1.png"),
            "--targets",
            "2",
            "0",
            "--json",
            str(folder / "one.json"),
            "--no-progress",
        ]
    )
    data = json.loads((folder / "one.json").read_text())
    assert data["failures"] == []
    (result,) = data["results"]
    picture = Image.open(folder / "photos" / "shape1.png").convert("RGB")
    x = np.asarray(picture.resize((64, 64), Image.BILINEAR), dtype=np.float32)
    expl = ei.explain_prediction(shapes_model, x, targets=[2, 0])
    assert [t["target"] for t in result["targets"]] == [2, 0]
    for entry, target in zip(result["targets"], expl.targets, strict=True):
        np.testing.assert_allclose(entry["heatmap"], target.heatmap, atol=1e-6)
        assert entry["score"] == pytest.approx(target.score, rel=1e-5)
        assert entry["proba"] == pytest.approx(target.proba, rel=1e-5)
    assert result["file"].endswith("shape1.png")
    assert result["image_size"] == [96, 96]


KERAS_APPLICATIONS = {
    "tf": keras.applications.mobilenet_v2.preprocess_input,
    "torch": keras.applications.densenet.preprocess_input,
    "caffe": keras.applications.resnet50.preprocess_input,
}


@pytest.mark.parametrize("mode", KERAS_APPLICATIONS)
def test_a_preprocess_mode_is_the_keras_applications_function(folder, shapes_model, mode):
    out = folder / f"preprocess_{mode}.json"
    image = folder / "photos" / "shape2.png"
    options = ["--preprocess", mode, "--top", "2", "--json", str(out), "--no-progress"]
    assert main(["explain", str(folder / "shapes.keras"), str(image), *options]) == 0
    (result,) = json.loads(out.read_text())["results"]
    picture = Image.open(image).convert("RGB")
    x = np.asarray(picture.resize((64, 64), Image.BILINEAR), dtype=np.float32)
    function = KERAS_APPLICATIONS[mode]
    assert preprocess_for_mode(mode) is function
    ours = ei.explain_prediction(shapes_model, x, top=2, preprocess=function)
    # What the command line did before preprocess=: imagenet_utils' mode applied by hand.
    by_hand = keras.applications.imagenet_utils.preprocess_input(x.copy(), mode=mode)
    before = ei.explain_prediction(shapes_model, by_hand, top=2)
    for expl in (ours, before):
        assert [t["target"] for t in result["targets"]] == [t.target for t in expl.targets]
        for entry, target in zip(result["targets"], expl.targets, strict=True):
            assert entry["score"] == pytest.approx(target.score, abs=1e-5)
            assert entry["proba"] == pytest.approx(target.proba, abs=1e-5)
            np.testing.assert_allclose(entry["heatmap"], target.heatmap, atol=1e-5)


def test_the_command_line_offers_exactly_the_library_modes():
    # cli.py lists the modes itself so that --help does not import Keras.
    assert set(PREPROCESS_MODES) == {"none", "model", *KERAS_APPLICATIONS_MODES}


def test_an_explainer_pickles_with_a_keras_applications_preprocess(shapes_model):
    x = np.full((64, 64, 3), 120.0, np.float32)
    explainer = Explainer(shapes_model, preprocess=preprocess_for_mode("caffe"))
    copy = pickle.loads(pickle.dumps(explainer))
    expected, got = explainer.explain(x).targets[0], copy.explain(x).targets[0]
    assert got.score == pytest.approx(expected.score, abs=1e-6)
    np.testing.assert_allclose(got.heatmap, expected.heatmap, atol=1e-6)


def test_preprocessing_modes_and_bad_arguments(folder, capsys):
    args = build_parser().parse_args(["explain", "m.keras", "a.png", "--preprocess", "caffe"])
    assert args.preprocess == "caffe" and args.method == "gradcam"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["explain", "m.keras", "a.png", "--top", "2", "--targets", "1"])
    code = main(
        [
            "explain",
            str(folder / "shapes.keras"),
            str(folder / "photos"),
            "--layer",
            "nope",
            "--no-progress",
        ]
    )
    assert code == 2
    assert "layer: expected the name of a layer of model 'shapes_cnn', got 'nope'" in (
        capsys.readouterr().err
    )


def test_help_lists_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["explain", "--help"])
    text = capsys.readouterr().out
    for option in (
        "--top",
        "--targets",
        "--method",
        "--layer",
        "--preprocess",
        "--names",
        "--html",
        "--overlays",
        "--json",
        "--batch-size",
    ):
        assert option in text


def _explain(folder, *extra: str) -> list[str]:
    return ["explain", str(folder / "shapes.keras"), str(folder / "photos" / "shape0.png"), *extra]


BAD_MODEL_FILES = {
    "missing": (None, "model: expected a .keras model file, got '{}', which is not a file"),
    "text with .keras suffix": (
        "hello",
        "model: expected a .keras model file, got '{}', which is not a saved Keras model "
        "(not a zip archive)",
    ),
}


@pytest.mark.parametrize("case", BAD_MODEL_FILES, ids=list(BAD_MODEL_FILES))
def test_a_file_that_is_not_a_model(tmp_path, capsys, case):
    content, message = BAD_MODEL_FILES[case]
    path = tmp_path / "model.keras"
    if content is not None:
        path.write_text(content)
    assert main(["explain", str(path), str(tmp_path), "--no-progress"]) == 2
    assert capsys.readouterr().err == f"explainimg explain: {message.format(path)}\n"


def test_a_decompression_bomb_fails_alone(folder, tmp_path, capsys, monkeypatch):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("shape0.png", "shape1.png"):
        (photos / name).write_bytes((folder / "photos" / name).read_bytes())
    Image.new("RGB", (200, 200)).save(photos / "bomb.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 12_000)  # 96x96 is fine, 200x200 a "bomb"
    code = main(["explain", str(folder / "shapes.keras"), str(photos), "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "2 explained, 1 failed." in out
    assert "bomb.png: cannot read image (Image size (40000 pixels) exceeds limit" in err


@pytest.mark.parametrize("option", ["--html", "--json"])
def test_a_missing_output_folder_fails_before_any_work(folder, tmp_path, capsys, option):
    target = tmp_path / "missing" / "out.file"
    overlays = tmp_path / "overlays"
    code = main(_explain(folder, option, str(target), "--overlays", str(overlays)))
    assert code == 2
    assert capsys.readouterr().err == (
        f"explainimg explain: {option}: expected a file path in an existing folder, "
        f"got '{target}' (no such folder)\n"
    )
    assert not overlays.exists()


def test_a_failed_write_leaves_no_half_file(folder, tmp_path, capsys, monkeypatch):
    report = tmp_path / "report.html"
    report.write_text("the old report")
    real_write_text = Path.write_text

    def disk_full(self, text, *args, **kwargs):
        real_write_text(self, text[:10], *args, **kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", disk_full)
    assert main(_explain(folder, "--html", str(report), "--no-progress")) == 2
    monkeypatch.undo()
    assert "No space left on device" in capsys.readouterr().err
    assert report.read_text() == "the old report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_written_files_get_the_usual_permissions(folder, tmp_path):
    report, results = tmp_path / "report.html", tmp_path / "results.json"
    old = os.umask(0o022)
    try:
        main(_explain(folder, "--html", str(report), "--json", str(results), "--no-progress"))
    finally:
        os.umask(old)
    assert [oct(path.stat().st_mode & 0o777) for path in (report, results)] == ["0o644"] * 2


def test_unknown_option_shows_the_subcommand_usage(folder, capsys):
    with pytest.raises(SystemExit) as caught:
        main(_explain(folder, "--colour", "red"))
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: explainimg explain [-h]")
    assert err.endswith("explainimg explain: error: unrecognized arguments: --colour red\n")


def test_progress_goes_to_stderr_plainly_and_results_name_the_files(folder, tmp_path, capsys):
    report = tmp_path / "report.html"
    command = ["explain", str(folder / "shapes.keras"), str(folder / "photos")]
    code = main([*command, "--html", str(report)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "/4 images" not in out and "\x1b" not in out + err and "\r" not in err
    # tqdm's numbers as whole lines (stderr is not a terminal): the start and the end
    lines = [line for line in err.splitlines() if line.startswith("explained ")]
    assert lines[0] == "explained 0/4 images (00:00 so far, ? left, ?image/s)"
    assert re.fullmatch(
        r"explained 4/4 images \(00:\d\d so far, 00:00 left, *[\d.]+image/s\)", lines[-1]
    )
    assert "   +--" not in out  # a file is written: no text heatmaps on stdout
    assert out.splitlines() == ["3 explained, 1 failed.", f"wrote {report}"]
    html = report.read_text()
    assert [f"<h2>shape{i}.png</h2>" in html for i in range(3)] == [True] * 3
    assert main([*command, "--html", str(report), "--verbose", "--no-progress"]) == 1
    out, err = capsys.readouterr()
    assert out.count("== shape") == 3 and "   +--" in out  # texts with character heatmaps
    assert "explained " not in err
    assert main([*command, "--html", str(report), "--quiet"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("failed: broken.png: cannot read image")


def test_tensorflow_start_up_lines_are_quiet(tmp_path):
    (tmp_path / "model.keras").write_text("hello")
    run = subprocess.run(
        [sys.executable, "-m", "explainimg.cli", "explain", "model.keras", "x.png"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"},
        check=False,
    )
    assert run.returncode == 2
    assert run.stderr == (
        "explainimg explain: model: expected a .keras model file, got 'model.keras', which is "
        "not a saved Keras model (not a zip archive)\n"
    )


def test_output_chooses_the_head_of_a_two_output_model(folder, tmp_path, capsys):
    import keras

    keras.utils.set_random_seed(17)
    image = keras.Input((64, 64, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(image)
    pooled = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(
        image,
        {
            "kind": keras.layers.Dense(3, activation="softmax", name="kind")(pooled),
            "colour": keras.layers.Dense(5, activation="softmax", name="colour")(pooled),
        },
    )
    model.save(tmp_path / "two.keras")
    photo = folder / "photos" / "shape0.png"
    common = ["explain", str(tmp_path / "two.keras"), str(photo), "--no-progress"]
    assert main(common) == 2
    assert "output: expected the name or index of the output to explain, one of 'colour', " in (
        capsys.readouterr().err
    )
    for output, classes in (("colour", 5), ("1", 3)):
        out = tmp_path / f"{output}.json"
        assert main([*common, "--output", output, "--top", str(classes), "--json", str(out)]) == 0
        (result,) = json.loads(out.read_text())["results"]
        assert len(result["targets"]) == classes


def test_smooth_makes_the_cam_methods_own_smoothing(folder, shapes_model):
    out = folder / "smoothed.json"
    photo = folder / "photos" / "shape2.png"
    common = [str(folder / "shapes.keras"), str(photo), "--targets", "1", "--no-progress"]
    main(["explain", *common, "--method", "hirescam", "--smooth", "aug", "--json", str(out)])
    (result,) = json.loads(out.read_text())["results"]
    picture = Image.open(photo).convert("RGB")
    x = np.asarray(picture.resize((64, 64), Image.BILINEAR), dtype=np.float32)
    method = ei.methods.HiResCAM(smooth="aug")
    expected = ei.explain_prediction(shapes_model, x, targets=[1], method=method).targets[0]
    plain = ei.explain_prediction(shapes_model, x, targets=[1], method="hirescam").targets[0]
    np.testing.assert_allclose(result["targets"][0]["heatmap"], expected.heatmap, atol=1e-6)
    assert not np.allclose(expected.heatmap, plain.heatmap, atol=1e-3)

