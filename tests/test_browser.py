"""The HTML output in a real browser: every picture loads and the page is not blank."""

from __future__ import annotations

import numpy as np
from PIL import Image

from explainimg.formatters import format_as_html
from explainimg.formatters.pictures import draw_pictures
from explainimg.pipeline.report_files import StreamedReport
from tests import browser, fake
from tests.driven_browser import driven


def test_report_of_three_explanations_renders_every_image(tmp_path):
    html = format_as_html(fake.many(3, size=160, seed=2), title="Three shapes")
    check = browser.image_check(html, tmp_path)
    assert check == {"total": 9, "broken": 0}
    shot = np.asarray(Image.open(browser.screenshot(html, tmp_path)).convert("RGB"))
    assert shot.std() > 20, "the screenshot looks blank"
    non_white = np.mean(shot.min(axis=-1) < 200)
    assert non_white > 0.05, f"only {non_white:.1%} of the screenshot is drawn"


def test_500_image_report_opens(tmp_path):
    html = format_as_html(fake.many(500, size=224, seed=5))
    assert browser.image_check(html, tmp_path) == {"total": 1500, "broken": 0}


def test_2000_image_index_report_opens_in_under_5_seconds(tmp_path):
    report = StreamedReport(
        tmp_path / "report.html", title="2,000 <shapes>", models=["shapes"], index=True
    )
    for position, expl in enumerate(fake.many(2000, size=64, seed=7)):
        pictures = draw_pictures(expl, image_format="jpeg", thumbnail=True)
        report.add(position, f"shape{position:04d}.png", expl, pictures)
    report.close()
    with driven(tmp_path / "report.html") as driver:
        opened = driver.execute_script(
            "return performance.getEntriesByType('navigation')[0].loadEventEnd / 1000"
        )
        shown = driver.execute_script(
            "return Array.from(document.images)"
            ".filter((img) => img.getBoundingClientRect().top < innerHeight)"
            ".map((img) => [img.getAttribute('loading'), img.complete && img.naturalWidth > 0])"
        )
        assert driver.title == "2,000 <shapes>"
        assert len(driver.find_elements("css selector", "img")) == 2000
        assert len(shown) > 5 and all(row == ["lazy", True] for row in shown), shown
        assert opened < 5, f"the index took {opened:.1f} s to load"
        driver.find_element("link text", "1999").click()
        pictures = driver.execute_script(
            "return Array.from(document.images).map((img) => img.naturalWidth)"
        )
        assert driver.find_element("tag name", "h1").text == "shape1999.png"
        assert pictures == [64, 64], "the page of image 1999 shows its input and its overlay"
    print(f"2,000-image index report: load event after {opened:.2f} s")
