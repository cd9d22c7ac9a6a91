"""``ExplainCallback``: watch a model learn where to look, epoch by epoch.

Every ``every`` epochs, after the epoch's training and validation, the callback explains the
same validation images with the model's current weights and writes

- to TensorBoard (``log_dir``): one image summary per image (tag ``explain/image_<i>``, the
  overlay of :func:`~explainimg.formatters.image.format_as_image`) and the scalars
  ``explain/mean_heat_in_box`` (with ``boxes=``) and ``explain/deletion_auc`` (with
  ``deletion_auc=True``), each the mean over the images, at step = the epoch index Keras
  passes (from 0, as ``keras.callbacks.TensorBoard`` counts);
- to an HTML page (``html``): one row per image, one column per explained epoch (headed
  "epoch 1", "epoch 2", ... as Keras prints them), rewritten whole after each one.

It runs outside the training step and only reads the model: training is the same with it
or without it.

>>> import keras, numpy as np, tempfile, os
>>> model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3, name="conv"),
...     keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2, activation="softmax")])
>>> model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
>>> page = os.path.join(tempfile.mkdtemp(), "epochs.html")
>>> callback = ExplainCallback(np.ones((2, 8, 8, 3), "float32"), targets=[0, 1], html=page)
>>> _ = model.fit(np.ones((4, 8, 8, 3)), np.array([0, 1, 0, 1]), epochs=2, verbose=0,
...               callbacks=[callback])
>>> sorted(callback.explanations), open(page).read().count("<img")
([0, 1], 6)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
from PIL import Image

from ..engine.summaries import SummaryWriter, require_tensorboard
from ..errors import bad_argument, bad_type, said
from ..explainer import Explainer
from ..explanation import Explanation
from ..formatters.epochs_html import format_epochs_as_html
from ..formatters.image import Colormap, format_as_image
from ..inputs.arguments import checked_positive_int, checked_targets, image_batch
from ..metrics import deletion, mean_heat_in_box
from ..metrics.localization import Box, region_mask
from ..pipeline.atomic import write_atomically

_ANY_SHAPE = (None, None, None, None)


class ExplainCallback(keras.callbacks.Callback):
    """Explain ``images`` every ``every`` epochs; write TensorBoard summaries and/or a page.

    - ``images``: the validation images, a batch (N, H, W, C) as the model takes it (an
      array, a tensor, or a list of (H, W, C) arrays). Keep it small: all are explained at
      each explained epoch, in one batch.
    - ``targets``: the class to explain, one id per image (e.g. the labels) or one id for
      all; None explains the class the model predicts at that epoch.
    - ``method``, ``layer``, ``target_names``: as for :class:`~explainimg.Explainer`.
    - ``every``: explain after epochs every, 2 * every, ... (1: after every epoch).
    - ``log_dir``: folder for the TensorBoard event file (needs the ``tensorboard``
      package: ``pip install ".[tensorboard]"``). ``html``: path of the page. At least one.
    - ``boxes``: one ``(top, left, bottom, right)`` box per image, in pixels (bounds
      included), for the ``explain/mean_heat_in_box`` scalar.
    - ``deletion_auc``: also write ``explain/deletion_auc`` (:func:`explainimg.metrics.deletion`,
      21 model calls per image).
    - ``captions``, ``alpha_limit``, ``colormap``, ``image_width``: how the page and the
      overlays look (see :func:`~explainimg.formatters.format_epochs_as_html`).

    After training, ``explanations`` maps each explained epoch index to its Explanations and
    ``scalars`` to the numbers written for it.
    """

    def __init__(
        self,
        images: Any,
        targets: Any = None,
        *,
        method: Any = "gradcam",
        layer: Any = None,
        target_names: Any = None,
        every: int = 1,
        log_dir: str | Path | None = None,
        html: str | Path | None = None,
        boxes: Sequence[Box] | None = None,
        deletion_auc: bool = False,
        captions: Sequence[str] | None = None,
        alpha_limit: float = 0.65,
        colormap: str | Colormap = "viridis",
        image_width: int | None = None,
    ) -> None:
        super().__init__()
        if log_dir is None and html is None:
            raise bad_argument(
                "log_dir",
                "a folder for TensorBoard event files, or html= the path of a page: at least "
                "one of them",
                said("log_dir=None and html=None"),
            )
        if log_dir is not None:
            require_tensorboard("log_dir")
        batch, _ = image_batch(images, _ANY_SHAPE, name="images")
        self._images = batch.copy()  # a private copy: later changes by the caller don't count
        count = batch.shape[0]
        self._targets = _per_image_targets(targets, count)
        self._boxes = _checked_boxes(boxes, count, (batch.shape[2], batch.shape[1]))
        if not isinstance(deletion_auc, (bool, np.bool_)):
            raise bad_type("deletion_auc", "True or False", deletion_auc)
        self.every = checked_positive_int(every, "every")
        self.log_dir = None if log_dir is None else Path(log_dir)
        self.html = None if html is None else Path(html)
        self.deletion_auc = bool(deletion_auc)
        self._options = {"method": method, "layer": layer, "target_names": target_names}
        self._look = {"alpha_limit": alpha_limit, "colormap": colormap}
        self._page = {"captions": captions, "image_width": image_width, **self._look}
        self._explainer: Explainer | None = None
        self._pictures: list[Image.Image] | None = None
        self._writer: SummaryWriter | None = None
        self.explanations: dict[int, list[Explanation]] = {}
        self.scalars: dict[int, dict[str, float]] = {}

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        # Checked once the model is known, before the first epoch is spent: the images go
        # through it once, the class ids are checked against its classes.
        self._explainer = Explainer(self.model, **self._options)
        self._explainer.confidences(self._images)
        if self._targets is not None:
            checked_targets(self._targets, self._explainer.n_classes, "targets")
        if self.log_dir is not None and self._writer is None:
            self._writer = SummaryWriter(self.log_dir)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if (epoch + 1) % self.every:
            return
        if self._explainer is None:  # used outside fit(): set up now
            self.on_train_begin()
        # The Explainer reads the model's variables at every call (the JAX trainer puts its
        # state back into them before on_epoch_end), so these are the current weights.
        targets = None if self._targets is None else [[t] for t in self._targets]
        expls = self._explainer.explain_batch(self._images, targets=targets, images=self._pictures)
        if self._pictures is None:
            # Every later epoch draws on these same pictures: kept once, not once per epoch.
            self._pictures = [expl.image for expl in expls]
        self.explanations[epoch] = expls
        self.scalars[epoch] = self._scalars(expls)
        if self._writer is not None:
            self._write_summaries(epoch, expls)
        if self.html is not None:
            self._write_page()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _scalars(self, expls: list[Explanation]) -> dict[str, float]:
        scalars = {}
        if self._boxes is not None:
            heats = [
                mean_heat_in_box(expl, box=box)
                for expl, box in zip(expls, self._boxes, strict=True)
                if expl.targets  # an image the model gave NaN or inf for has no map
            ]
            if heats:
                scalars["explain/mean_heat_in_box"] = float(np.mean(heats))
        if self.deletion_auc:
            aucs = [
                deletion(self.model, image, expl).auc
                for image, expl in zip(self._images, expls, strict=True)
                if expl.targets
            ]
            if aucs:
                scalars["explain/deletion_auc"] = float(np.mean(aucs))
        return scalars

    def _write_summaries(self, epoch: int, expls: list[Explanation]) -> None:
        images, descriptions = {}, {}
        for i, expl in enumerate(expls):
            if not expl.targets:  # the model gave NaN or inf for this image
                continue
            tag = f"explain/image_{i}"
            images[tag] = np.asarray(format_as_image(expl, **self._look))
            descriptions[tag] = _description(expl)
        self._writer.write(
            epoch, images=images, scalars=self.scalars[epoch], descriptions=descriptions
        )

    def _write_page(self) -> None:
        columns = [(f"epoch {epoch + 1}", expls) for epoch, expls in self.explanations.items()]
        page = format_epochs_as_html(columns, **self._page)
        self.html.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.html, lambda path: path.write_text(page, encoding="utf-8"))


def _description(expl: Explanation) -> str:
    target = expl.targets[0]
    name = f" ({target.target_name})" if target.target_name is not None else ""
    proba = f", p={target.proba:.3f}" if target.proba is not None else ""
    layer = f" at layer {expl.layer}" if expl.layer else ""
    return f"class {target.target}{name}{proba}; {expl.method}{layer}"


def _per_image_targets(targets: Any, count: int) -> list[int] | None:
    """One class id per image (checked against the model's classes at the start of fit)."""
    if targets is None:
        return None
    array = np.asarray(targets)
    if array.ndim == 0 and array.dtype.kind in "iu":
        return [int(array)] * count
    expected = f"one class id per image ({count}), one id for all, or None"
    if array.ndim != 1 or array.dtype.kind not in "iu":
        hint = "For one-hot labels pass labels.argmax(axis=1)." if array.ndim == 2 else ""
        raise bad_type("targets", expected, said(_what(targets, array)), hint=hint)
    if array.shape[0] != count:
        raise bad_argument("targets", expected, said(f"{array.shape[0]} class ids"))
    return [int(t) for t in array]


def _what(targets: Any, array: np.ndarray) -> str:
    return f"{type(targets).__name__} of shape {array.shape} and dtype {array.dtype}"


def _checked_boxes(
    boxes: Sequence[Box] | None, count: int, size: tuple[int, int]
) -> list[Box] | None:
    if boxes is None:
        return None
    if isinstance(boxes, (str, bytes)) or not isinstance(boxes, (Sequence, np.ndarray)):
        raise bad_type("boxes", f"one (top, left, bottom, right) box per image ({count})", boxes)
    if len(boxes) != count:
        raise bad_argument("boxes", f"one box per image ({count})", said(f"{len(boxes)} boxes"))
    checked = []
    for i, box in enumerate(boxes):
        try:
            region_mask(tuple(box) if isinstance(box, np.ndarray) else box, None, size)
        except (TypeError, ValueError) as error:
            raise type(error)(f"boxes[{i}]: {str(error).removeprefix('box: ')}") from None
        checked.append(tuple(int(v) for v in box))
    return checked
