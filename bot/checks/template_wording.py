"""What went wrong in a marketer's template, said in the template's own terms rather than Python's."""

from __future__ import annotations

import linecache
import re
import traceback
from typing import Any

from jinja2 import TemplateError, TemplateNotFound, UndefinedError
from jinja2.defaults import DEFAULT_NAMESPACE
from jinja2.exceptions import SecurityError
from jinja2.runtime import Undefined

from bot.replies.render import TemplateFileProblem

COMPUTE_FIX = "write the text out instead of computing it (no huge repeats, ranges, powers or widths)"
VARIABLES_FIX = "use only the variables listed at the top of the template, and their fields"
EXPRESSION_FIX = "check the expression on that line: {{ }} shows a variable, or a filter of one"
# What a template calls the things it is given, told apart by their fields.
_KINDS = (
    ({"id", "title", "text", "sources", "tags", "featured"}, "stories"),
    ({"title", "url"}, "sources"),
    ({"continue", "all_stories"}, "the ui strings"),
)
_GLOBALS = frozenset(DEFAULT_NAMESPACE) | {"plain"}  # jinja2's own names and the renderer's
_NO_ATTRIBUTE = re.compile(r"has no attribute '(?P<name>[^']+)'")
_IS_UNDEFINED = re.compile(r"'(?P<name>[^']+)' is undefined")
# Python's words for a failed expression (a phrase of its message) → how a marketer would say it.
_PYTHON_SAYS = (
    ("unsupported operand", "mixes text and numbers in a sum (join text with ~: {{ a ~ b }})"),
    ("can only concatenate", "mixes text and numbers in a sum (join text with ~: {{ a ~ b }})"),
    ("not supported between", "compares text with a number"),
    ("not iterable", "loops over something that is not a list"),
    ("not callable", "calls something that is not a function: drop the ( )"),
    ("division by zero", "divides by zero"),
    ("modulo by zero", "divides by zero"),
    ("invalid literal", "turns text that is not a number into a number"),
)


def render_failure(exc: Exception) -> tuple[str, str]:
    """What went wrong while rendering, worded for the marketer, and the fix."""
    detail = (exc.message if isinstance(exc, TemplateError) and exc.message else str(exc)).rstrip(".")
    if isinstance(exc, TemplateFileProblem):
        return f"failed: {detail}", exc.fix
    if isinstance(exc, TemplateNotFound):
        return (
            f"failed: it includes the template '{exc.name}', which does not exist",
            "include or extend only files in stories/templates/, by their full name ('story.en.html.j2')",
        )
    if isinstance(exc, SecurityError):
        if "unsafe" in detail:
            name = detail.split("'")[1] if detail.count("'") >= 2 else detail
            return (
                f"was stopped: the template reaches for `{name}`, a part of Python that templates may not use",
                f"{VARIABLES_FIX} (names starting with _ are not allowed)",
            )
        return f"was stopped: {detail}", COMPUTE_FIX
    if isinstance(exc, UndefinedError):
        return f"failed: {_undefined(exc) or detail}", VARIABLES_FIX
    if isinstance(exc, OverflowError | MemoryError):
        return "was stopped: the template computes a number or text far too big", COMPUTE_FIX
    said = next((words for phrase, words in _PYTHON_SAYS if phrase in detail), None)
    if said is not None:
        return f"failed: the template {said}", EXPRESSION_FIX
    return "failed: an expression on that line cannot be worked out", EXPRESSION_FIX


def _undefined(exc: UndefinedError) -> str | None:
    """'the template uses `headline`, which stories don't have; stories have: …', from the failed lookup."""
    # jinja2 rewrites the traceback to the template's lines: its top frame holds the template's
    # names, and the frame that printed the value (when one did) holds the failed lookup itself.
    given: dict[str, Any] = {}
    owner: Any = None
    name: str | None = None
    source_line = ""
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_name.startswith(("top-level template code", "block ", "macro ")):
            given = {k: v for k, v in frame.f_locals.items() if k not in _GLOBALS}
            source_line = linecache.getline(frame.f_code.co_filename, lineno)
        for value in frame.f_locals.values():
            if isinstance(value, Undefined) and value._undefined_name is not None:
                name, owner = value._undefined_name, value._undefined_obj
    if name is None:  # a lookup in an {% if %} or a filter: only the message tells what was looked up
        said = _NO_ATTRIBUTE.search(exc.message or "") or _IS_UNDEFINED.search(exc.message or "")
        if said is None:
            return None
        name = said.group("name")
        if "has no attribute" in said.group(0):
            owner = given.get(_holder(source_line, name), _NOT_FOUND)
            if owner is _NOT_FOUND:
                return f"the template uses `{name}`, a field the value before it does not have"
    if owner is None or isinstance(owner, Undefined) or owner.__class__.__name__ == "_MissingType":
        names = ", ".join(sorted(given)) or "the variables listed at its top"
        return f"the template uses `{name}`, which it is not given; it has: {names}"
    if isinstance(owner, dict):
        shown = ", ".join(str(k) for k in owner)
        what = next((kind for fields, kind in _KINDS if fields <= set(owner)), None)
        if what is None:
            return f"the template uses `{name}`, which is not there; there is: {shown}"
        return f"the template uses `{name}`, which {what} don't have; {what} have: {shown}"
    if isinstance(owner, list | tuple):
        return f"the template uses `{name}` of a list; loop over it with {{% for x in ... %}} and use x.{name}"
    return f"the template uses `{name}` of a plain text or number, which has no fields"


_NOT_FOUND = object()


def _holder(line: str, name: str) -> str:
    """The variable whose field `name` the template line looks up (`story` in `story.headline`)."""
    field = re.escape(name)
    found = re.search(rf"([A-Za-z_][A-Za-z0-9_]*)\s*(?:\.\s*{field}\b|\[\s*['\"]{field})", line)
    return found.group(1) if found is not None else ""
