"""The command line: explain a folder with a broken image, JSON equal to the library call."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image

import explainimg as ei
from explainimg.cli import build_parser, main
from explainimg.shapes import CLASS_NAMES, make_shapes


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
        f"shape{i}_{k}_class{t['target']}_{t['target_name']}.png"
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
        / "shape0_0_class{target}_{target_name}.png".format(
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
