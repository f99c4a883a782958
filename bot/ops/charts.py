"""Geometry for the report's inline SVG bar charts; the template draws and words them."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.ops.report import DAY, HOUR, Report
from bot.ops.templating import when

WIDTH = 760
PLOT_LEFT = 44
PLOT_TOP = 12
TIMELINE_HEIGHT = 200
ROW_HEIGHT = 26
STORY_LABEL = 190
MAX_X_LABELS = 8


@dataclass(frozen=True, slots=True)
class Bar:
    """One rectangle: which series, where, and the value it stands for."""

    series: str  # hits | misses | told | missed
    x: float
    y: float
    width: float
    height: float
    value: int
    label: str


@dataclass(frozen=True, slots=True)
class Tick:
    """A labelled position on an axis."""

    x: float
    y: float
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart's size, bars, axis ticks and the baseline."""

    width: int
    height: int
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    labels: tuple[Tick, ...]
    baseline: float
    plot_left: float


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 × 10ⁿ at or above `value` (at least 1)."""
    if value <= 1:
        return 1
    power = int(10 ** math.floor(math.log10(value)))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def timeline_chart(report: Report) -> Chart:
    """Stacked bars a bucket: answered questions below, misses on top."""
    buckets = report.timeline
    plot_width = WIDTH - PLOT_LEFT - 8
    baseline = PLOT_TOP + TIMELINE_HEIGHT
    top = nice_ceiling(max((b.hits + b.misses for b in buckets), default=0))
    scale = TIMELINE_HEIGHT / top
    slot = plot_width / max(len(buckets), 1)
    gap = min(2.0, slot * 0.2)
    fmt = "%H:%M" if report.bucket_seconds <= HOUR else "%m-%d"
    if report.bucket_seconds <= HOUR and buckets and buckets[-1].start - buckets[0].start >= DAY:
        fmt = "%m-%d %H:%M"
    bars: list[Bar] = []
    labels: list[Tick] = []
    every = max(1, math.ceil(len(buckets) / MAX_X_LABELS))
    for i, bucket in enumerate(buckets):
        x = PLOT_LEFT + i * slot + gap / 2
        label = when(bucket.start, fmt)
        hit_h = bucket.hits * scale
        miss_h = bucket.misses * scale
        bars.append(Bar("hits", x, baseline - hit_h, slot - gap, hit_h, bucket.hits, label))
        bars.append(Bar("misses", x, baseline - hit_h - miss_h, slot - gap, miss_h, bucket.misses, label))
        if i % every == 0:
            labels.append(Tick(x + (slot - gap) / 2, baseline + 16, label))
    ticks = tuple(
        Tick(PLOT_LEFT - 6, baseline - TIMELINE_HEIGHT * k / 4, str(top * k // 4)) for k in range(5) if top * k % 4 == 0
    )
    return Chart(WIDTH, int(baseline + 28), tuple(bars), ticks, tuple(labels), baseline, PLOT_LEFT)


def story_chart(report: Report) -> Chart:
    """Two bars a story: times told, and misses that came closest to it."""
    rows = report.stories
    plot_left = STORY_LABEL
    plot_width = WIDTH - plot_left - 40
    top = nice_ceiling(max((max(s.told, s.missed) for s in rows), default=0))
    scale = plot_width / top
    bars: list[Bar] = []
    labels: list[Tick] = []
    half = (ROW_HEIGHT - 6) / 2
    for i, row in enumerate(rows):
        y = PLOT_TOP + i * ROW_HEIGHT
        title = report.title(row.story)
        bars.append(Bar("told", plot_left, y, row.told * scale, half, row.told, title))
        bars.append(Bar("missed", plot_left, y + half, row.missed * scale, half, row.missed, title))
        labels.append(Tick(plot_left - 8, y + half + 4, title))
    baseline = PLOT_TOP + len(rows) * ROW_HEIGHT
    ticks = tuple(
        Tick(plot_left + plot_width * k / 4, baseline + 14, str(top * k // 4)) for k in range(5) if top * k % 4 == 0
    )
    return Chart(WIDTH, int(baseline + 24), tuple(bars), ticks, tuple(labels), baseline, plot_left)
