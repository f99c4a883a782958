"""Button presses: stories and chapters arrive as new messages, pages and languages in place."""

from __future__ import annotations

import time

from telegram import Update

from bot.replies.buttons import parse_button
from bot.telegram import services
from bot.telegram.exchanges import record
from bot.telegram.fans import choose_lang, menu_lang, remember
from bot.telegram.send import edit_reply, send_reply, stop_spinner
from bot.telegram.services import Context

IN_PLACE = frozenset({"p", "l"})  # catalogue pages and the language menu replace themselves


async def press(update: Update, context: Context) -> None:
    """Turn the press into a reply; stale or forged data gets the polite catalogue."""
    started = time.perf_counter()
    query = update.callback_query
    if query is None:
        return
    await stop_spinner(query)
    data = query.data or ""
    action = parse_button(data)
    kind = action[0] if action else None
    if kind == "l" and action is not None:
        choose_lang(context, action[1][0])
    reply = services.storyteller(context).press(data, menu_lang(update, context))
    # A message sent through inline mode lives in a chat the bot may not be in: always edit it.
    in_place = query.inline_message_id is not None or kind in IN_PLACE
    edited = in_place and await edit_reply(query, reply)
    if not edited and update.effective_chat is not None:
        await send_reply(update, context, reply)
    remember(context, reply)
    record(context, update, kind="callback", started=started, reply=reply)
