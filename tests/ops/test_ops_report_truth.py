"""A report that tells the truth: advice that fits each group of misses, likely wrong answers,
stories by title, time charts in buckets that fit the span."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

from ops_support import Browser, ex
from test_ops_report_page import page_for, rows, svg

from bot.matching.matcher import Matcher
from bot.ops.clusters import cluster
from bot.ops.report import HOUR, MINUTE, summarise
from bot.ops.report_view import render_text


def test_follow_ups_small_talk_and_off_topic_are_never_suggested_for_a_story(matcher: Matcher) -> None:
    groups = {c.examples[0]: c for c in cluster(["did he win?", "haha nice", "where is my parcel"], matcher)}
    assert groups["did he win?"].advice == "followup"  # not "add it to ebay-2003.yaml"
    assert groups["haha nice"].advice == "smalltalk"
    assert groups["where is my parcel"].advice == "offtopic"
    (ducks,) = cluster(["what did bobby pearce do with the ducks in the race"], matcher)
    assert (ducks.advice, ducks.closest) == ("story", "pearce-ducks")  # its own words name the story


def test_a_fan_asking_again_within_a_minute_marks_a_likely_wrong_answer() -> None:
    records = [
        ex(0, "who stopped for the ducks", "story", "ebay-2003", user=1),  # the wrong story...
        ex(0.5, "no, the rower who stopped for ducks", "story", "pearce-ducks", user=1),  # ...asked again
        ex(3, "how did taobao win", "story", "ebay-2003", user=2),
        ex(5, "and alibaba today?", "story", "alibaba-today", user=2),  # two minutes later: a new question
        ex(7, "kenya ice hockey", "story", "kenya-ice-hockey", user=3),
        ex(7.2, "thanks", "smalltalk", user=3),  # thanks is not asking again
        ex(8, "bobby pearce", "story", "pearce-ducks", user=4),
        ex(8.3, "did he win", "story", "pearce-ducks", user=4),  # the same story: a follow-up
    ]
    report = summarise(records, titles={"ebay-2003": "How Taobao beat eBay"})
    (wrong,) = report.rephrased
    assert (wrong.story, wrong.question, wrong.again, wrong.count) == (
        "ebay-2003",
        "who stopped for the ducks",
        "no, the rower who stopped for ducks",
        1,
    )
    text = render_text(report)
    assert '"who stopped for the ducks" → How Taobao beat eBay → then "no, the rower' in text


def test_the_time_chart_picks_minutes_for_a_ten_minute_span(browser: Browser, matcher: Matcher, tmp_path: Path) -> None:
    records = [ex(m, "bobby pearce", "story", "pearce-ducks", user=m) for m in range(0, 11)]
    records += [ex(4.5, "refund please", "fallback", user=99)]
    records += [
        ex(2, "who stopped for the ducks", "story", "ebay-2003", user=50),
        ex(2.5, "no, the rower", "fallback", user=50),
    ]
    report = summarise(records)
    assert report.bucket_seconds == MINUTE and len(report.timeline) == 11
    assert summarise([ex(0, "a", "fallback"), ex(300, "b", "fallback")]).bucket_seconds == HOUR
    dom = browser.dump_dom(page_for(records, matcher, tmp_path, {"pearce-ducks": "The rower who stopped"}))
    timeline = svg(dom, "timeline-chart")
    assert len(re.findall(r'<rect class="bar hits"', timeline)) == 11  # not one wide bar
    assert "Per minute (UTC)" in unescape(dom)
    assert ">The rower who stopped<" in svg(dom, "story-chart")
    assert "The rower who stopped" in rows(dom, "stories")[0]
    (again,) = rows(dom, "rephrased")
    assert "<q>who stopped for the ducks</q>" in again and "<q>no, the rower</q>" in again
