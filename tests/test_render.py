"""Rendering: every story in every language, the fan's language, escaping of what fans type,
splitting long stories into chapters Telegram accepts, and buttons that fit Telegram's limits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError
from markupsafe import escape

from bot.catalog.load import load_catalog, story_files
from bot.catalog.model import LANGS
from bot.matching.text import has_cjk
from bot.replies.buttons import parse_button
from bot.replies.html import MESSAGE_LIMIT, html_problems, split_html, telegram_length
from bot.replies.model import Outcome, Reply
from bot.replies.render import Renderer, plain, story_view
from bot.replies.storyteller import Storyteller

STORIES = Path(__file__).resolve().parent.parent / "stories"
SHIPPED_IDS = [path.stem for path in story_files(STORIES)]
DUCKS_EN = "who stopped rowing to let ducks cross"
DUCKS_ZH = "皮尔斯让鸭子先过"
TRICK = "<b>{{7*7}}</b>"


def assert_sendable(reply: Reply) -> None:
    """What Telegram would accept: valid HTML, within the length limit, buttons within 64 bytes."""
    assert reply.text.strip()
    assert html_problems(reply.text) == [], reply.text
    assert telegram_length(reply.text) <= MESSAGE_LIMIT
    for row in reply.buttons:
        for button in row:
            assert button.label.strip()
            assert len(button.data.encode()) <= 64, button.data


def chapters(teller: Storyteller, story_id: str, lang: str) -> Iterator[Reply]:
    """Every chapter of a story, reached by pressing its Continue button, as a fan would."""
    reply = teller.story(story_id, lang)
    assert reply is not None
    yield reply
    while reply.chapter < reply.chapter_count - 1:
        (button,) = reply.buttons[0]
        reply = teller.press(button.data, lang)
        yield reply


# --- every story, both languages --------------------------------------------------------------


def test_the_shipped_catalogue_has_stories() -> None:
    assert len(SHIPPED_IDS) >= 5


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("story_id", SHIPPED_IDS)
def test_every_story_renders_in_both_languages(storyteller: Storyteller, story_id: str, lang: str) -> None:
    story = storyteller.snapshot.catalog.stories[story_id]
    told = list(chapters(storyteller, story_id, lang))
    assert told[0].outcome is Outcome.STORY and told[0].story_id == story_id
    assert str(escape(story.title[lang])) in told[0].text
    for reply in told:
        assert reply.lang == lang
        assert_sendable(reply)
    assert story.text[lang].split("\n", 1)[0] in told[0].text  # the marketer's HTML, as is
    assert lang == "en" or has_cjk(story.text[lang])
    last = told[-1]
    related = {f"s:{lang}:{other}" for other in story.related}
    assert related <= {b.data for row in last.buttons for b in row}


def test_a_chinese_question_gets_the_chinese_story(storyteller: Storyteller) -> None:
    reply = storyteller.answer(DUCKS_ZH)
    assert reply.outcome is Outcome.STORY and reply.story_id == "pearce-ducks"
    assert reply.lang == "zh"
    assert "为鸭子停桨的赛艇手" in reply.text
    assert "The rower who stopped" not in reply.text


@pytest.mark.parametrize(
    ("question", "lang", "title"),
    [
        (DUCKS_EN, "zh", "为鸭子停桨的赛艇手"),
        (DUCKS_ZH, "en", "The rower who stopped for ducks"),
    ],
)
def test_a_chosen_language_overrides_the_question_s(
    storyteller: Storyteller, question: str, lang: str, title: str
) -> None:
    reply = storyteller.answer(question, lang)
    assert reply.story_id == "pearce-ducks"
    assert reply.lang == lang
    assert title in reply.text
    assert all(b.data.split(":")[1] == lang for row in reply.buttons for b in row)


# --- what fans type is data, never markup or template -----------------------------------------


def test_the_shipped_replies_never_show_or_run_what_the_fan_typed(
    storyteller: Storyteller,
) -> None:
    reply = storyteller.answer(TRICK)
    assert reply.outcome in {Outcome.FALLBACK, Outcome.CLARIFY}
    assert TRICK not in reply.text and "49" not in reply.text
    assert_sendable(reply)


@pytest.fixture
def echoing(catalog_copy: Path, teller_for: Callable[[Path], Storyteller]) -> Storyteller:
    """The shipped catalogue with clarify and fallback templates that repeat the question."""
    for lang in LANGS:
        for name in ("clarify", "fallback"):
            path = catalog_copy / "templates" / f"{name}.{lang}.html.j2"
            path.write_text(
                "You asked: <i>{{ question }}</i>\n" + path.read_text(encoding="utf-8"),
                encoding="utf-8",
            )
    return teller_for(catalog_copy)


def test_a_repeated_question_is_escaped_and_not_evaluated(echoing: Storyteller) -> None:
    reply = echoing.answer(TRICK)
    assert reply.outcome is Outcome.FALLBACK
    assert "You asked: <i>&lt;b&gt;{{7*7}}&lt;/b&gt;</i>" in reply.text
    assert "49" not in reply.text
    assert_sendable(reply)


def test_clarify_escapes_the_question_too(echoing: Storyteller) -> None:
    snap = echoing.snapshot
    choices = [story_view(s, "en") for s in list(snap.catalog.stories.values())[:2]]
    text = snap.renderer.render("clarify", "en", question=TRICK + " & <script>", choices=choices)
    assert "&lt;b&gt;{{7*7}}&lt;/b&gt; &amp; &lt;script&gt;" in text
    assert "49" not in text and "<script>" not in text
    assert html_problems(text) == []


def test_templates_cannot_reach_python_internals(catalog_copy: Path) -> None:
    (catalog_copy / "templates" / "notice.en.html.j2").write_text("{{ lang.__class__.__mro__ }}", encoding="utf-8")
    catalog, _ = load_catalog(catalog_copy)
    assert catalog is not None
    with pytest.raises(SecurityError, match="unsafe"):
        Renderer(catalog).render("notice", "en", kind="error")


# --- long stories become chapters ------------------------------------------------------------

LONG_ID = "a-forty-character-story-id-for-deep-link"
LONG_TEXT = {
    "en": "\n\n".join(
        f"<b>Part {n}.</b> " + "The geese crossed the lane and the rower <i>waited</i>. " * 12 for n in range(1, 31)
    ),
    "zh": "\n\n".join(f"<b>第{n}部分。</b>" + "大雁穿过航道，赛艇手停下来<i>等待</i>。" * 40 for n in range(1, 31)),
}


@pytest.fixture
def long_teller(generated_catalog: Callable[..., Path], teller_for: Callable[[Path], Storyteller]) -> Storyteller:
    """A catalogue whose stories are several messages long, one with a 40-character id."""
    assert len(LONG_ID) == 40
    return teller_for(generated_catalog(2, ids=[LONG_ID], text=LONG_TEXT))


@pytest.mark.parametrize("lang", LANGS)
def test_a_long_story_is_told_in_chapters_that_lose_nothing(
    long_teller: Storyteller, lang: str, visible_text: Callable[[str], str]
) -> None:
    story = long_teller.snapshot.catalog.stories[LONG_ID]
    told = list(chapters(long_teller, LONG_ID, lang))
    assert len(told) >= 3
    assert [r.chapter for r in told] == list(range(len(told)))
    assert {r.chapter_count for r in told} == {len(told)}
    for reply in told[:-1]:
        (row,) = reply.buttons
        assert [b.data for b in row] == [f"c:{lang}:{LONG_ID}:{reply.chapter + 1}"]
    assert told[-1].buttons[-1][0].data == f"a:{lang}"
    for reply in told:
        assert_sendable(reply)
    renderer = long_teller.snapshot.renderer
    bodies = [told[0].text]
    for reply in told[1:]:  # every later part opens with the title and "part n of N"
        heading, body = reply.text.split("\n\n", 1)
        view = story_view(story, lang)
        assert heading == renderer.render("part", lang, story=view, part=reply.chapter + 1, parts=len(told))
        assert story.title[lang] in heading
        bodies.append(body)
    whole = renderer.render_story(story, lang)
    assert visible_text("".join(bodies)) == visible_text(whole)


def test_split_html_cuts_between_sentences_whatever_tags_are_open() -> None:
    sentence = "The <b>rower</b> saw the <i>ducks</i> and stopped, and <a href='https://e.com'>the crowd</a> cheered. "
    paragraph = "<i>" + sentence * 30 + "</i>"
    text = "\n\n".join([paragraph] * 4)
    parts = split_html(text, 1000)
    assert len(parts) > 4
    for part in parts:
        assert telegram_length(part) <= 1000
        assert html_problems(part) == []
        assert plain(part).endswith("cheered.")  # each part ends where a sentence ends
        assert part.startswith("<i>The <b>rower</b>")


def test_split_html_prefers_a_paragraph_to_a_sentence() -> None:
    first, second = "<b>One.</b> Two. Three.", "Four <i>five.</i> Six."
    assert split_html(f"{first}\n\n{second}", 40) == [first, second]
    chinese = "<b>他停下了。</b>" + "鸭子游过去了。" * 10
    parts = split_html(chinese, 30)
    assert all(part.endswith("。") or part.endswith("。</b>") for part in parts)


def test_a_chapter_that_does_not_exist_gets_the_menu(long_teller: Storyteller) -> None:
    reply = long_teller.press(f"c:en:{LONG_ID}:99", "en")
    assert reply.outcome is Outcome.MENU
    assert "expired" in reply.text
    assert_sendable(reply)


def every_reply(teller: Storyteller) -> Iterator[Reply]:
    """Each kind of reply the bot can send, in both languages."""
    for lang in LANGS:
        for story_id in teller.snapshot.catalog.stories:
            yield from chapters(teller, story_id, lang)
        yield teller.start("", lang)[0]
        yield teller.help(lang)
        yield teller.language_menu(lang)
        yield teller.catalogue(lang, 0)
        yield teller.answer("peking duck recipe", lang)
        yield teller.answer("hello", lang)


@pytest.mark.parametrize("which", ["shipped", "long"])
def test_every_button_fits_telegram_and_leads_somewhere(
    which: str, storyteller: Storyteller, long_teller: Storyteller
) -> None:
    teller = storyteller if which == "shipped" else long_teller
    seen = 0
    for reply in every_reply(teller):
        assert_sendable(reply)
        for row in reply.buttons:
            for button in row:
                assert len(button.data.encode()) <= 64
                assert parse_button(button.data) is not None, button.data
                pressed = teller.press(button.data, reply.lang)
                assert "expired" not in pressed.text, button.data
                seen += 1
    assert seen > 20


# --- split_html, by example (tests/test_properties.py has the property) ------------------------


def test_split_html_closes_and_reopens_tags_at_a_cut(visible_text: Callable[[str], str]) -> None:
    text = '<b>Bold <a href="https://example.com/x">' + "link text " * 30 + "</a> end</b>"
    parts = split_html(text, 100)
    assert len(parts) > 2
    for part in parts:
        assert telegram_length(part) <= 100
        assert html_problems(part) == []
        assert part.startswith('<b><a href="https://example.com/x">') or part.startswith("<b>")
    assert visible_text("".join(parts)) == visible_text(text)


def test_split_html_cuts_at_paragraphs_and_leaves_no_empty_parts(
    visible_text: Callable[[str], str],
) -> None:
    assert split_html("a" * 30 + "\n\n" + "b" * 30, 40) == ["a" * 30, "b" * 30]
    text = "First paragraph.\n\n<b></b>Second paragraph, longer than the first.\n\n<i></i>"
    parts = split_html(text, 40)
    assert len(parts) > 1
    assert all(visible_text(part) for part in parts)  # Telegram refuses an empty message
    assert visible_text("".join(parts)) == visible_text(text)


def test_split_html_counts_emoji_as_telegram_does() -> None:
    text = "🦆 " * 3000  # each duck is two UTF-16 units
    parts = split_html(text, MESSAGE_LIMIT)
    assert all(telegram_length(p) <= MESSAGE_LIMIT for p in parts)
    assert sum(p.count("🦆") for p in parts) == 3000


def test_templates_keep_ordinary_arithmetic_but_not_huge_results(catalog_copy: Path) -> None:
    notice = catalog_copy / "templates" / "notice.en.html.j2"
    notice.write_text("{{ 3 * 'ab' }}|{{ 2 ** 10 }}|{{ '%5s|%.2f' % ('a', 1.5) }}|{{ 7 % 3 }}", encoding="utf-8")
    catalog, _ = load_catalog(catalog_copy)
    assert catalog is not None
    assert Renderer(catalog).render("notice", "en", kind="x") == "ababab|1024|    a|1.50|1"
    for huge in ("{{ 'ab' * 10 ** 9 }}", "{{ 9 ** (10 ** 9) }}", "{{ '%999999999s' % 'a' }}"):
        notice.write_text(huge, encoding="utf-8")
        with pytest.raises(SecurityError, match="would build more than"):
            Renderer(catalog).render("notice", "en", kind="x")
