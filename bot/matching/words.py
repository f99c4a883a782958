"""Word lists the matcher reads: text files in `words/` beside this module, one entry a line."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def word_list(name: str) -> frozenset[str]:
    """The entries of `words/<name>.txt`: lines stripped, blank lines and `#` comments left out."""
    text = resources.files(__package__).joinpath("words", f"{name}.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))
