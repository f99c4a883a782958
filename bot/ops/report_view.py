"""The report as a terminal text, a self-contained HTML page, or JSON."""

from __future__ import annotations

import json

from bot.ops.charts import story_chart, timeline_chart
from bot.ops.report import DAY, HOUR, MINUTE, Report
from bot.ops.templating import render

CLUSTERS_SHOWN = 30


def _period(report: Report) -> str:
    if report.bucket_seconds < HOUR:
        minutes = report.bucket_seconds // MINUTE
        return "minute" if minutes == 1 else f"{minutes} minutes"
    if report.bucket_seconds == HOUR:
        return "hour"
    return "day" if report.bucket_seconds == DAY else "week"


def render_text(report: Report, clusters: int = CLUSTERS_SHOWN) -> str:
    """The report for a terminal; every value from the log with control characters visible."""
    return render("report.txt.j2", report=report, clusters=report.clusters[:clusters])


def render_html(report: Report, title: str = "") -> str:
    """One self-contained page: inline CSS and SVG, no scripts, every logged value escaped."""
    return render(
        "report.html.j2",
        report=report,
        title=title,
        period=_period(report),
        timeline=timeline_chart(report),
        stories=story_chart(report),
    )


def render_json(report: Report) -> str:
    """The report's figures as one JSON document."""
    return json.dumps(report.to_json(), ensure_ascii=False, indent=2)
