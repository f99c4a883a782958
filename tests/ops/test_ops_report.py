"""`storybot report`: the figures and the clusters of misses on the fixture log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ops_support import INJECTION, T0, ex, write_log

from bot.cli import main
from bot.matching.matcher import Matcher
from bot.ops.clusters import cluster, cluster_key
from bot.ops.exchange import Exchange
from bot.ops.report import DAY, HOUR, summarise
from bot.ops.report_view import render_html, render_json, render_text


def test_the_figures(records: list[Exchange], matcher: Matcher) -> None:
    report = summarise(records, None, matcher)
    assert report.exchanges == 42
    assert report.fans == 16
    assert report.questions == 33  # free text answered by the matcher (no buttons, commands)
    assert (report.hits, report.clarify, report.fallback, report.smalltalk) == (13, 2, 15, 3)
    assert report.hit_rate == pytest.approx(13 / 33)
    assert report.rate(report.clarify) == pytest.approx(2 / 33)
    assert report.rate(report.fallback) == pytest.approx(15 / 33)
    assert report.errors == 1 and report.blocked == 1
    assert report.inline == 2  # searched while typing: neither questions nor misses
    assert report.error_messages == (("TimedOut: send_message", 1),)
    told = {s.story: (s.told, s.asked) for s in report.stories}
    assert told["pearce-ducks"] == (7, 5)  # two button presses open it too
    assert told["greatness-of-small"] == (3, 1)  # two deep links, one question
    assert report.stories[0].story == "pearce-ducks"
    (campaign,) = report.campaigns
    assert (campaign.campaign, campaign.exchanges, campaign.fans) == ("olympics-ad", 3, 2)


def test_misses_grouped_largest_first_with_the_closest_story(records: list[Exchange], matcher: Matcher) -> None:
    clusters = summarise(records, None, matcher).clusters
    assert [c.count for c in clusters] == [5, 4, 3, 2, 2, 1]
    refunds, ceo, orders, ad, chinese, odd = clusters
    assert refunds.examples == ("how do I get a refund", "can I get my refund", "refund please")
    assert refunds.closest is None  # nothing in the catalogue is about refunds: a new story?
    assert set(ceo.examples) == {"who is the ceo", "alibaba ceo", "who is the ceo now"}
    assert ceo.closest == "alibaba-today"
    assert set(orders.examples) == {"where is my order", "track my order"}
    assert set(ad.examples) == {"was the ad on tv", "did the ad air on tv"}
    assert ad.closest == "greatness-of-small" and ad.closest_score > 50
    assert set(chinese.examples) == {"怎么退款", "退款"}
    assert odd.examples == (INJECTION,)
    assert [c.advice for c in clusters] == ["offtopic", "offtopic", "offtopic", "story", "offtopic", "offtopic"]
    missed = {s.story: s.missed for s in summarise(records, None, matcher).stories}
    assert missed["alibaba-today"] == 4 and missed["greatness-of-small"] == 2


def test_clustering_keeps_unrelated_questions_apart() -> None:
    groups = cluster(["where is my parcel", "where is jack ma", "who is the ceo", "who is the founder"])
    assert [c.count for c in groups] == [1, 1, 1, 1]
    assert cluster_key("Who is the CEO?") == cluster_key("who is the ceo")


def test_no_matcher_no_suggestion(records: list[Exchange]) -> None:
    report = summarise(records)
    assert all(c.closest is None for c in report.clusters)
    assert [c.count for c in report.clusters] == [5, 4, 3, 2, 2, 1]


def test_since_drops_older_records(records: list[Exchange]) -> None:
    report = summarise(records, since=T0 + 200 * 60)
    assert report.exchanges == sum(r.time >= T0 + 200 * 60 for r in records)
    assert report.since == T0 + 200 * 60


def test_timeline_per_hour_for_a_short_span(records: list[Exchange]) -> None:
    report = summarise(records)
    assert report.bucket_seconds == HOUR
    assert [b.start for b in report.timeline] == [T0 + h * HOUR for h in range(5)]
    assert sum(b.hits for b in report.timeline) == report.hits
    assert sum(b.misses for b in report.timeline) == report.misses
    assert (report.timeline[0].hits, report.timeline[0].misses) == (5, 4)


def test_timeline_per_day_for_a_long_span() -> None:
    records = [ex(day * 24 * 60, "bobby pearce", "story", "pearce-ducks") for day in range(10)]
    records.append(ex(3 * 24 * 60 + 5, "refund", "fallback"))
    report = summarise(records)
    assert report.bucket_seconds == DAY
    assert len(report.timeline) == 10
    assert report.timeline[3].misses == 1 and report.timeline[4].hits == 1


def test_an_empty_log() -> None:
    report = summarise([])
    assert report.exchanges == 0 and report.hit_rate == 0.0 and report.timeline == ()
    assert "no exchanges" in render_text(report)
    assert "<svg" in render_html(report)


def test_text_report(records: list[Exchange], matcher: Matcher) -> None:
    text = render_text(summarise(records, None, matcher))
    assert "Questions        33" in text
    assert "answered       13 (39.4% hit rate)" in text
    assert "did you mean   2 (6.1%)" in text
    assert "no match       15 (45.5%)" in text
    assert "olympics-ad" in text
    assert '   5× "how do I get a refund" · "can I get my refund" · "refund please"' in text
    refunds, ceo, _, ad = text.split("        → ")[1:5]
    assert refunds.startswith("off-topic: add to stories/offtopic.yaml")  # never "add to alibaba-today"
    assert ceo.startswith("off-topic: add to stories/offtopic.yaml")
    assert ad.startswith('add these phrasings to "greatness-of-small" (stories/greatness-of-small.yaml)')
    assert "TimedOut: send_message" in text


def test_text_report_shows_control_characters(matcher: Matcher) -> None:
    text = render_text(summarise([ex(1, "hi\x1b[31m red", "fallback")], None, matcher))
    assert "\x1b" not in text and "hi\\x1b[31m red" in text


def test_json_report(records: list[Exchange], matcher: Matcher) -> None:
    data = json.loads(render_json(summarise(records, None, matcher)))
    assert data["questions"] == 33 and data["hit_rate"] == round(13 / 33, 4)
    assert data["clusters"][0]["count"] == 5
    assert data["campaigns"] == [{"campaign": "olympics-ad", "exchanges": 3, "fans": 2}]


def test_html_escapes_everything_from_the_log(records: list[Exchange], matcher: Matcher) -> None:
    page = render_html(summarise(records, None, matcher))
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page


def test_report_command(tmp_path: Path, records: list[Exchange], capsys: pytest.CaptureFixture[str]) -> None:
    log = write_log(tmp_path / "var" / "exchanges.jsonl", records)
    page = tmp_path / "out" / "report.html"
    assert main(["report", "--file", str(log), "--html", str(page)]) == 0
    captured = capsys.readouterr()
    assert "Misses grouped: 17 in 6 group(s)" in captured.out
    assert f"wrote {page}" in captured.err
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert main(["report", "--file", str(log), "--json", "--since", "1h"]) == 0
    assert json.loads(capsys.readouterr().out)["exchanges"] == 0  # the fixture is from 2025
