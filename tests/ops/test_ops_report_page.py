"""The HTML report opened in headless Chromium: the page, not just the file."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

from ops_support import INJECTION, Browser, png_pixels

from bot.live import Snapshot
from bot.matching.matcher import Matcher
from bot.ops.exchange import Exchange
from bot.ops.report import summarise
from bot.ops.report_view import render_html

HITS_GREEN = (0x2F, 0x7D, 0x5B)
MISSES_ORANGE = (0xD9, 0x82, 0x2B)


def rows(dom: str, table: str) -> list[str]:
    """The body rows of the table with this id, as HTML."""
    found = re.search(rf'<table id="{table}">(.*?)</table>', dom, re.S)
    assert found, f"no table #{table} in the page"
    return re.findall(r"<tr class=\"[a-z]+\">(.*?)</tr>", found.group(1), re.S)


def svg(dom: str, chart: str) -> str:
    """The markup of the chart with this id."""
    found = re.search(rf'<svg id="{chart}"[^>]*>(.*?)</svg>', dom, re.S)
    assert found, f"no svg #{chart} in the page"
    return found.group(1)


def page_for(records: list[Exchange], matcher: Matcher, tmp_path: Path, titles: dict[str, str] | None = None) -> Path:
    """Write the report page for these records."""
    page = tmp_path / "report.html"
    page.write_text(render_html(summarise(records, None, matcher, titles)), encoding="utf-8")
    return page


def test_the_page_in_a_browser(
    browser: Browser, records: list[Exchange], matcher: Matcher, tmp_path: Path, shipped_snapshot: Snapshot
) -> None:
    titles = {s.id: s.title["en"] for s in shipped_snapshot.catalog.stories.values()}
    dom = browser.dump_dom(page_for(records, matcher, tmp_path, titles))

    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    assert title and unescape(title.group(1)) == "Storybot report · 2025-03-01 – 2025-03-01"
    assert re.search(r'id="hit-rate">39\.4%<', dom)

    clusters = rows(dom, "clusters")
    assert len(clusters) == 6
    counts = [int(re.findall(r'<td class="n count">(\d+)</td>', row)[0]) for row in clusters]
    assert counts == [5, 4, 3, 2, 2, 1]
    assert "“how do I get a refund”" not in clusters[0]  # quotes come from CSS, not the text
    assert "<q>how do I get a refund</q>" in clusters[0]
    assert "offtopic.yaml" in clusters[1] and "alibaba-today" not in clusters[1]  # the CEO is not a story
    assert f"Add these phrasings to <b>{titles['greatness-of-small']}</b>" in unescape(clusters[3])
    # The fan's markup is text in the page: no script or img element came from it.
    assert "<script" not in dom and "<img" not in dom
    assert unescape(re.sub(r"<[^>]+>", "", clusters[5])).count(INJECTION) == 1

    timeline = svg(dom, "timeline-chart")
    assert len(re.findall(r'<rect class="bar hits"', timeline)) == 5  # one per hour, 09–13
    assert len(re.findall(r'<rect class="bar misses"', timeline)) == 5
    stories = svg(dom, "story-chart")
    # One row per story told or closest to a miss: five told in the fixture, plus whichever story
    # the matcher finds closest to the misses (that one depends on the matcher's tuning).
    shown = len(summarise(records, None, matcher).stories)
    assert shown >= 5
    assert len(re.findall(r'<rect class="bar told"', stories)) == shown
    assert len(re.findall(r'<rect class="bar missed"', stories)) == shown
    assert ">pearce-ducks<" not in stories  # stories by their titles
    assert f">{titles['pearce-ducks'][:20]}" in unescape(stories)

    assert len(rows(dom, "campaigns")) == 1 and "olympics-ad" in rows(dom, "campaigns")[0]
    assert len(rows(dom, "errors")) == 1


def test_the_page_needs_nothing_from_the_network(records: list[Exchange], matcher: Matcher, tmp_path: Path) -> None:
    page = page_for(records, matcher, tmp_path).read_text(encoding="utf-8")
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert "url(" not in page and " src=" not in page.replace(" src=x", "")
    assert "default-src 'none'" in page  # and the page forbids loading anything anyway


def test_the_screenshot_is_not_blank(
    browser: Browser, records: list[Exchange], matcher: Matcher, tmp_path: Path
) -> None:
    png = browser.screenshot(page_for(records, matcher, tmp_path), tmp_path / "report.png", "900,1300")
    width, height, pixel = png_pixels(png)
    assert (width, height) == (900, 1300)
    colours = {pixel(x, y) for x in range(0, width, 7) for y in range(0, height, 7)}
    assert len(colours) > 50, "the page looks blank"
    assert has_colour(colours, HITS_GREEN), "no answered-questions bar drawn"
    assert has_colour(colours, MISSES_ORANGE), "no missed-questions bar drawn"


def has_colour(colours: set[tuple[int, ...]], wanted: tuple[int, int, int]) -> bool:
    """Whether a colour close to `wanted` is among `colours`."""
    return any(all(abs(a - b) <= 12 for a, b in zip(c, wanted, strict=True)) for c in colours)
