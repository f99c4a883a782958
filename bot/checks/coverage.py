"""How well labelled fan questions cover the catalogue: a story no labelled question expects is a
story nobody has measured (`storybot eval`), so `storybot check` warns about it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bot.catalog.model import Catalog
from bot.catalog.problems import Problem
from bot.evaluate import ANY_STORY, ON_TOPIC, SMALLTALK, load_labelled, questions

MIN_LABELLED = 3  # fewer labelled questions than this measure a story by luck
LABELLED_PATTERNS = ("questions_*.yaml", "conversations_*.yaml")
_KEYWORDS = {SMALLTALK, ANY_STORY, ON_TOPIC}


def default_labelled(root: Path) -> list[Path]:
    """The project's own labelled sets beside the catalogue (tests/data), when it has them."""
    data = root.resolve().parent / "tests" / "data"
    return sorted(path for pattern in LABELLED_PATTERNS for path in data.glob(pattern))


def labelled_coverage(catalog: Catalog, files: list[Path], *, chosen: bool) -> list[Problem]:
    """A warning per story with fewer than MIN_LABELLED labelled questions, and per label of no story.

    Files the marketer `chosen` must read cleanly (errors); the project's own sets only warn.
    """
    problems: list[Problem] = []
    counts: dict[str, Counter[str]] = {story_id: Counter() for story_id in catalog.stories}
    for file in files:
        talks, found = load_labelled(file)
        problems.extend(Problem(p.file, p.line, p.field, p.message, p.fix, warning=not chosen) for p in found)
        for turn in questions(talks):
            expected = turn.expect if isinstance(turn.expect, tuple) else (turn.expect,)
            for story_id in expected:
                if story_id is None or story_id in _KEYWORDS:
                    continue
                if story_id in counts:
                    counts[story_id][file.name] += 1
                else:
                    problems.append(
                        Problem(
                            file,
                            turn.line,
                            "expect",
                            f"'{turn.question}' expects the story '{story_id}', which is not in the catalogue",
                            f"use one of: {', '.join(sorted(catalog.stories))} (or null for no story)",
                            warning=True,
                        )
                    )
    if not files:
        return problems
    for story_id, per_file in counts.items():
        total = sum(per_file.values())
        if total >= MIN_LABELLED:
            continue
        story = catalog.stories[story_id]
        where = ", ".join(f"{name}: {n}" for name, n in sorted(per_file.items()))
        where = where or f"none in {len(files)} labelled file(s): {', '.join(f.name for f in files[:3])}" + (
            ", …" if len(files) > 3 else ""
        )
        problems.append(
            Problem(
                story.path,
                story.lines.get("id", 1),
                "id",
                f"{total} labelled question(s) expect this story ({where}); "
                f"`storybot eval` cannot tell how well fans reach it",
                f"add at least {MIN_LABELLED} fan questions for it to a labelled file, "
                f'e.g. - {{q: "a question a fan would ask", expect: {story_id}}}',
                warning=True,
            )
        )
    return problems
