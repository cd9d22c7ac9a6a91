"""Files written whole or not at all: to a temporary file beside the target, then renamed.

>>> import tempfile
>>> path = Path(tempfile.mkdtemp()) / "out.txt"
>>> write_atomically(path, lambda temporary: temporary.write_text("done"))
>>> path.read_text()
'done'
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

_UMASK_LOCK = threading.Lock()


def _current_umask() -> int:
    # Reading the umask means setting it; the lock keeps two writer threads from reading the
    # 0 that the other one set for a moment.
    with _UMASK_LOCK:
        mask = os.umask(0)
        os.umask(mask)
    return mask


def file_mode() -> int:
    """The permissions ``open()`` gives a new file under the current umask."""
    return 0o666 & ~_current_umask()


def write_atomically(path: str | Path, write: Callable[[Path], None]) -> None:
    """Run ``write(temporary_path)`` then move the result to ``path``: a failure (a full disk,
    Ctrl-C) leaves no half-written file, and an older file there stays as it was."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(Path(temporary))
        # mkstemp creates the file private (0600); give it the permissions open() would.
        os.chmod(temporary, file_mode())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
