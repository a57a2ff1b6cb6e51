"""Colours of the prompt: syntax, toolbar, and the scheduler's lines above the prompt."""

from __future__ import annotations

from prompt_toolkit.styles import Style, merge_styles, style_from_pygments_dict
from pygments.token import Comment, Keyword, Name, Number, Operator, String

from taskshell.scheduler import events as ev

STYLE = merge_styles([
    style_from_pygments_dict({
        Keyword: "bold #5f87d7",
        Keyword.Reserved: "bold #af87d7",
        Keyword.Pseudo: "bold #d7af5f",
        String: "#87af5f",
        String.Delimiter: "bold #afaf00",
        Number: "#d7875f",
        Comment: "italic #808080",
        Name.Builtin: "#5fafaf",
        Name.Function: "#5fafaf",
        Name.Quoted: "#d7d787",
        Operator: "#a8a8a8",
    }),
    Style.from_dict({
        "bottom-toolbar": "noreverse bg:#303030 #d0d0d0",
        "auto-suggestion": "#6c6c6c",
    }),
])

_ANSI = {ev.RUN_SUCCEEDED: "32", ev.RUN_FAILED: "31", ev.RUN_SKIPPED: "33", ev.TASK_AUTO_SUSPENDED: "1;31"}


def event_colour(kind: str, line: str) -> str:
    """`line` in the colour of its event kind, for a terminal."""
    code = _ANSI.get(kind)
    return f"\x1b[{code}m{line}\x1b[0m" if code else line
