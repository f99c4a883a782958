"""Issue 15's attacks on the catalogue: each is run as an attacker would, and must be refused."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bot.cli import main
from bot.live import build_snapshot

SECRET = "attack-token-123456:ABCDEF"


def _include(root: Path, template: str, name: str) -> None:
    path = root / "templates" / template
    path.write_text(path.read_text(encoding="utf-8") + "{% include '" + name + "' %}\n", encoding="utf-8")


@pytest.mark.parametrize("target", ["/proc/self/environ", "secret"])
def test_a_template_linked_to_a_file_elsewhere_is_refused_by_check_and_at_load(
    target: str, base_copy: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", SECRET)
    if target == "secret":  # a plain file outside the catalogue holding the token
        outside = base_copy.parent / "secret"
        outside.write_text(SECRET, encoding="utf-8")
        target = str(outside)
    (base_copy / "templates" / "env.en.html.j2").symlink_to(target)
    _include(base_copy, "help.en.html.j2", "env.en.html.j2")
    assert main(["check", "--stories", str(base_copy)]) == 1
    out, err = capsys.readouterr()
    assert "symbolic link" in out + err
    assert SECRET not in out + err
    snapshot, problems = build_snapshot(base_copy, meaning_model="none")
    assert snapshot is None
    assert any("symbolic link" in p.message for p in problems)


def test_a_template_in_a_linked_folder_is_refused(base_copy: Path) -> None:
    (base_copy / "templates" / "sys").symlink_to("/proc/self")
    _include(base_copy, "help.en.html.j2", "sys/environ")
    snapshot, problems = build_snapshot(base_copy, meaning_model="none")
    assert snapshot is None
    assert any("outside the templates folder" in p.message for p in problems)


def test_a_story_file_linked_elsewhere_is_refused(base_copy: Path) -> None:
    outside = base_copy.parent / "delta.yaml"
    outside.write_text((base_copy / "alpha.yaml").read_text(encoding="utf-8").replace("alpha", "delta"))
    (base_copy / "delta.yaml").symlink_to(outside)
    snapshot, problems = build_snapshot(base_copy, meaning_model="none")
    assert snapshot is None
    assert any(Path(p.file).name == "delta.yaml" and "symbolic link" in p.message for p in problems)


def test_a_proc_file_reached_by_a_hard_path_is_refused(tmp_path: Path) -> None:
    from bot.catalog.safe_yaml import YamlProblem, read_limited

    with pytest.raises(YamlProblem, match="system file"):
        read_limited(Path(f"/proc/{os.getpid()}/environ"))


def test_an_integer_of_five_thousand_digits_is_a_problem_with_its_line(
    base_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = base_copy / "alpha.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "extra: " + "7" * 5000 + "\n", encoding="utf-8")
    line = path.read_text(encoding="utf-8").count("\n")
    assert main(["check", "--stories", str(base_copy)]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert f"alpha.yaml:{line}: error: the number is 5,000 characters long" in out


def _bulky_story(root: Path, story_id: str, phrasings: int) -> None:
    text = (root / "alpha.yaml").read_text(encoding="utf-8").replace("id: alpha", f"id: {story_id}")
    text = text.replace("featured: true", "featured: false").replace("related: [beta]", "related: []")
    many = "".join(f"    - who rowed past goose number {story_id} {n}\n" for n in range(phrasings))
    text = text.replace("    - the rower and the geese\n", "    - the rower and the geese\n" + many)
    (root / f"{story_id}.yaml").write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("files", "phrasings", "said"),
    [
        # 40 files of about 400 KB: each under the file limit, 16 MB in all (check took 2 minutes).
        (40, 9_000, "the limit for the whole catalogue is 8 MiB"),
        (8, 4_000, "phrasings; the limit for the whole catalogue is 30,000"),
    ],
)
def test_a_catalogue_too_big_as_a_whole_is_refused_quickly(
    files: int, phrasings: int, said: str, base_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for n in range(files):
        _bulky_story(base_copy, f"bulk-{n}", phrasings)
    started = time.monotonic()
    assert main(["check", "--stories", str(base_copy)]) == 1
    assert time.monotonic() - started < 20
    out, _ = capsys.readouterr()
    assert said in out
