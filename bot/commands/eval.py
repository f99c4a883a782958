"""`storybot eval`: a test run for content — accuracy on a labelled file, misses listed."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.commands.common import EXIT_BROKEN_CATALOGUE, load_storyteller, print_problems
from bot.evaluate import SINGLE, EvalResult, evaluate, load_labelled


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `eval`."""
    parser.add_argument(
        "file", type=Path, help="labelled questions (- {q, expect}) or conversations (- {kind, turns: [{q, expect}]})"
    )
    parser.add_argument(
        "--min-accuracy",
        type=float,
        default=0.0,
        metavar="X",
        help="exit 1 when overall accuracy is below X (0–1, e.g. 0.9)",
    )
    parser.add_argument("--json", action="store_true", help="figures and misses as JSON")


def _print(result: EvalResult, file: Path) -> None:
    print(f"{file}: {result.total} turns")
    print(f"  overall    {result.accuracy:6.1%}  ({result.right}/{result.total})")
    print(
        f"  in scope   {result.in_scope_accuracy:6.1%}  ({result.in_scope.right}/{result.in_scope.total}) right story"
    )
    print(
        f"  off-topic  {result.off_topic_accuracy:6.1%}  ({result.off_topic.right}/{result.off_topic.total}) no story"
    )
    if len(result.kinds) > 1 or SINGLE not in result.kinds:
        for kind, tally in sorted(result.kinds.items()):
            print(f"  {kind:<10} {tally.accuracy:6.1%}  ({tally.right}/{tally.total})")
    print(f"  median     {result.median_ms:.3f} ms a turn")
    if result.misses:
        print(f"\n{len(result.misses)} miss(es):")
        for miss in result.misses:
            got = miss.got or f"no story ({miss.outcome})"
            expected = "no story" if miss.expect is None else miss.expect
            if isinstance(expected, tuple):
                expected = " or ".join(expected)
            kind = "" if miss.kind == SINGLE else f"  [{miss.kind}]"
            print(f"  {file.name}:{miss.line}{kind}  {miss.question!r}")
            if miss.before:
                print("      after: " + " → ".join(repr(q) for q in miss.before))
            print(f"      expected {expected}, got {got} (score {miss.score:.1f})")


def run(args: argparse.Namespace) -> int:
    """Evaluate and exit 1 under the floor."""
    talks, problems = load_labelled(args.file)
    if problems:
        print_problems(problems, args.file.parent)
        return EXIT_BROKEN_CATALOGUE
    teller = load_storyteller(args)
    if teller is None:
        return EXIT_BROKEN_CATALOGUE
    result = evaluate(teller, talks)
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        _print(result, args.file)
    if result.accuracy < args.min_accuracy:
        print(
            f"✗ accuracy {result.accuracy:.1%} is below the floor {args.min_accuracy:.1%}",
            file=sys.stderr,
        )
        return 1
    return 0
