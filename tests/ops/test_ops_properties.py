"""Properties over arbitrary fan text: nothing breaks the terminal, the log reader or a digest."""

from __future__ import annotations

import asyncio
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st
from ops_support import ex

from bot.ops.digest import Digest
from bot.ops.logread import parse_line
from bot.ops.tail import visible
from bot.replies.html import MESSAGE_LIMIT, html_problems


@given(st.text(), st.integers(min_value=1, max_value=80))
def test_visible_text_has_no_control_characters_and_fits(text: str, limit: int) -> None:
    shown = visible(text, limit)
    assert len(shown) <= limit
    assert not any(unicodedata.category(ch) in {"Cc", "Cs", "Zl", "Zp"} for ch in shown)


@given(st.text())
def test_the_log_reader_never_raises(line: str) -> None:
    parse_line(line)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=5000), min_size=1, max_size=40))
def test_any_digest_is_one_valid_message(questions: list[str]) -> None:
    digest = Digest()
    for i, question in enumerate(questions):
        error = None if i % 3 else question
        digest.record(ex(i, question, "fallback" if i % 3 else "error", error=error))
    sent: list[str] = []

    async def send(text: str) -> None:
        sent.append(text)

    asyncio.run(digest.flush(send))
    (text,) = sent
    assert len(text) <= MESSAGE_LIMIT and html_problems(text) == []
