"""Properties over arbitrary Unicode (every category, surrogates included where the API takes
them): normalising, matching and answering never raise, every reply is sendable, and splitting
keeps HTML valid, short enough and loses no visible text. Deterministic: derandomize=True."""

from __future__ import annotations

import html
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.matching.text import normalise
from bot.replies.buttons import parse_button
from bot.replies.html import MESSAGE_LIMIT, html_problems, split_html, telegram_length
from bot.replies.model import Outcome
from bot.replies.storyteller import Storyteller

PROPERTY = settings(derandomize=True, max_examples=200, deadline=None, database=None)

# Every category, including Cs (lone surrogates) and Cc (control characters).
ANY_CHAR = st.characters(exclude_categories=())
ANY_TEXT = st.text(ANY_CHAR, max_size=300)
# Text fans plausibly mix in: words of the catalogue, CJK, emoji, markup, entities, whitespace.
FLAVOURS = st.sampled_from(
    [
        "ducks",
        "鸭子",
        "hockey",
        "eBay",
        "🦆",
        "{{7*7}}",
        "<b>",
        "</i>",
        "&amp;",
        "&",
        "\u202e",
        "\u200b",
        "\x00",
        "\n\n",
        " ",
        "？",
        "Ｄｕｃｋｓ",
        "\ud800",
    ]
)
MIXED_TEXT = st.lists(st.one_of(FLAVOURS, ANY_TEXT), max_size=12).map("".join)
QUESTIONS = st.one_of(ANY_TEXT, MIXED_TEXT)


@PROPERTY
@given(QUESTIONS)
def test_normalise_never_raises_and_is_stable(text: str) -> None:
    result = normalise(text)
    assert normalise(result) == result
    assert result == result.strip() and "  " not in result
    assert "\u200b" not in result and "\x00" not in result


@PROPERTY
@given(QUESTIONS)
def test_the_decision_never_raises_and_ranks_real_stories(storyteller: Storyteller, text: str) -> None:
    stories = storyteller.snapshot.catalog.stories
    decision = storyteller.snapshot.matcher.decide(text)
    assert 0.0 <= decision.score <= 100.0
    scores = [c.score for c in decision.candidates]
    assert scores == sorted(scores, reverse=True)
    assert all(c.story_id in stories for c in decision.candidates)
    assert (decision.outcome is Outcome.STORY) == (decision.story_id is not None)
    assert decision.story_id is None or decision.story_id in stories
    assert all(choice in stories for choice in decision.choices)


@PROPERTY
@given(QUESTIONS, st.sampled_from([None, "en", "zh"]))
def test_every_answer_is_sendable(storyteller: Storyteller, text: str, lang: str | None) -> None:
    reply = storyteller.answer(text, lang)
    assert reply.lang in {"en", "zh"}
    assert reply.text.strip()
    assert html_problems(reply.text) == []
    assert telegram_length(reply.text) <= MESSAGE_LIMIT
    assert (reply.outcome is Outcome.STORY) == (reply.story_id is not None)
    for row in reply.buttons:
        for button in row:
            assert len(button.data.encode()) <= 64
            assert parse_button(button.data) is not None


@PROPERTY
@given(ANY_TEXT)
def test_escaped_text_is_always_valid_telegram_html(text: str) -> None:
    assert html_problems(html.escape(text, quote=False)) == []


@PROPERTY
@given(ANY_TEXT)
def test_html_problems_never_raises(text: str) -> None:
    assert isinstance(html_problems(text), list)


WORD = st.text(ANY_CHAR, min_size=1, max_size=40).map(lambda w: html.escape(w, quote=False))
SPACE = st.sampled_from([" ", " ", " ", "\n", "\n\n", ". ", "。"])
TAG = st.sampled_from(["b", "i", "u", "s", "code", "tg-spoiler", 'a href="https://example.com/"'])


@st.composite
def telegram_html(draw: st.DrawFn) -> str:
    """Valid Telegram HTML: escaped words and breaks, some inside (possibly nested) tags."""

    def run(depth: int) -> str:
        out: list[str] = []
        for _ in range(draw(st.integers(1, 25))):
            if depth < 2 and draw(st.integers(0, 6)) == 0:
                tag = draw(TAG)
                out.append(f"<{tag}>{run(depth + 1)}</{tag.split()[0]}>")
            else:
                out.append(draw(WORD) + draw(SPACE))
        return "".join(out)

    return run(0)


@PROPERTY
@given(telegram_html(), st.one_of(st.integers(120, 600), st.just(MESSAGE_LIMIT)))
def test_split_html_parts_fit_stay_valid_and_lose_nothing(
    visible_text: Callable[[str], str], text: str, limit: int
) -> None:
    assert html_problems(text) == []
    parts = split_html(text, limit)
    for part in parts:
        assert telegram_length(part) <= limit
        assert html_problems(part) == [], part
        assert visible_text(part), "an empty part is a message Telegram refuses"
    assert visible_text("".join(parts)) == visible_text(text)
