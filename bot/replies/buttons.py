"""Callback data and deep-link payloads: the only formats buttons and links speak, parsed in one place."""

from __future__ import annotations

from bot.catalog.model import LANGS


def story_data(story_id: str, lang: str) -> str:
    """Callback data that opens a story."""
    return f"s:{lang}:{story_id}"


def chapter_data(story_id: str, chapter: int, lang: str) -> str:
    """Callback data for chapter `chapter` (0-based) of a story."""
    return f"c:{lang}:{story_id}:{chapter}"


def page_data(page: int, lang: str) -> str:
    """Callback data for a catalogue page (0-based)."""
    return f"p:{lang}:{page}"


def notify_data(on: bool, lang: str) -> str:
    """Callback data that subscribes to new stories (`on`) or unsubscribes."""
    return f"n:{lang}:{int(on)}"


def catalogue_data(lang: str) -> str:
    """Callback data that opens the catalogue anew (paging through it is `page_data`)."""
    return f"a:{lang}"


def parse_button(data: str) -> tuple[str, list[str]] | None:
    """Validate callback data; None when it is not ours (forged, old format, garbage)."""
    if not isinstance(data, str) or not data.isascii() or len(data) > 64:
        return None
    parts = data.split(":")
    kind, args = parts[0], parts[1:]
    if not args or args[0] not in LANGS:
        return None
    valid = {
        "s": len(args) == 2 and bool(args[1]),
        "c": len(args) == 3 and bool(args[1]) and args[2].isdigit() and len(args[2]) <= 4,
        "p": len(args) == 2 and args[1].isdigit() and len(args[1]) <= 4,
        "l": len(args) == 1,
        "n": len(args) == 2 and args[1] in ("0", "1"),
        "a": len(args) == 1,
    }
    return (kind, args) if valid.get(kind, False) else None


def parse_payload(payload: str) -> tuple[str | None, str | None]:
    """A deep-link payload → (campaign, story id); anything malformed → (None, None)."""
    payload = (payload or "").strip()
    if not payload or len(payload) > 64 or not all(c.isascii() and (c.isalnum() or c in "_-") for c in payload):
        return None, None
    campaign, sep, story_id = payload.rpartition("__")
    if not sep:
        return None, payload
    return (campaign or None), story_id or None
