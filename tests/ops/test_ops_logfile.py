"""The exchange log: one JSON line per exchange, every field, no personal data, rotation."""

from __future__ import annotations

import io
import json
import logging
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from ops_support import SALT, ex

from bot.config import Secret, Settings
from bot.ops.exchange import Exchange, pseudonym
from bot.ops.logfile import FileSink, StreamSink, close_sinks, open_sinks
from bot.ops.logread import log_files, read_records
from bot.ops.salt import load_salt, salt_file, with_salt

FIELDS = {
    "time",
    "update_id",
    "chat_type",
    "chat_key",
    "user_key",
    "lang",
    "question",
    "outcome",
    "story",
    "score",
    "alternatives",
    "campaign",
    "latency_ms",
    "kind",
    "error",
    "rule",
}


def lines(path: Path) -> list[dict[str, object]]:
    """The JSON objects of a log file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_one_json_line_per_exchange_with_every_field(tmp_path: Path) -> None:
    path = tmp_path / "var" / "exchanges.jsonl"  # the folder does not exist yet
    sink = FileSink(path)
    sink.record(
        ex(
            1,
            "who let the ducks cross",
            "story",
            "pearce-ducks",
            score=85.123,
            alternatives=(("greatness-of-small", 11.04),),
            campaign="olympics-ad",
        )
    )
    sink.record(ex(2, "谁让鸭子先过", "fallback", lang="zh", error="boom"))
    sink.close()

    first, second = lines(path)
    assert set(first) == FIELDS
    assert first["question"] == "who let the ducks cross"
    assert first["outcome"] == "story" and first["story"] == "pearce-ducks"
    assert first["score"] == 85.1
    assert first["alternatives"] == [{"story": "greatness-of-small", "score": 11.0}]
    assert first["campaign"] == "olympics-ad"
    assert first["latency_ms"] == 12.5
    assert second["question"] == "谁让鸭子先过"  # readable, not \\u escapes
    assert "谁让鸭子先过" in path.read_text(encoding="utf-8")
    assert second["error"] == "boom"


def test_records_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "exchanges.jsonl"
    original = ex(3, "the ducks", "clarify", alternatives=(("pearce-ducks", 45.0),), score=45.0)
    sink = FileSink(path)
    sink.record(original)
    sink.close()
    (back,) = read_records(path)
    assert back == original


def test_no_personal_data_in_the_log(tmp_path: Path) -> None:
    telegram_user_id, chat_id = 123456789, -100987654321
    exchange = Exchange(
        update_id=7,
        chat_type="private",
        chat_key=pseudonym(SALT, "chat", chat_id),
        user_key=pseudonym(SALT, "user", telegram_user_id),
        lang="en",
        question="hello",
        outcome="smalltalk",
    )
    path = tmp_path / "exchanges.jsonl"
    sink = FileSink(path)
    sink.record(exchange)
    sink.close()
    text = path.read_text(encoding="utf-8")
    assert str(telegram_user_id) not in text
    assert str(chat_id) not in text and str(abs(chat_id)) not in text
    (record,) = lines(path)
    assert record["user_key"] == pseudonym(SALT, "user", telegram_user_id)
    assert str(record["user_key"]).startswith("u_") and len(str(record["user_key"])) == 18
    # The Exchange record has no place for a name, a username or a phone number.
    assert not FIELDS & {"name", "first_name", "last_name", "username", "phone", "phone_number"}


def test_the_same_fan_gets_the_same_key_and_another_salt_another_key() -> None:
    assert pseudonym(SALT, "user", 42) == pseudonym(SALT, "user", 42)
    assert pseudonym(SALT, "user", 42) != pseudonym(SALT, "user", 43)
    assert pseudonym(SALT, "user", 42) != pseudonym(b"other", "user", 42)
    assert pseudonym(SALT, "chat", 42).startswith("c_")


def test_rotates_by_size_and_keeps_the_backups(tmp_path: Path) -> None:
    path = tmp_path / "exchanges.jsonl"
    sink = FileSink(path, max_bytes=2000, backups=3)
    for i in range(60):
        sink.record(ex(i, f"question number {i}", "fallback"))
    sink.close()

    files = log_files(path)
    assert [f.name for f in files] == [
        "exchanges.jsonl.3",
        "exchanges.jsonl.2",
        "exchanges.jsonl.1",
        "exchanges.jsonl",
    ]
    assert all(f.stat().st_size <= 2000 for f in files)
    questions = [r.question for r in read_records(path)]
    assert questions == sorted(questions, key=lambda q: int(q.rsplit(" ", 1)[1]))
    assert questions[-1] == "question number 59"  # the oldest ones rotated out, in order


def test_many_threads_write_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "exchanges.jsonl"
    sink = FileSink(path, max_bytes=20_000, backups=50)

    def write(worker: int) -> None:
        for i in range(50):
            sink.record(ex(i, f"worker {worker} says {'x' * 40} {i}", "fallback", user=worker))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sink.close()
    records = list(read_records(path))
    assert len(records) == 400
    assert {r.question for r in records} == {f"worker {w} says {'x' * 40} {i}" for w in range(8) for i in range(50)}


def test_a_failing_log_never_raises_into_the_bot(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log folder should be")
    sink = FileSink(tmp_path / "log.jsonl")
    sink._handler.baseFilename = str(blocker / "exchanges.jsonl")  # unwritable from now on
    with caplog.at_level(logging.WARNING, logger="bot.ops.logfile"):
        sink.record(ex(1, "hello", "smalltalk"))  # must not raise
    assert "could not write to the exchange log" in caplog.text
    sink.close()


def test_stdout_sink_writes_json_lines() -> None:
    stream = io.StringIO()
    sink = StreamSink(stream)
    sink.record(ex(1, "bobby pearce", "story", "pearce-ducks"))
    (line,) = stream.getvalue().splitlines()
    assert json.loads(line)["story"] == "pearce-ducks"


def test_stdout_sink_survives_a_closed_stream() -> None:
    stream = io.StringIO()
    stream.close()
    StreamSink(stream).record(ex(1, "hello", "smalltalk"))  # must not raise


def test_open_sinks_follows_the_settings(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    sinks = open_sinks(settings)
    assert [type(s) for s in sinks] == [FileSink]
    close_sinks(sinks)
    sinks = open_sinks(replace(settings, log_to_stdout=True))
    assert [type(s) for s in sinks] == [FileSink, StreamSink]
    close_sinks(sinks)


def test_configured_salt_is_used_as_is(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, log_salt=Secret("s3cret"))
    assert load_salt(settings) == b"s3cret"
    assert not salt_file(settings).exists()


def test_missing_salt_is_generated_once_and_kept(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    with caplog.at_level(logging.WARNING, logger="bot.ops.salt"):
        first = load_salt(settings)
    assert "STORYBOT_LOG_SALT is not set" in caplog.text
    assert len(first) == 64
    assert salt_file(settings).stat().st_mode & 0o777 == 0o600
    assert load_salt(settings) == first  # a restart keeps the keys stable
    salted = with_salt(settings)
    assert salted.log_salt.get().encode() == first
    assert "s3cret" not in repr(salted) and first.decode() not in repr(salted)


def test_a_log_that_cannot_be_written_is_one_warning_not_a_traceback_an_exchange(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "exchanges.jsonl"
    path.mkdir()  # as good as a full disk: every write fails
    sink = FileSink(path)
    with caplog.at_level(logging.WARNING, logger="bot.ops.logfile"):
        for n in range(5):
            sink.record(ex(n, f"question {n}", "fallback"))
    failures = [r for r in caplog.records if "could not write" in r.getMessage()]
    assert len(failures) == 1 and failures[0].exc_info is None
    path.rmdir()  # the disk has room again
    sink.record(ex(9, "back again", "fallback"))
    sink.close()
    assert "is written again" in caplog.text
    assert [r.question for r in read_records(path)] == ["back again"]
