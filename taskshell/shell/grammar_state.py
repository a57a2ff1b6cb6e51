"""What the statement grammar accepts at the cursor, read from Lark's interactive LALR parser.

Feeding the text before the cursor to the parser and asking which terminals it accepts next gives
keyword completion that is exactly as wide as the grammar: nothing is listed by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_WORD = re.compile(r"[a-z_][a-z_0-9]*\Z")
# Terminals that stand for a name or a value rather than a keyword.
NAME_TERMINALS = frozenset({"IDENT", "QUOTED_IDENT"})


@dataclass(frozen=True)
class GrammarState:
    keywords: tuple[str, ...]  # upper-cased keywords acceptable next, sorted
    accepts_name: bool  # an identifier fits here
    accepts_string: bool
    tokens: tuple[tuple[str, str], ...]  # (terminal, upper-cased text) of everything read so far
    body: str | None = None  # the task body typed so far, when the cursor is inside it


_loaded = False


def lark_parser() -> Any:
    """The grammar's cached Lark parser."""
    global _loaded
    from taskshell.grammar import parser as grammar

    factory = getattr(grammar, "lark_parser", None) or grammar._lark
    parser = factory()
    _loaded = True
    return parser


def grammar_loaded() -> bool:
    """True once the parser has been built; until then the prompt completes from word lists rather
    than make a keystroke wait for it."""
    return _loaded


@lru_cache(maxsize=1)
def keyword_terminals() -> dict[str, str]:
    """Terminal name → keyword text, for every terminal that is a word."""
    words = {}
    for terminal in lark_parser().terminals:
        pattern = terminal.pattern
        if pattern.type == "str" and _WORD.match(pattern.value.lower()):
            words[terminal.name] = pattern.value.upper()
    return words


def grammar_keywords() -> frozenset[str]:
    """Every keyword of the statement grammar."""
    return frozenset(keyword_terminals().values())


@lru_cache(maxsize=128)
def grammar_state(prefix: str) -> GrammarState | None:
    """The parser's state after reading `prefix` as the start of a statement, or None when the
    grammar cannot read it (plain SQL, or a syntax error before the cursor)."""
    from lark.exceptions import LarkError

    parser = lark_parser()
    try:
        interactive = parser.parse_interactive(prefix, start="statement")
        tokens = tuple((t.type, str(t).upper()) for t in interactive.iter_parse())
        accepted = interactive.accepts()
    except LarkError:
        return None
    body = None
    if tokens and tokens[-1][0] == "BODY":
        # The body runs to the end of the input: the original text, not the upper-cased token.
        body_start = len(prefix) - len(tokens[-1][1])
        body = prefix[body_start:]
    words = keyword_terminals()
    return GrammarState(
        keywords=tuple(sorted({words[name] for name in accepted if name in words})),
        accepts_name=bool(accepted & NAME_TERMINALS),
        accepts_string="STRING" in accepted,
        tokens=tokens,
        body=body,
    )
