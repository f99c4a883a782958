"""The render budget: how much one render may do, the same for `storybot check` and the live bot.

A template is a program a marketer wrote. Whatever it does, one render takes at most MAX_STEPS
traced Python lines, writes at most MAX_CHARS characters, and (as backstops) runs at most
MAX_SECONDS and grows the process's peak memory by at most MAX_MEMORY_MB. A template that passed
`storybot check` can still be a time bomb that only some question sets off; at run time the render
then stops, and only the fan who asked gets the error notice.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

MAX_STEPS = 100_000
MAX_CHARS = 200_000
MAX_SECONDS = 2.0
MAX_MEMORY_MB = 256
_LOOK_EVERY = 256  # steps between two looks at the clock and the memory


class RenderBudgetExceeded(Exception):
    """A render took too many steps, wrote too much, ran too long or used too much memory."""


def _peak_memory_mb() -> float | None:
    """The process's peak memory so far, where the platform can tell (not on Windows)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def within_budget(render: Callable[[], Iterable[str]]) -> str:
    """Run `render` (a template's chunks, as jinja2's `generate` yields them) within the budget."""
    deadline = time.monotonic() + MAX_SECONDS
    start_memory = _peak_memory_mb()
    memory_limit = None if start_memory is None else start_memory + MAX_MEMORY_MB
    steps = 0

    def tracer(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal steps
        steps += 1
        if steps > MAX_STEPS:
            raise RenderBudgetExceeded(f"took over {MAX_STEPS:,} steps")
        if steps % _LOOK_EVERY == 0:
            if time.monotonic() > deadline:
                raise RenderBudgetExceeded(f"took over {MAX_SECONDS:.0f} s")
            if memory_limit is not None and (_peak_memory_mb() or 0.0) > memory_limit:
                raise RenderBudgetExceeded(f"used over {MAX_MEMORY_MB} MB")
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        chunks: list[str] = []
        written = 0
        for chunk in render():
            written += len(chunk)
            if written > MAX_CHARS:
                raise RenderBudgetExceeded(f"wrote over {MAX_CHARS:,} characters")
            chunks.append(chunk)
    finally:
        sys.settrace(previous)
    return "".join(chunks)
