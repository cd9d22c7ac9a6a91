"""Headless Chromium driven by Selenium (Debian's chromium and chromium-driver; nothing is
downloaded): open a page from disk, click, read what is shown."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.browser import FLAGS, chromium


@contextmanager
def driven(page: Path, size: tuple[int, int] = (1280, 1400)) -> Iterator[object]:
    """A Selenium Chrome driver showing ``page``, or skip the test saying what is missing."""
    binary = chromium()
    webdriver = pytest.importorskip(
        "selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')"
    )
    driver_path = shutil.which("chromedriver")
    if driver_path is None:
        pytest.skip("chromedriver is not installed (apt-get install chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in [*FLAGS, f"--window-size={size[0]},{size[1]}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(driver_path))
    try:
        driver.get(page.as_uri())
        yield driver
    finally:
        driver.quit()
