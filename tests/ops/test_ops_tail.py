"""`storybot logs`: readable lines, misses marked, filters, --since over rotated files, --follow."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

import pytest
from ops_support import T0, ex, fan, write_log

from bot.cli import main
from bot.ops.exchange import Exchange
from bot.ops.logfile import FileSink
from bot.ops.logread import LogTail, follow, parse_duration, read_records
from bot.ops.tail import Filter, format_line, select, visible


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("2h", 7200), ("7d", 604800), ("1w", 604800), ("1h30m", 5400)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "15", "two hours", "5x", "-3h", "2h and"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_a_line_shows_time_chat_fan_language_outcome_story_and_question() -> None:
    line = format_line(ex(1, "who let the ducks cross", "story", "pearce-ducks", score=85.1), UTC)
    assert line.startswith("2025-03-01 09:01:00   private    " + fan(1) + " en story")
    assert "pearce-ducks 85" in line
    assert line.endswith('"who let the ducks cross"')


def test_misses_and_errors_are_marked() -> None:
    hit = format_line(ex(1, "bobby pearce", "story", "pearce-ducks"), UTC)
    miss = format_line(ex(2, "refund please", "fallback"), UTC)
    clarify = format_line(
        ex(3, "the ad", "clarify", alternatives=(("greatness-of-small", 60.0), ("pearce-ducks", 55.0))),
        UTC,
    )
    error = format_line(ex(4, "hello", "error", error="TimedOut"), UTC)
    assert hit.split()[2] == "private"  # no marker column content
    assert miss.split()[2] == "✗"
    assert clarify.split()[2] == "✗" and "?greatness-of-small ?pearce-ducks" in clarify
    assert error.split()[2] == "!" and error.endswith("error: TimedOut")


def test_control_characters_are_made_visible_and_long_questions_cut() -> None:
    sneaky = "hi\x1b[2J\rthere\nfriend\u202eevil\t!"
    assert visible(sneaky) == "hi\\x1b[2J\\rthere\\nfriend\\u202eevil\\t!"
    line = format_line(ex(1, sneaky + " " + "x" * 200, "fallback"), UTC)
    assert "\x1b" not in line and "\r" not in line and "\n" not in line and "\u202e" not in line
    quoted = line[line.index('"') :]
    assert len(quoted) <= 62 and quoted.endswith('…"')
    assert visible("👨\u200d👩\u200d👧") == "👨\u200d👩\u200d👧"  # emoji sequences stay whole


def test_filters_misses_and_story(records: list[Exchange]) -> None:
    misses = list(select(records, Filter(misses=True)))
    assert misses and all(r.outcome in {"fallback", "clarify", "error"} for r in misses)
    assert len(misses) == 17 + 1  # 17 misses and the error
    ducks = list(select(records, Filter(story="pearce-ducks")))
    assert {r.story for r in ducks if r.outcome == "story"} == {"pearce-ducks"}
    assert sum(r.outcome == "story" for r in ducks) == 8  # 5 asked, 2 buttons, 1 inline card
    ad = list(select(records, Filter(misses=True, story="greatness-of-small")))
    # the "did you mean" exchanges that offered it, not the stories it told
    assert [r.question for r in ad] == ["was the ad on tv", "did the ad air on tv"]


def test_since_reads_rotated_files_too(tmp_path: Path) -> None:
    path = tmp_path / "exchanges.jsonl"
    write_log(path.with_name("exchanges.jsonl.2"), [ex(0, "oldest", "story", "founding")])
    write_log(path.with_name("exchanges.jsonl.1"), [ex(60, "older", "fallback")])
    write_log(path, [ex(120, "newest", "story", "founding")])
    for name, minute in (("exchanges.jsonl.2", 1), ("exchanges.jsonl.1", 61), ("exchanges.jsonl", 121)):
        os.utime(tmp_path / name, (T0 + minute * 60, T0 + minute * 60))
    since = T0 + 30 * 60
    assert [r.question for r in read_records(path, since)] == ["older", "newest"]
    assert [r.question for r in read_records(path)] == ["oldest", "older", "newest"]
    assert [r.question for r in read_records(path, rotated=False)] == ["newest"]


def test_garbage_lines_are_skipped(tmp_path: Path) -> None:
    path = write_log(tmp_path / "x.jsonl", [ex(1, "fine", "smalltalk")])
    with path.open("a", encoding="utf-8") as handle:
        handle.write('not json\n{"no": "time"}\n[1, 2]\n{"time": "soon"}\n\n{"time": 1, "outcome"')
    assert [r.question for r in read_records(path)] == ["fine"]


class Script:
    """Plays the next step each time `follow` waits; stops at the first wait after the last."""

    def __init__(self, *steps: Callable[[], object]) -> None:
        self.steps = list(steps)
        self.done = False

    def wait(self) -> None:
        if self.steps:
            self.steps.pop(0)()
        else:
            self.done = True

    def stop(self) -> bool:
        return self.done


def test_follow_shows_new_lines_across_rotation_and_truncation(tmp_path: Path) -> None:
    path = tmp_path / "exchanges.jsonl"
    write_log(path, [ex(0, "before we started", "smalltalk")])
    sink = FileSink(path, max_bytes=1000, backups=2)  # a line is about 290 bytes

    def append(*questions: str) -> None:
        for q in questions:
            sink.record(ex(1, q, "fallback"))

    def half_line() -> None:
        with path.open("a", encoding="utf-8") as handle:
            handle.write('{"time": 1740819600, "question": "split ')

    def rest_of_line() -> None:
        with path.open("a", encoding="utf-8") as handle:
            handle.write('line", "outcome": "fallback"}\n')

    def truncate() -> None:
        path.write_text("")
        write_log(path, [ex(2, "after truncation", "story", "founding")])

    script = Script(
        lambda: append("one", "two"),
        half_line,
        rest_of_line,
        lambda: append(*(f"rotating {i}" for i in range(3))),  # the first one rotates
        lambda: None,
        truncate,
    )
    with LogTail(path) as tail:
        seen = [r.question for r in follow(tail, wait=script.wait, stop=script.stop)]
    sink.close()
    assert seen == [
        "one",
        "two",
        "split line",
        *(f"rotating {i}" for i in range(3)),
        "after truncation",
    ]
    assert path.with_name("exchanges.jsonl.1").exists()  # it really rotated


def test_follow_waits_for_a_log_that_does_not_exist_yet(tmp_path: Path) -> None:
    path = tmp_path / "later.jsonl"
    script = Script(lambda: None, lambda: write_log(path, [ex(1, "first ever", "smalltalk")]))
    with LogTail(path) as tail:
        seen = [r.question for r in follow(tail, wait=script.wait, stop=script.stop)]
    assert seen == ["first ever"]


def test_logs_command_filters_and_marks(
    tmp_path: Path, records: list[Exchange], capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_log(tmp_path / "exchanges.jsonl", records)
    assert main(["logs", "--file", str(path), "--misses", "--utc"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 18
    assert all(line.split()[2] in {"✗", "!"} for line in out)
    assert any("<script>" in line for line in out)  # a terminal shows markup as text
    assert main(["logs", "--file", str(path), "--story", "kenya-ice-hockey", "-n", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and all("kenya-ice-hockey" in line for line in out)
    assert main(["logs", "--file", str(path), "--json", "-n", "1"]) == 0
    assert '"question": "alibaba revenue"' in capsys.readouterr().out  # the last one


def test_logs_command_since(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    now = time.time()
    path = tmp_path / "exchanges.jsonl"
    write_log(
        path,
        [
            ex((now - 3 * 3600 - T0) / 60, "three hours ago", "fallback"),
            ex((now - 600 - T0) / 60, "ten minutes ago", "fallback"),
        ],
    )
    assert main(["logs", "--file", str(path), "--since", "1h"]) == 0
    out = capsys.readouterr().out
    assert "ten minutes ago" in out and "three hours ago" not in out


def test_logs_command_refuses_a_bad_duration(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["logs", "--since", "soon"])
    assert "not a duration" in capsys.readouterr().err
