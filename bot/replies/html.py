"""Telegram's HTML parse mode: what it accepts, and how to split long text without breaking tags."""

from __future__ import annotations

import re

MESSAGE_LIMIT = 4096
ALLOWED_TAGS: dict[str, frozenset[str]] = {
    "b": frozenset(),
    "strong": frozenset(),
    "i": frozenset(),
    "em": frozenset(),
    "u": frozenset(),
    "ins": frozenset(),
    "s": frozenset(),
    "strike": frozenset(),
    "del": frozenset(),
    "a": frozenset({"href"}),
    "code": frozenset({"class"}),
    "pre": frozenset(),
    "blockquote": frozenset({"expandable"}),
    "tg-spoiler": frozenset(),
    "span": frozenset({"class"}),
    "tg-emoji": frozenset({"emoji-id"}),
}
NAMED_ENTITIES = frozenset({"lt", "gt", "amp", "quot"})

_TAG = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:\"[^\"<>]*\"|'[^'<>]*'|[^\s>\"'<]+))?)*)\s*>"
)
_ATTR = re.compile(r"([a-zA-Z-]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>\"']+)))?")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|([a-zA-Z]+));")
_SPECIAL = re.compile(r"[<&>]")
_TOKEN = re.compile(r"<[^<>]*>|&[^&;\s<>]{1,12};")
_TAGS_ONLY = re.compile(r"<[^<>]*>")


def telegram_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units), of the raw HTML: a safe upper bound."""
    # surrogatepass: a lone surrogate (JSON can carry one) is one unit, not a crash.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def html_problems(text: str) -> list[str]:
    """What Telegram's HTML parser would reject in `text`; empty when it is fine."""
    problems: list[str] = []
    stack: list[str] = []
    pos = 0
    while True:
        special = _SPECIAL.search(text, pos)  # jump over plain text: only <, & and > matter
        if special is None:
            break
        pos = special.start()
        char = text[pos]
        if char == "<":
            tag = _TAG.match(text, pos)
            if tag is None:
                problems.append(f"a '<' at character {pos + 1} is not a tag: write &lt; for a plain '<'")
                pos += 1
                continue
            closing, name, attrs = tag.group(1) == "/", tag.group(2).lower(), tag.group(3)
            problems.extend(_tag_problems(name, attrs, closing, stack))
            pos = tag.end()
        elif char == "&":
            entity = _ENTITY.match(text, pos)
            if entity is None or (entity.group(1) and entity.group(1) not in NAMED_ENTITIES):
                problems.append(f"a '&' at character {pos + 1} is not an entity: write &amp;")
                pos += 1
                continue
            pos = entity.end()
        else:
            problems.append(f"a '>' at character {pos + 1} is not part of a tag: write &gt;")
            pos += 1
    problems.extend(f"<{name}> is never closed: add </{name}>" for name in reversed(stack))
    return problems


def _tag_problems(name: str, attrs: str, closing: bool, stack: list[str]) -> list[str]:
    if name not in ALLOWED_TAGS:
        allowed = ", ".join(sorted(ALLOWED_TAGS))
        return [f"<{name}> is not allowed in Telegram messages (allowed: {allowed})"]
    if closing:
        if not stack or stack[-1] != name:
            expected = f"</{stack[-1]}>" if stack else "nothing"
            return [f"</{name}> closes a tag that is not open here (expected {expected})"]
        stack.pop()
        return []
    problems: list[str] = []
    for attr in _ATTR.finditer(attrs):
        key = attr.group(1).lower()
        value = next((g for g in attr.groups()[1:] if g is not None), "")
        if key not in ALLOWED_TAGS[name]:
            problems.append(f"<{name}> cannot have the attribute '{key}'")
        elif name == "span" and value != "tg-spoiler":
            problems.append('<span> is only allowed as <span class="tg-spoiler">')
        elif name == "a" and not value:
            problems.append('<a> needs href="https://..."')
    if name == "span" and "class" not in attrs:
        problems.append('<span> is only allowed as <span class="tg-spoiler">')
    stack.append(name)
    return problems


def _tag_name(token: str) -> str:
    match = re.match(r"</?([a-zA-Z][a-zA-Z0-9-]*)", token)
    return match.group(1).lower() if match else ""


def split_html(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split valid Telegram HTML into parts of at most `limit`, closing and reopening tags.

    Cuts fall between paragraphs where they can, else between lines, else between sentences,
    whatever tags are open there; only a sentence longer than a whole message is cut inside.
    """
    return _split_at_boundaries(text, limit)[0]


def needs_hard_cut(text: str, limit: int = MESSAGE_LIMIT) -> bool:
    """Whether splitting `text` has to cut inside a word: no break to cut at in a whole message."""
    return _split_at_boundaries(text, limit)[1]


# Where a message may end, strongest first: a paragraph, a line, a sentence.
_BOUNDARY = re.compile(r"\n\s*\n|\n|(?<=[.!?])\s+|(?<=[。！？])")


def _boundaries(text: str) -> list[tuple[int, int, tuple[str, ...]]]:
    """Every place a part may end: (position, strength 3..1, the opening tags open there)."""
    found: list[tuple[int, int, tuple[str, ...]]] = []
    open_tags: list[str] = []
    pos = 0
    for token in [*_TOKEN.finditer(text), None]:
        end = token.start() if token is not None else len(text)
        for match in _BOUNDARY.finditer(text, pos, end):
            gap = match.group()
            strength = 3 if gap.count("\n") >= 2 else 2 if "\n" in gap else 1
            found.append((match.end(), strength, tuple(open_tags)))
        if token is None:
            break
        tag = token.group()
        if tag.startswith("</"):
            if open_tags:
                open_tags.pop()
        elif tag.startswith("<") and not tag.endswith("/>"):
            open_tags.append(tag)
        pos = token.end()
    return found


def _split_at_boundaries(text: str, limit: int) -> tuple[list[str], bool]:
    if telegram_length(text) <= limit:
        return [text], False
    cuts = _boundaries(text)
    parts: list[str] = []
    hard = False
    start, reopened = 0, ""
    while start < len(text):
        rest = reopened + text[start:]
        if telegram_length(rest) <= limit:
            parts.append(rest)
            break
        best = _best_cut(text, cuts, start, reopened, limit)
        if best is None:  # one sentence longer than a message: cut it up to its end
            after = next((c for c in cuts if c[0] > start), None)
            end, tags = (after[0], after[2]) if after is not None else (len(text), ())
            pieces, cut_inside = _split(reopened + text[start:end].rstrip() + _closing(tags), limit)
            parts.extend(pieces)
            hard = hard or cut_inside
        else:
            end, tags = best
            parts.append(reopened + text[start:end].rstrip() + _closing(tags))
        start, reopened = end, "".join(tags)
    return [part.strip() for part in parts if has_text(part)], hard


def _best_cut(
    text: str, cuts: list[tuple[int, int, tuple[str, ...]]], start: int, reopened: str, limit: int
) -> tuple[int, tuple[str, ...]] | None:
    """The furthest fitting cut of the strongest kind that leaves the part at least a third full."""
    fitting: list[tuple[int, int, tuple[str, ...]]] = []
    for pos, strength, tags in cuts:
        if pos <= start:
            continue
        if telegram_length(text[start:pos]) > limit:
            break  # every later cut is longer still
        if telegram_length(reopened + text[start:pos].rstrip() + _closing(tags)) <= limit:
            fitting.append((pos, strength, tags))
    for strength in (3, 2, 1):
        strong = [c for c in fitting if c[1] >= strength]
        if strong and (strength == 1 or telegram_length(text[start : strong[-1][0]]) > limit // 3):
            return strong[-1][0], strong[-1][2]
    return None


def _closing(tags: tuple[str, ...]) -> str:
    return "".join(f"</{_tag_name(tag)}>" for tag in reversed(tags))


def has_text(html: str) -> bool:
    """Whether Telegram HTML shows any text (Telegram refuses a message with none)."""
    return bool(_TAGS_ONLY.sub("", html).strip())


def _split(text: str, limit: int) -> tuple[list[str], bool]:
    if telegram_length(text) <= limit:
        return [text], False
    hard = False
    parts: list[str] = []
    open_tags: list[tuple[str, str]] = []  # (name, opening tag as written)
    current = ""
    pieces = _TOKEN.split(text)
    tokens = _TOKEN.findall(text)

    def closing() -> str:
        return "".join(f"</{name}>" for name, _ in reversed(open_tags))

    def flush() -> None:
        nonlocal current
        body = current.rstrip()
        if body.strip():
            parts.append(body + closing())
        current = "".join(tag for _, tag in open_tags)

    for index, piece in enumerate(pieces):
        while piece:
            room = limit - telegram_length(current) - telegram_length(closing())
            if telegram_length(piece) <= room:
                current += piece
                piece = ""
                break
            cut, clean = _cut_point(piece, room)
            if not clean:
                if has_text(current):
                    # Give the piece a message of its own before cutting inside a word.
                    flush()
                    continue
                hard = True
                cut = max(cut, 1)
            current += piece[:cut]
            piece = piece[cut:].lstrip(" ")
            flush()
        if index < len(tokens):
            token = tokens[index]
            needed = telegram_length(token) + (0 if token.startswith("&") else len(token) + 2)
            if telegram_length(current) + needed + telegram_length(closing()) > limit:
                flush()
            current += token
            if token.startswith("</"):
                if open_tags:
                    open_tags.pop()
            elif token.startswith("<") and not token.endswith("/>"):
                open_tags.append((_tag_name(token), token))
    if current.strip() and current != "".join(tag for _, tag in open_tags):
        parts.append(current.rstrip() + closing())
    # A part of tags alone (an empty <b></b> at a cut) is a message Telegram refuses as empty.
    return [part.strip("\n") for part in parts if has_text(part)], hard


def _cut_point(piece: str, room: int) -> tuple[int, bool]:
    """Where to cut `piece` to fit `room` units (a paragraph, a line, a sentence, a space),
    and whether that is a clean break rather than the middle of a word."""
    if room <= 0:
        return 0, False
    window = piece[:room]
    while telegram_length(window) > room:
        window = window[:-1]
    for separator in ("\n\n", "\n", ". ", "。", "! ", "? ", " "):
        at = window.rfind(separator)
        if at > len(window) // 3:
            return at + len(separator), True
    return len(window), False
