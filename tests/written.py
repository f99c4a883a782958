"""What a folder holds, to prove the tests write nothing into the checkout or the package."""

from __future__ import annotations

from pathlib import Path

CHECKOUT_VAR = Path(__file__).resolve().parent.parent / "var"


def tree(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file below `folder` with its size and modification time (empty when there is none)."""
    if not folder.is_dir():
        return {}
    return {
        str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }
