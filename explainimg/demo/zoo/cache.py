"""Where explainimg keeps models it builds: the user cache directory.

Chosen in this order: the ``cache_dir`` argument, the ``EXPLAINIMG_CACHE`` environment
variable, ``$XDG_CACHE_HOME/explainimg``, ``~/.cache/explainimg``.

>>> str(cache_directory("/tmp/models"))
'/tmp/models'
"""

from __future__ import annotations

import os
from pathlib import Path

from ...errors import bad_type

CACHE_ENV_VAR = "EXPLAINIMG_CACHE"


def cache_directory(cache_dir: str | Path | None = None) -> Path:
    """The cache directory to use (not created here)."""
    if cache_dir is not None:
        if not isinstance(cache_dir, (str, Path)):
            raise bad_type("cache_dir", "a str, pathlib.Path or None", cache_dir)
        return Path(cache_dir).expanduser()
    if os.environ.get(CACHE_ENV_VAR):
        return Path(os.environ[CACHE_ENV_VAR]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "explainimg"
    return Path.home() / ".cache" / "explainimg"
