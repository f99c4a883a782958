"""The deploy files say what the tests run: the Procfile's and the image's commands, as commands here."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

from bot.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def instruction(name: str) -> str:
    """The last stage's value of a Dockerfile instruction (continuation lines joined)."""
    text = DOCKERFILE.replace("\\\n", " ")
    return [line.split(None, 1)[1] for line in text.splitlines() if line.startswith(name + " ")][-1]


def storybot(args: list[str]) -> subprocess.CompletedProcess[str]:
    """`storybot ARGS` as this machine runs it."""
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, timeout=60)


def test_the_procfile_names_each_mode() -> None:
    lines = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text(encoding="utf-8").splitlines())
    assert lines == {"worker": "storybot run --polling", "web": "storybot run --webhook"}
    for command in lines.values():
        args = build_parser("run").parse_args(shlex.split(command)[1:])
        assert args.mode in command


def test_the_image_runs_as_a_user_with_its_data_on_a_volume() -> None:
    assert instruction("FROM").startswith("python:3.11-slim")
    assert instruction("USER") not in ("root", "0")
    volume = json.loads(instruction("VOLUME"))
    assert re.search(rf"STORYBOT_DATA_DIR={volume[0]}\b", instruction("ENV"))


def test_the_image_command_and_health_check_run_here() -> None:
    entrypoint, command = json.loads(instruction("ENTRYPOINT")), json.loads(instruction("CMD"))
    health = json.loads(instruction("HEALTHCHECK").split(" CMD ", 1)[1])
    assert entrypoint == ["storybot"] and health[0] == "storybot"
    assert build_parser("run").parse_args(command).mode == "polling"
    done = storybot(health[1:])
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("healthy: ")
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))["services"]["storybot"]
    assert compose["env_file"] == ".env"
    assert compose["command"] == command
    assert any(volume.endswith(":" + json.loads(instruction("VOLUME"))[0]) for volume in compose["volumes"])
