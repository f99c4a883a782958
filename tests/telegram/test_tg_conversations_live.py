"""Conversations through real PTB over real HTTP: a private chat and a group, turn by turn."""

from __future__ import annotations

from fakebot import FakeTelegram
from tg_support import MakeBot, polling

from bot.replies.dialogue import Dialogue
from bot.replies.model import Outcome
from bot.replies.storyteller import Storyteller

FAN, OTHER_FAN, GROUP = 42, 43, -100777


async def replies_to(server: FakeTelegram, chat: int, n: int) -> list[str]:
    """Wait until `chat` has n messages from the bot; their texts."""
    found = await server.async_wait_for(
        lambda: texts if len(texts := server.sent_texts(chat)) >= n else None, what=f"{n} replies to {chat}"
    )
    assert found is not None
    return found


async def test_a_private_conversation_keeps_its_story(
    server: FakeTelegram, make_bot: MakeBot, teller: Storyteller
) -> None:
    turns = ["tell me about the rower and the ducks", "did he win?", "他后来怎么样了", "another one", "谢谢"]
    expected = [reply.text for reply in map(Dialogue(teller).say, turns)]
    async with polling(make_bot()):
        for n, turn in enumerate(turns, 1):
            server.message(FAN, turn)
            await replies_to(server, FAN, n)  # a fan waits for the answer before asking on
    ducks = teller.story("pearce-ducks", "en")
    assert ducks is not None
    texts = server.sent_texts(FAN)
    assert texts == expected
    assert texts[0] == ducks.text and texts[1] == ducks.text  # the follow-up answered from the story
    assert texts[3] != ducks.text  # "another one": a story not heard yet


async def test_a_follow_up_with_nothing_before_it_gets_no_story(
    server: FakeTelegram, make_bot: MakeBot, teller: Storyteller
) -> None:
    async with polling(make_bot()):
        server.message(FAN, "did he win?")
        [text] = await replies_to(server, FAN, 1)
    reply = Dialogue(teller).say("did he win?")
    assert reply.outcome is Outcome.FALLBACK and text == reply.text


async def test_in_a_group_each_fan_has_their_own_conversation(
    server: FakeTelegram, make_bot: MakeBot, teller: Storyteller
) -> None:
    kenya, ducks = teller.story("kenya-ice-hockey", "en"), teller.story("pearce-ducks", "en")
    assert kenya is not None and ducks is not None
    async with polling(make_bot()):
        server.group_message(GROUP, "the kenyan ice hockey team", mention=True, user_id=FAN)
        await replies_to(server, GROUP, 1)
        server.group_message(GROUP, "the rower who stopped for ducks", mention=True, user_id=OTHER_FAN)
        await replies_to(server, GROUP, 2)
        server.group_message(GROUP, "did they win?", mention=True, user_id=FAN)
        await replies_to(server, GROUP, 3)
        server.group_message(GROUP, "did he win?", mention=True, user_id=OTHER_FAN)
        texts = await replies_to(server, GROUP, 4)
    assert texts == [kenya.text, ducks.text, kenya.text, ducks.text]
