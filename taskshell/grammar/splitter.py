"""Cut SQL input into statements, and tell the prompt whether the input is complete.

A statement ends at a `;` that is outside quotes, comments, `$$…$$` and scripting blocks. Splitting on
every `;` would cut a `CREATE TASK … AS BEGIN …; …; END;` body in two, so the scanner understands
blocks: BEGIN (unless it starts a transaction) and DECLARE open one, CASE opens inside a block, END
closes, and END IF / END LOOP / END FOR / END WHILE / END REPEAT close nothing.

The scanner jumps between interesting characters with compiled regular expressions: scripts of
thousands of statements are split without a per-character Python loop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Everything that can change the scanner's state. Keywords are whole words; a word glued to a `$`
# or following a `.` (t.end) is an identifier, not a keyword.
# The leading character-class lookahead lets the regex engine skip dull text quickly.
_INTERESTING = re.compile(
    r"""
    (?=[;'"\-/$bcde])
    (?: (?P<semi>;)
      | (?P<squote>')
      | (?P<dquote>")
      | (?P<line>--|//)
      | (?P<block>/\*)
      | (?P<dollar>\$\$)
      | (?<![\w$.])(?P<word>begin|end|case|declare)(?![\w$])
    )
    """,
    re.IGNORECASE | re.VERBOSE,
)
# Bodies of quoted tokens, matched just after the opening quote; possessive so that an unterminated
# string fails in linear time.
_SQUOTE_REST = re.compile(r"[^'\\]*+(?:(?:\\.|'')[^'\\]*+)*+'", re.DOTALL)
_DQUOTE_REST = re.compile(r'[^"]*+(?:""[^"]*+)*+"')
# Whitespace and comments, as one run.
_GAP = re.compile(r"(?:\s++|--[^\n]*+|//[^\n]*+|/\*.*?\*/)*+", re.DOTALL)
_WORD = re.compile(r"[A-Za-z_][\w$]*")

# Words after BEGIN that make it a transaction statement rather than a block.
_TRANSACTION_WORDS = frozenset({"TRANSACTION", "WORK", "NAME"})
# END followed by one of these closes a construct that never opened a level.
_UNCOUNTED_ENDS = frozenset({"IF", "LOOP", "FOR", "WHILE", "REPEAT"})

_BLOCK = "block"
_DECLARE = "declare"
_CASE = "case"


@dataclass(frozen=True)
class Statement:
    text: str  # without the terminating ';', surrounding whitespace and comments
    line: int  # 1-based line in the input where `text` starts
    column: int  # 1-based column where `text` starts
    offset: int  # 0-based character offset where `text` starts


def split(text: str) -> list[Statement]:
    """Every statement in `text`; a final one without ';' is included, empty ones are dropped."""
    spans, _ = _scan(text)
    statements: list[Statement] = []
    line, counted_to = 1, 0
    for start, end in spans:
        line += text.count("\n", counted_to, start)
        counted_to = start
        column = start - text.rfind("\n", 0, start)
        statements.append(Statement(text[start:end], line, column, start))
    return statements


def is_complete(text: str) -> bool:
    """True when `text` can be run as it stands: nothing but whitespace and comments, a finished
    statement followed only by whitespace and comments, or a meta command (`!…` or `\\…`)."""
    stripped = text.lstrip()
    if stripped[:1] in ("!", "\\"):
        return True
    _, pending = _scan(text)
    return not pending


def _scan(text: str) -> tuple[list[tuple[int, int]], bool]:
    """Spans (start, end) of the statements, and whether unfinished input follows the last ';'."""
    spans: list[tuple[int, int]] = []
    stack: list[str] = []
    code_start: int | None = None  # first code character of the current statement
    code_end = 0  # just past its last code character seen so far
    pos = 0
    size = len(text)
    search = _INTERESTING.search

    while True:
        m = search(text, pos)
        if m is None:
            break
        p = m.start()
        if p > pos and not text[pos:p].isspace():
            # Plain code between two interesting tokens.
            if code_start is None:
                code_start = _first_code(text, pos)
            code_end = p
        kind = m.lastgroup
        if kind == "line":
            nl = text.find("\n", p)
            pos = size if nl < 0 else nl
            continue
        if kind == "block":
            close = text.find("*/", p + 2)
            if close < 0:
                return _unterminated(spans, text, code_start)
            pos = close + 2
            continue
        if kind == "semi":
            pos = p + 1
            if not stack:
                if code_start is not None:
                    spans.append((code_start, _rstrip(text, code_start, code_end)))
                code_start = None
            else:
                code_end = pos
            continue
        if code_start is None:
            code_start = p
        if kind == "squote" or kind == "dquote":
            rest = (_SQUOTE_REST if kind == "squote" else _DQUOTE_REST).match(text, p + 1)
            if rest is None:
                return _unterminated(spans, text, code_start)
            pos = code_end = rest.end()
            continue
        if kind == "dollar":
            close = text.find("$$", p + 2)
            if close < 0:
                return _unterminated(spans, text, code_start)
            pos = code_end = close + 2
            continue
        word = m.group("word").upper()
        if word == "BEGIN" and not _opens_block(text, code_start, p, m.end()):
            pos = code_end = m.end()  # a column or alias named begin (not a reserved word)
            continue
        pos = code_end = _keyword(text, word, m.end(), stack)

    if pos < size and not text[pos:].isspace():
        if code_start is None:
            code_start = _first_code(text, pos)
        code_end = size
    if code_start is not None:
        spans.append((code_start, _rstrip(text, code_start, code_end)))
    return spans, code_start is not None


# Where a BEGIN can start a block: at the start of a statement, or after one of these (a task's
# `AS`, a statement inside a block, a branch or a loop). Anywhere else it is a name (`begin INT`).
_BLOCK_AFTER = frozenset({"AS", ";", "THEN", "ELSE", "DO", "LOOP", "BEGIN"})
_LAST_TOKEN = re.compile(r"([A-Za-z_][\w$]*|[^\s\w])\s*$")
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


def _opens_block(text: str, code_start: int | None, at: int, after: int) -> bool:
    """Whether the BEGIN at `at` (ending at `after`) can open a block where it stands."""
    head = _COMMENTS.sub(" ", text[code_start:at]) if code_start is not None and code_start < at else ""
    last = _LAST_TOKEN.search(head)
    if last is None:
        return True  # the statement's first word
    token = last.group(1).upper()
    if token not in _BLOCK_AFTER:
        return False
    if token == "AS":  # a task's body, not a column alias: a statement must follow
        follow = _next_word(text, after)
        return follow is None or follow[0] not in ("", "FROM")
    return True


def _keyword(text: str, word: str, after: int, stack: list[str]) -> int:
    """Update the block stack for a keyword; return where scanning resumes."""
    if word == "BEGIN":
        follow = _next_word(text, after)
        if follow is None or follow[0] == ";" or follow[0] in _TRANSACTION_WORDS:
            return after
        if stack and stack[-1] == _DECLARE:
            stack[-1] = _BLOCK  # the BEGIN of DECLARE … BEGIN … END
        else:
            stack.append(_BLOCK)
    elif word == "DECLARE":
        stack.append(_DECLARE)
    elif not stack:
        pass  # CASE … END in plain SQL needs no tracking: ';' cannot occur inside it
    elif word == "CASE":
        stack.append(_CASE)
    else:  # END
        follow = _next_word(text, after)
        if follow is not None and follow[0] in _UNCOUNTED_ENDS:
            return follow[1]
        stack.pop()
        if follow is not None and follow[0] == "CASE":
            return follow[1]  # END CASE: its CASE must not open a new level
    return after


def _next_word(text: str, pos: int) -> tuple[str, int] | None:
    """The next word (upper-cased) or ';' after whitespace and comments, with the end of it."""
    pos = _GAP.match(text, pos).end()
    if pos >= len(text):
        return None
    if text[pos] == ";":
        return ";", pos + 1
    word = _WORD.match(text, pos)
    if word is None:
        return "", pos
    return word.group().upper(), word.end()


def _first_code(text: str, pos: int) -> int:
    return _GAP.match(text, pos).end()


def _rstrip(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def _unterminated(spans: list[tuple[int, int]], text: str,
                  code_start: int | None) -> tuple[list[tuple[int, int]], bool]:
    """An unclosed quote, comment or `$$` runs to the end of the input, which is unfinished."""
    if code_start is not None:
        spans.append((code_start, _rstrip(text, code_start, len(text))))
    return spans, True
