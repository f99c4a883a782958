"""Grid-search MatcherConfig on the tune set only; prints the best settings (never the holdout)."""

from __future__ import annotations

import itertools
import sys
from dataclasses import replace
from pathlib import Path

from bot.evaluate import load_labelled, questions
from bot.live import build_snapshot
from bot.matching.matcher import Matcher, MatcherConfig, Verdict

ROOT = Path(__file__).resolve().parent.parent


def accuracy(matcher: Matcher, items: list[tuple[str, str | None]]) -> tuple[float, float, float]:
    """Overall, in-scope and off-topic accuracy of `matcher` on `items`."""
    right = ins = ins_right = off = off_right = 0
    for question, expect in items:
        match = matcher.match(question)
        told = match.story_id if match.verdict is Verdict.STORY else None
        ok = told == expect
        right += ok
        if expect is None:
            off += 1
            off_right += ok
        else:
            ins += 1
            ins_right += ok
    return right / len(items), ins_right / max(ins, 1), off_right / max(off, 1)


def main() -> None:
    """Try every combination of the grid below and print the ten best."""
    snapshot, _ = build_snapshot(ROOT / "stories")
    assert snapshot is not None
    files = sys.argv[1:] or [str(ROOT / "tests/data/questions_tune.yaml")]
    items = [
        (i.question, i.expect)
        for f in files
        for i in questions(load_labelled(Path(f))[0])
        if not isinstance(i.expect, tuple)
    ]
    grid = {
        "guard_phrase": [60.0, 70.0, 80.0, 90.0],
        "threshold": [45.0, 50.0, 55.0],
    }
    results = []
    for values in itertools.product(*grid.values()):
        config = replace(MatcherConfig(), **dict(zip(grid, values, strict=True)))
        results.append((accuracy(Matcher(snapshot.catalog, config), items), values))
    results.sort(key=lambda r: (-r[0][0], -min(r[0][1], r[0][2])))
    print("overall in-scope off-topic  " + " ".join(grid))
    for (overall, ins, off), values in results[:10]:
        print(f"{overall:.3f} {ins:.3f} {off:.3f}  {values}")
    print("default", accuracy(Matcher(snapshot.catalog), items))


if __name__ == "__main__":
    main()
