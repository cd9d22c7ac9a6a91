"""Size and browser load time of an audit report of many images.

.venv/bin/python benchmarks/audit_report.py --count 2000

Explanations are made by hand (generated 224x224 shape photos, a 7x7 heatmap each, a third of
them wrong, boxes on every image), so only the formatting and the browser are measured. The
page is opened from disk in headless Chromium through Selenium; load time is the browser's
navigation timing (start to the end of the load event), and a filter is timed from the click
to the updated count.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import explainimg as ei
from explainimg.demo.shapes import CLASS_NAMES, make_shapes
from explainimg.explanation import Explanation, TargetExplanation


def explanations(count: int) -> tuple[list[Explanation], list[int], list[tuple]]:
    data = make_shapes(count, size=224, seed=0)
    rng = np.random.default_rng(0)
    expls, labels = [], []
    for i in range(count):
        label = int(data.labels[i])
        predicted = (label + 1) % 3 if i % 3 == 0 else label
        heat = rng.random((7, 7)).astype(np.float32)
        targets = [
            TargetExplanation(c, CLASS_NAMES[c], 1.0, float(p), heat)
            for c, p in ((predicted, rng.uniform(0.4, 1.0)), (label, rng.uniform(0, 0.4)))
        ]
        picture = Image.fromarray(data.images[i].astype(np.uint8))
        expls.append(Explanation("shapes", "Grad-CAM", "", targets, image=picture))
        labels.append(label)
    return expls, labels, [tuple(int(v) for v in box) for box in data.boxes]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
    args = parser.parse_args()
    expls, labels, boxes = explanations(args.count)
    start = time.perf_counter()
    page = ei.format_audit_as_html(expls, labels, boxes=boxes)
    formatting = time.perf_counter() - start
    print(f"{args.count} images: formatted in {formatting:.1f} s, {len(page) / 1e6:.1f} MB")

    from selenium import webdriver
    from selenium.webdriver.support.ui import Select

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "audit.html"
        path.write_text(page)
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,1400"):
            options.add_argument(flag)
        service = webdriver.ChromeService("/usr/bin/chromedriver")
        driver = webdriver.Chrome(options=options, service=service)
        try:
            for run in range(3):
                driver.get(path.as_uri())
                timing = driver.execute_script(
                    "const t = performance.getEntriesByType('navigation')[0];"
                    "return [t.domContentLoadedEventEnd, t.loadEventEnd];"
                )
                print(
                    f"load {run + 1}: DOM ready {timing[0]:.0f} ms, load event {timing[1]:.0f} ms"
                )
            start = time.perf_counter()
            Select(driver.find_element("id", "ei-result")).select_by_visible_text("wrong")
            shown = driver.find_element("id", "ei-shown").text
            print(f"filter 'wrong': {shown} shown in {(time.perf_counter() - start) * 1000:.0f} ms")
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
