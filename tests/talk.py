"""A fan talking to the core, for tests that read like conversations."""

from __future__ import annotations

from bot.replies.dialogue import Dialogue
from bot.replies.model import Reply
from bot.replies.storyteller import Storyteller


class Fan:
    """A fan talking to the core, in errbot's testbot style: `fan.say("ducks")` → the Reply.

    The conversation is the core's own Dialogue, so what holds here holds on every front end;
    the clock is the test's, so expiry is tested without sleeping.
    """

    def __init__(self, teller: Storyteller, lang: str | None = None) -> None:
        self.now = 1_000_000.0
        self.dialogue = Dialogue(teller, lang, clock=lambda: self.now)
        self.last: Reply | None = None

    def say(self, text: str) -> Reply:
        """Send a message; the reply comes back (and is kept for `press`)."""
        self.last = self.dialogue.say(text)
        return self.last

    def press(self, label: str) -> Reply:
        """Press the button of the last reply whose label contains `label`."""
        assert self.last is not None, "nothing on screen to press"
        buttons = [b for row in self.last.buttons for b in row if label in b.label]
        assert buttons, f"no button {label!r} in {[b.label for row in self.last.buttons for b in row]}"
        self.last = self.dialogue.press(buttons[0].data)
        return self.last

    def wait(self, seconds: float) -> None:
        """Let time pass (a quiet spell)."""
        self.now += seconds
