"""Project-level promises: layering, README/CI agreement, the demo, compiled-function reuse."""

from __future__ import annotations

import gc
import re
import subprocess
import sys
import weakref
from pathlib import Path

import numpy as np
import pytest

import explainimg as ei
from explainimg.cli import main
from explainimg.engine import backend
from explainimg.engine.plans import _PLANS
from tests import builders

pytestmark = pytest.mark.core

ROOT = Path(__file__).resolve().parent.parent


def _python_output(code: str) -> str:
    """What ``code`` prints when run by a fresh Python (failing on an error)."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_formatters_and_explanations_do_not_import_tensorflow():
    code = (
        "import sys, explainimg, explainimg.formatters, explainimg.explanation, "
        "explainimg.inputs.images, explainimg.heatmaps, explainimg.demo.shapes\n"
        "print(explainimg.format_as_image.__module__)\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TF imported'\n"
    )
    assert _python_output(code) == "explainimg.formatters.image"


def test_an_explanation_shows_as_html_before_any_formatter_is_imported():
    code = (
        "import sys, numpy as np\n"
        "from PIL import Image\n"
        "from explainimg.explanation import Explanation, TargetExplanation\n"
        "expl = Explanation(estimator='net', method='Grad-CAM', description='', layer='conv',\n"
        "    image=Image.new('RGB', (8, 8)),\n"
        "    targets=[TargetExplanation(1, 'cat', 2.0, 0.5, np.ones((2, 2), 'float32'))])\n"
        "assert 'explainimg.formatters' not in sys.modules\n"
        "html = expl._repr_html_()\n"
        "from explainimg.formatters.html import format_as_html\n"
        "print(html == format_as_html(expl))\n"
    )
    assert _python_output(code) == "True"


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```(?:bash|sh)\n(.+?)\n```", text)


def test_readme_has_two_setup_commands_and_ci_runs_the_test_one():
    setup = [cmd for cmd in _readme_commands() if cmd.startswith("python3 -m venv")]
    assert len(setup) == 2, setup
    demo, tests = setup
    assert demo.endswith("explainimg demo") and '".[demo]"' in demo
    assert "pytest" in tests
    assert tests in (ROOT / ".ci" / "run").read_text()


def test_toy_demo_writes_overlays_and_reports_hits(tmp_path, capsys):
    assert main(["demo", "--toy", "--out", str(tmp_path), "--count", "3"]) == 0
    printed = capsys.readouterr().out
    pngs = sorted(tmp_path.glob("*.png"))
    assert len(pngs) == 3
    assert printed.count("on the shape") >= 2
    assert str(tmp_path.resolve()) in printed


def test_compiled_function_is_reused_across_calls_and_batch_sizes():
    model = builders.sequential_dense_softmax()
    x = builders.image(seed=1)
    ei.explain_prediction(model, x, top=2)
    explainer = ei.Explainer(model)
    traces = explainer.trace_count
    # JAX traces once per batch size (5, 7 and the stream's 4 below); the others never retrace.
    per_batch_size = 3 if backend.current().STATIC_SHAPES else 0
    assert traces == 1
    for seed in range(3):
        ei.explain_prediction(model, builders.image(seed=seed), top=2)
    for size in (5, 1, 7):
        explainer.explain_batch(np.stack([x] * size), top=2)
    list(ei.explain_predictions(model, np.stack([x] * 10), batch_size=4, top=2))
    assert explainer.trace_count == traces + per_batch_size
    ei.explain_prediction(model, x, targets=[0, 1, 2])
    assert explainer.trace_count == traces + per_batch_size + 1


def _explain_a_fresh_model() -> weakref.ref:
    model = builders.sequential_dense_softmax()
    ei.explain_prediction(model, builders.image(seed=1))
    assert model in _PLANS
    return weakref.ref(model)


def test_cache_does_not_keep_models_alive():
    alive = _explain_a_fresh_model()
    gc.collect()
    assert alive() is None
