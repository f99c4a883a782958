"""Issue 15's attacks through templates: a time bomb that check cannot see, and memory bombs
that are one C call each. Rendering has one budget, the same for check and the live bot."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from bot.cli import main
from bot.live import build_snapshot
from bot.replies.budget import RenderBudgetExceeded
from bot.replies.conversation import Conversation
from bot.replies.storyteller import Storyteller

TIME_BOMB = (
    "{% if 'xyzzy' in question %}"
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    "{% endif %}\n"
)


def plant(root: Path, template: str, text: str) -> None:
    path = root / "templates" / template
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_a_time_bomb_passes_check_but_costs_one_render_not_the_bot(
    base_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plant(base_copy, "fallback.en.html.j2", TIME_BOMB)
    assert main(["check", "--stories", str(base_copy)]) == 0  # the bomb hides behind a question
    capsys.readouterr()
    snapshot, _ = build_snapshot(base_copy, meaning_model="none")
    assert snapshot is not None
    teller = Storyteller(lambda: snapshot)
    started = time.monotonic()
    with pytest.raises(RenderBudgetExceeded, match="steps"):
        teller.answer("xyzzy plugh", "en", Conversation())
    assert time.monotonic() - started < 2
    assert teller.answer("can penguins skate", "en", Conversation()).text  # the next fan is answered


@pytest.mark.parametrize(
    "bomb",
    [
        "{{ 'a'.ljust(10**9) }}",
        "{{ 'a'.rjust(10**9) }}",
        "{{ 'a'.center(10**9) }}",
        "{{ 'a'.zfill(10**9) }}",
        "{{ ('\\t' * 1000).expandtabs(10**6) }}",
        "{{ '{:>1000000000}'.format('a') }}",
        "{{ '{:>{}}'.format('a', 10**9) }}",
        "{{ '%999999999s'|format('x') }}",
        "{{ 'a'|center(10**9) }}",
        "{{ 'a\\nb'|indent(10**9) }}",
        "{{ ('a' * 1000000).replace('a', 'bbbbbbbbbb') }}",
        "{% set ns = namespace(a='x' * 1000000) %}{% for i in range(12) %}{% set ns.a = ns.a ~ ns.a %}{% endfor %}",
        "{% set ns = namespace(a='x' * 1000000) %}{% for i in range(12) %}{% set ns.a = ns.a + ns.a %}{% endfor %}",
    ],
)
def test_memory_bombs_in_one_call_are_refused_by_check(bomb: str, base_copy: Path) -> None:
    plant(base_copy, "help.en.html.j2", bomb + "\n")
    tracemalloc.start()
    try:
        snapshot, problems = build_snapshot(base_copy, meaning_model="none")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert snapshot is None
    assert any("would build more than" in p.message for p in problems), [p.message for p in problems]
    assert peak < 64 * 1024 * 1024
