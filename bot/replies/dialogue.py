"""One conversation driven through the core, as the console, `ask`, `eval` and the tests hold it."""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.replies.buttons import parse_button
from bot.replies.conversation import Conversation
from bot.replies.model import Reply
from bot.replies.storyteller import Storyteller

DEFAULT_TTL = 1800.0  # seconds; Telegram reads its own from the settings


class Dialogue:
    """A fan's side of one conversation: say something or press a button, get the core's Reply.

    Telegram keeps the same state per chat (and fan, in groups) in its persistence; here it lives
    in memory, so `storybot chat`, `storybot ask --json` and `storybot eval` answer a conversation
    exactly as the bot does.
    """

    def __init__(
        self,
        teller: Storyteller,
        lang: str | None = None,
        *,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.teller = teller
        self.lang = lang
        self.state = Conversation()
        self._ttl = ttl
        self._clock = clock

    def say(self, text: str) -> Reply:
        """The reply to a message."""
        now = self._clock()
        state = Conversation.restore(self.state.to_json(), now, self._ttl)
        return self._after(self.teller.answer(text, self.lang, state), now)

    def press(self, data: str) -> Reply:
        """The reply to a button press (a language button also switches the language)."""
        action = parse_button(data)
        if action is not None and action[0] == "l":
            self.lang = action[1][0]
        return self._after(self.teller.press(data, self.lang), self._clock())

    def start(self, payload: str = "") -> Reply:
        """/start, with an optional deep-link payload."""
        return self._after(self.teller.start(payload, self.lang)[0], self._clock())

    def _after(self, reply: Reply, now: float) -> Reply:
        self.state = self.state.after(reply, now)
        return reply
