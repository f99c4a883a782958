"""Placeholder."""

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options."""


def run(args: argparse.Namespace) -> int:
    """Not yet."""
    print("not yet implemented")
    return 2
