"""The command line a marketer uses: ask (one question, JSON, stdin in bulk), list and check."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.catalog.load import story_files
from bot.cli import main

STORIES = Path(__file__).resolve().parent.parent / "stories"
DUCKS = "who stopped rowing to let ducks cross"
JSON_FIELDS = {"question", "outcome", "story", "score", "alternatives", "lang", "reply", "buttons"}


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`storybot ...` in its own process, as a marketer runs it."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


def test_ask_prints_the_story(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "who", "stopped", "rowing", "to", "let", "ducks", "cross"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"> {DUCKS}\n[story pearce-ducks · score ")
    assert "The rower who stopped for ducks" in out
    assert "Amsterdam, 1928." in out
    assert "<b>" not in out  # the terminal shows text, not tags
    assert "buttons: " in out


def test_ask_json_has_every_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--json", DUCKS]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    reply = json.loads(line)
    assert set(reply) >= JSON_FIELDS
    assert reply["question"] == DUCKS
    assert (reply["outcome"], reply["story"], reply["lang"]) == ("story", "pearce-ducks", "en")
    assert 0 <= reply["score"] <= 100
    assert all(set(alt) == {"story", "score"} for alt in reply["alternatives"])
    assert "pearce-ducks" not in [alt["story"] for alt in reply["alternatives"]]
    assert "<b>The rower who stopped for ducks</b>" in reply["reply"]
    assert reply["buttons"] and all(set(button) == {"label", "data"} for row in reply["buttons"] for button in row)


def test_ask_lang_forces_the_language(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "--json", "--lang", "zh", DUCKS]) == 0
    reply = json.loads(capsys.readouterr().out)
    assert reply["lang"] == "zh"
    assert "为鸭子停桨的赛艇手" in reply["reply"]


def test_ask_reads_one_question_a_line_from_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{DUCKS}\n\n   \nhi\n皮尔斯让鸭子先过\n"))
    assert main(["ask", "--json"]) == 0
    replies = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["question"] for r in replies] == [DUCKS, "hi", "皮尔斯让鸭子先过"]
    assert [r["outcome"] for r in replies] == ["story", "smalltalk", "story"]
    assert [r["lang"] for r in replies] == ["en", "en", "zh"]


def test_ask_in_bulk_in_a_real_process() -> None:
    result = run_cli("ask", "--json", stdin="hi\n<script>alert(1)</script>\n谢谢\n")
    assert result.returncode == 0, result.stderr
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["outcome"] for r in replies] == ["smalltalk", "fallback", "smalltalk"]
    assert replies[1]["question"] == "<script>alert(1)</script>"  # reported as asked
    assert all("<script" not in r["reply"] for r in replies)  # never sent back as markup


def test_ask_on_a_broken_catalogue_says_so(base_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (base_copy / "alpha.yaml").write_text("id: [\n", encoding="utf-8")
    assert main(["ask", "--stories", str(base_copy), "geese"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "stories/alpha.yaml:" in err and ": error:" in err
    assert "run `storybot check`" in err


def test_list_shows_every_story(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    ids = [path.stem for path in story_files(STORIES)]
    for story_id in ids:
        assert f" {story_id} " in out
    assert f"{len(ids)} stories (* featured)" in out
    assert "* pearce-ducks" in out


def test_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--json"]) == 0
    stories = json.loads(capsys.readouterr().out)
    assert [s["id"] for s in stories] == [path.stem for path in story_files(STORIES)]
    ducks = next(s for s in stories if s["id"] == "pearce-ducks")
    assert ducks["title"]["zh"] == "为鸭子停桨的赛艇手"
    assert ducks["featured"] is True
    assert ducks["file"] == "pearce-ducks.yaml"
    assert ducks["questions"]["en"] > 0 and ducks["questions"]["zh"] > 0


def test_list_follows_stories_dir_from_the_environment(
    base_copy: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORIES_DIR", str(base_copy))
    assert main(["list", "--json"]) == 0
    assert [s["id"] for s in json.loads(capsys.readouterr().out)] == ["alpha", "beta", "gamma"]


def test_check_passes_on_the_shipped_catalogue_in_a_real_process() -> None:
    result = run_cli("check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "stories OK" in result.stdout
    assert "Traceback" not in result.stderr
