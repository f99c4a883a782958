"""The bot's HTTP (bot/telegram/http.py) through real PTB against the fake Bot API.

JSON bodies carry objects as objects, uploads go as multipart, timeouts and broken connections
become PTB's errors, and no error's text or traceback holds the token.
"""

from __future__ import annotations

import socket
import traceback

import pytest
from fakebot import TOKEN, FakeTelegram
from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import NetworkError, TimedOut
from telegram.ext import ExtBot

from bot.telegram.http import AiohttpRequest

FAN = 4242


def _bot(base_url: str, **timeouts: float) -> ExtBot[None]:
    return ExtBot(TOKEN, base_url=base_url, request=AiohttpRequest(**timeouts))


async def test_a_message_goes_as_json_with_its_keyboard_as_an_object(server: FakeTelegram) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="s:en:ducks")]])
    async with _bot(server.base_url) as bot:
        sent = await bot.send_message(FAN, "小鸭子 <b>ducks</b>", parse_mode="HTML", reply_markup=markup)
        await bot.set_my_commands([BotCommand("start", "Start")])
    [call] = server.calls_to("sendMessage")
    assert call.content_type.startswith("application/json")
    assert call.params["reply_markup"] == {"inline_keyboard": [[{"text": "More", "callback_data": "s:en:ducks"}]]}
    assert call.params["chat_id"] == FAN and sent.text == "小鸭子 ducks"
    assert server.calls_to("setMyCommands")[0].params["commands"] == [{"command": "start", "description": "Start"}]


async def test_an_upload_goes_as_multipart(server: FakeTelegram) -> None:
    async with _bot(server.base_url) as bot:
        await bot.send_document(FAN, InputFile(b"quack", filename="ducks.txt"), caption="the ducks")
    [call] = server.calls_to("sendDocument")
    assert call.content_type.startswith("multipart/form-data")
    assert call.params["caption"] == "the ducks"
    assert call.params["document"].data == b"quack"


async def test_an_answer_that_never_comes_is_timed_out(server: FakeTelegram) -> None:
    server.fail_next("sendMessage", "timeout", delay=2.0)
    async with _bot(server.base_url, read_timeout=0.2) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(FAN, "hello")
        assert (await bot.send_message(FAN, "again")).text == "again"  # the pool recovers


async def test_a_dropped_connection_is_a_network_error_without_the_token(server: FakeTelegram) -> None:
    server.fail_next("sendMessage", "drop")
    async with _bot(server.base_url) as bot:
        with pytest.raises(NetworkError) as caught:
            await bot.send_message(FAN, "hello")
    _assert_no_token(caught.value)


async def test_a_server_that_is_not_there_is_a_network_error_without_the_token() -> None:
    with socket.socket() as free:  # a port nobody listens on
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    bot = _bot(f"http://127.0.0.1:{port}/bot", connect_timeout=1.0)
    await bot.request.initialize()  # not `async with bot`: its getMe would fail first
    try:
        with pytest.raises(NetworkError) as caught:
            await bot.send_message(FAN, "hello")
    finally:
        await bot.request.shutdown()
    _assert_no_token(caught.value)


def _assert_no_token(error: BaseException) -> None:
    shown = "".join(traceback.format_exception(error))
    assert TOKEN not in shown and TOKEN.split(":")[1] not in shown
    assert error.__cause__ is None and error.__suppress_context__


def test_the_proxy_the_environment_names_is_used_unless_no_proxy_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    request = AiohttpRequest()
    assert request._proxy("https://api.telegram.org/botX/sendMessage") == "http://proxy.example:3128"
    assert request._proxy("http://127.0.0.1:8081/botX/sendMessage") is None
