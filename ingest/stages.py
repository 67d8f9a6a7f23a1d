"""Where an ingest spends its time: seconds per stage (load, clean, chunk, embed, write).

A stage entered inside another pauses the outer one, so the stages add up to the run: the PDF
parser's text extraction is "load" inside the loader's "clean", embedding is "embed" inside "write"
(vectors are computed while the index is written).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_CLOCK: ContextVar[StageClock | None] = ContextVar("ingest_stage_clock", default=None)


class StageClock:
    """Seconds per stage of one ingest run."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._stack: list[list] = []  # [stage, running since]

    @contextmanager
    def running(self) -> Iterator[StageClock]:
        """Make this the clock that `stage()` adds to, in this thread, for the block."""
        token = _CLOCK.set(self)
        try:
            yield self
        finally:
            _CLOCK.reset(token)

    def _enter(self, name: str) -> None:
        now = time.perf_counter()
        if self._stack:
            outer = self._stack[-1]
            self.seconds[outer[0]] = self.seconds.get(outer[0], 0.0) + now - outer[1]
        self._stack.append([name, now])

    def _leave(self) -> None:
        now = time.perf_counter()
        name, since = self._stack.pop()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - since
        if self._stack:
            self._stack[-1][1] = now


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Count the block's time to `name` on the running clock (free when none runs)."""
    clock = _CLOCK.get()
    if clock is None:
        yield
        return
    clock._enter(name)
    try:
        yield
    finally:
        clock._leave()
