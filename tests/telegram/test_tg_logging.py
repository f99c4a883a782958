"""No secret in the logs: the token (and any token-shaped string) is redacted at every level."""

from __future__ import annotations

import io
import logging

import pytest
from fakebot import TOKEN, FakeTelegram
from telegram import Update
from tg_support import MakeBot, RecordingSink, polling

from bot.telegram.app import secrets_of
from bot.telegram.logging_setup import REDACTED, Redactor, configure_logging

OTHER_TOKEN = "987654321:ZZotherBotTokenThatMustNotLeak_abcdefgh"


@pytest.fixture
def log_stream(root_logging: None) -> io.StringIO:
    """configure_logging at DEBUG into a buffer; the previous logging setup restored after."""
    return io.StringIO()


def test_redactor_hides_token_shapes_and_configured_secrets() -> None:
    redact = Redactor(["s3cret-Token_1", "ab"])
    text = f"url=https://api.telegram.org/bot{TOKEN}/getMe secret=s3cret-Token_1 {OTHER_TOKEN} ab"
    assert redact(text) == (f"url=https://api.telegram.org/bot{REDACTED}/getMe secret={REDACTED} {REDACTED} ab")


def test_every_part_of_a_record_is_redacted(log_stream: io.StringIO) -> None:
    configure_logging("DEBUG", [TOKEN], stream=log_stream)
    log = logging.getLogger("storybot.test")
    log.debug("plain %s", TOKEN)
    log.info("in a dict %r", {"token": OTHER_TOKEN})
    try:
        raise RuntimeError(f"failed calling /bot{TOKEN}/sendMessage")
    except RuntimeError:
        log.exception("with a traceback")
    log.warning("with a stack", stack_info=True)
    logging.getLogger("httpx").info("HTTP Request: POST /bot%s/getMe", TOKEN)
    written = log_stream.getvalue()
    assert TOKEN not in written and OTHER_TOKEN not in written
    assert written.count(REDACTED) == 3  # message, args, exception text
    assert "HTTP Request" not in written  # httpx is kept at WARNING


async def test_a_running_bot_at_debug_never_logs_its_token(
    server: FakeTelegram, make_bot: MakeBot, sink: RecordingSink, log_stream: io.StringIO
) -> None:
    app = make_bot()
    configure_logging("DEBUG", secrets_of(app.bot_data.settings), stream=log_stream)
    server.fail_next("sendMessage", "server_error")
    server.block_chat(43)
    async with polling(app):
        first = server.message(42, "who stopped for the ducks?")
        blocked = server.message(43, "ducks")
        server.inline_query(42, "ducks")
        await sink.wait_for(lambda: sink.for_update(first) and sink.for_update(blocked))
        logging.getLogger("storybot.test").debug("bot repr: %r", app.bot)
    written = log_stream.getvalue()
    assert "DEBUG telegram" in written  # PTB really was talking at DEBUG
    assert "getUpdates" in written
    assert TOKEN not in written
    assert TOKEN.split(":")[1] not in written
    assert REDACTED in written


def test_at_debug_the_library_never_dumps_an_update_or_a_bot_api_call() -> None:
    stream = io.StringIO()
    handler = configure_logging("DEBUG", stream=stream)
    try:
        user = {"id": 987654321, "is_bot": False, "first_name": "Wenjun", "username": "wenjun_fan"}
        update = Update.de_json(
            {
                "update_id": 31337,
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": 987654321, "type": "private", "first_name": "Wenjun"},
                    "from": user,
                    "text": "my secret question about ducks",
                },
            },
            None,
        )
        logging.getLogger("telegram.ext.Application").debug("Processing update %s", update)
        logging.getLogger("telegram.request").debug(
            "Calling Bot API endpoint `%s` with parameters `%s`",
            "sendMessage",
            {"chat_id": 987654321, "text": "my secret question about ducks"},
        )
        logging.getLogger("telegram.ext.Updater").debug("Got %s", [update])
    finally:
        logging.getLogger().removeHandler(handler)
        configure_logging("INFO")
    text = stream.getvalue()
    assert "update 31337" in text and "sendMessage" in text
    for private in ("987654321", "Wenjun", "wenjun_fan", "secret question"):
        assert private not in text, text
