"""The one way a catalogue becomes a servable Snapshot: load it, run every check, prepare it."""

from __future__ import annotations

from pathlib import Path

from bot.catalog_load import load_catalog
from bot.confusion import confusable_phrasings
from bot.matcher import Matcher
from bot.problems import Problem
from bot.render import Renderer
from bot.replies import Snapshot
from bot.template_checks import check_templates


def build_snapshot(
    root: Path, *, confusion: bool = False, thorough: bool = False
) -> tuple[Snapshot | None, list[Problem]]:
    """Load, check and prepare a catalogue; None when any error means it must not be served.

    `thorough` (what `storybot check` does) renders every story in every language; otherwise
    (start-up and hot reload) every template is rendered with a sample of stories, and every
    story's own HTML is still checked, which keeps loading 1,000 stories well under a second.
    """
    catalog, problems = load_catalog(root)
    if catalog is None:
        return None, problems
    renderer = Renderer(catalog)
    problems.extend(check_templates(catalog, renderer, thorough=thorough))
    if confusion:
        problems.extend(confusable_phrasings(catalog))
    # One mistake can surface twice (an opening and a closing tag): say it once.
    problems = list(dict.fromkeys(problems))
    if any(not p.warning for p in problems):
        return None, problems
    return Snapshot(catalog, Matcher(catalog), renderer), problems
