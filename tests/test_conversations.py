"""Conversations through the core: what a fan says, turn by turn, and what the bot tells back."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from talk import Fan

from bot.live import CatalogStore
from bot.matching.meaning import MeaningIndex
from bot.replies.conversation import Conversation
from bot.replies.model import Outcome
from bot.replies.storyteller import Storyteller

STORY_COUNT = 8
STORIES = Path(__file__).resolve().parent.parent / "stories"


def told(reply: object) -> str | None:
    """The story a reply tells, or None."""
    outcome = reply.outcome
    return reply.story_id if outcome is Outcome.STORY else None


def test_a_follow_up_answers_from_the_story_being_discussed(fan: Fan) -> None:
    assert told(fan.say("tell me about the rower and the ducks")) == "pearce-ducks"
    assert told(fan.say("did he win?")) == "pearce-ducks"
    assert told(fan.say("when was that")) == "pearce-ducks"
    assert told(fan.say("what happened next")) == "pearce-ducks"


def test_a_chinese_follow_up_answers_from_the_story_being_discussed(fan: Fan) -> None:
    assert told(fan.say("阿里巴巴的花名文化")) == "jin-yong-nicknames"
    assert told(fan.say("后来呢")) == "jin-yong-nicknames"
    assert told(fan.say("是真的吗")) == "jin-yong-nicknames"


def test_a_question_with_its_own_topic_wins_over_the_context(fan: Fan) -> None:
    assert told(fan.say("the ducks story")) == "pearce-ducks"
    assert told(fan.say("ok now the kenyan team")) == "kenya-ice-hockey"
    assert told(fan.say("淘宝和eBay呢")) == "ebay-2003"


@pytest.mark.parametrize("question", ["did he win?", "tell me more", "why?", "然后呢", "他后来怎么样了"])
def test_a_follow_up_with_nothing_before_it_tells_no_story(fan: Fan, question: str) -> None:
    reply = fan.say(question)
    assert reply.outcome is Outcome.FALLBACK
    assert reply.buttons  # it offers stories instead


def test_a_pressed_story_button_is_the_story_being_discussed(fan: Fan) -> None:
    fan.say("alibaba")
    assert fan.last is not None and fan.last.outcome is Outcome.CLARIFY
    fan.press("began")
    assert told(fan.say("was he really a teacher?")) == "founding"


def test_the_context_expires_after_a_quiet_spell(fan: Fan) -> None:
    fan.say("the kenyan ice hockey team")
    fan.wait(31 * 60)
    assert told(fan.say("did they win?")) is None


@pytest.mark.parametrize(
    "request_", ["tell me a story", "surprise me", "i want a story", "给我讲个故事", "讲个故事", "got any stories?"]
)
def test_asking_for_a_story_gets_one(fan: Fan, request_: str) -> None:
    assert told(fan.say(request_)) is not None


def test_another_one_tells_a_story_not_heard_yet_until_all_are_heard(fan: Fan) -> None:
    heard = {told(fan.say("tell me a story"))}
    for ask in ["another one", "one more", "再来一个", "next story"] * 2:
        reply = fan.say(ask)
        if len(heard) == STORY_COUNT:
            break
        assert told(reply) not in heard
        heard.add(told(reply))
    while len(heard) < STORY_COUNT:
        heard.add(told(fan.say("another one")))
    reply = fan.say("one more")
    assert reply.outcome is Outcome.SMALLTALK and reply.intent == "all_told"
    assert reply.buttons  # still a way on


@pytest.mark.parametrize("question", ["alibaba", "olympics", "jack ma", "马云", "阿里巴巴"])
def test_topic_words_get_a_story_or_a_did_you_mean_never_the_apology(fan: Fan, question: str) -> None:
    assert fan.say(question).outcome in (Outcome.STORY, Outcome.CLARIFY)


@pytest.mark.parametrize(
    "question",
    ["shut up", "beat it", "fight", "small", "11", "what is 11.11", "2018", "shut up already", "beat it bot"],
)
def test_a_lone_ordinary_word_or_a_bare_number_tells_no_story(fan: Fan, question: str) -> None:
    assert told(fan.say(question)) is None


def test_a_score_of_100_means_close_to_a_phrasing(storyteller: Storyteller) -> None:
    assert storyteller.answer("who was bobby pearce").score == 100.0
    assert storyteller.answer("pearce stopped mid race for some ducks crossing, wow").score < 100.0


@pytest.mark.parametrize(
    "message",
    [
        "hiii",
        "heyyy",
        "how r u",
        "are you chatgpt?",
        "good bot",
        "cool story",
        "lol",
        "haha nice",
        "wow that's amazing",
        "what can you do",
        "who made you",
        "bye now",
        "你好呀",
        "哈哈哈",
        "谢谢啦",
        "你是机器人吧",
        "拜拜",
    ],
)
def test_small_talk_sounds_like_a_person_and_offers_a_way_on(fan: Fan, message: str) -> None:
    reply = fan.say(message)
    assert reply.outcome is Outcome.SMALLTALK, (message, reply.outcome)
    assert reply.text.strip()


def test_small_talk_after_a_story_keeps_the_story(fan: Fan) -> None:
    fan.say("the duck story")
    assert fan.say("that's so sweet").outcome is Outcome.SMALLTALK
    assert told(fan.say("did he win?")) == "pearce-ducks"


def test_the_conversation_state_survives_json_and_refuses_garbage() -> None:
    state = Conversation("pearce-ducks", ("founding", "pearce-ducks"), ("ebay-2003",), 100.0)
    assert Conversation.restore(json.loads(json.dumps(state.to_json())), 200.0, 1800) == state
    assert Conversation.restore(state.to_json(), 100.0 + 1801, 1800) == Conversation()
    for garbage in [None, 3, "x", [], {"at": "soon"}, {"at": True}, {"story": 5, "told": "abc", "at": 150.0}]:
        restored = Conversation.restore(garbage, 200.0, 1800)
        assert restored.story_id is None and restored.told == ()


def test_storybot_ask_json_keeps_each_conversation_apart() -> None:
    lines = [
        {"conversation": "a", "question": "the rower and the ducks"},
        {"conversation": "b", "question": "did he win?"},
        {"conversation": "a", "question": "did he win?"},
    ]
    stdin = "\n".join(json.dumps(line) for line in lines) + "\nhello\n"
    out = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json"], input=stdin, capture_output=True, text=True, check=True
    ).stdout
    replies = [json.loads(line) for line in out.splitlines()]
    assert [(r.get("conversation"), r["story"]) for r in replies] == [
        ("a", "pearce-ducks"),
        ("b", None),
        ("a", "pearce-ducks"),
        (None, None),
    ]
    assert replies[3]["outcome"] == "smalltalk"


def test_the_store_warms_the_semantic_stage_in_the_background() -> None:
    store = CatalogStore.open(STORIES)
    thread = store.warm()
    assert thread is not None
    thread.join(timeout=60)
    assert not thread.is_alive()
    meaning = store.current().matcher.meaning
    assert isinstance(meaning, MeaningIndex) and meaning.is_ready()
    assert CatalogStore.open(STORIES, meaning_model="none").warm() is None
