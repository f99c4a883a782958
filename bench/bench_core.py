"""Core speed: `storybot ask` start-up, loading 1,000 stories, memory with 1,000 stories.

Run: python -m bench.bench_core   (figures go into BENCHMARKS.md)
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from bench.common import ROOT


def write_catalogue(folder: Path, total: int) -> Path:
    """Copy the shipped catalogue and add synthetic stories up to `total` files."""
    shutil.copytree(ROOT / "stories", folder, dirs_exist_ok=True)
    base = yaml.safe_load((ROOT / "stories" / "pearce-ducks.yaml").read_text(encoding="utf-8"))
    shipped = len(list(folder.glob("*.yaml"))) - 3
    for index in range(total - shipped):
        story = dict(base)
        story["id"] = f"synthetic-{index}"
        story["title"] = {"en": f"Synthetic story {index}", "zh": f"合成故事{index}"}
        story["questions"] = {
            "en": [f"synthetic question {index} number {n}" for n in range(10)],
            "zh": [f"合成问题{index}之{n}" for n in range(4)],
        }
        story["keywords"] = {"en": [f"kw{index}", f"topic{index}"], "zh": [f"关键{index}"]}
        story["related"] = []
        story["featured"] = False  # a real catalogue features a handful (`storybot check` warns past 6)
        (folder / f"synthetic-{index}.yaml").write_text(yaml.safe_dump(story, allow_unicode=True), encoding="utf-8")
    return folder


def timed(command: list[str], runs: int = 7) -> float:
    """Median wall time of a command, in seconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


LOAD = """
import resource, sys, time
from pathlib import Path
import yaml
from bot.live import build_snapshot
root = Path(sys.argv[1])
started = time.perf_counter()
snapshot, problems = build_snapshot(root)
assert snapshot is not None, [p.format() for p in problems if not p.warning][:3]
elapsed = time.perf_counter() - started
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
snapshot.matcher.match("who let the ducks cross")
# After ours, so that ours is a fresh process's first load: PyYAML's C loader on the same files and
# nothing else, the floor for any catalogue kept as YAML.
started = time.perf_counter()
for path in sorted(root.glob("*.yaml")):
    yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)
floor = time.perf_counter() - started
print(len(snapshot.catalog.stories), elapsed, floor, rss)
"""


def main() -> None:
    """Print the table for BENCHMARKS.md."""
    python = sys.executable
    baseline = timed([python, "-c", "pass"])
    ask = timed([python, "-m", "bot", "ask", "who let the ducks cross"])
    print("| measure | median | baseline in the same run | ratio |")
    print("|---|---|---|---|")
    print(
        f"| `storybot ask` start and answer | {ask * 1000:.0f} ms | bare `python -c pass` {baseline * 1000:.0f} ms "
        f"| {ask / baseline:.1f}× |"
    )
    with tempfile.TemporaryDirectory() as tmp:
        small = write_catalogue(Path(tmp) / "eight", 8)
        big = write_catalogue(Path(tmp) / "thousand", 1000)
        rows = []
        for folder in (small, big):
            runs = [
                subprocess.run([python, "-c", LOAD, str(folder)], check=True, capture_output=True, text=True)
                for _ in range(7)
            ]
            figures = [tuple(float(x) for x in r.stdout.split()) for r in runs]
            rows.append(
                (
                    int(figures[0][0]),
                    statistics.median(f[1] for f in figures),
                    statistics.median(f[2] for f in figures),
                    statistics.median(f[3] for f in figures),
                    statistics.median(f[1] / f[2] for f in figures),
                )
            )
    (n8, load8, _, rss8, _), (n1000, load1000, floor1000, rss1000, ratio1000) = rows
    print(
        f"| load + check + index {n1000} stories (imports excluded) | {load1000 * 1000:.0f} ms "
        f"| {n8} stories {load8 * 1000:.0f} ms "
        f"| {load1000 / load8:.1f}× |"
    )
    print(
        f"| same load, against parsing the same {n1000} files with PyYAML's C loader and nothing else "
        f"| {load1000 * 1000:.0f} ms | `yaml.load(CSafeLoader)` {floor1000 * 1000:.0f} ms | {ratio1000:.2f}× |"
    )
    print(
        f"| peak RSS with {n1000} stories loaded (core) | {rss1000:.0f} MB | {n8} stories {rss8:.0f} MB "
        f"| {rss1000 / rss8:.2f}× |"
    )


if __name__ == "__main__":
    main()
