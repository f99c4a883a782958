"""New-story subscriptions in the core: the notices, the buttons, and the broadcast message itself."""

from __future__ import annotations

from dataclasses import replace

from bot.replies.buttons import notify_data
from bot.replies.model import Button, Outcome, Reply
from bot.replies.storyteller import Storyteller


def notify_button(storyteller: Storyteller, on: bool, lang: str) -> Button:
    """The "🔔 New stories" button (`on`), or the one-tap unsubscribe."""
    ui = storyteller.snapshot.catalog.ui.get(lang, {})
    key = "subscribe" if on else "unsubscribe"
    return Button(ui.get(key, key), notify_data(on, lang))


def subscription_notice(storyteller: Storyteller, kind: str, lang: str) -> Reply:
    """What a fan is told on /subscribe, /unsubscribe or their buttons; opted out, they may opt back in."""
    text = storyteller.snapshot.renderer.render("subscription", lang, kind=kind)
    offer = kind in ("unsubscribed", "not_subscribed")
    buttons = ((notify_button(storyteller, True, lang),),) if offer else ()
    return Reply(Outcome.MENU, text, lang, buttons=buttons, intent=kind)


def with_subscribe_offer(storyteller: Storyteller, reply: Reply) -> Reply:
    """The reply with a "🔔 New stories" row under its buttons."""
    row = (notify_button(storyteller, True, reply.lang),)
    return replace(reply, buttons=(*reply.buttons, row))


def broadcast_reply(storyteller: Storyteller, story_id: str, lang: str) -> Reply | None:
    """A story as broadcast: its first part from the same templates, its buttons, and a one-tap unsubscribe."""
    reply = storyteller.story(story_id, lang)
    if reply is None:
        return None
    return replace(reply, buttons=(*reply.buttons, (notify_button(storyteller, False, reply.lang),)))
