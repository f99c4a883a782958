"""Mutated catalogues: whatever bytes a marketer's edit leaves in a story file or a template, loading
and checking report problems (file and line) and never raise. And the YAML loader's shortcut for
plain words resolves every scalar exactly as PyYAML's own resolver does.
Deterministic: derandomize=True."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from bot.catalog.safe_yaml import _Loader
from bot.live import build_snapshot

STORIES = Path(__file__).resolve().parent.parent / "stories"
FUZZ = settings(derandomize=True, max_examples=60, deadline=None, database=None)
# What edits and accidents leave behind: YAML syntax, tags, anchors, encodings, template and HTML syntax.
PIECES = [
    b": ",
    b"- ",
    b"\t",
    b'"',
    b"'",
    b"[",
    b"]",
    b"{",
    b"}",
    b"&a ",
    b"*a",
    b"!!str ",
    b"!!python/object ",
    b"---\n",
    b"...\n",
    b"\n",
    b"  ",
    b"#",
    b"|",
    b">",
    b"%",
    b"`",
    b"\xff",
    b"\x00",
    b"\xe2\x80\xae",
    b"\xef\xbb\xbf",
    b"\r",
    b"{{",
    b"}}",
    b"{%",
    b"%}",
    b"<b>",
    b"</b>",
    b"<",
    b"&",
    b"null",
    b"~",
    b"yes",
    b"1e3",
    b"0x1F",
    b"2020-01-01",
    b"? ",
    b"<<: ",
]
EDIT = st.tuples(st.floats(0, 1), st.sampled_from(PIECES), st.integers(0, 40), st.booleans())


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz") / "stories"
    shutil.copytree(STORIES, root)
    return root


def _mutate(data: bytes, edits: list[tuple[float, bytes, int, bool]]) -> bytes:
    out = bytearray(data)
    for where, piece, span, insert in edits:
        at = int(where * len(out))
        if insert:
            out[at:at] = piece
        else:
            del out[at : at + span]
    return bytes(out)


@FUZZ
@given(
    st.sampled_from(["pearce-ducks.yaml", "ui.yaml", "smalltalk.yaml", "templates/story.en.html.j2"]),
    st.lists(EDIT, min_size=1, max_size=4),
)
def test_a_mangled_file_gives_problems_never_an_exception(
    catalogue: Path, name: str, edits: list[tuple[float, bytes, int, bool]]
) -> None:
    path = catalogue / name
    original = (STORIES / name).read_bytes()
    path.write_bytes(_mutate(original, edits))
    try:
        snapshot, problems = build_snapshot(catalogue, confusion=True, thorough=True)
    finally:
        path.write_bytes(original)
    if snapshot is None:
        errors = [p for p in problems if not p.warning]
        assert errors, "a catalogue that cannot be served says why"
        assert all(p.line >= 0 and p.message and p.fix for p in errors)


WORDS = [
    *("yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE"),
    *("on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~", "y", "n", "Y", "N"),
    *("yess", "nope", "tom", "ducks", "off-road", "onward", "nulls", "Nan", "nan", ".nan", ".inf"),
    *("-.inf", "1", "-1", "+1", "0x1F", "0o7", "017", "1_000", "1.5", "1e3", "6.8e+3", "190:20:30"),
    *("2020-01-01", "2001-12-14t21:59:43.10-05:00", "=", "<<", "鸭子", "🦆", "ON!", "oN", "tRUE"),
]


@pytest.mark.parametrize("word", [*WORDS, ""])
def test_the_plain_word_shortcut_resolves_like_pyyaml(word: str) -> None:
    ours, theirs = _Loader(""), yaml.SafeLoader("")
    for implicit in ((True, False), (False, True)):
        assert ours.resolve(ScalarNode, word, implicit) == theirs.resolve(ScalarNode, word, implicit), word
    assert ours.resolve(SequenceNode, None, (True, False)) == theirs.resolve(SequenceNode, None, (True, False))
    assert ours.resolve(MappingNode, None, (True, False)) == theirs.resolve(MappingNode, None, (True, False))
