"""Timing helpers shared by the benchmark scripts (run them as ``python benchmarks/NAME.py``)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

BATCH_SIZES = (1, 8, 32)


def seconds_per_call(function: Callable[[], Any], min_reps: int, min_seconds: float) -> float:
    """Median wall time of ``function`` after one warm-up call."""
    function()
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - started < min_seconds:
        begin = time.perf_counter()
        function()
        times.append(time.perf_counter() - begin)
    return statistics.median(times)


def paired_times(
    floor: Callable[[], Any], function: Callable[[], Any], min_reps: int, min_seconds: float
) -> tuple[float, float]:
    """Median times of ``floor`` and of ``function``, the two called alternately (after one
    warm-up each) so that a change in the machine's load hits both alike."""
    floor()
    function()
    floor_times: list[float] = []
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - started < min_seconds:
        for target, record in ((floor, floor_times), (function, times)):
            begin = time.perf_counter()
            target()
            record.append(time.perf_counter() - begin)
    return statistics.median(floor_times), statistics.median(times)


def paired_ratio(
    floor: Callable[[], Any], function: Callable[[], Any], min_reps: int, min_seconds: float
) -> float:
    """Median time of ``function`` over median time of ``floor`` (see :func:`paired_times`)."""
    floor_time, time_taken = paired_times(floor, function, min_reps, min_seconds)
    return time_taken / floor_time


def alternate_times(
    first: Callable[[], Any], second: Callable[[], Any], pairs: int
) -> tuple[list[float], list[float]]:
    """Wall times of ``pairs`` alternate calls of ``first`` and ``second`` (after one warm-up
    each; the order flips every pair), so a change of load hits both: compare them pair by pair.
    """
    first()
    second()
    times: tuple[list[float], list[float]] = ([], [])
    for pair in range(pairs):
        order = (0, 1) if pair % 2 == 0 else (1, 0)
        for which in order:
            begin = time.perf_counter()
            (first, second)[which]()
            times[which].append(time.perf_counter() - begin)
    return times


def table_head(title: str, first_column: str, batch_sizes: tuple[int, ...] | list[int]) -> list:
    """The first lines of a markdown table with one column per batch size."""
    return [
        title,
        "",
        f"| {first_column} | ".replace("|  |", "| |")
        + " | ".join(f"batch {b}" for b in batch_sizes)
        + " |",
        "|---|" + "---|" * len(batch_sizes),
    ]
