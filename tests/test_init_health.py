"""`storybot init` starts a brand's own catalogue; `storybot health` is the container's check."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.catalog.load import story_files
from bot.cli import main
from bot.config import shipped_stories


def test_init_copies_the_sample_catalogue_with_its_readme(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "brand"]) == 0
    assert "STORIES_DIR=brand storybot check" in capsys.readouterr().out
    assert (tmp_path / "brand" / "README.md").read_text(encoding="utf-8").startswith("# The story catalogue")
    assert [p.name for p in story_files(tmp_path / "brand")] == [p.name for p in story_files(shipped_stories())]
    assert not list((tmp_path / "brand").rglob("__pycache__"))
    assert main(["check", "--stories", "brand"]) == 0


def test_init_defaults_to_stories_and_never_overwrites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "stories").mkdir()
    (tmp_path / "stories" / "ours.yaml").write_text("id: ours\n", encoding="utf-8")
    assert main(["init"]) == 1
    assert "already exists and is not empty; nothing was copied" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "stories").iterdir()] == ["ours.yaml"]


def test_health_on_the_sample_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["health", "--polling"]) == 0
    assert capsys.readouterr().out.startswith("healthy: catalogue ")


def test_health_fails_on_a_broken_catalogue(base_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (base_copy / "alpha.yaml").write_text("id: [\n", encoding="utf-8")
    assert main(["health", "--stories", str(base_copy)]) == 1
    assert "unhealthy: the catalogue" in capsys.readouterr().err


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def webhook_port() -> Iterator[int]:
    """A local server answering /healthz like the bot's webhook server."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_health_in_webhook_mode_asks_healthz(
    webhook_port: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PORT", str(webhook_port))
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.com/hook")
    assert main(["health"]) == 0
    assert f"http://127.0.0.1:{webhook_port}/healthz answered 200" in capsys.readouterr().out
    monkeypatch.setattr(_Health, "status", 503)
    assert main(["health"]) == 1
    assert "answered 503" in capsys.readouterr().err


def test_health_in_webhook_mode_with_nothing_listening(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PORT", "9")  # discard: nothing listens there
    assert main(["health", "--webhook"]) == 1
    assert "did not answer" in capsys.readouterr().err
