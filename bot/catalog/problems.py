"""Problems found in a catalogue, worded for the marketer who has to fix them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong (or worth a look) in one file, at one line, with the fix."""

    file: Path
    line: int
    field: str
    message: str
    fix: str
    warning: bool = False

    def format(self, root: Path | None = None) -> str:
        """`file:line: field: message — fix`, the file shown relative to `root` when possible."""
        shown = self.file
        if root is not None:
            try:
                shown = self.file.relative_to(root)
            except ValueError:
                shown = self.file
        where = f"{shown}:{self.line}" if self.line else f"{shown}"
        kind = "warning" if self.warning else "error"
        label = f" {self.field}:" if self.field else ""
        return f"{where}: {kind}:{label} {self.message}. Fix: {self.fix}."

    def to_json(self) -> dict[str, object]:
        """A machine-readable form of the problem."""
        return {
            "file": str(self.file),
            "line": self.line,
            "field": self.field,
            "message": self.message,
            "fix": self.fix,
            "severity": "warning" if self.warning else "error",
        }


class CatalogError(Exception):
    """A catalogue that cannot be served; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{sum(not p.warning for p in problems)} problem(s) in the catalogue")
        self.problems = problems
