"""ExplainCallback during a real ``model.fit``: the event files read back by TensorBoard's own
reader, the page in Chromium, and training left exactly as it is without the callback."""

from __future__ import annotations

import base64
import io
import re
import sys

import keras
import numpy as np
import pytest
from PIL import Image

import explainimg as ei
from explainimg import metrics
from explainimg.callbacks import ExplainCallback
from explainimg.demo.shapes import make_shapes
from tests import browser

pytestmark = pytest.mark.core

SIZE = 32
EPOCHS = 3
DATA = make_shapes(64, size=SIZE, seed=0)
SHOWN = make_shapes(3, size=SIZE, seed=1)


def _model() -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 3)),
            keras.layers.Rescaling(1.0 / 255.0),
            keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1"),
            # Moving statistics change whenever the model runs in training mode.
            keras.layers.BatchNormalization(),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="conv2"),
            # Dropout draws random numbers in every step: a callback that moved the random
            # generators would change the weights.
            keras.layers.Dropout(0.3),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    return model


def _fit(model: keras.Model, callbacks: list, epochs: int = EPOCHS) -> None:
    model.fit(
        DATA.images, DATA.labels, epochs=epochs, batch_size=16, verbose=0, callbacks=callbacks
    )


class _AtEpochEnd(keras.callbacks.Callback):
    """Records the weights and the page as they are after each epoch (it runs after the
    ExplainCallback, which comes first in the list)."""

    def __init__(self, page=None):
        super().__init__()
        self.page, self.weights, self.pages = page, [], []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append([np.array(w) for w in self.model.get_weights()])
        if self.page is not None:
            self.pages.append(self.page.read_text())


def _read_events(log_dir):
    """Images ({tag: [(step, width, height, PIL image)]}) and scalars ({tag: [(step,
    value)]}) as TensorBoard's own reader gives them."""
    from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator
    from tensorboard.util.tensor_util import make_ndarray

    events = EventAccumulator(str(log_dir), size_guidance={"tensors": 0})
    events.Reload()
    images, scalars = {}, {}
    for tag in events.Tags()["tensors"]:
        plugin = events.SummaryMetadata(tag).plugin_data.plugin_name
        for event in events.Tensors(tag):
            value = make_ndarray(event.tensor_proto)
            if plugin == "images":
                picture = Image.open(io.BytesIO(value[2]))
                row = (event.step, int(value[0]), int(value[1]), picture)
                images.setdefault(tag, []).append(row)
            else:
                scalars.setdefault(tag, []).append((event.step, float(value)))
    return images, scalars


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One fit with every output on: the callback, the weights after each epoch, the page
    after each epoch, and the folder."""
    pytest.importorskip("tensorboard")
    folder = tmp_path_factory.mktemp("callback")
    page = folder / "epochs.html"
    model = _model()
    callback = ExplainCallback(
        SHOWN.images,
        targets=SHOWN.labels,
        log_dir=folder / "logs",
        html=page,
        boxes=SHOWN.boxes,
        deletion_auc=True,
    )
    after = _AtEpochEnd(page)
    _fit(model, [callback, after])
    return model, callback, after, folder


def test_overlays_in_tensorboard_are_the_overlays_of_that_epochs_weights(trained):
    model, callback, after, folder = trained
    images, _ = _read_events(folder / "logs")
    assert sorted(images) == [f"explain/image_{i}" for i in range(3)]
    twin = keras.models.clone_model(model)
    for i in range(3):
        rows = images[f"explain/image_{i}"]
        assert [step for step, *_ in rows] == list(range(EPOCHS))
        for step, width, height, picture in rows:
            assert (width, height) == picture.size == (SIZE, SIZE)
            # Explained again, independently, by a twin holding the weights of that epoch.
            twin.set_weights(after.weights[step])
            expl = ei.explain_prediction(twin, SHOWN.images[i], targets=[int(SHOWN.labels[i])])
            np.testing.assert_allclose(
                expl.targets[0].heatmap,
                callback.explanations[step][i].targets[0].heatmap,
                atol=1e-5,
            )
            expected = np.asarray(ei.format_as_image(callback.explanations[step][i]))
            np.testing.assert_array_equal(np.asarray(picture.convert("RGB")), expected)
    first, last = callback.explanations[0][0], callback.explanations[EPOCHS - 1][0]
    assert not np.allclose(first.targets[0].heatmap, last.targets[0].heatmap, atol=1e-3)
    assert last.image is first.image  # one picture per image is kept, not one per epoch


def test_scalars_are_the_metrics_of_the_explanations(trained):
    model, callback, _, folder = trained
    _, scalars = _read_events(folder / "logs")
    assert sorted(scalars) == ["explain/deletion_auc", "explain/mean_heat_in_box"]
    for step in range(EPOCHS):
        heats = [
            metrics.mean_heat_in_box(expl, box=tuple(box))
            for expl, box in zip(callback.explanations[step], SHOWN.boxes, strict=True)
        ]
        assert scalars["explain/mean_heat_in_box"][step] == (step, pytest.approx(np.mean(heats)))
    # The last epoch's weights are the model's weights after fit.
    aucs = [
        metrics.deletion(model, image, expl).auc
        for image, expl in zip(SHOWN.images, callback.explanations[EPOCHS - 1], strict=True)
    ]
    assert scalars["explain/deletion_auc"][-1] == (EPOCHS - 1, pytest.approx(np.mean(aucs)))


def _page_pictures(page: str) -> list[np.ndarray]:
    found = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    return [np.asarray(Image.open(io.BytesIO(base64.b64decode(data)))) for data in found]


def test_the_page_grows_a_column_per_epoch_and_shows_the_overlays(trained, tmp_path):
    _, callback, after, folder = trained
    for epoch, page in enumerate(after.pages):
        assert re.findall(r"<th>(epoch \d+)</th>", page) == [
            f"epoch {k + 1}" for k in range(epoch + 1)
        ]
        assert page.count("<tr><th>Image") == 3
    final = (folder / "epochs.html").read_text()
    assert final == after.pages[-1]
    assert list(folder.glob(".epochs.html.*")) == []  # no temporary file left behind
    pictures = _page_pictures(final)
    assert len(pictures) == 3 * (1 + EPOCHS)  # per row: the input, then one per epoch
    for i in range(3):
        row = pictures[i * (1 + EPOCHS) : (i + 1) * (1 + EPOCHS)]
        np.testing.assert_array_equal(row[0], SHOWN.images[i].round().astype(np.uint8))
        for step in range(EPOCHS):
            expected = np.asarray(ei.format_as_image(callback.explanations[step][i]))
            np.testing.assert_array_equal(row[1 + step], expected)
    assert browser.image_check(final, tmp_path) == {"total": 12, "broken": 0}


def test_training_is_the_same_with_and_without_the_callback(trained):
    with_callback = trained[0]  # trained with every output of the callback on
    without = _model()
    _fit(without, [])
    for old, new in zip(without.get_weights(), with_callback.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_every_second_epoch_and_the_predicted_class(tmp_path):
    model = _model()
    callback = ExplainCallback(SHOWN.images, every=2, html=tmp_path / "page.html")
    callback.set_model(model)
    for epoch in range(4):  # as fit calls it, without the cost of training
        callback.on_epoch_end(epoch)
    assert sorted(callback.explanations) == [1, 3]
    predicted = ei.Explainer(model).confidences(SHOWN.images).argmax(axis=1)
    assert [e.targets[0].target for e in callback.explanations[3]] == predicted.tolist()
    assert callback.scalars == {1: {}, 3: {}}
    assert re.findall(r"<th>(epoch \d+)</th>", (tmp_path / "page.html").read_text()) == [
        "epoch 2",
        "epoch 4",
    ]


def test_a_class_id_out_of_range_stops_fit_before_the_first_epoch(tmp_path):
    model = _model()
    callback = ExplainCallback(SHOWN.images, targets=7, html=tmp_path / "page.html")
    with pytest.raises(ValueError) as caught:
        _fit(model, [callback])
    assert str(caught.value) == (
        "targets: expected class ids between 0 and 2 (the model has 3 classes), got 7"
    )
    assert not (tmp_path / "page.html").exists()


def test_a_missing_tensorboard_names_the_fix(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if it were not installed
    with pytest.raises(ImportError) as caught:
        ExplainCallback(SHOWN.images, log_dir=tmp_path)
    assert str(caught.value) == (
        "log_dir: writing TensorBoard summaries needs the tensorboard package, which is not "
        'installed (TensorFlow 2.21 no longer brings it): pip install ".[tensorboard]" '
        '(or pip install "explainimg[tensorboard]", or pip install tensorboard)'
    )
    ExplainCallback(SHOWN.images, html=tmp_path / "page.html")  # a page needs no TensorBoard


def _explanation(heat: float) -> ei.Explanation:
    target = ei.TargetExplanation(1, "<b>disc</b>", 2.0, 0.5, np.full((2, 2), heat, "float32"))
    return ei.Explanation(
        estimator="net",
        method="Grad-CAM",
        description="",
        image=Image.new("RGB", (8, 8)),
        targets=[target],
    )


def test_the_page_escapes_names_and_refuses_ragged_columns():
    from explainimg.formatters import format_epochs_as_html

    page = format_epochs_as_html(
        [("epoch 1", [_explanation(0.5)])], captions=["<i>mine</i>"], title="a & b"
    )
    assert "&lt;b&gt;disc&lt;/b&gt;" in page and "&lt;i&gt;mine&lt;/i&gt;" in page
    assert "<title>a &amp; b</title>" in page
    with pytest.raises(ValueError) as caught:
        format_epochs_as_html([("1", [_explanation(0.5)]), ("2", [_explanation(0.5)] * 2)])
    assert str(caught.value) == (
        "columns: expected the same number of explanations in every column, got [1, 2]"
    )
    with pytest.raises(ValueError) as caught:
        format_epochs_as_html([("1", [_explanation(0.5)])], captions=["a", "b"])
    assert str(caught.value) == "captions: expected 1 captions (one per image), got 2"
