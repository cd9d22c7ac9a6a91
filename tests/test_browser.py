"""The HTML output in a real browser: every picture loads and the page is not blank."""

from __future__ import annotations

import numpy as np
from PIL import Image

from explainimg.formatters import format_as_html
from tests import browser, fake


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
