"""Matching what fits at the cursor against the catalog's names.

`suggest()` decides the kinds; `match()` (pure) fills them from an immutable `CatalogSnapshot`.
The prompt runs the completer on a thread of its own, and the snapshot it reads is swapped in whole
by the background refresh, so completion never touches SQLite.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from taskshell.interpreter.snapshot import CatalogSnapshot
from taskshell.render import FORMATS
from taskshell.shell import suggest as s

_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*\Z")
MAX_COMPLETIONS = 300


def match(suggestions: s.Suggestions, snapshot: CatalogSnapshot,
          meta_commands: Iterable[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """(text to insert, what it is) for every candidate that matches the word at the cursor:
    prefix matches first, then names that contain the word; kinds in the order suggested."""
    word = suggestions.word
    lower = bool(word) and word[0].islower()
    seen: set[str] = set()
    ranked: list[tuple[int, int, int, str, str]] = []
    for order, kind in enumerate(suggestions.kinds):
        for index, (candidate, meta) in enumerate(_candidates(kind, snapshot, meta_commands, word)):
            rank = _rank(word, candidate)
            if rank is None:
                continue
            text = _as_typed(candidate, kind, lower)
            if text.lower() in seen:
                continue
            seen.add(text.lower())
            ranked.append((rank, order, index, text, meta))
    ranked.sort()  # candidates arrive in their natural order: names sorted, columns as declared
    return [(text, meta) for _, _, _, text, meta in ranked[:MAX_COMPLETIONS]]


def _rank(word: str, candidate: str) -> int | None:
    if not word:
        return 0
    folded, typed = candidate.lower(), word.lower().lstrip('"')
    if folded.startswith(typed) or folded.lstrip('"').startswith(typed):
        return 0
    if len(typed) >= 2 and typed in folded:
        return 1
    return None


def _as_typed(candidate: str, kind: s.Keyword | s.Name, lower: bool) -> str:
    if isinstance(kind, s.Keyword):
        return candidate.lower() if lower else candidate
    if kind.kind in (s.META, s.FORMAT, s.FILE):
        return candidate
    if not _PLAIN_NAME.match(candidate):
        return '"' + candidate.replace('"', '""') + '"'
    if lower and candidate.isupper():
        return candidate.lower()
    return candidate


def _candidates(kind: s.Keyword | s.Name, snapshot: CatalogSnapshot,
                meta_commands: Iterable[tuple[str, str]], word: str) -> Iterator[tuple[str, str]]:
    if isinstance(kind, s.Keyword):
        for keyword in kind.words:
            yield keyword, "keyword"
        return
    name = kind.kind
    if name == s.TASK:
        for task in snapshot.tasks:
            yield task, f"task · {snapshot.task_states.get(task.upper(), '')}"
    elif name == s.COLUMN:
        for column in snapshot.columns_of(kind.tables):
            yield column, "column"
    elif name in (s.TABLE, s.STREAM, s.WAREHOUSE, s.INTEGRATION):
        names = {s.TABLE: snapshot.tables, s.STREAM: snapshot.streams, s.WAREHOUSE: snapshot.warehouses,
                 s.INTEGRATION: snapshot.integrations}[name]
        for item in names:
            yield item, name
    elif name == s.META:
        yield from meta_commands
    elif name == s.FORMAT:
        for fmt in FORMATS:
            yield fmt, "format"
    elif name == s.FILE:
        yield from _files(word)


def _files(typed: str) -> Iterator[tuple[str, str]]:
    folder, _, _ = typed.rpartition("/")
    path = os.path.expanduser(folder or ".")
    try:
        entries = sorted(os.scandir(path), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries[:MAX_COMPLETIONS]:
        shown = (folder + "/" if folder else "") + entry.name
        yield (shown + "/", "directory") if entry.is_dir() else (shown, "file")


class TaskshellCompleter(Completer):
    """A prompt_toolkit completer over whatever snapshot `snapshot()` returns at the moment."""

    def __init__(self, snapshot: Callable[[], CatalogSnapshot],
                 meta_commands: Iterable[tuple[str, str]] = ()) -> None:
        self._snapshot = snapshot
        self._meta_commands = tuple(meta_commands)

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        suggestions = s.suggest(document.text_before_cursor, document.text_after_cursor, load_grammar=False)
        start = -len(suggestions.word)
        for text, meta in match(suggestions, self._snapshot(), self._meta_commands):
            yield Completion(text, start_position=start, display_meta=meta)
