"""Fixtures for the operations tests; the headless-Chromium finder lives here."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from ops_support import Browser, fixture_records

from bot.live import Snapshot
from bot.matching.matcher import Matcher
from bot.ops.exchange import Exchange

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@pytest.fixture(scope="session")
def matcher(shipped_snapshot: Snapshot) -> Matcher:
    """The shipped catalogue's matcher."""
    return shipped_snapshot.matcher


@pytest.fixture
def records() -> list[Exchange]:
    """The fixture log's records, oldest first."""
    return fixture_records()


def find_chromium() -> str | None:
    """The path of a Chromium-like browser on PATH, if any."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def running_in_ci() -> bool:
    """Whether the CI variable is set (to anything but empty, 0 or false)."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false"}


@pytest.fixture
def browser(tmp_path: Path) -> Browser:
    """Headless Chromium; skipped when absent outside CI, a failure when absent under CI."""
    path = find_chromium()
    if path is None:
        if running_in_ci():
            pytest.fail("chromium is required under CI=true but was not found on PATH")
        pytest.skip("chromium is not installed (apt-get install -y chromium) and CI is not set")
    return Browser(path, tmp_path / "chromium-profile")
