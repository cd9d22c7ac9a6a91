"""The audit: numbers against a reference, a planted shortcut found, the CLI, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import explainimg as ei
from explainimg.audit.summary import FRAME
from explainimg.cli import main
from explainimg.explanation import Explanation, TargetExplanation
from explainimg.heatmaps import upsample_heatmap
from explainimg.metrics import energy_in_box
from tests.shortcut import CLASS_NAMES, MARK, SIZE, shortcut_images, shortcut_model


def _expl(predicted: int, label: int, cell: tuple[int, int], proba: float) -> Explanation:
    heat = np.zeros((4, 4), dtype=np.float32)
    heat[cell] = 1.0
    targets = [
        TargetExplanation(c, CLASS_NAMES[c], 1.0, proba if c == predicted else 0.1, heat)
        for c in (predicted, label)
    ]
    return Explanation("net", "Grad-CAM", "", targets, image=Image.new("RGB", (40, 40)))


def test_numbers_match_a_reference_computation():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 40)
    predicted = np.where(rng.random(40) < 0.7, labels, rng.integers(0, 3, 40))
    cells = [tuple(rng.integers(0, 4, 2)) for _ in range(40)]
    expls = [
        _expl(int(p), int(t), c, 0.5 + i / 100)
        for i, (p, t, c) in enumerate(zip(predicted, labels, cells, strict=True))
    ]
    boxes = [(0, 0, 19, 19) if i % 2 else None for i in range(40)]
    audit = ei.audit_explanations(
        expls, [CLASS_NAMES[t] for t in labels], boxes=boxes, names=CLASS_NAMES
    )

    assert audit.accuracy == pytest.approx(np.mean(predicted == labels))
    reference = np.zeros((3, 3), dtype=int)
    np.add.at(reference, (labels, predicted), 1)
    assert audit.class_ids == [0, 1, 2] and np.array_equal(audit.confusion, reference)
    counts = [p.count for p in audit.pairs]
    assert counts == sorted(counts, reverse=True) and sum(counts) == (predicted != labels).sum()
    assert all(reference[p.label, p.predicted] == p.count for p in audit.pairs)
    assert [m.index for m in audit.mistakes] == sorted(
        np.flatnonzero(predicted != labels), key=lambda i: -(0.5 + i / 100)
    )
    for item in audit.items:
        if item.box is None:
            assert item.off_object is None
        else:
            inside = energy_in_box(expls[item.index], box=item.box)
            assert item.off_object == pytest.approx(1 - inside)
    for summary in audit.classes:
        mine = [
            expls[i].target(summary.target).heatmap
            for i in np.flatnonzero(labels == summary.target)
        ]
        mean = np.mean([upsample_heatmap(h, FRAME, Image.BILINEAR) for h in mine], axis=0)
        assert summary.count == len(mine) and summary.name == CLASS_NAMES[summary.target]
        np.testing.assert_allclose(summary.mean_heatmap, mean, atol=1e-6)


def test_centroid_and_spread_of_a_corner_map():
    audit = ei.audit_explanations([_expl(0, 0, (3, 3), 0.9)], [0])
    (summary,) = audit.classes
    assert summary.centroid[0] > 0.75 and summary.centroid[1] > 0.75
    assert summary.off_centre > 0.6 and 0 < summary.spread < 0.15


@pytest.fixture(scope="module")
def shortcut_audit():
    data = shortcut_images(60, seed=7, disagree=0.2)
    model = shortcut_model()
    expls = ei.explain_for_audit(
        model, data.images, list(data.labels), target_names=list(CLASS_NAMES), batch_size=16
    )
    boxes = [tuple(int(v) for v in box) for box in data.boxes]
    return data, model, ei.audit_explanations(expls, list(data.labels), boxes=boxes)


def test_planted_shortcut_shows_in_the_class_maps_and_the_off_object_list(shortcut_audit):
    data, model, audit = shortcut_audit
    predicted = model.predict(data.images, verbose=0).argmax(axis=1)
    assert np.array_equal([item.predicted for item in audit.items], predicted)
    assert np.array_equal(predicted, data.marks), "the model should follow the mark"
    assert audit.accuracy == pytest.approx(np.mean(predicted == data.labels))
    assert audit.accuracy < 0.95
    assert {m.index for m in audit.mistakes} == set(np.flatnonzero(data.marks != data.labels))
    corner = slice(0, FRAME[1] * MARK * 2 // SIZE)
    for summary in audit.classes:
        heat = summary.mean_heatmap
        row, col = np.unravel_index(np.argmax(heat), heat.shape)
        assert row < corner.stop and col < corner.stop, (summary.name, row, col)
        assert heat[corner, corner].mean() > 3 * heat.mean(), summary.name
        assert max(summary.centroid) < 0.4
    assert len(audit.off_object) >= 0.9 * len(audit.items)
    assert all(item.off_object > 0.5 for item in audit.off_object)


def test_mistakes_come_first_with_both_heatmaps(shortcut_audit):
    _, _, audit = shortcut_audit
    page = ei.format_audit_as_html(audit, title="<i>shortcut</i>")
    cards = page.split('class="ei-card')[1:]
    wrong = len(audit.mistakes)
    assert all(" ei-wrong" in card.split(">")[0] for card in cards[:wrong])
    assert not any(" ei-wrong" in card.split(">")[0] for card in cards[wrong:])
    assert all(card.count("<img") == 2 for card in cards[:wrong])
    assert all(card.count("<img") == 1 for card in cards[wrong:])
    assert "&lt;i&gt;shortcut&lt;/i&gt;" in page and "<i>shortcut" not in page


def test_user_strings_are_escaped_everywhere():
    names = ["<script>alert(1)</script>", 'a"b', "c"]
    expl = _expl(0, 1, (0, 0), 0.9)
    expl = Explanation(
        "<model>",
        "Grad-CAM",
        "",
        [
            TargetExplanation(t.target, names[t.target], t.score, t.proba, t.heatmap)
            for t in expl.targets
        ],
        image=expl.image,
    )
    page = ei.format_audit_as_html(
        [expl],
        [1],
        files=['x"><script>bad()</script>.png'],
        boxes=[(0, 0, 9, 9)],
        title="</title><script>",
    )
    assert "<script>alert" not in page and "<script>bad" not in page
    assert "</title><script>" not in page and "<model>" not in page
    assert page.count("<script>") == 1  # the page's own


def test_bad_input_is_named():
    expl = _expl(0, 1, (0, 0), 0.9)
    with pytest.raises(
        ValueError,
        match=r"labels: expected a list of class ids or names: 1 \(one per image\), got 2",
    ):
        ei.audit_explanations([expl], [1, 1])
    with pytest.raises(
        ValueError, match=r"expls\[0\]: expected an explanation of the true class 2 too"
    ):
        ei.audit_explanations([expl], [2])
    with pytest.raises(ValueError, match=r"labels\[0\]: expected a class id, got 'cat'"):
        ei.audit_explanations([expl], ["cat"])
    with pytest.raises(ValueError, match=r"boxes\[0\]: expected a box inside its image"):
        ei.audit_explanations([expl], [1], boxes=[(0, 0, 50, 50)])


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("audit-cli")
    shortcut_model().save(root / "model.keras")
    data = shortcut_images(12, seed=11, disagree=0.25)
    rows = ["file,x0,y0,x1,y1"]
    for i, (image, label) in enumerate(zip(data.images, data.labels, strict=True)):
        folder = root / "photos" / CLASS_NAMES[label]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image.astype(np.uint8)).save(folder / f"img{i}.png")
        top, left, bottom, right = data.boxes[i]
        rows.append(f"img{i}.png,{left},{top},{right},{bottom}")
    (root / "boxes.csv").write_text("\n".join(rows) + "\n")
    (root / "names.txt").write_text("\n".join(CLASS_NAMES) + "\n")
    return root, data


def _run(root, *extra):
    return main(
        [
            "explain",
            str(root / "model.keras"),
            str(root / "photos"),
            "--names",
            str(root / "names.txt"),
            "--no-progress",
            *extra,
        ]
    )


def test_cli_audit_from_folders_and_boxes(photos, capsys):
    root, data = photos
    out = root / "audit.html"
    assert (
        _run(root, "--labels", "folders", "--boxes", str(root / "boxes.csv"), "--html", str(out))
        == 0
    )
    printed = capsys.readouterr().out
    wrong = int((data.marks != data.labels).sum())
    assert f"accuracy {1 - wrong / 12:.1%} ({wrong} mistakes)" in printed
    page = out.read_text()
    assert page.count('class="ei-card') == 12 and page.count(" ei-wrong") == wrong
    assert "Looked mostly outside the object" in page


def test_cli_labels_csv_and_its_errors(photos, capsys):
    root, data = photos
    rows = [
        f"photos/{CLASS_NAMES[t]}/img{i}.png,{CLASS_NAMES[t]}" for i, t in enumerate(data.labels)
    ]
    (root / "labels.csv").write_text("file,label\n" + "\n".join(rows) + "\n")
    assert _run(root, "--labels", str(root / "labels.csv"), "--html", str(root / "a.html")) == 0
    (root / "short.csv").write_text("\n".join(rows[1:]) + "\n")
    assert _run(root, "--labels", str(root / "short.csv")) == 2
    assert "--labels: expected a row for every image" in capsys.readouterr().err
    (root / "unknown.csv").write_text("\n".join([*rows, "nope.png,disc"]) + "\n")
    assert _run(root, "--labels", str(root / "unknown.csv")) == 2
    assert "'nope.png'" in capsys.readouterr().err
    (root / "bad.csv").write_text("\n".join([*rows[:-1], rows[-1].replace(",", ",ferret,")]))
    assert _run(root, "--labels", str(root / "bad.csv")) == 2
    assert "rows of 2 columns (file,label), got 3" in capsys.readouterr().err
    (root / "badbox.csv").write_text("img0.png,5,5,2,9\n")
    assert _run(root, "--labels", "folders", "--boxes", str(root / "badbox.csv")) == 2
    assert "--boxes: expected whole pixel numbers with 0 <= x0 <= x1" in capsys.readouterr().err
    (root / "photos" / "ferret").mkdir()
    Image.new("RGB", (SIZE, SIZE)).save(root / "photos" / "ferret" / "f.png")
    try:
        assert _run(root, "--labels", "folders") == 2
        err = capsys.readouterr().err
        assert "ferret/f.png): expected a class id or one of the 3 class names, got 'ferret'" in err
    finally:
        (root / "photos" / "ferret" / "f.png").unlink()
        (root / "photos" / "ferret").rmdir()
