"""Tests for the fake Telegram Bot API server in tests/fakebot (the fixture itself)."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from fakebot import BOT_USERNAME, TOKEN, FakeTelegram, HTMLParseError, parse_telegram_html
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputMediaPhoto,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters
from telegram.request import HTTPXRequest


@pytest_asyncio.fixture
async def bot(server: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=server.base_url, base_file_url=server.base_file_url) as b:
        yield b


def _raw_post(url: str, body: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


# --------------------------------------------------------------------------- (1) getMe


@pytest.mark.asyncio
async def test_get_me_through_ptb(server: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.username == BOT_USERNAME
    assert me.is_bot
    assert me.can_join_groups is True
    assert me.supports_inline_queries is True
    assert me.id == int(TOKEN.split(":")[0])
    assert server.calls_to("getMe")  # Bot.initialize() and get_me() both called it
    assert server.base_url == f"http://127.0.0.1:{server.port}/bot"


# --------------------------------------------------------------------------- (2) sendMessage


@pytest.mark.asyncio
async def test_send_message_html_and_keyboard_round_trip(server: FakeTelegram, bot: Bot) -> None:
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Read it", callback_data="s:pearce-ducks")],
            [InlineKeyboardButton("Source", url="https://example.org/ducks")],
        ]
    )
    first = await bot.send_message(
        42, "<b>Ducks</b> &amp; <i>rowers</i>", parse_mode=ParseMode.HTML, reply_markup=markup
    )
    second = await bot.send_message(42, "123")
    other = await bot.send_message(7, "hi")

    assert first.text == "Ducks & rowers"  # Telegram returns the text after entity parsing
    assert first.reply_markup == markup
    assert first.chat.id == 42 and first.chat.type == "private"
    assert first.from_user is not None and first.from_user.username == BOT_USERNAME
    assert (first.message_id, second.message_id, other.message_id) == (1, 2, 1)

    sent = server.sent_messages(42)
    assert [p["text"] for p in sent] == ["<b>Ducks</b> &amp; <i>rowers</i>", "123"]
    assert sent[0]["chat_id"] == 42
    assert sent[0]["parse_mode"] == "HTML"
    assert sent[0]["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Read it", "callback_data": "s:pearce-ducks"}],
            [{"text": "Source", "url": "https://example.org/ducks"}],
        ]
    }
    assert sent[1]["text"] == "123"  # free text is never JSON-decoded
    assert server.sent_texts(7) == ["hi"]
    assert [m["message_id"] for m in server.bot_messages(42)] == [1, 2]


@pytest.mark.asyncio
async def test_edit_answer_and_other_methods(server: FakeTelegram, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Next", callback_data="c:x:2")]])
    msg = await bot.send_message(42, "Chapter 1", reply_markup=keyboard)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Chapter 1", 42, msg.message_id, reply_markup=keyboard)
    edited = await bot.edit_message_text("<b>Chapter 2</b>", 42, msg.message_id, parse_mode=ParseMode.HTML)
    assert not isinstance(edited, bool)
    assert edited.text == "Chapter 2" and edited.edit_date is not None
    assert edited.reply_markup is None  # editing without reply_markup removes the keyboard
    assert await bot.edit_message_text("inline", inline_message_id="AAA") is True
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", 42, 999)

    uid = server.callback_query(42, "c:x:2")
    updates = await bot.get_updates(timeout=0)
    query = updates[-1].callback_query
    assert updates[-1].update_id == uid and query is not None
    assert query.data == "c:x:2" and query.message is not None
    assert query.message.message_id == msg.message_id
    assert await bot.answer_callback_query(query.id, text="ok") is True
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("12345")

    server.inline_query(42, "ducks")
    inline = (await bot.get_updates(offset=uid + 1, timeout=0))[-1].inline_query
    assert inline is not None and inline.query == "ducks"
    articles = [
        InlineQueryResultArticle(str(n), f"Story {n}", InputTextMessageContent(f"<b>{n}</b>", parse_mode="HTML"))
        for n in range(51)
    ]
    with pytest.raises(BadRequest, match=r"(?i)RESULTS_TOO_MUCH"):
        await bot.answer_inline_query(inline.id, articles)
    assert await bot.answer_inline_query(inline.id, articles[:50]) is True

    commands = [BotCommand("start", "Begin"), BotCommand("help", "How it works")]
    assert await bot.set_my_commands(commands) is True
    assert await bot.get_my_commands() == tuple(commands)
    assert await bot.get_my_commands(language_code="zh") == ()
    assert await bot.delete_my_commands() is True
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Bad-Command", "x")])

    assert await bot.send_chat_action(42, "typing") is True
    sticker_msg = await bot.send_sticker(42, "CAACAgIAAxkBAAFakeSticker1")
    assert sticker_msg.chat.id == 42 and sticker_msg.message_id == msg.message_id + 1
    assert server.calls_to("sendSticker")[0].params["sticker"] == "CAACAgIAAxkBAAFakeSticker1"
    assert server.sent_messages() == server.sent_messages(42)  # stickers are not sendMessage

    photos = await bot.send_media_group(
        42, [InputMediaPhoto("AgACAgFakePhoto1m", caption="a"), InputMediaPhoto("AgACAgFakePhoto2m")]
    )
    assert [m.caption for m in photos] == ["a", None]
    assert (await bot.copy_message(42, 42, msg.message_id)).message_id == photos[-1].message_id + 1
    file = await bot.get_file("AgACAgFakePhoto1m")
    assert file.file_path == f"{server.base_file_url}{TOKEN}/files/AgACAgFakePhoto1m"
    server.files["AgACAgFakePhoto1m"] = b"jpeg bytes"
    assert await file.download_as_bytearray() == bytearray(b"jpeg bytes")

    server.block_chat(99)
    with pytest.raises(Forbidden, match=r"(?i)blocked"):
        await bot.send_message(99, "hello?")


@pytest.mark.asyncio
async def test_webhook_methods_and_conflict(server: FakeTelegram, bot: Bot) -> None:
    assert (await bot.get_webhook_info()).url == ""
    with pytest.raises(BadRequest, match=r"(?i)HTTPS URL"):
        await bot.set_webhook("http://127.0.0.1:1/hook")
    assert await bot.set_webhook("https://bot.example/hook", secret_token="s3cret_T0ken")
    info = await bot.get_webhook_info()
    assert info.url == "https://bot.example/hook"
    assert server.webhook["secret_token"] == "s3cret_T0ken"
    with pytest.raises(Exception, match=r"(?i)webhook is active"):
        await bot.get_updates(timeout=0)
    server.message(5, "queued")
    assert (await bot.get_webhook_info()).pending_update_count == 1
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert server.pending_updates == []
    assert await bot.get_updates(timeout=0) == ()
    assert await bot.close() is True
    assert await bot.log_out() is True


def test_raw_http_json_form_unknown_method_and_token(server: FakeTelegram) -> None:
    status, body = _raw_post(
        server.method_url("sendMessage"),
        json.dumps(
            {
                "chat_id": 3,
                "text": "json body",
                "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "x"}]]},
            }
        ).encode(),
        "application/json",
    )
    assert status == 200 and body["result"]["text"] == "json body"
    form = "chat_id=3&text=007&reply_markup=" + urllib.parse.quote(
        json.dumps({"inline_keyboard": [[{"text": "b", "callback_data": "y"}]]})
    )
    status, body = _raw_post(server.method_url("SENDMESSAGE"), form.encode(), "application/x-www-form-urlencoded")
    assert status == 200 and body["result"]["message_id"] == 2
    params = server.sent_messages(3)[1]
    assert params == {
        "chat_id": 3,
        "text": "007",
        "reply_markup": {"inline_keyboard": [[{"text": "b", "callback_data": "y"}]]},
    }
    status, body = _raw_post(server.method_url("sendMessage"), b"chat_id=3&text=x", "application/x-www-form-urlencoded")
    assert status == 200
    status, body = _raw_post(server.method_url("noSuchMethod"), b"", "application/json")
    assert (status, body["ok"], body["error_code"]) == (404, False, 404)
    status, body = _raw_post(server.method_url("getMe", "1:bad"), b"", "application/json")
    assert body == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert status == 401
    bad = {"inline_keyboard": [[{"text": "c", "callback_data": "x" * 65}]]}
    status, body = _raw_post(
        server.method_url("sendMessage"),
        json.dumps({"chat_id": 3, "text": "t", "reply_markup": bad}).encode(),
        "application/json",
    )
    assert (status, body["description"]) == (400, "Bad Request: BUTTON_DATA_INVALID")
    assert len(server.sent_messages(3)) == 3


@pytest.mark.asyncio
async def test_multipart_upload_is_parsed(server: FakeTelegram, bot: Bot) -> None:
    msg = await bot.send_document(42, b"%PDF-fake", filename="ducks.pdf", caption="<b>the</b> file", parse_mode="HTML")
    assert msg.caption == "the file"
    params = server.calls_to("sendDocument")[0].params
    assert params["chat_id"] == 42 and params["caption"] == "<b>the</b> file"
    assert params["document"].filename == "ducks.pdf"
    assert params["document"].data == b"%PDF-fake"


@pytest.mark.asyncio
async def test_unknown_token_raises_invalid_token(server: FakeTelegram) -> None:
    request = HTTPXRequest()
    stranger = Bot("999:wrong", base_url=server.base_url, request=request)
    try:
        with pytest.raises(InvalidToken):
            await stranger.get_me()
    finally:
        await request.shutdown()
    assert server.calls_to("getMe")[0].status == 401


# --------------------------------------------------------------------------- (3) HTML checks


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<b>unclosed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<p>para</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("a <3 b", 'Unsupported start tag "3" at byte offset 2'),
        ("ends with <", "Unclosed start tag at byte offset 10"),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<tg-emoji emoji-id="abc">👍</tg-emoji>', "Invalid custom emoji identifier specified"),
        ("Tom & Jerry", 'Unescaped "&" at byte offset 4'),
        ("a&nbsp;b", 'Unsupported HTML entity "&nbsp;" at byte offset 1'),
        ("<br/>", 'Unsupported start tag "br/" at byte offset 0'),
        ("<!-- note -->", 'Unsupported start tag "!--" at byte offset 0'),
    ],
)
def test_html_checker_rejects(text: str, message: str) -> None:
    with pytest.raises(HTMLParseError) as err:
        parse_telegram_html(text)
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("<b>b</b> <strong>s</strong> <i>i</i> <em>e</em> <u>u</u> <ins>n</ins>", "b s i e u n"),
        ("<s>a</s><strike>b</strike><del>c</del>", "abc"),
        ('<a href="https://x.org/?a=1&b=2">link</a>', "link"),
        ("<code>x &lt; y</code> &gt; &quot;q&quot; &#39;&#x1F986;", 'x < y > "q" \'🦆'),
        ('<pre><code class="language-python">print(1)</code></pre>', "print(1)"),
        ("<blockquote expandable>quote</blockquote><blockquote>b</blockquote>", "quoteb"),
        ('<tg-spoiler>s</tg-spoiler><span class="tg-spoiler">t</span>', "st"),
        ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍"),
        ("<B>upper</B> <b >spaced</b > <i>short</>", "upper spaced short"),
        ("<b><i>nested</i></b> 鸭子", "nested 鸭子"),
    ],
)
def test_html_checker_accepts(text: str, plain: str) -> None:
    assert parse_telegram_html(text) == plain


def test_html_checker_lenient_mode_matches_tdlib_on_bare_ampersand() -> None:
    assert parse_telegram_html("Tom & Jerry &nbsp;", strict=False) == "Tom & Jerry &nbsp;"
    with pytest.raises(HTMLParseError):
        parse_telegram_html("1 < 2", strict=False)


@pytest.mark.asyncio
async def test_invalid_html_is_rejected_by_send_message(server: FakeTelegram, bot: Bot) -> None:
    for text in ("<b>unclosed", "<p>para</p>", "Q&A", "x < y"):
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(42, text, parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(42, "<b>" + "x" * 4097 + "</b>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(42, "<b> </b>\n", parse_mode=ParseMode.HTML)
    assert server.sent_messages() == []
    failed = server.calls_to("sendMessage")
    assert len(failed) == 6 and all(c.status == 400 and not c.ok for c in failed)
    assert failed[0].error == ("Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"")
    ok = await bot.send_message(42, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    assert ok.text == "x" * 4096  # the limit applies after entity parsing


# --------------------------------------------------------------------------- (4) long polling


@pytest.mark.asyncio
async def test_get_updates_long_poll_wakes_on_push(server: FakeTelegram, bot: Bot) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    parked = await server.async_wait_polling()
    assert not parked.done and parked.params["timeout"] == 5

    pushed: list[int] = []
    pusher = threading.Thread(target=lambda: pushed.append(server.message(42, "hello")))
    pusher.start()
    updates = await poll
    pusher.join()

    assert time.monotonic() - started < 4, "the long poll should wake on push, not time out"
    assert [u.update_id for u in updates] == pushed
    assert updates[0].message is not None and updates[0].message.text == "hello"
    assert server.pending_updates  # not confirmed yet: confirmation is the next offset
    with pytest.raises(AssertionError, match=r"(?i)confirmation of update"):
        server.wait_confirmed(pushed[0], timeout=0)

    assert await bot.get_updates(offset=pushed[0] + 1, timeout=0) == ()
    assert server.wait_confirmed(pushed[0], timeout=0)
    assert server.pending_updates == []


@pytest.mark.asyncio
async def test_get_updates_offset_limit_and_empty_timeout(server: FakeTelegram, bot: Bot) -> None:
    ids = [server.message(1, f"m{n}") for n in range(3)]
    assert ids == sorted(ids) and len(set(ids)) == 3
    first = await bot.get_updates(limit=2, timeout=0)
    assert [u.update_id for u in first] == ids[:2]
    rest = await bot.get_updates(offset=ids[1] + 1, timeout=0)
    assert [u.update_id for u in rest] == ids[2:]
    assert server.wait_confirmed(ids[1], timeout=0)
    assert await bot.get_updates(offset=ids[2] + 1, timeout=0) == ()


@pytest.mark.asyncio
async def test_second_poller_terminates_the_first_with_conflict(server: FakeTelegram, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await server.async_wait_polling()
    # A second bot instance (PTB's own getUpdates pool holds one connection per Bot).
    async with Bot(TOKEN, base_url=server.base_url) as twin:
        second = asyncio.create_task(twin.get_updates(timeout=5))
        with pytest.raises(Exception, match=r"(?i)terminated by other getUpdates request"):
            await first
        await server.async_wait_polling()
        uid = server.message(1, "for the survivor")
        assert [u.update_id for u in await second] == [uid]


# --------------------------------------------------------------------------- builders


@pytest.mark.asyncio
async def test_update_builders_parse_in_ptb(server: FakeTelegram, bot: Bot) -> None:
    server.command(42, "/start pearce-ducks", language_code="zh")
    server.edited_message(42, "/start edited")
    server.sticker(42, emoji="🦆")
    server.photo(42, caption="look")
    await bot.send_message(-100555, "bot says hi")
    server.group_message(-100555, "tell me about ducks", mention=True, reply_to_bot=True)
    server.inline_query(42, "ducks", offset="10")
    server.message(42, "reply", reply_to_message=1)

    updates = [Update.de_json(u, bot) for u in server.pending_updates]
    cmd, edit, sticker, photo, group, inline, reply = updates
    assert cmd.message is not None and cmd.message.text == "/start pearce-ducks"
    assert cmd.message.parse_entities() == {cmd.message.entities[0]: "/start"}
    assert cmd.message.entities[0].type == "bot_command"
    assert cmd.message.from_user is not None and cmd.message.from_user.language_code == "zh"
    assert edit.edited_message is not None
    assert edit.edited_message.message_id == cmd.message.message_id
    assert sticker.message is not None and sticker.message.sticker is not None
    assert sticker.message.sticker.emoji == "🦆"
    assert photo.message is not None and photo.message.caption == "look"
    assert len(photo.message.photo) == 2
    g = group.message
    assert g is not None and g.chat.type == "supergroup"
    assert list(g.parse_entities(["mention"]).values()) == [f"@{BOT_USERNAME}"]
    assert g.reply_to_message is not None and g.reply_to_message.text == "bot says hi"
    assert g.reply_to_message.from_user is not None and g.reply_to_message.from_user.is_bot
    assert inline.inline_query is not None and inline.inline_query.offset == "10"
    assert reply.message is not None and reply.message.reply_to_message is not None
    assert reply.message.reply_to_message.text == "/start edited"  # the current version
    assert [u.update_id for u in updates] == sorted(u.update_id for u in updates)


# --------------------------------------------------------------------------- (5) faults


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_retry_after_and_server_error(server: FakeTelegram, bot: Bot) -> None:
    server.fail_next("sendMessage", "retry_after", retry_after=3)
    server.fail_next("sendMessage", "server_error")
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(42, "one")
    retry = flood.value.retry_after
    seconds = retry.total_seconds() if isinstance(retry, dtm.timedelta) else retry
    assert seconds == 3
    with pytest.raises(NetworkError) as crash:
        await bot.send_message(42, "two")
    assert not isinstance(crash.value, BadRequest)
    server.fail_next("sendMessage", "retry_after", retry_after=0)
    with pytest.raises(NetworkError) as zero:
        await bot.send_message(42, "zero")
    assert not isinstance(zero.value, RetryAfter)  # PTB raises RetryAfter only if retry_after > 0
    await bot.send_message(42, "three")

    assert server.sent_texts(42) == ["three"]  # faulted sends are not delivered
    assert [(f.method, f.kind) for f in server.faults] == [
        ("sendMessage", "retry_after"),
        ("sendMessage", "server_error"),
        ("sendMessage", "retry_after"),
    ]
    assert [c.status for c in server.calls_to("sendMessage")] == [429, 500, 429, 200]
    assert server.calls_to("sendMessage")[0].fault == "retry_after"


@pytest.mark.asyncio
async def test_timeout_drop_and_lost_response(server: FakeTelegram) -> None:
    request = HTTPXRequest(read_timeout=0.3, connect_timeout=2)
    async with Bot(TOKEN, base_url=server.base_url, request=request) as impatient:
        server.fail_next("sendMessage", "timeout", delay=3)
        with pytest.raises(TimedOut):
            await impatient.send_message(42, "slow")
        server.fail_next("sendMessage", "drop")
        with pytest.raises(NetworkError):
            await impatient.send_message(42, "dropped")
        assert server.sent_messages() == []
        server.fail_next("sendMessage", "lost_response")
        with pytest.raises(NetworkError):
            await impatient.send_message(42, "delivered, answer lost")
        assert server.sent_texts() == ["delivered, answer lost"]
        assert await impatient.send_message(42, "fine")
    assert [f.kind for f in server.faults] == ["timeout", "drop", "lost_response"]


def _faulted_pattern(seed: int) -> list[bool]:
    with FakeTelegram() as fake:
        fake.set_fault_rate(0.5, ["server_error"], seed=seed)
        for _ in range(20):
            status, _body = _raw_post(
                fake.method_url("sendChatAction"),
                b"chat_id=1&action=typing",
                "application/x-www-form-urlencoded",
            )
        status, body = _raw_post(fake.method_url("getMe"), b"", "application/json")
        assert status == 200 and body["ok"]
        return [c.fault is not None for c in fake.calls_to("sendChatAction")]


def test_fault_rate_is_deterministic_and_spares_polling() -> None:
    first, again, other = _faulted_pattern(7), _faulted_pattern(7), _faulted_pattern(8)
    assert first == again
    assert first != other
    assert 3 <= sum(first) <= 17


def test_wait_for_timeout_reports_recorded_calls(server: FakeTelegram) -> None:
    _raw_post(server.method_url("getMe"), b"", "application/json")
    with pytest.raises(AssertionError) as err:
        server.wait_for_calls("sendMessage", 1, timeout=0.05)
    report = str(err.value)
    assert "1 answered call(s) to sendMessage" in report
    assert "#0 getMe {} -> status=200 ok=True" in report


# --------------------------------------------------------------------------- (6) Application


def _application(server: FakeTelegram) -> Any:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    app = ApplicationBuilder().token(TOKEN).base_url(server.base_url).base_file_url(server.base_file_url).build()
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return app


@pytest.mark.asyncio
async def test_application_polling_echo(server: FakeTelegram) -> None:
    app = _application(server)
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        uid = server.message(42, "hello storybot")
        sent = await server.async_wait_for(lambda: server.sent_messages(42))
        await server.async_wait_confirmed(uid)
        await app.updater.stop()
        await app.stop()
    assert [p["text"] for p in sent] == ["hello storybot"]
    assert server.sent_texts() == ["hello storybot"]  # exactly one reply
    assert server.calls_to("deleteWebhook")  # PTB's polling bootstrap
    assert server.pending_updates == []


@pytest.mark.asyncio
async def test_application_webhook_echo(server: FakeTelegram) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = _application(server)
    async with app:
        await app.start()
        await app.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="hook",
            webhook_url="https://bot.example/hook",
            secret_token="s3cret",
        )
        assert server.webhook["url"] == "https://bot.example/hook"
        url = f"http://127.0.0.1:{port}/hook"
        update = server.make_message(8, "via webhook")
        assert await asyncio.to_thread(server.post_update_to, url, update, "s3cret") == 200
        await server.async_wait_for(lambda: server.sent_messages(8))
        forged = server.make_message(8, "forged")
        assert await asyncio.to_thread(server.post_update_to, url, forged, "wrong") == 403
        await app.updater.stop()
        await app.stop()
    assert server.sent_texts(8) == ["via webhook"]
    assert server.wait_confirmed(update["update_id"], timeout=0)
