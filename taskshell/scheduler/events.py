"""Scheduler events: what the interactive shell shows above the prompt and counts in its toolbar.

Publishers call `EventBus.publish` from any thread; subscribers must return quickly and must not
touch SQLite (the shell hands events to its UI thread).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

RUN_STARTED = "run_started"
RUN_SUCCEEDED = "run_succeeded"
RUN_FAILED = "run_failed"
RUN_SKIPPED = "run_skipped"
TASK_AUTO_SUSPENDED = "task_auto_suspended"


@dataclass(slots=True)  # a record: never changed once made (frozen would cost ~2 µs more per run)
class SchedulerEvent:
    kind: str  # one of the constants above
    task_name: str
    at: datetime  # aware; the scheduler's clock when it happened
    state: str | None = None  # the run's STATE in TASK_HISTORY terms
    scheduled_time: datetime | None = None
    error_code: str | None = None
    error_message: str | None = None
    run_id: int | None = None


@dataclass(frozen=True)
class SchedulerStatus:
    """A snapshot for the shell's toolbar."""

    running: int = 0
    next_task: str | None = None
    next_at: datetime | None = None
    failures: int = 0  # failed runs published since the last `EventBus.take_failures()`
    virtual_now: datetime | None = None  # set when the clock is virtual


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[tuple[Callable[[SchedulerEvent], None], frozenset[str] | None]] = []
        self._wanted: frozenset[str] | None = frozenset()  # None: some subscriber wants every kind
        self._failures = 0

    def subscribe(self, fn: Callable[[SchedulerEvent], None],
                  kinds: Iterable[str] | None = None) -> Callable[[], None]:
        """Call `fn` for every event (or every event of `kinds`) from now on; returns a function
        that unsubscribes."""
        entry = (fn, None if kinds is None else frozenset(kinds))
        with self._lock:
            self._subscribers.append(entry)
            self._recount()

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._subscribers:
                    self._subscribers.remove(entry)
                    self._recount()

        return unsubscribe

    def _recount(self) -> None:
        wanted: set[str] = set()
        for _, kinds in self._subscribers:
            if kinds is None:
                self._wanted = None
                return
            wanted |= kinds
        self._wanted = frozenset(wanted)

    def wants(self, kind: str) -> bool:
        """Whether an event of `kind` would reach anyone (failures are always counted): a publisher
        need not even make an event nobody wants."""
        wanted = self._wanted
        return wanted is None or kind in wanted or kind == RUN_FAILED

    def publish(self, event: SchedulerEvent) -> None:
        with self._lock:
            if event.kind == RUN_FAILED:
                self._failures += 1
            subscribers = [fn for fn, kinds in self._subscribers if kinds is None or event.kind in kinds]
        for fn in subscribers:
            try:
                fn(event)
            except Exception:  # noqa: BLE001 - one broken subscriber must not stop the scheduler
                pass

    def take_failures(self) -> int:
        """Failed runs since the last call (the toolbar's 'failures since the last look')."""
        with self._lock:
            count, self._failures = self._failures, 0
            return count
