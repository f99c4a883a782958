"""Conversations (issue 11): accuracy per set and per kind, and time per turn on one core, with the
semantic stage and with words only, in one run; then `storybot ask` from cold.

    python -m bench.bench_conversations
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from bench.common import DEV, ROOT
from bot.evaluate import EvalResult, evaluate, load_labelled
from bot.live import build_snapshot
from bot.replies.storyteller import Storyteller

DATA = ROOT / "tests" / "data"
SETS = {
    "conv-tune": DATA / "conversations_tune.yaml",
    "conv-holdout": DATA / "conversations_holdout.yaml",
    "conv-blind": DATA / "conversations_blind.yaml",
    "conv-sample": DEV.parent / "conversations.yaml",
    "q-tune": DATA / "questions_tune.yaml",
    "q-holdout": DATA / "questions_holdout.yaml",
    "q-fresh": DATA / "questions_fresh.yaml",
    "q-fresh2": DATA / "questions_fresh2.yaml",
    "q-fresh3": DATA / "questions_fresh3.yaml",
    "q-dev": DEV,
}
COLD_RUNS = 7


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run(model: str) -> tuple[dict[str, EvalResult], list[float]]:
    """Every set through a fresh storyteller with this meaning model; all turns' times."""
    snapshot, problems = build_snapshot(ROOT / "stories", meaning_model=model)
    assert snapshot is not None, problems
    if snapshot.matcher.meaning is not None:
        snapshot.matcher.meaning.ready()  # the bot warms it at start; the benchmark times turns
    teller = Storyteller(snapshot)
    results = {name: evaluate(teller, load_labelled(path)[0]) for name, path in SETS.items() if path.exists()}
    return results, [ms for result in results.values() for ms in result.latencies_ms]


def cold_ask() -> list[float]:
    """Seconds for `storybot ask "tell me about the ducks"` in a new process, several times."""
    times = []
    for _ in range(COLD_RUNS):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot", "ask", "tell me about the ducks"],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    """Print the figures BENCHMARKS.md quotes."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core, as the target says
    runs = {model: run(model) for model in ("none", "use-multilingual-v3")}
    print(f"{'set':<14}{'turns':>6}  {'words only':>11}  {'+ meaning':>10}")
    for name in runs["none"][0]:
        words, meaning = runs["none"][0][name], runs["use-multilingual-v3"][0][name]
        print(f"{name:<14}{words.total:>6}  {words.accuracy:>10.1%}  {meaning.accuracy:>10.1%}")
    for name, result in runs["use-multilingual-v3"][0].items():
        if name.startswith("conv"):
            kinds = ", ".join(f"{k} {t.accuracy:.0%}" for k, t in sorted(result.kinds.items()))
            print(f"  {name} by kind (+ meaning): {kinds}")
    for model, (_, times) in runs.items():
        print(
            f"per turn, {model:<20} median {statistics.median(times):.3f} ms, "
            f"p99 {percentile(times, 0.99):.2f} ms, max {max(times):.1f} ms over {len(times)} turns"
        )
    cold = cold_ask()
    print(f"storybot ask from cold: median {statistics.median(cold):.3f} s (min {min(cold):.3f}, max {max(cold):.3f})")


if __name__ == "__main__":
    main()
