"""`storybot check` on good catalogues: clean exit, warnings that do not fail, JSON output,
and a live store that keeps serving the last good catalogue when an edit breaks it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.catalog.model import FEATURED_LIMIT
from bot.cli import main
from bot.live import CatalogStore
from bot.replies.model import Outcome
from bot.replies.storyteller import Storyteller

GEESE = "who stopped rowing for the geese"


def test_the_shipped_catalogue_checks_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    out, err = capsys.readouterr()
    assert re.search(r"✓ [0-9]+ stories OK", out), out
    assert ": error:" not in err


def _featured_two(root: Path) -> Path:
    alpha = root / "alpha.yaml"
    alpha.write_text(alpha.read_text(encoding="utf-8").replace("featured: true", "featured: 2"), encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("stories", "row"),
    [
        (
            _featured_two,
            ("alpha.yaml", 28, "featured", "must be true or false", "write 'featured: true' or 'featured: false'"),
        ),
        (
            lambda root: root / "nowhere",
            (
                "",
                0,
                "",
                "the stories folder does not exist",
                "point --stories (or STORIES_DIR) at the folder with the YAML files",
            ),
        ),
    ],
    ids=["bad-field", "missing-folder"],
)
def test_check_json_lists_problems_as_objects(
    stories: Callable[[Path], Path],
    row: tuple[str, int, str, str, str],
    base_copy: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = stories(base_copy)
    assert main(["check", "--json", "--stories", str(root)]) == 1
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    file, line, field, message, fix = row
    assert rows == [
        {
            "file": str(root / file) if file else str(root),
            "line": line,
            "field": field,
            "message": message,
            "fix": fix,
            "severity": "error",
        }
    ]


def test_confusable_phrasings_warn_with_both_files_and_lines(
    base_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    beta = base_copy / "beta.yaml"
    text = beta.read_text(encoding="utf-8")
    # Not the same words as alpha's line 7 ("who stopped rowing for the geese"), so not an
    # error, but the same meaning: fans asking it could get either story.
    extra = "    - can penguins skate\n    - who stops rowing for geese\n"
    beta.write_text(text.replace("    - can penguins skate\n", extra), encoding="utf-8")
    assert main(["check", "--stories", str(base_copy)]) == 0
    out, _ = capsys.readouterr()
    warnings = [line for line in out.splitlines() if ": warning:" in line]
    assert len(warnings) == 1, out
    warning = warnings[0]
    assert warning.startswith("stories/alpha.yaml:7: warning: questions.en[1]:"), warning
    assert "beta.yaml:9" in warning and "questions.en[3]" in warning, warning
    assert "Fix: reword one of them" in warning
    assert "(1 warning(s))" in out


def test_a_yml_file_is_a_warning_not_an_error(base_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (base_copy / "delta.yml").write_text("id: delta\n", encoding="utf-8")
    assert main(["check", "--stories", str(base_copy)]) == 0
    out, _ = capsys.readouterr()
    assert "stories/delta.yml: warning: files ending in .yml are ignored. Fix: rename it to delta.yaml." in out


def test_a_title_too_long_for_a_button_is_a_warning(base_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    alpha = base_copy / "alpha.yaml"
    long_title = "The rower who stopped in the middle of a race to let a whole family of geese pass"
    alpha.write_text(
        alpha.read_text(encoding="utf-8").replace("The rower who stopped for geese", long_title),
        encoding="utf-8",
    )
    assert main(["check", "--stories", str(base_copy)]) == 0
    out, _ = capsys.readouterr()
    warning = r"^stories/alpha\.yaml:3: warning: title\.en: the title is [0-9]+ characters"
    assert re.search(warning, out, re.MULTILINE), out


def _tell(store: CatalogStore) -> str:
    reply = store.storyteller().answer(GEESE)
    assert reply.outcome is Outcome.STORY and reply.story_id == "alpha", reply
    return reply.text


def test_reload_keeps_the_last_good_catalogue_when_an_edit_breaks_it(base_copy: Path) -> None:
    store = CatalogStore.open(base_copy)
    teller = store.storyteller()
    before = _tell(store)
    assert "The rower who stopped for geese" in before

    alpha = base_copy / "alpha.yaml"
    good = alpha.read_text(encoding="utf-8")
    alpha.write_text(good.replace("title:\n  en:", "title:\n\ten:"), encoding="utf-8")
    swapped, problems = store.reload()
    assert swapped is False
    assert [(p.file.name, p.line) for p in problems if not p.warning] == [("alpha.yaml", 3)]
    assert store.generation == 1
    assert teller.answer(GEESE).text == before  # fans never see the broken edit

    alpha.write_text(good.replace("stopped for geese", "waited for the geese"), encoding="utf-8")
    swapped, problems = store.reload()
    assert swapped is True, problems
    assert store.generation == 2
    assert "The rower who waited for the geese" in teller.answer(GEESE).text


def test_reload_survives_a_template_that_never_ends(base_copy: Path) -> None:
    store = CatalogStore.open(base_copy)
    before = _tell(store)
    (base_copy / "templates" / "story.en.html.j2").write_text(
        "{% macro again(n) %}{{ again(n + 1) }}{% endmacro %}{{ again(0) }}\n", encoding="utf-8"
    )
    swapped, problems = store.reload()
    assert swapped is False
    assert any("never ends" in p.message for p in problems)
    assert _tell(store) == before


def test_featured_stories_are_capped_and_check_says_which_are_not_shown(
    generated_catalog: Callable[..., Path],
    teller_for: Callable[[Path], Storyteller],
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = generated_catalog(count=9, featured=True)
    teller = teller_for(root)
    reply, _ = teller.start(None, "en")
    shown = [b.data for row in reply.buttons[:-1] for b in row]
    # The first FEATURED_LIMIT by file name, then "all stories": never one button per story.
    assert shown == [f"s:en:story-{n:02d}" for n in range(1, FEATURED_LIMIT + 1)]
    assert main(["check", "--stories", str(root)]) == 0
    out, _ = capsys.readouterr()
    warnings = [line for line in out.splitlines() if ": warning: featured:" in line]
    assert warnings == [
        f"{root.name}/story-07.yaml:22: warning: featured: 9 stories are featured; /start shows the first "
        f"{FEATURED_LIMIT} by file name, so this one and 2 more after it are not shown. "
        f"Fix: keep 'featured: true' on at most {FEATURED_LIMIT} stories."
    ], out


def test_a_template_that_fails_for_every_story_is_reported_once(
    base_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (base_copy / "templates" / "story.zh.html.j2").write_text("{#- emptied by mistake -#}\n", encoding="utf-8")
    assert main(["check", "--stories", str(base_copy)]) == 1
    out, _ = capsys.readouterr()
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert len(errors) == 1, out
    assert errors[0].startswith("stories/templates/story.zh.html.j2: error: the story '"), errors[0]


def test_names_in_the_other_script_are_fine(base_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    alpha = base_copy / "alpha.yaml"
    text = alpha.read_text(encoding="utf-8")
    text = text.replace("  zh: [大雁, 赛艇]", "  zh: [大雁, 赛艇, eBay, Alibaba Cloud, IOC TOP]")
    text = text.replace(
        "    他仍然赢得了比赛。\n",
        "    他仍然赢得了比赛，就像淘宝在2003年赢了eBay，阿里云（Alibaba Cloud）加入了IOC的TOP计划。\n",
    )
    text = text.replace("    He still won the race.\n", "    He still won the race, like Jin Yong (金庸) wrote.\n")
    alpha.write_text(text, encoding="utf-8")
    assert main(["check", "--stories", str(base_copy)]) == 0
    out, _ = capsys.readouterr()
    assert "warning" not in out, out


def test_check_counts_labelled_questions_per_story(
    base_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labelled = tmp_path / "fans.yaml"
    labelled.write_text(
        "- {q: who stopped for the geese, expect: alpha}\n"
        "- {q: the geese rower, expect: alpha}\n"
        "- kind: followup\n"
        "  turns: [{q: 大雁的故事, expect: alpha}, {q: and the penguins?, expect: [beta, gamma]}]\n"
        "- {q: the flying fish, expect: delta}\n"
        "- {q: peking duck recipe, expect: null}\n",
        encoding="utf-8",
    )
    assert main(["check", "--stories", str(base_copy), "--labelled", str(labelled)]) == 0  # warnings only
    out, _ = capsys.readouterr()
    warnings = [line for line in out.splitlines() if ": warning:" in line]
    assert warnings == [
        "fans.yaml:5: warning: expect: 'the flying fish' expects the story 'delta', which is not in the catalogue. "
        "Fix: use one of: alpha, beta, gamma (or null for no story).",
        "stories/beta.yaml:1: warning: id: 1 labelled question(s) expect this story (fans.yaml: 1); `storybot eval` "
        "cannot tell how well fans reach it. Fix: add at least 3 fan questions for it to a labelled file, "
        'e.g. - {q: "a question a fan would ask", expect: beta}.',
        "stories/gamma.yaml:1: warning: id: 1 labelled question(s) expect this story (fans.yaml: 1); `storybot eval` "
        "cannot tell how well fans reach it. Fix: add at least 3 fan questions for it to a labelled file, "
        'e.g. - {q: "a question a fan would ask", expect: gamma}.',
    ], out


def test_a_labelled_file_the_marketer_names_must_read_cleanly(
    base_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labelled = tmp_path / "fans.yaml"
    labelled.write_text("- {q: who stopped for the geese}\n", encoding="utf-8")
    assert main(["check", "--stories", str(base_copy), "--labelled", str(labelled)]) == 1
    out, _ = capsys.readouterr()
    assert "fans.yaml:1: error: each question needs 'q' and 'expect'" in out, out


def test_a_story_added_as_the_guide_says_checks_clean_with_a_coverage_warning(
    catalog_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # stories/README.md, "Adding a story": copy pearce-ducks.yaml, rename it, change every field.
    new = catalog_copy / "rowing-geese.yaml"
    new.write_text(
        "id: rowing-geese\ntitle:\n  en: The rower who waited for geese\n  zh: 等大雁的赛艇手\n"
        "questions:\n  en:\n    - who waited for the geese on the river\n    - the geese and the rower\n"
        "  zh:\n    - 谁在河上等大雁\nkeywords:\n  en: [geese, goose]\n  zh: [大雁]\n"
        "text:\n  en: |\n    <b>A river.</b> A rower waited for a family of geese.\n"
        "  zh: |\n    <b>一条河。</b>一位赛艇手等一群大雁过河。\n"
        "related: [pearce-ducks]\nsources:\n  - title: The Rowing Gazette\n    url: https://example.com/geese\n",
        encoding="utf-8",
    )
    data = Path(__file__).resolve().parent / "data"
    labelled = [arg for path in sorted(data.glob("questions_*.yaml")) for arg in ("--labelled", str(path))]
    assert main(["check", "--stories", str(catalog_copy), *labelled]) == 0
    out, _ = capsys.readouterr()
    assert "stories/rowing-geese.yaml:1: warning: id: 0 labelled question(s) expect this story" in out, out
    assert re.search(r"✓ [0-9]+ stories OK", out), out


def test_check_json_gives_editors_every_problem_with_its_place_and_fix(
    base_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    beta = base_copy / "beta.yaml"
    text = beta.read_text(encoding="utf-8")
    text = text.replace("    - can penguins skate\n", "    - Thanks!\n    - the skating penguins\n")
    text = text.replace("  zh: 学会滑冰的企鹅", "  zh: 學會滑冰的企鵝")
    beta.write_text(text, encoding="utf-8")
    assert main(["check", "--json", "--stories", str(base_copy)]) == 1
    out, err = capsys.readouterr()
    rows = [json.loads(line) for line in out.splitlines()]  # every line is one JSON object, nothing else
    assert err == ""
    for row in rows:
        assert set(row) == {"file", "line", "field", "severity", "message", "fix"}, row
        assert isinstance(row["line"], int) and row["severity"] in ("error", "warning")
        assert row["message"] and row["fix"]
    found = {(Path(r["file"]).name, r["line"], r["field"], r["severity"]) for r in rows}
    assert found == {
        ("beta.yaml", 4, "title.zh", "error"),
        ("beta.yaml", 8, "questions.en[2]", "error"),
        ("beta.yaml", 9, "questions.en[3]", "warning"),
    }, rows
    assert next(r for r in rows if r["line"] == 4)["message"].endswith(": 學 會 鵝")
