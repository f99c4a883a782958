"""`storybot init [DIR]`: copy the sample catalogue out, as the start of a brand's own catalogue."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from bot.catalog.load import story_files
from bot.config import shipped_stories

EXIT_REFUSED = 1
# Only the catalogue's own files: never bytecode or anything else a package folder may hold.
COPIED = ("*.yaml", "README.md", "templates/*.j2")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `init`."""
    parser.add_argument("dir", nargs="?", type=Path, default=Path("stories"), help="where (default: ./stories)")


def run(args: argparse.Namespace) -> int:
    """Copy every sample story, template and the marketers' README; never overwrite anything."""
    target: Path = args.dir
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        print(f"storybot init: {target} already exists and is not empty; nothing was copied.", file=sys.stderr)
        return EXIT_REFUSED
    source = shipped_stories()
    for pattern in COPIED:
        for path in sorted(source.glob(pattern)):
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
    count = len(story_files(target))
    print(
        f"Copied the sample catalogue ({count} stories, templates and README.md) to {target}.\n"
        f"Edit it (see {target / 'README.md'}), then: STORIES_DIR={target} storybot check"
    )
    return 0
