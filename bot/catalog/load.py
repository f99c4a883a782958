"""Loading a catalogue folder: story, small-talk, off-topic and UI files, and the checks across files."""

from __future__ import annotations

from pathlib import Path

from bot.catalog.model import (
    FEATURED_LIMIT,
    ID_PATTERN,
    LANGS,
    SCHEDULE_FILE,
    SMALLTALK_FIELDS,
    SPECIAL_FILES,
    STORY_OPTIONAL,
    STORY_REQUIRED,
    UI_KEYS,
    UI_OPTIONAL,
    Catalog,
    SmallTalk,
    Story,
)
from bot.catalog.problems import Problem
from bot.catalog.reader import LANG_NAMES, Reader, kind_of, nested_lines, read_sources, read_yaml
from bot.catalog.safe_yaml import LocDict, LocList
from bot.catalog.schedule import load_schedule


def load_story(path: Path) -> tuple[Story | None, list[Problem]]:
    """Read one story file; the story is None when it cannot be used."""
    reader = Reader(path)
    data = read_yaml(path, reader)
    if data is None and not reader.problems:
        reader.problem(1, "", "the file is empty", "write the story's fields, or delete the file")
    if reader.problems:
        return None, reader.problems
    if not isinstance(data, LocDict):
        reader.problem(
            1,
            "",
            f"a story must be a mapping of fields, not {kind_of(data)}",
            "start with 'id: <story-id>' and the other fields, one a line",
        )
        return None, reader.problems
    reader.unknown_fields(data, STORY_REQUIRED + STORY_OPTIONAL)
    for key in STORY_REQUIRED:
        if key not in data:
            reader.problem(
                data.line,
                key,
                f"the required field '{key}' is missing",
                f"add '{key}:' (see stories/README.md)",
            )
    story_id = reader.text(data.get("id"), reader.line_of(data, "id"), "id") if "id" in data else None
    if story_id is not None:
        if not ID_PATTERN.match(story_id):
            reader.problem(
                reader.line_of(data, "id"),
                "id",
                f"'{story_id}' is not a valid id",
                "use up to 40 lowercase letters, digits and '-' (it is the deep-link payload)",
            )
        elif story_id != path.stem and (path.parent / f"{story_id}.yaml").is_file():
            reader.problem(
                reader.line_of(data, "id"),
                "id",
                f"the id '{story_id}' is already used by {story_id}.yaml",
                f"give this story its own id, and name the file after it ({path.stem}?)",
            )
        elif story_id != path.stem:
            reader.problem(
                reader.line_of(data, "id"),
                "id",
                f"the id '{story_id}' differs from the file name '{path.name}'",
                f"rename the file to {story_id}.yaml or change the id",
            )
    title = reader.per_lang(data, "title", as_list=False) if "title" in data else {}
    questions = reader.per_lang(data, "questions", as_list=True) if "questions" in data else {}
    keywords = reader.per_lang(data, "keywords", as_list=True) if "keywords" in data else {}
    text = reader.per_lang(data, "text", as_list=False) if "text" in data else {}
    related = (
        reader.text_list(data.get("related"), reader.line_of(data, "related"), "related", allow_empty=True)
        if "related" in data
        else ()
    )
    sources = read_sources(reader, data) if "sources" in data else ()
    tags = (
        reader.text_list(data.get("tags"), reader.line_of(data, "tags"), "tags", allow_empty=True)
        if "tags" in data
        else ()
    )
    featured = data.get("featured", False)
    if not isinstance(featured, bool):
        reader.problem(
            reader.line_of(data, "featured"),
            "featured",
            "must be true or false",
            "write 'featured: true' or 'featured: false'",
        )
        featured = False
    template = None
    if data.get("template") is not None:
        template = reader.text(data["template"], reader.line_of(data, "template"), "template")
    if any(not p.warning for p in reader.problems) or story_id is None:
        return None, reader.problems
    story = Story(
        id=story_id,
        title=title,
        questions=questions,
        keywords=keywords,
        text=text,
        related=related,
        sources=sources,
        tags=tags,
        featured=featured,
        template=template,
        path=path,
        lines={**data.lines, **nested_lines(data)},
    )
    return story, reader.problems


def _optional_mapping(path: Path, reader: Reader, message: str, fix: str) -> LocDict | None:
    """An optional file's top-level mapping; None (problems in `reader`) when absent or unusable."""
    if not path.exists():
        return None
    data = read_yaml(path, reader)
    if data is not None and not isinstance(data, LocDict):
        reader.problem(1, "", message, fix)
        return None
    return data if isinstance(data, LocDict) else None


def load_smalltalk(path: Path) -> tuple[dict[str, SmallTalk], list[Problem]]:
    """Read small-talk intents; a missing file means no small talk."""
    reader = Reader(path)
    data = _optional_mapping(path, reader, "small talk must be a mapping of intents", "write 'greeting:' and so on")
    if data is None:
        return {}, reader.problems
    intents: dict[str, SmallTalk] = {}
    for intent, body in data.items():
        line = reader.line_of(data, intent)
        if not isinstance(body, LocDict):
            reader.problem(
                line,
                intent,
                "must hold 'questions' and 'reply'",
                "indent 'questions:' and 'reply:' under the intent",
            )
            continue
        reader.unknown_fields(body, SMALLTALK_FIELDS, f"{intent}.")
        questions = reader.per_lang(body, "questions", as_list=True, where=f"{intent}.")
        reply = reader.per_lang(body, "reply", as_list=False, where=f"{intent}.")
        intents[intent] = SmallTalk(intent, questions, reply, line, nested_lines(body))
    return intents, reader.problems


def load_offtopic(path: Path) -> tuple[dict[str, tuple[str, ...]], dict[str, int], list[Problem]]:
    """Read the examples of questions no story should answer, with the line of each ('en[1]')."""
    reader = Reader(path)
    data = _optional_mapping(path, reader, "must give a list per language", "write 'en:' and 'zh:' lists")
    if data is None:
        return {}, {}, reader.problems
    reader.unknown_fields(data, LANGS)
    result = {
        lang: reader.text_list(data[lang], reader.line_of(data, lang), lang, allow_empty=True)
        for lang in LANGS
        if lang in data
    }
    lines = {
        f"{lang}[{index + 1}]": line
        for lang in result
        if isinstance(data[lang], LocList)
        for index, line in enumerate(data[lang].lines)
    }
    return result, lines, reader.problems


def load_ui(path: Path) -> tuple[dict[str, dict[str, str]], list[Problem]]:
    """Read the short UI strings (button labels, command descriptions) per language."""
    reader = Reader(path)
    if not path.exists():
        reader.problem(0, "", "ui.yaml is missing", "restore stories/ui.yaml from the repository")
        return {}, reader.problems
    data = read_yaml(path, reader)
    if not isinstance(data, LocDict):
        if data is not None:
            reader.problem(1, "", "must give the strings per language", "write 'en:' and 'zh:'")
        return {}, reader.problems
    reader.unknown_fields(data, LANGS)
    result: dict[str, dict[str, str]] = {}
    for lang in LANGS:
        strings = data.get(lang)
        if not isinstance(strings, LocDict):
            reader.problem(
                data.line,
                lang,
                f"the {LANG_NAMES[lang]} strings are missing",
                f"add '{lang}:' with every key ({', '.join(UI_KEYS)})",
            )
            continue
        reader.unknown_fields(strings, UI_KEYS + UI_OPTIONAL, f"{lang}.")
        result[lang] = {}
        for key in UI_KEYS + tuple(k for k in UI_OPTIONAL if k in strings):
            if key not in strings:
                reader.problem(
                    reader.line_of(data, lang),
                    f"{lang}.{key}",
                    f"the string '{key}' is missing",
                    f"add '{key}: ...' under '{lang}:'",
                )
                continue
            checked = reader.text(strings[key], reader.line_of(strings, key), f"{lang}.{key}")
            if checked is not None:
                result[lang][key] = checked
    return result, reader.problems


def story_files(root: Path) -> list[Path]:
    """The story files of a catalogue folder, in a stable order (by name: one folder)."""
    return sorted((p for p in root.glob("*.yaml") if p.name not in SPECIAL_FILES), key=lambda p: p.name)


# The catalogue as a whole: one file can be 512 KiB, but forty of them took check two minutes and
# 2 GB. A brand's catalogue is a few hundred stories of a few KiB each, far below these.
MAX_CATALOGUE_BYTES = 8 * 1024 * 1024
MAX_PHRASINGS = 30_000
MAX_TEMPLATES = 500


def _over_budget(root: Path, files: list[Path]) -> Problem | None:
    """A problem when the catalogue as a whole is too big to check and serve; None when it fits."""
    total = sum(p.lstat().st_size for p in files if p.exists())
    if total > MAX_CATALOGUE_BYTES:
        return Problem(
            root,
            0,
            "",
            f"the stories add up to {total // (1024 * 1024)} MiB; the limit for the whole catalogue is "
            f"{MAX_CATALOGUE_BYTES // (1024 * 1024)} MiB",
            "a story is a few KiB: shorten the longest files, or split the catalogue into several bots",
        )
    templates = root / "templates"
    count = sum(1 for _ in templates.rglob("*")) if templates.is_dir() else 0
    if count > MAX_TEMPLATES:
        return Problem(
            templates,
            0,
            "",
            f"the templates folder holds {count:,} files; the limit is {MAX_TEMPLATES}",
            "keep only the templates the stories use",
        )
    return None


def _too_many_phrasings(root: Path, stories: dict[str, Story]) -> Problem | None:
    count = sum(len(q) for s in stories.values() for q in s.questions.values())
    if count <= MAX_PHRASINGS:
        return None
    return Problem(
        root,
        0,
        "",
        f"the stories hold {count:,} phrasings; the limit for the whole catalogue is {MAX_PHRASINGS:,}",
        "keep the phrasings fans really use: a few dozen a story are plenty",
    )


def load_catalog(root: Path) -> tuple[Catalog | None, list[Problem]]:
    """Load and structurally check a catalogue; None when any error makes it unusable."""
    problems: list[Problem] = []
    if not root.is_dir():
        problems.append(
            Problem(
                root,
                0,
                "",
                "the stories folder does not exist",
                "point --stories (or STORIES_DIR) at the folder with the YAML files",
            )
        )
        return None, problems
    stories: dict[str, Story] = {}
    unusable: set[str] = set()  # files with errors of their own: not "missing" for `related`
    files = story_files(root)
    for extra in sorted(root.glob("*.yml")):
        problems.append(
            Problem(
                extra,
                0,
                "",
                "files ending in .yml are ignored",
                f"rename it to {extra.stem}.yaml",
                warning=True,
            )
        )
    if not files:
        problems.append(
            Problem(
                root,
                0,
                "",
                "there are no stories",
                "add at least one <id>.yaml file (see stories/README.md)",
            )
        )
    too_big = _over_budget(root, files)
    if too_big is not None:
        return None, [*problems, too_big]
    for path in files:
        story, found = load_story(path)
        problems.extend(found)
        if story is None:
            unusable.add(path.stem)
            continue
        if story.id in stories:
            first = stories[story.id].path
            problems.append(
                Problem(
                    path,
                    story.lines.get("id", 1),
                    "id",
                    f"the id '{story.id}' is already used by {first.name}",
                    "give each story its own id",
                )
            )
            continue
        stories[story.id] = story
    smalltalk, found = load_smalltalk(root / "smalltalk.yaml")
    problems.extend(found)
    offtopic, offtopic_lines, found = load_offtopic(root / "offtopic.yaml")
    problems.extend(found)
    ui, found = load_ui(root / "ui.yaml")
    problems.extend(found)
    schedule, found = load_schedule(root / SCHEDULE_FILE, stories, unusable)
    problems.extend(found)
    problems.extend(_cross_checks(stories, unusable))
    too_many = _too_many_phrasings(root, stories)
    if too_many is not None:
        problems.append(too_many)
    if any(not p.warning for p in problems):
        return None, problems
    catalog = Catalog(root, stories, smalltalk, offtopic, ui, offtopic_lines, schedule)
    return catalog, problems


def _cross_checks(stories: dict[str, Story], unusable: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    for story in stories.values():
        for index, other in enumerate(story.related):
            if other in unusable:
                continue  # its own file's errors say what is wrong with it
            if other not in stories:
                problems.append(
                    Problem(
                        story.path,
                        story.lines.get("related", 1),
                        f"related[{index + 1}]",
                        f"there is no story '{other}'",
                        f"use one of: {', '.join(sorted(stories))}, or remove it",
                    )
                )
            elif other == story.id:
                problems.append(
                    Problem(
                        story.path,
                        story.lines.get("related", 1),
                        f"related[{index + 1}]",
                        "a story cannot be related to itself",
                        "remove it",
                    )
                )
    featured = [story for story in stories.values() if story.featured]
    if len(featured) > FEATURED_LIMIT:
        first_hidden = featured[FEATURED_LIMIT]
        problems.append(
            Problem(
                first_hidden.path,
                first_hidden.lines.get("featured", 1),
                "featured",
                f"{len(featured)} stories are featured; /start shows the first {FEATURED_LIMIT} by file name, "
                f"so this one and {len(featured) - FEATURED_LIMIT - 1} more after it are not shown",
                f"keep 'featured: true' on at most {FEATURED_LIMIT} stories",
                warning=True,
            )
        )
    return problems
