"""The storyteller as a fan meets it: deep links, buttons (even forged ones), the catalogue pages,
small talk and the menus."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.replies.buttons import parse_button, parse_payload
from bot.replies.html import MESSAGE_LIMIT, html_problems, telegram_length
from bot.replies.model import Outcome, Reply
from bot.replies.render import NOTICE_KINDS, plain
from bot.replies.storyteller import PAGE_SIZE, Storyteller


def assert_polite_menu(reply: Reply) -> None:
    """A stale or forged button: the catalogue with a word that the button expired."""
    assert reply.outcome is Outcome.MENU
    assert reply.story_id is None
    assert html_problems(reply.text) == []
    assert telegram_length(reply.text) <= MESSAGE_LIMIT
    assert reply.buttons, "the fan can still pick a story"


# --- deep links -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("pearce-ducks", (None, "pearce-ducks")),
        ("winter2018__pearce-ducks", ("winter2018", "pearce-ducks")),
        ("a__b__pearce-ducks", ("a__b", "pearce-ducks")),
        ("__pearce-ducks", (None, "pearce-ducks")),
        ("campaign__", ("campaign", None)),
        ("  pearce-ducks \n", (None, "pearce-ducks")),
        ("", (None, None)),
        ("x" * 64, (None, "x" * 64)),
        ("x" * 65, (None, None)),
        ("pearce ducks", (None, None)),
        ("pearce.ducks", (None, None)),
        ("../../etc/passwd", (None, None)),
        ("pearce-ducks<script>", (None, None)),
        ("утки", (None, None)),
        ("鸭子", (None, None)),
        ("pearce-ducks\x00", (None, None)),
        ("１２３", (None, None)),  # full-width digits are not ASCII
    ],
)
def test_deep_link_payloads(payload: str, expected: tuple[str | None, str | None]) -> None:
    assert parse_payload(payload) == expected


def test_a_deep_link_opens_its_story_and_names_the_campaign(storyteller: Storyteller) -> None:
    reply, campaign = storyteller.start("winter2018__pearce-ducks", "zh")
    assert campaign == "winter2018"
    assert reply.outcome is Outcome.STORY and reply.story_id == "pearce-ducks"
    assert reply.lang == "zh" and "鸭子" in reply.text


@pytest.mark.parametrize("payload", ["no-such-story", "x" * 65, "bad payload!", "camp__nope"])
def test_a_bad_deep_link_gets_the_welcome(storyteller: Storyteller, payload: str) -> None:
    reply, _ = storyteller.start(payload, "en")
    assert reply.outcome is Outcome.MENU
    assert "welcome!" in reply.text
    featured = {s.id for s in storyteller.snapshot.catalog.featured()}
    assert {b.data.split(":")[-1] for row in reply.buttons[:-1] for b in row} == featured
    assert reply.buttons[-1][0].data == "a:en"


# --- buttons ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        "",
        ":",
        "::::",
        "s",
        "s:",
        "s:en",
        "s:en:",
        "s:en:no-such-story",
        "s:fr:pearce-ducks",
        "S:en:pearce-ducks",
        "c:en:pearce-ducks:99",
        "c:en:pearce-ducks:-1",
        "c:en:pearce-ducks:abc",
        "c:en:pearce-ducks:99999",
        "c:en:pearce-ducks",
        "p:en:abc",
        "p:en:-1",
        "p:en:99999",
        "l:fr",
        "l:",
        "x:en:1",
        "s:en:pearce-ducks:extra",
        "s:en:" + "a" * 80,
        "s:en:pearce-ducks\x00",
        "s:en:\u202epearce-ducks",
        "s:en:<b>pearce-ducks</b>",
        "c:en:pearce-ducks:١",  # an Arabic-Indic one: isdigit() but not ours
        "😀" * 20,
        "p:en:²",
        "c:en:pearce-ducks:²",
    ],
)
@pytest.mark.parametrize("lang", ["en", "zh", None, "xx"])
def test_forged_or_stale_buttons_get_a_polite_menu(storyteller: Storyteller, data: str, lang: str | None) -> None:
    reply = storyteller.press(data, lang)
    assert_polite_menu(reply)
    if lang == "zh":
        assert "这个按钮已经过期了" in reply.text
    else:
        assert "That button has expired" in reply.text


def test_our_own_buttons_parse(storyteller: Storyteller) -> None:
    assert parse_button("s:en:pearce-ducks") == ("s", ["en", "pearce-ducks"])
    assert parse_button("c:zh:pearce-ducks:2") == ("c", ["zh", "pearce-ducks", "2"])
    assert parse_button("p:en:0") == ("p", ["en", "0"])
    assert parse_button("l:zh") == ("l", ["zh"])
    assert parse_button("s:en:" + "a" * 60) is None  # over 64 bytes


def test_the_language_buttons_answer_in_the_chosen_language(storyteller: Storyteller) -> None:
    menu = storyteller.language_menu("en")
    assert [b.data for b in menu.buttons[0]] == ["l:en", "l:zh"]
    assert "中文" in storyteller.press("l:zh", "en").text
    assert "English" in storyteller.press("l:en", "zh").text


# --- the catalogue ----------------------------------------------------------------------------


@pytest.fixture
def twenty(generated_catalog: Callable[..., Path], teller_for: Callable[[Path], Storyteller]) -> Storyteller:
    """A catalogue of 20 generated stories: four pages of six."""
    return teller_for(generated_catalog(20))


def test_the_catalogue_pages_through_twenty_stories(twenty: Storyteller) -> None:
    pages = -(-20 // PAGE_SIZE)
    seen: list[str] = []
    reply = twenty.catalogue("en")
    for page in range(pages):
        assert reply.outcome is Outcome.MENU
        assert (reply.chapter, reply.chapter_count) == (page, pages)
        assert f"(page {page + 1} of {pages})" in reply.text
        data = [b.data for row in reply.buttons for b in row]
        ids = [d.removeprefix("s:en:") for d in data if d.startswith("s:en:")]
        nav = [d for d in data if d.startswith("p:")]
        assert len(ids) == min(PAGE_SIZE, 20 - PAGE_SIZE * page)
        expected_nav = [f"p:en:{n}" for n in (page - 1, page + 1) if 0 <= n < pages]
        assert nav == expected_nav
        seen.extend(ids)
        if page < pages - 1:
            reply = twenty.press(nav[-1], "en")
    assert seen == [f"story-{n:02d}" for n in range(1, 21)]


def test_a_page_past_the_end_shows_the_last_page(twenty: Storyteller) -> None:
    assert twenty.catalogue("zh", 99).chapter == 3
    assert twenty.catalogue("zh", -5).chapter == 0
    assert "第 4/4 页" in twenty.catalogue("zh", 99).text


# --- small talk and commands ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "lang", "words"),
    [("hi", "en", "Hi there"), ("你好", "zh", "你好呀"), ("thank you", "en", "welcome")],
)
def test_small_talk(storyteller: Storyteller, question: str, lang: str, words: str) -> None:
    reply = storyteller.answer(question)
    assert reply.outcome is Outcome.SMALLTALK
    assert reply.lang == lang and words in reply.text


def test_an_off_topic_question_gets_a_fallback_with_suggestions(storyteller: Storyteller) -> None:
    reply = storyteller.answer("peking duck recipe")
    assert reply.outcome is Outcome.FALLBACK
    assert reply.story_id is None
    assert "I don't have a story for that one" in reply.text
    assert reply.buttons[-1][0].data == "a:en"
    assert 1 <= len(reply.buttons) - 1 <= 3


def test_help_lists_the_number_of_stories(storyteller: Storyteller) -> None:
    count = len(storyteller.snapshot.catalog.stories)
    assert f"/stories shows all {count} stories" in storyteller.help("en").text


@pytest.mark.parametrize("kind", ["non_text", "flood", "stale", "error", "nonsense"])
def test_notices_are_never_empty(storyteller: Storyteller, kind: str) -> None:
    for lang in ("en", "zh"):
        reply = storyteller.notice(kind, lang)
        assert reply.outcome is Outcome.MENU
        assert reply.text.strip() and html_problems(reply.text) == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_reply_carries_a_way_on(storyteller: Storyteller, lang: str) -> None:
    questions = [
        "who stopped for the ducks?",
        "thanks",
        "bye",
        "hi",
        "who are you",
        "track my order",
        "did he win?",
        "jack ma",
        "😀😀",
        "🦆",
        "?",
        "谢谢",
        "再见",
        "/help",
        "/stories",
        "/language",
    ]
    replies = [storyteller.answer(q, lang) for q in questions]
    replies += [storyteller.notice(kind, lang) for kind in NOTICE_KINDS if kind != "language_choose"]
    replies += [storyteller.press(data, lang) for data in ("a:en", "p:en:0", "l:zh", "garbage", "s:en:founding")]
    replies += [storyteller.playful(lang), storyteller.start("", lang)[0], storyteller.help(lang)]
    for reply in replies:
        assert reply.buttons, (reply.question, reply.outcome, reply.text[:60])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_list_appears_once_as_buttons_under_a_one_line_lead_in(storyteller: Storyteller, lang: str) -> None:
    clarifying = [storyteller.answer(q, lang) for q in ("alibaba", "jack ma", "马云")]
    clarifying = [r for r in clarifying if r.outcome is Outcome.CLARIFY]
    assert clarifying, "a bare topic word offers a choice"
    listing = [storyteller.catalogue(lang), storyteller.answer("track my order", lang), *clarifying]
    for reply in listing:
        titles = [b.label for row in reply.buttons for b in row if b.data.startswith("s:")]
        assert titles, reply.text
        lines = [line.strip("•· ").strip() for line in plain(reply.text, keep_lines=True).splitlines()]
        assert not set(titles) & set(lines), lines  # no title listed again above its button
        assert not any(line.startswith("•") for line in plain(reply.text, keep_lines=True).splitlines())
