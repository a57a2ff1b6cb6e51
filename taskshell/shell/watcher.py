"""Keeps what the prompt reads fresh, off the UI thread: the catalog snapshot the completer matches
against and the scheduler status the toolbar shows. Each is replaced whole, never mutated."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from taskshell.interpreter.snapshot import CatalogSnapshot, build_snapshot

if TYPE_CHECKING:
    from taskshell.catalog.db import Catalog
    from taskshell.scheduler.events import SchedulerStatus

POLL_SECONDS = 1.0


class CatalogWatcher:
    def __init__(self, catalog: Catalog, scheduler: Any | None, on_change: Callable[[], None]) -> None:
        self.snapshot = CatalogSnapshot()
        self.status: SchedulerStatus | None = None
        self._catalog = catalog
        self._scheduler = scheduler
        self._on_change = on_change
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._dirty.set()
            self._thread = threading.Thread(target=self._run, name="taskshell-catalog-watch", daemon=True)
            self._thread.start()

    def set_scheduler(self, scheduler: Any) -> None:
        """The scheduler started after the watcher: show its status from now on."""
        self._scheduler = scheduler
        self._dirty.set()

    def refresh(self) -> None:
        """Ask for a new snapshot (after DDL or a scheduler event); requests coalesce."""
        self._dirty.set()

    def stop(self) -> None:
        self._stopping.set()
        self._dirty.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)

    def _run(self) -> None:
        _warm_grammar()
        while not self._stopping.is_set():
            changed = False
            if self._dirty.is_set():
                self._dirty.clear()
                try:
                    self.snapshot = build_snapshot(self._catalog)
                    changed = True
                except Exception:  # noqa: BLE001 - a busy or changing catalog: keep the old names
                    pass
            if self._scheduler is not None:
                try:
                    status = self._scheduler.status()
                except Exception:  # noqa: BLE001 - the toolbar keeps its last status
                    status = self.status
                changed = changed or status != self.status
                self.status = status
            if changed:
                self._on_change()
            self._dirty.wait(POLL_SECONDS)


def _warm_grammar() -> None:
    """Load the grammar's parser now, so the first keyword completion is quick."""
    try:
        from taskshell.shell.grammar_state import grammar_state

        grammar_state("")
    except Exception:  # noqa: BLE001 - completion falls back to word lists
        pass
