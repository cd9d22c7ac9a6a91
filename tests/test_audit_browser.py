"""The audit page in a real browser: filters, sorting and search leave the right images."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

import explainimg as ei
from explainimg.demo.shapes import make_shapes
from explainimg.explanation import Explanation, TargetExplanation
from tests.driven_browser import driven

NAMES = ["<b>square</b>", "disc", "triangle"]


def _page(tmp_path):
    data = make_shapes(12, size=64, seed=3)
    rng = np.random.default_rng(0)
    predicted = np.where(np.arange(12) % 3 == 0, (data.labels + 1) % 3, data.labels)
    expls = []
    for i in range(12):
        heat = rng.random((4, 4)).astype(np.float32)
        targets = [
            TargetExplanation(int(c), NAMES[c], 1.0, p, heat)
            for c, p in ((predicted[i], 0.3 + i / 20), (data.labels[i], 0.1))
        ]
        picture = Image.fromarray(data.images[i].astype(np.uint8))
        expls.append(Explanation("net", "Grad-CAM", "", targets, image=picture))
    files = [f"cat_{i}.png" if i % 2 else f"dog_{i}.png" for i in range(12)]
    boxes = [tuple(int(v) for v in box) for box in data.boxes]
    page = tmp_path / "audit.html"
    page.write_text(ei.format_audit_as_html(expls, list(data.labels), files=files, boxes=boxes))
    return page, data.labels, predicted, files


def _shown(driver) -> list[str]:
    cards = driver.find_elements("css selector", ".ei-card")
    return [card.get_attribute("data-file") for card in cards if card.is_displayed()]


def test_filters_sort_and_search_in_chromium(tmp_path):
    page, labels, predicted, files = _page(tmp_path)
    with driven(page) as driver:
        from selenium.webdriver.support.ui import Select

        assert len(_shown(driver)) == 12
        Select(driver.find_element("id", "ei-result")).select_by_visible_text("wrong")
        wrong = [files[i] for i in range(12) if predicted[i] != labels[i]]
        assert sorted(_shown(driver)) == sorted(wrong)
        assert driver.find_element("id", "ei-shown").text == str(len(wrong))

        Select(driver.find_element("id", "ei-result")).select_by_visible_text("all")
        Select(driver.find_element("id", "ei-predicted")).select_by_value("1")
        assert sorted(_shown(driver)) == sorted(files[i] for i in range(12) if predicted[i] == 1)
        Select(driver.find_element("id", "ei-predicted")).select_by_index(0)
        Select(driver.find_element("id", "ei-true")).select_by_visible_text("0 <b>square</b>")
        assert sorted(_shown(driver)) == sorted(files[i] for i in range(12) if labels[i] == 0)
        Select(driver.find_element("id", "ei-true")).select_by_index(0)

        low = driver.find_element("id", "ei-pmin")
        low.clear()
        low.send_keys("0.6")
        expected = [files[i] for i in range(12) if 0.3 + i / 20 >= 0.6]
        assert sorted(_shown(driver)) == sorted(expected)
        low.clear()
        low.send_keys("0")

        Select(driver.find_element("id", "ei-sort")).select_by_value("proba-asc")
        assert _shown(driver) == files  # probabilities rise with the index
        driver.find_element("id", "ei-search").send_keys("CAT_")
        assert _shown(driver) == [f for f in files if f.startswith("cat_")]

        shot = np.asarray(Image.open(io.BytesIO(driver.get_screenshot_as_png())).convert("RGB"))
    assert shot.std() > 20, "the screenshot looks blank"
    assert np.mean(shot.min(axis=-1) < 200) > 0.05
