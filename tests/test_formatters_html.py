"""HTML fragments and reports: pictures present and decodable, right numbers, escaping."""

from __future__ import annotations

import base64
import io
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image

import explainimg as ei
from explainimg.formatters.html import format_as_html
from explainimg.formatters.image import format_as_image
from tests import builders, fake


class _Collector(HTMLParser):
    """Images, table cells and tags of an HTML document."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str]] = []
        self.cells: list[str] = []
        self.tags: list[str] = []
        self._in_cell = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs))
        if tag == "td":
            self._in_cell = True
            self.cells.append("")

    def handle_endtag(self, tag):
        if tag == "td":
            self._in_cell = False

    def handle_data(self, data):
        if self._in_cell:
            self.cells[-1] += data


def parse(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    return collector


def decode(src: str) -> Image.Image:
    header, payload = src.split(",", 1)
    assert header in ("data:image/png;base64", "data:image/jpeg;base64")
    image = Image.open(io.BytesIO(base64.b64decode(payload)))
    image.load()
    return image


def test_fragment_has_every_overlay_and_the_original_as_png():
    expl = fake.explanation()
    page = parse(format_as_html(expl))
    assert len(page.images) == 1 + len(expl.targets)
    for img in page.images:
        picture = decode(img["src"])
        assert picture.format == "PNG"
        assert picture.size == (140, 70) == (int(img["width"]), int(img["height"]))
    for position, img in enumerate(page.images[1:]):
        expected = format_as_image(expl, target=position)
        assert decode(img["src"]).tobytes() == expected.tobytes()


def test_fragment_table_holds_the_numbers():
    expl = fake.explanation()
    cells = parse(format_as_html(expl)).cells
    rows = [cells[i : i + 6] for i in range(0, len(cells), 6)]
    assert rows == [
        ["1", "tabby", "5", "0.700", "(10, 5)", "4.1%"],
        ["11", "lynx", "4", "0.350", "(50, 15)", "4.1%"],
        ["21", "-", "3", "0.233", "(90, 25)", "4.1%"],
    ]


def test_hostile_strings_are_escaped():
    hostile = "<script>alert(1)</script>"
    expl = fake.explanation(names=(hostile,), estimator='"><img src=x onerror=alert(2)>')
    html = format_as_html(expl)
    page = parse(html)
    assert "script" not in page.tags
    assert all(img["src"].startswith("data:image/") for img in page.images)
    assert hostile in page.cells
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    report = format_as_html([expl], title=hostile)
    assert "script" not in parse(report).tags
    assert report.count("&lt;script&gt;") >= 3  # title, heading, summary and section cells


def test_options_are_passed_to_the_overlays():
    expl = fake.explanation()
    page = parse(
        format_as_html(expl, targets=[2, 0], alpha_limit=1.0, colormap="magma", image_width=70)
    )
    assert len(page.images) == 3
    assert [decode(img["src"]).size for img in page.images] == [(70, 35)] * 3
    small = fake.explanation(image=expl.image.resize((70, 35), Image.LANCZOS))
    for img, position in zip(page.images[1:], [2, 0], strict=True):
        expected = format_as_image(small, target=position, alpha_limit=1.0, colormap="magma")
        assert decode(img["src"]).tobytes() == expected.tobytes()
    no_original = parse(format_as_html(expl, show_original=False))
    assert len(no_original.images) == 3
    with pytest.raises(ValueError) as caught:
        format_as_html(expl, targets=[5])
    assert str(caught.value) == "targets: expected positions in expl.targets between 0 and 2, got 5"


def test_report_has_a_summary_with_thumbnails_and_a_section_per_image():
    expls = fake.many(5, size=96)
    html = format_as_html(expls, title="Five shapes")
    page = parse(html)
    assert "<title>Five shapes</title>" in html
    assert html.count("<section") == 5
    thumbnails = [img for img in page.images if img["alt"].startswith("thumbnail")]
    assert len(thumbnails) == 5
    assert all(decode(img["src"]).size == (64, 64) for img in thumbnails)
    assert len(page.images) == 5 * 3  # thumbnail, input, one overlay each
    assert page.cells[:6] == ["0", "", "Image 0 (96 x 96)", "1", "disc", "0.900"]


def test_explanation_shows_itself_in_jupyter():
    expl = fake.explanation()
    assert expl._repr_html_() == format_as_html(expl)


def test_500_image_report_stays_small():
    expls = fake.many(500, size=224, seed=5)
    html = format_as_html(expls)
    size_mb = len(html.encode()) / 1e6
    assert size_mb < 30, f"{size_mb:.1f} MB"
    page = parse(html)
    assert len(page.images) == 1500
    assert decode(page.images[1]["src"]).format == "JPEG"


def test_error_explanations_render():
    expl = fake.explanation()
    broken = ei.Explanation(
        estimator="net",
        method="Grad-CAM",
        description="d",
        targets=[],
        image=expl.image,
        layer="conv",
        error="The model produced non-finite values",
    )
    html = format_as_html([expl, broken])
    assert "The model produced non-finite values" in html
    assert np.sum([tag == "section" for tag in parse(html).tags]) == 2


def test_captions_title_the_images_of_a_report():
    html = format_as_html(fake.many(2), captions=["<cat>.jpg", "dog.png"])
    assert "<h2>&lt;cat&gt;.jpg</h2>" in html and "<h2>dog.png</h2>" in html
    assert "<h2>Image 0 (224 x 224)</h2>" in format_as_html(fake.many(1))


def test_images_read_from_files_are_titled_by_their_file_names(tmp_path):
    model = builders.sequential_dense_softmax()
    paths = []
    for i in range(2):
        paths.append(tmp_path / f"photo_{i}.png")
        Image.fromarray(builders.image(seed=i).astype("uint8")).save(paths[-1])
    expls = ei.Explainer(model).explain_batch([str(paths[0]), builders.image(seed=3)])
    assert [expl.source for expl in expls] == [str(paths[0]), None]
    html = format_as_html([*expls, ei.explain_prediction(model, paths[1])])
    assert "<h2>photo_0.png</h2>" in html and "<h2>photo_1.png</h2>" in html
    assert "<h2>Image 1 (32 x 32)</h2>" in html
    streamed = list(ei.explain_predictions(model, paths, batch_size=1))
    assert [expl.source for expl in streamed] == [str(path) for path in paths]
    assert ei.explanation_from_dict(ei.format_as_dict(expls[0])).source == str(paths[0])


CAPTION_CASES = {
    "too few": (["a"], ValueError, "captions: expected 2 captions (one per explanation), got 1"),
    "not strings": ([1, 2], TypeError, "captions: expected a list of strings, one per "
                    "explanation, got int"),
    "one string": ("ab", TypeError, "captions: expected a list of strings, one per "
                   "explanation, got str"),
}  # fmt: skip


@pytest.mark.parametrize("case", CAPTION_CASES, ids=list(CAPTION_CASES))
def test_bad_captions(case):
    captions, error, message = CAPTION_CASES[case]
    with pytest.raises(error) as caught:
        format_as_html(fake.many(2), captions=captions)
    assert str(caught.value) == message
    with pytest.raises(ValueError, match=r"^captions: expected None for one Explanation"):
        format_as_html(fake.explanation(), captions=["a"])
