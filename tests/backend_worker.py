"""Explains saved models under whatever KERAS_BACKEND this process runs, for comparison.

``python -m tests.backend_worker CASES.json OUT.npz``: CASES.json is a list of
{"name", "model" (a .keras path), "images" (a .npy path), "targets" (or "top", for a
detector's own detections), "methods": [[key, options], ...], optionally "imports": modules
that register the model's classes}; OUT.npz
gets "{name}/{key}/{maps|scores|probas}" arrays ("key+aug" for a CAM method's ``smooth``
option; "/attributions" for methods with signed values) and "backend".
"""

from __future__ import annotations

import importlib
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np

import explainimg as ei
from explainimg.methods import METHODS


def explain_cases(cases: list[dict]) -> dict[str, np.ndarray]:
    """Heatmaps, scores and probabilities of every (case, method), keyed as described above."""
    results: dict[str, np.ndarray] = {}
    for case in cases:
        for module in case.get("imports", []):
            importlib.import_module(module)
        model = keras.saving.load_model(case["model"], compile=False)
        images = np.load(case["images"])
        for key, options in case["methods"]:
            method = METHODS[key](**options)
            explainer = ei.Explainer(model, method=method)
            expls = explainer.explain_batch(
                images, targets=case.get("targets"), top=case.get("top")
            )
            smoothing = f"+{options['smooth']}" if options.get("smooth") else ""
            prefix = f"{case['name']}/{key}{smoothing}"
            results[f"{prefix}/maps"] = np.stack(
                [[t.heatmap for t in expl.targets] for expl in expls]
            )
            results[f"{prefix}/scores"] = np.array([[t.score for t in e.targets] for e in expls])
            results[f"{prefix}/probas"] = np.array(
                [[np.nan if t.proba is None else t.proba for t in e.targets] for e in expls]
            )
            if method.signed:
                results[f"{prefix}/attributions"] = np.stack(
                    [[t.attribution for t in expl.targets] for expl in expls]
                )
    return results


def main(argv: list[str]) -> None:
    cases_path, out_path = argv
    with open(cases_path, encoding="utf-8") as handle:
        cases = json.load(handle)
    results = explain_cases(cases)
    np.savez(out_path, backend=np.array(keras.backend.backend()), **results)


if __name__ == "__main__":
    main(sys.argv[1:])
