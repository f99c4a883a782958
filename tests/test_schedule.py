"""Scheduled broadcasts (broadcasts.yaml): `storybot check` names each mistake with its line and fix,
and the scheduler queues each due entry exactly once, across restarts, crashes and reloads.

The scheduler's clock is a number the test moves; `tick()` is one look, as the running bot's takes.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

import bot.broadcast.outbox as outbox_module
from bot.broadcast.outbox import Outbox
from bot.broadcast.schedule import LATE_LIMIT, Scheduler
from bot.catalog.load import load_catalog
from bot.catalog.model import Scheduled
from bot.cli import main
from bot.live import CatalogStore

STORIES = Path(__file__).resolve().parent.parent / "stories"
NINE = "2025-09-01T09:00:00+08:00"
T = datetime.fromisoformat(NINE).timestamp()
HOUR = 3600.0


def _write(root: Path, entries: str) -> None:
    (root / "broadcasts.yaml").write_text("broadcasts:\n" + entries, encoding="utf-8")


def _problems(root: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    assert main(["check", "--json", "--stories", str(root)]) == 1
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


# --- storybot check ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entries", "line", "field", "message", "fix"),
    [
        (
            f"  - story: alpah\n    at: {NINE}\n",
            2,
            "broadcasts[1].story",
            "there is no story 'alpah'",
            "did you mean 'alpha'?",
        ),
        (
            "  - story: alpha\n    at: 2025-09-01T09:00:00\n",
            3,
            "broadcasts[1].at",
            "has no offset from UTC, so it could be any time zone's 09:00",
            "'2025-09-01T09:00:00+08:00' for China time, '2025-09-01T09:00:00Z' for UTC",
        ),
        (
            "  - story: alpha\n    at: 2025-09-01\n",
            3,
            "broadcasts[1].at",
            "'2025-09-01' gives a day but no time",
            "'2025-09-01T09:00:00+08:00'",
        ),
        (
            "  - story: alpha\n    at: next monday\n",
            3,
            "broadcasts[1].at",
            "'next monday' is not a date and time",
            f"like {NINE}",
        ),
        (
            f"  - story: alpha\n    at: {NINE}\n    lang: fr\n",
            4,
            "broadcasts[1].lang",
            "'fr' is not a language of the bot",
            "write 'lang: en' or 'lang: zh', or leave 'lang' out",
        ),
        (
            "  - story: alpha\n",
            2,
            "broadcasts[1].at",
            "the required field 'at' is missing",
            f"add 'at: {NINE}'",
        ),
        (
            f"  - story: alpha\n    at: {NINE}\n  - story: beta\n    at: {NINE}\n  - story: alpha\n"
            "    at: 2025-09-01T01:00:00Z\n",
            6,
            "broadcasts[3]",
            "the same broadcast as line 2: 'alpha' at the same moment (2025-09-01 01:00 UTC) to everyone",
            "delete one of the two entries",
        ),
        (
            f"  - story: alpha\n    at: {NINE}\n  - story: alpha\n    at: {NINE}\n    lang: zh\n",
            4,
            "broadcasts[2]",
            "line 2 sends 'alpha' at the same moment (2025-09-01 01:00 UTC) to everyone, so the zh subscribers",
            "keep either the entry for everyone or the ones with a language",
        ),
        (
            "  story: alpha\n",
            1,
            "broadcasts",
            "must be a list, not a mapping",
            "'- story: <id>'",
        ),
    ],
    ids=[
        "unknown-story",
        "no-offset",
        "day-only",
        "not-a-time",
        "bad-lang",
        "no-time",
        "duplicate",
        "twice-to-zh",
        "not-a-list",
    ],
)
def test_check_names_the_line_and_the_fix_of_each_schedule_mistake(
    entries: str, line: int, field: str, message: str, fix: str, base_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(base_copy, entries)
    [problem] = _problems(base_copy, capsys)
    assert (problem["file"], problem["line"], problem["field"]) == (str(base_copy / "broadcasts.yaml"), line, field)
    assert message in str(problem["message"]) and fix in str(problem["fix"]), problem


def test_the_shipped_file_schedules_nothing_and_its_example_checks_clean(
    catalog_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog, problems = load_catalog(STORIES)
    assert catalog is not None and catalog.schedule == () and not problems
    # The commented example, uncommented, is a valid schedule: what a marketer copies works.
    text = (catalog_copy / "broadcasts.yaml").read_text(encoding="utf-8").splitlines()
    start = text.index("# broadcasts:")
    example = [line.removeprefix("# ") for line in text[start : text.index("#", start)]]
    (catalog_copy / "broadcasts.yaml").write_text("\n".join(example) + "\n", encoding="utf-8")
    assert main(["check", "--stories", str(catalog_copy)]) == 0
    assert ", 2 scheduled broadcast(s)" in capsys.readouterr().out
    catalog, problems = load_catalog(catalog_copy)
    assert catalog is not None and not problems
    assert [(e.story, e.at.isoformat(), e.lang) for e in catalog.schedule] == [
        ("pearce-ducks", NINE, None),
        ("kenya-ice-hockey", "2025-09-08T20:00:00+08:00", "zh"),
    ]


# --- the scheduler ----------------------------------------------------------------------------


class Clock:
    """The time a test says it is."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _outbox(tmp_path: Path) -> Outbox:
    outbox = Outbox(tmp_path / "state.sqlite3")
    for chat, lang in ((1, "en"), (2, "en"), (3, "zh")):
        outbox.subscribe(chat, lang)
    return outbox


def _entry(story: str = "alpha", at: str = NINE, lang: str | None = None) -> Scheduled:
    return Scheduled(story, datetime.fromisoformat(at), lang)


def test_a_due_entry_is_queued_once_for_its_subscribers(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path)
    clock = Clock(T - 1)
    entries = [_entry(), _entry("beta", lang="zh")]
    scheduler = Scheduler(outbox, lambda: entries, clock=clock)
    assert scheduler.tick() == []  # a second early: nothing
    clock.now = T
    first = scheduler.tick()
    assert len(first) == 2
    assert scheduler.tick() == [] and outbox.enqueue_scheduled("alpha", entries[0].moment, None) is None
    assert [(p.story, p.lang, p.total) for p in outbox.progress()] == [("alpha", None, 3), ("beta", "zh", 1)]
    outbox.close()


def test_a_restart_does_not_queue_it_again(tmp_path: Path) -> None:
    clock = Clock(T + 60)
    outbox = _outbox(tmp_path)
    assert len(Scheduler(outbox, lambda: [_entry()], clock=clock).tick()) == 1
    outbox.close()
    # A new process (after a restart or a kill -9) reads what was queued from the state.
    again = Outbox(tmp_path / "state.sqlite3")
    clock.now += HOUR
    assert Scheduler(again, lambda: [_entry()], clock=clock).tick() == []
    assert len(again.progress()) == 1
    again.close()


def test_a_crash_inside_the_commit_leaves_neither_the_broadcast_nor_the_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outbox = _outbox(tmp_path)
    real = outbox_module._queue

    def queue_then_die(*args: object) -> int:
        real(*args)  # type: ignore[arg-type]
        raise KeyboardInterrupt  # the process is stopped between queuing and recording

    monkeypatch.setattr(outbox_module, "_queue", queue_then_die)
    scheduler = Scheduler(outbox, lambda: [_entry()], clock=Clock(T))
    with pytest.raises(KeyboardInterrupt):
        scheduler.tick()
    assert outbox.progress() == [] and outbox.scheduled() == {}
    monkeypatch.setattr(outbox_module, "_queue", real)
    assert len(scheduler.tick()) == 1 and len(outbox.progress()) == 1  # queued once, on the next look
    outbox.close()


async def test_an_entry_missed_while_the_bot_was_down_is_sent_at_start_unless_too_late(tmp_path: Path) -> None:
    outbox = _outbox(tmp_path)
    missed = _entry("alpha")  # the bot was down at 09:00 and starts at noon: sent at start
    stale = _entry("beta", at="2025-08-30T09:00:00+08:00")  # two days late: not sent, recorded
    scheduler = Scheduler(outbox, lambda: [stale, missed], clock=Clock(T + 3 * HOUR))
    scheduler.start()  # as in the bot's post_init: one look at once, then every INTERVAL
    await scheduler.stop()
    assert [p.story for p in outbox.progress()] == ["alpha"]
    assert outbox.scheduled()[stale.key] is None  # recorded as too late: a later look does not send it
    assert Scheduler(outbox, lambda: [stale, missed], clock=Clock(T + 4 * HOUR)).tick() == []
    # The limit is a day: an entry just within it still goes.
    within = _entry("gamma", at="2025-08-31T09:00:01+08:00")
    assert len(Scheduler(outbox, lambda: [within], clock=Clock(T)).tick()) == 1
    assert within.at.timestamp() + LATE_LIMIT > T
    outbox.close()


def test_a_new_entry_goes_live_with_a_reload_and_a_broken_edit_keeps_the_last_schedule(base_copy: Path) -> None:
    store = CatalogStore.open(base_copy, "none")
    outbox = _outbox(base_copy.parent)
    clock = Clock(T)
    scheduler = Scheduler(outbox, lambda: store.current().catalog.schedule, clock=clock)
    assert scheduler.tick() == []
    _write(base_copy, f"  - story: beta\n    at: {NINE}\n")
    assert store.reload()[0]
    [broadcast] = scheduler.tick()
    assert [(p.id, p.story) for p in outbox.progress()] == [(broadcast, "beta")]
    # An edit with a naive time is refused; the bot keeps the schedule it had, and sends nothing new.
    _write(base_copy, f"  - story: beta\n    at: {NINE}\n  - story: gamma\n    at: 2025-09-01T09:00:00\n")
    swapped, problems = store.reload()
    assert not swapped and any(p.field == "broadcasts[2].at" for p in problems)
    clock.now += HOUR
    assert scheduler.tick() == [] and [e.story for e in store.current().catalog.schedule] == ["beta"]
    outbox.close()


def test_status_lists_each_scheduled_entry_and_where_it_stands(
    base_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STORYBOT_DATA_DIR", str(tmp_path / "data"))
    now = datetime.now().astimezone()
    later = datetime.fromtimestamp(now.timestamp() + 2 * 24 * HOUR + 30 * 60).astimezone()
    stale = datetime.fromtimestamp(now.timestamp() - 3 * 24 * HOUR).astimezone()
    sent = datetime.fromtimestamp(now.timestamp() - HOUR).astimezone()
    _write(
        base_copy,
        "".join(
            f"  - story: {story}\n    at: {at.isoformat(timespec='seconds')}\n"
            for story, at in (("alpha", later), ("beta", stale), ("gamma", sent))
        ),
    )
    catalog, _ = load_catalog(base_copy)
    assert catalog is not None
    outbox = Outbox(tmp_path / "data" / "state.sqlite3")
    gamma = next(e for e in catalog.schedule if e.story == "gamma")
    broadcast = outbox.enqueue_scheduled(gamma.story, gamma.moment, None)
    outbox.close()
    assert main(["broadcast", "--status", "--stories", str(base_copy)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "scheduled in broadcasts.yaml:", out
    rows = {line.split()[1]: line for line in lines[1:4]}
    assert rows["alpha"].endswith("in 2 d 0 h"), out
    assert rows["beta"].endswith("will not be sent: more than 24 h late"), out
    assert rows["gamma"].endswith(f"queued as broadcast {broadcast}"), out
