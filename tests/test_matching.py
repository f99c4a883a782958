"""Matching quality: the floors of issue 3 on our tune and holdout sets and the public dev sample."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.evaluate import evaluate, load_labelled, questions
from bot.live import Snapshot, build_snapshot
from bot.matching.matcher import Matcher, MatcherConfig
from bot.matching.text import stem
from bot.replies.render import Renderer
from bot.replies.storyteller import Storyteller

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
DEV = ROOT.parent / "shared" / "eval" / "dev.yaml"

# (file, overall, in scope, off-topic). The holdout was never tuned against; see BENCHMARKS.md.
FLOORS = [
    (DATA / "questions_tune.yaml", 0.90, 0.90, 0.95),
    (DATA / "questions_holdout.yaml", 0.90, 0.90, 0.95),
    # Written blind to the catalogue and the matcher after tuning; its misses have not been read.
    (DATA / "questions_fresh.yaml", 0.90, 0.90, 0.95),
    # A second blind set, harder on purpose (no obvious phrasings). It scored 85.5 / 82.3 / 95.2 on
    # its first run; its misses were read then, so it is no longer blind. See BENCHMARKS.md.
    (DATA / "questions_fresh2.yaml", 0.90, 0.90, 0.95),
    # A third blind set (second session). First run 95.0 / 93.6 / 97.0; its misses were read then.
    (DATA / "questions_fresh3.yaml", 0.90, 0.90, 0.95),
]


@pytest.fixture(scope="module")
def teller() -> Storyteller:
    snapshot, problems = build_snapshot(ROOT / "stories")
    assert snapshot is not None, problems
    return Storyteller(snapshot)


@pytest.mark.parametrize(("path", "overall", "in_scope", "off_topic"), FLOORS, ids=lambda v: getattr(v, "name", ""))
def test_accuracy_floor(teller: Storyteller, path: Path, overall: float, in_scope: float, off_topic: float) -> None:
    items, problems = load_labelled(path)
    assert not problems and len(items) >= 80
    result = evaluate(teller, items)
    misses = "\n".join(f"{m.question!r}: expected {m.expect}, got {m.got}" for m in result.misses)
    assert result.accuracy >= overall, misses
    assert result.in_scope_accuracy >= in_scope, misses
    assert result.off_topic_accuracy >= off_topic, misses


def test_dev_sample_floor(teller: Storyteller) -> None:
    if not DEV.exists():
        pytest.skip("the public dev sample lives in ../shared/eval beside the repository")
    result = evaluate(teller, load_labelled(DEV)[0])
    assert result.accuracy >= 0.9 and result.in_scope_accuracy >= 0.9 and result.off_topic_accuracy >= 0.95


# The stories the labelled sets were written for. A story added later is not a failure here:
# `storybot check` warns that no labelled question expects it (bot/checks/coverage.py).
LABELLED_STORIES = {
    "alibaba-today",
    "ebay-2003",
    "founding",
    "greatness-of-small",
    "jin-yong-nicknames",
    "kenya-ice-hockey",
    "olympic-partnership",
    "pearce-ducks",
}


def test_labelled_sets_are_large_distinct_and_cover_the_shipped_stories(teller: Storyteller) -> None:
    tune = questions(load_labelled(DATA / "questions_tune.yaml")[0])
    holdout = questions(load_labelled(DATA / "questions_holdout.yaml")[0])
    fresh = questions(load_labelled(DATA / "questions_fresh.yaml")[0])
    fresh2 = questions(load_labelled(DATA / "questions_fresh2.yaml")[0])
    fresh3 = questions(load_labelled(DATA / "questions_fresh3.yaml")[0])
    assert len(tune) + len(holdout) >= 300
    sets = [{i.question.lower() for i in items} for items in (tune, holdout, fresh, fresh2, fresh3)]
    assert all(not a & b for n, a in enumerate(sets) for b in sets[n + 1 :])
    ids = set(teller.snapshot.catalog.stories)
    for items in (tune, holdout):
        labelled = {i.expect for i in items if isinstance(i.expect, str)}
        assert labelled >= LABELLED_STORIES, LABELLED_STORIES - labelled
        assert labelled <= ids, labelled - ids  # a label names a story the catalogue has
        assert any(i.expect is None for i in items)
        assert any(any("\u4e00" <= ch <= "\u9fff" for ch in i.question) for i in items)


def test_check_counts_labelled_questions_per_story_without_failing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0  # the shipped sets beside the stories are found by themselves
    out, _ = capsys.readouterr()
    thin = {line.split("/")[1].split(".yaml")[0] for line in out.splitlines() if "expect this story" in line}
    assert not thin & LABELLED_STORIES, out  # a new story may be thin; the shipped ones are measured


@pytest.mark.parametrize(
    ("question", "story"),
    [
        ("who let the ducks cross", "pearce-ducks"),
        ("DUCKS!!!", "pearce-ducks"),
        ("kenia hockey", "kenya-ice-hockey"),
        ("duckrowerstory", "pearce-ducks"),
        ("🦆", "pearce-ducks"),
        ("淘宝打败eBay", "ebay-2003"),
        ("2003年淘宝和eBay之争", "ebay-2003"),
        ("谁让鸭子先过", "pearce-ducks"),  # 鸭子 is a keyword; 让鸭 only an accident of bigrams
    ],
)
def test_fans_phrasings(teller: Storyteller, question: str, story: str) -> None:
    reply = teller.answer(question)
    assert (reply.outcome.value, reply.story_id) == ("story", story)


@pytest.mark.parametrize(
    "question",
    ["who founded amazon", "where is my package", "ebay password reset", "peking duck recipe", "/start", "", "🙂🙂🙂"],
)
def test_off_topic_gets_no_story(teller: Storyteller, question: str) -> None:
    assert teller.answer(question).story_id is None


def test_chinese_question_gets_chinese_reply_and_lang_forces(teller: Storyteller) -> None:
    assert teller.answer("鸭子的故事").lang == "zh"
    assert teller.answer("鸭子的故事", "en").lang == "en"


def test_close_runners_up_make_a_did_you_mean(teller: Storyteller) -> None:
    catalog = teller.snapshot.catalog
    wide = MatcherConfig(clarify_margin=15.0)
    clarifying = Storyteller(Snapshot(catalog, Matcher(catalog, wide), Renderer(catalog)))
    reply = clarifying.answer("jack ma")
    assert reply.outcome.value == "clarify" and reply.story_id is None
    choices = [button.data for row in reply.buttons for button in row]
    assert choices == ["s:en:founding", "s:en:jin-yong-nicknames", "a:en"]  # and "none of these"
    assert "founding" not in reply.text  # the wording comes from titles, not ids


def test_a_lone_shared_word_is_not_a_story(teller: Storyteller) -> None:
    assert teller.answer("alibaba").story_id is None


def test_small_talk_is_recognised_and_never_a_story(teller: Storyteller) -> None:
    for question in ("hi", "thanks a lot!", "谢谢", "goodbye"):
        reply = teller.answer(question)
        assert reply.outcome.value == "smalltalk" and reply.story_id is None, question


@pytest.mark.parametrize(
    ("question", "story"),
    [
        # Jack Ma and teaching English each have off-topic examples; together they are the founding.
        ("did jack ma teach english", "founding"),
        ("teach english in china jobs", None),  # the off-topic example itself stays off-topic
        ("where is jack ma now", None),
    ],
)
def test_a_question_nearly_a_story_s_phrasing_beats_shared_off_topic_words(
    teller: Storyteller, question: str, story: str | None
) -> None:
    assert teller.answer(question).story_id == story


@pytest.mark.parametrize(
    ("word", "stemmed"),
    [
        ("running", "run"),
        ("stopped", "stop"),
        ("calling", "call"),
        ("passing", "pass"),
        ("passed", "pass"),
        ("telling", "tell"),
        ("buzzing", "buzz"),
        ("rowers", "row"),
        ("founded", "found"),
        ("stories", "story"),
    ],
)
def test_the_stemmer_joins_forms_of_a_word(word: str, stemmed: str) -> None:
    assert stem(word) == stemmed


CONVERSATIONS = sorted(DATA.glob("conversations_*.yaml"))


@pytest.mark.parametrize("path", CONVERSATIONS, ids=lambda p: p.name)
def test_conversation_floor_overall_and_per_kind(teller: Storyteller, path: Path) -> None:
    talks, problems = load_labelled(path)
    assert not problems and sum(len(t.turns) for t in talks) >= 100
    result = evaluate(teller, talks)
    misses = "\n".join(
        f"[{m.kind}] {' → '.join((*m.before, m.question))!r}: expected {m.expect}, got {m.got}" for m in result.misses
    )
    assert result.accuracy >= 0.90, misses
    assert all(tally.accuracy >= 0.85 for tally in result.kinds.values()), (result.kinds, misses)
