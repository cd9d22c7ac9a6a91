"""Progress bars, one helper for every place that shows one: ``progress=True`` in the library,
``explainimg explain`` and the audit (images done), and long single calls (model-call chunks
of Score-CAM, RISE, occlusion, SmoothGrad and Integrated Gradients).

Bars are ``tqdm.auto``'s: a widget in notebooks, a redrawn line on a terminal. When the stream
is neither (a log file, a pipe), a bar is written as plain lines, one at the start, one every
``PLAIN_INTERVAL`` seconds and one at the end, with no carriage returns or control codes.
tqdm's own environment variables apply (``TQDM_DISABLE=1`` hides every bar). Nothing here
imports Keras.

>>> import io
>>> log = io.StringIO()
>>> with progress_bar(3, stream=log) as bar:
...     bar.update(3)
>>> log.getvalue().splitlines()[-1].startswith("explained 3/3 images")
True
>>> "\\r" in log.getvalue()
False
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import IO, Any, NamedTuple

import numpy as np
import tqdm.auto  # noqa: F401 (loads tqdm.autonotebook quietly: its notebook warning is muted)
from tqdm.autonotebook import tqdm as auto_tqdm
from tqdm.std import tqdm as std_tqdm

PLAIN_INTERVAL = 10.0
"""Seconds between two lines of a bar written to a file or pipe."""
LONG_CALL_STEPS = 8
"""A single call of more model-call chunks than this may show a bar of its chunks..."""
LONG_CALL_DELAY = 2.0
"""...once it has run this many seconds (quick calls never show one)."""

_PLAIN_FORMAT = (
    "{desc} {n_fmt}/{total_fmt} {unit}s ({elapsed} so far, {remaining} left, {rate_fmt})"
)


class _Lines:
    """A text stream for plain bars: drops the carriage returns and bare newlines that tqdm
    writes around in-place redraws, so each update is one whole line."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        text = text.replace("\r", "")
        if text.strip():
            self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()


def _is_live(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class PlainBar(std_tqdm):
    """A tqdm bar written as whole lines, for files and pipes (see :class:`_Lines`)."""

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        self.fp.write(f"{self if msg is None else msg}\n")
        self.fp.flush()
        return True


def progress_bar(
    total: int | None,
    *,
    desc: str = "explained",
    unit: str = "image",
    enabled: bool = True,
    delay: float = 0.0,
    leave: bool = True,
    initial: int = 0,
    stream: IO[str] | None = None,
) -> std_tqdm:
    """A tqdm bar of ``total`` ``unit``s on ``stream`` (default stderr): call ``update(n)``
    and ``close()``, or use it as a context manager. ``enabled=False`` gives one that shows
    nothing; ``delay``: seconds before it first shows; ``initial``: units already done."""
    stream = sys.stderr if stream is None else stream
    options: dict[str, Any] = dict(
        total=total,
        desc=desc,
        unit=unit,
        disable=not enabled,
        delay=delay,
        leave=leave,
        initial=initial,
    )
    if auto_tqdm is not std_tqdm and stream is sys.stderr:  # in a notebook: its widget
        return auto_tqdm(**options)
    if _is_live(stream):
        return std_tqdm(file=stream, **options)
    return PlainBar(
        file=_Lines(stream), mininterval=PLAIN_INTERVAL, bar_format=_PLAIN_FORMAT, **options
    )


class _LongCalls:
    """The bar of the long call under way, driven by :func:`call_step` from inside compiled
    functions; ``enabled`` is switched by :func:`show_long_calls`."""

    def __init__(self) -> None:
        self.enabled = True
        self.bar: Any = None
        self.lock = threading.Lock()


_LONG_CALLS = _LongCalls()


def show_long_calls(enabled: bool) -> bool:
    """Show (the default) or hide the bars of long single calls; returns the previous setting.

    >>> previous = show_long_calls(False)
    >>> show_long_calls(previous)
    False
    """
    previous, _LONG_CALLS.enabled = _LONG_CALLS.enabled, bool(enabled)
    return previous


def call_step(index: Any, steps: Any, *_: Any) -> Any:
    """Step ``index`` of ``steps`` of one call is done (called from compiled code, through the
    backend's host callback; extra arguments only order the call after the step's work).
    Calls of more than :data:`LONG_CALL_STEPS` steps get a bar, shown after
    :data:`LONG_CALL_DELAY` seconds.

    >>> [int(call_step(i, 3)) for i in range(3)]
    [0, 0, 0]
    """
    index, steps = int(index), int(steps)
    calls = _LONG_CALLS
    if steps <= LONG_CALL_STEPS or not calls.enabled:
        return np.int32(0)
    with calls.lock:
        if calls.bar is None or index == 0:
            if calls.bar is not None:
                calls.bar.close()
            calls.bar = progress_bar(
                steps,
                desc="explaining: model calls",
                unit="chunk",
                delay=LONG_CALL_DELAY,
                leave=False,
            )
        calls.bar.update(index + 1 - calls.bar.n)
        if index + 1 >= steps:
            calls.bar.close()
            calls.bar = None
    return np.int32(0)


class StepReport(NamedTuple):
    """What a backend's ``sequential_map`` tells of its steps: ``call(index, steps, ...)`` on
    the host after each step of a map of more than ``min_steps`` steps."""

    call: Callable[..., Any]
    min_steps: int


LONG_CALLS = StepReport(call_step, LONG_CALL_STEPS)
"""Long single calls show a bar (:func:`call_step`)."""
