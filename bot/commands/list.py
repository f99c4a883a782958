"""`storybot list`: the catalogue, as text or JSON."""

from __future__ import annotations

import argparse
import json

from bot.commands.common import EXIT_BROKEN_CATALOGUE, load_storyteller


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `list`."""
    parser.add_argument("--json", action="store_true", help="a JSON array")


def run(args: argparse.Namespace) -> int:
    """Print every story's id, titles and counts."""
    teller = load_storyteller(args)
    if teller is None:
        return EXIT_BROKEN_CATALOGUE
    stories = list(teller.snapshot.catalog.stories.values())
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "id": s.id,
                        "title": s.title,
                        "featured": s.featured,
                        "tags": list(s.tags),
                        "related": list(s.related),
                        "questions": {lang: len(q) for lang, q in s.questions.items()},
                        "file": s.path.name,
                    }
                    for s in stories
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    width = max((len(s.id) for s in stories), default=2)
    for s in stories:
        star = "*" if s.featured else " "
        print(f"{star} {s.id:<{width}}  {s.title['en']}  /  {s.title['zh']}")
    print(f"\n{len(stories)} stories (* featured)")
    return 0
