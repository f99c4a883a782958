"""Where a spot in a multi-line value (a story's `text: en: |` block) sits in its YAML file."""

from __future__ import annotations

from pathlib import Path


def line_in_file(path: Path, key_line: int, value: str, offset: int) -> int:
    """The file line of character `offset` of `value`, whose key is on `key_line`; `key_line` when unsure.

    Each line of the value is found, in order, among the file's lines from its key on, so a
    literal block (`|`), a one-line value or a quoted one all land on the right line.
    """
    try:
        source = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return key_line
    target = value[:offset].count("\n")
    at = max(key_line - 1, 0)
    for index, line in enumerate(value.splitlines()):
        piece = line.strip()
        if not piece:
            continue
        found = next((n for n in range(at, len(source)) if piece in source[n]), None)
        if found is None:
            return key_line
        at = found
        if index >= target:
            return found + 1
    return key_line
