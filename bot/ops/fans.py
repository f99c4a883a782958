"""Fan handles: a fan's pseudonymous key, shortened for moderators to read, type and tap.

The exchange log keys a fan as `u_` and 16 hex digits. Digests and /misses show the first
HANDLE_CHARS of those digits, with a tappable `/block_<handle>`; /block takes either form.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.ops.blocklist import is_user_key

HANDLE_CHARS = 8
HANDLE = re.compile(rf"[0-9a-f]{{{HANDLE_CHARS}}}")
# A handle or a key inside a moderator-facing message (a digest item replied to with /block).
MENTIONED = re.compile(rf"/block_([0-9a-f]{{{HANDLE_CHARS}}})\b|\b(u_[0-9a-f]{{16}})\b")


def handle(user_key: str) -> str:
    """The fan's short handle ("" for a key that is not a fan's)."""
    return user_key[2 : 2 + HANDLE_CHARS] if is_user_key(user_key) else ""


def is_handle(text: str) -> bool:
    """Whether `text` is a fan handle (HANDLE_CHARS hex digits)."""
    return HANDLE.fullmatch(text) is not None


def resolve(text: str, known: Iterable[str]) -> str | None:
    """The full key `text` names: itself when a key, else the one known key it is the handle of."""
    if is_user_key(text):
        return text
    if not is_handle(text):
        return None
    matches = {key for key in known if handle(key) == text}
    return matches.pop() if len(matches) == 1 else None


def mentioned(text: str) -> list[str]:
    """The handles and keys a message names, in order, each once."""
    found = [m.group(1) or m.group(2) for m in MENTIONED.finditer(text)]
    return list(dict.fromkeys(found))
