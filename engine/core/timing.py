"""Seconds per pipeline stage, and who wants to hear when a stage starts (the tutor page names it for the child)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class StageTimings(dict):
    """{stage: seconds spent in it}. ``on_stage(stage)`` is called as each timed block starts; it runs on the
    thread doing the work, so it must be quick and must not touch a UI directly."""

    def __init__(self, on_stage: Callable[[str], None] | None = None):
        super().__init__()
        self.on_stage = on_stage


@contextmanager
def timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    """Add the seconds spent inside the block to timings[stage] (telling its listener the stage has started)."""
    listener = getattr(timings, "on_stage", None)
    if listener is not None:
        listener(stage)
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start
