"""How run threads start, wait, take warehouse slots and write, on the real or a virtual clock.

`RealRuntime` uses plain threads, real sleeps and SQLite's busy timeout. `VirtualRuntime` runs the
same code as fibers of a `Simulation`: a wait parks the fiber until virtual time reaches its end,
a full warehouse parks it in the warehouse's queue, and a busy catalog parks it until another fiber
ends a write transaction (SQLite's busy wait would hold the baton and stall everything).
"""

from __future__ import annotations

import heapq
import itertools
import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from taskshell.catalog.db import committed
from taskshell.scheduler.clock import Clock, VirtualClock
from taskshell.scheduler.sim import Fiber, Simulation
from taskshell.scheduler.workers import WorkerPool

# Runs computing at once on the real clock; more only wait their turn for the interpreter lock
RUN_THREADS = 1


def is_busy(exc: sqlite3.OperationalError) -> bool:
    """Whether SQLite refused for another connection's lock ("database is locked"/"busy")."""
    text = str(exc)
    return "locked" in text or "busy" in text


class RunCancelled(Exception):
    """Raised inside a run when it was cancelled (timeout, DROP TASK, shutdown)."""


class RunControl:
    """The handle through which a run is cancelled, and which tells the run that it was."""

    def __init__(self) -> None:
        self.state: str | None = None  # the run's recorded state once cancelled: FAILED | CANCELLED
        self.code: str | None = None
        self.message: str | None = None
        self.conn: sqlite3.Connection | None = None  # the body's connection while it runs
        self.fiber: Fiber | None = None
        self._event: threading.Event | None = None
        self.granted = False  # a warehouse slot was handed to this (parked) run
        self.lock = threading.Lock()  # guards `conn`: an interrupt must never reach the bookkeeping

    @property
    def event(self) -> threading.Event:
        """Set once the run is cancelled; made on first use (most runs never wait on it)."""
        with self.lock:
            if self._event is None:
                self._event = threading.Event()
                if self.state is not None:
                    self._event.set()
            return self._event

    @property
    def cancelled(self) -> bool:
        return self.state is not None

    def check(self) -> None:
        if self.cancelled:
            raise RunCancelled(self.message)


class Runtime:
    virtual = False

    def __init__(self, clock: Clock, threads: int | None = None) -> None:
        self.clock = clock
        self.pool = WorkerPool("taskshell-run", threads)
        self.limits: dict[str, int] = {}  # lower-case warehouse name → concurrent runs
        self.lock_holders = 0

    def limit_of(self, warehouse: str | None) -> int | None:
        return self.limits.get(warehouse.lower()) if warehouse else None

    def spawn(self, job: Callable[[], None], name: str = "run") -> None:
        raise NotImplementedError

    def wait(self, control: RunControl, seconds: float) -> None:
        raise NotImplementedError

    def write(self, conn: sqlite3.Connection, patient: bool = False) -> Any:
        """A write transaction on `conn`. `patient`: it records what has already happened (a run's
        end, a graph run's completion), so it waits for the catalog's write lock however long
        another connection holds it, rather than failing after the busy timeout."""
        raise NotImplementedError

    def acquire_slot(self, warehouse: str | None, control: RunControl) -> bool:
        raise NotImplementedError

    def try_slot(self, warehouse: str | None) -> bool:
        """Take a slot of `warehouse` only if one is free now and no run is queued for it."""
        raise NotImplementedError

    def release_slot(self, warehouse: str | None) -> None:
        raise NotImplementedError

    def call_at(self, instant: datetime, action: Callable[[], None]) -> Any:
        raise NotImplementedError

    def cancel_call(self, handle: Any) -> None:
        raise NotImplementedError

    def cancel(self, control: RunControl, state: str, code: str | None, message: str) -> None:
        """Cancel a run from any thread: its next wait or statement raises."""
        if control.cancelled:
            return
        control.state, control.code, control.message = state, code, message
        control.event.set()
        with control.lock:
            if control.conn is not None:
                control.conn.interrupt()

    def prepare(self, conn: sqlite3.Connection) -> None:
        """Adjust a run connection for this runtime."""


class RealRuntime(Runtime):
    def __init__(self, clock: Clock) -> None:
        super().__init__(clock, RUN_THREADS)
        self._slots = threading.Condition()
        self._used: dict[str, int] = {}
        self._deadlines = _Deadlines(clock)
        self._writer = threading.Lock()
        # set by a stopping scheduler once it has waited long enough: patient writes give up, and
        # the runs they would have recorded are left to liveness (see Scheduler.stop)
        self.abandoned = False

    def spawn(self, job: Callable[[], None], name: str = "run") -> None:
        self.pool.submit(job)

    def prepare(self, conn: sqlite3.Connection) -> None:
        # a run's commit must not copy the log into the file (and sync it) on its way: the
        # scheduler's loop checkpoints instead (sessions keep SQLite's automatic checkpoints)
        conn.execute("PRAGMA wal_autocheckpoint = 0")

    def wait(self, control: RunControl, seconds: float) -> None:
        with self.pool.blocking():
            if control.event.wait(seconds):
                raise RunCancelled(control.message)

    @contextmanager
    def write(self, conn: sqlite3.Connection, patient: bool = False) -> Iterator[sqlite3.Connection]:
        # run threads of one process queue here rather than in SQLite's busy handler, whose
        # back-off sleeps (up to 100 ms) would make a hundred siblings start late
        with self._writer:
            while True:
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    break
                except sqlite3.OperationalError as exc:
                    # the catalog stayed locked past the busy timeout (a user's open transaction,
                    # another process's long write): a patient write tries again
                    if not (patient and is_busy(exc)) or self.abandoned:
                        raise
            with committed(conn):
                yield conn

    def acquire_slot(self, warehouse: str | None, control: RunControl) -> bool:
        if self.limit_of(warehouse) is None:
            return not control.cancelled
        key = warehouse.lower()  # type: ignore[union-attr]
        with self._slots:
            while True:
                if control.cancelled:
                    return False
                limit = self.limit_of(warehouse)
                if limit is None or self._used.get(key, 0) < limit:
                    self._used[key] = self._used.get(key, 0) + 1
                    return True
                with self.pool.blocking():
                    self._slots.wait(0.05)

    def try_slot(self, warehouse: str | None) -> bool:
        limit = self.limit_of(warehouse)
        if limit is None:
            return True
        key = warehouse.lower()  # type: ignore[union-attr]
        with self._slots:
            if self._used.get(key, 0) < limit:
                self._used[key] = self._used.get(key, 0) + 1
                return True
        return False

    def release_slot(self, warehouse: str | None) -> None:
        if not warehouse:
            return
        key = warehouse.lower()
        with self._slots:
            if self._used.get(key, 0) > 0:
                self._used[key] -= 1
            self._slots.notify_all()

    def call_at(self, instant: datetime, action: Callable[[], None]) -> Any:
        return self._deadlines.add(instant, action)

    def cancel_call(self, handle: Any) -> None:
        self._deadlines.cancel(handle)

    def cancel(self, control: RunControl, state: str, code: str | None, message: str) -> None:
        super().cancel(control, state, code, message)
        with self._slots:
            self._slots.notify_all()


class VirtualRuntime(Runtime):
    virtual = True

    def __init__(self, clock: VirtualClock) -> None:
        super().__init__(clock)
        self.sim = Simulation(clock, self.pool)
        self._used: dict[str, int] = {}
        self._queues: dict[str, deque[tuple[Fiber, RunControl]]] = {}

    def spawn(self, job: Callable[[], None], name: str = "run") -> None:
        self.sim.spawn(job, name)

    def prepare(self, conn: sqlite3.Connection) -> None:
        # a busy catalog parks the fiber instead (see write); SQLite's own wait would stall the driver
        conn.execute("PRAGMA busy_timeout = 0")

    def wait(self, control: RunControl, seconds: float) -> None:
        control.check()
        until = self.clock.now() + timedelta(seconds=seconds)
        control.fiber = self.sim.current()
        try:
            self.sim.sleep_until(until)
        finally:
            control.fiber = None
        control.check()

    @contextmanager
    def write(self, conn: sqlite3.Connection, patient: bool = False) -> Iterator[sqlite3.Connection]:
        # a busy catalog always parks the fiber until a write ends: every write here is patient
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):
                    raise
                self.sim.wait_for_write_lock()
        self.lock_holders += 1
        try:
            with committed(conn):
                yield conn
        finally:
            self.lock_holders -= 1
            self.sim.write_lock_released()

    def acquire_slot(self, warehouse: str | None, control: RunControl) -> bool:
        limit = self.limit_of(warehouse)
        if limit is None:
            return not control.cancelled
        key = warehouse.lower()  # type: ignore[union-attr]
        if self._used.get(key, 0) < limit and not self._queues.get(key):
            self._used[key] = self._used.get(key, 0) + 1
            return True
        control.granted = False
        waiting = self._queues.setdefault(key, deque())
        self.sim.park(lambda fiber: waiting.append((fiber, control)))
        return control.granted and not control.cancelled

    def try_slot(self, warehouse: str | None) -> bool:
        limit = self.limit_of(warehouse)
        if limit is None:
            return True
        key = warehouse.lower()  # type: ignore[union-attr]
        if self._used.get(key, 0) < limit and not self._queues.get(key):
            self._used[key] = self._used.get(key, 0) + 1
            return True
        return False

    def release_slot(self, warehouse: str | None) -> None:
        if not warehouse or self.limit_of(warehouse) is None:
            return
        key = warehouse.lower()
        waiting = self._queues.get(key)
        while waiting:
            fiber, control = waiting.popleft()
            if control.cancelled:
                self.sim.wake(fiber)
                continue
            control.granted = True  # the slot passes straight to the next run in line
            self.sim.wake(fiber)
            return
        self._used[key] = max(0, self._used.get(key, 0) - 1)

    def call_at(self, instant: datetime, action: Callable[[], None]) -> Any:
        return self.sim.call_at(instant, action)

    def cancel_call(self, handle: Any) -> None:
        self.sim.cancel_call(handle)

    def cancel(self, control: RunControl, state: str, code: str | None, message: str) -> None:
        if control.cancelled:
            return
        control.state, control.code, control.message = state, code, message
        control.event.set()
        if control.fiber is not None:
            self.sim.interrupt(control.fiber)
        for waiting in self._queues.values():
            for entry in list(waiting):
                if entry[1] is control:
                    waiting.remove(entry)
                    self.sim.wake(entry[0])


class _Deadlines:
    """One thread that runs actions at instants of the real clock (run timeouts)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._cv = threading.Condition()
        self._heap: list[list] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._dead = 0  # cancelled entries still in the heap

    def add(self, instant: datetime, action: Callable[[], None]) -> list:
        entry = [instant, next(self._seq), action, True]
        with self._cv:
            if self._dead > 1024 and 2 * self._dead > len(self._heap):
                # runs that ended long before their timeout leave dead entries: drop them
                self._heap = [e for e in self._heap if e[3]]
                heapq.heapify(self._heap)
                self._dead = 0
            heapq.heappush(self._heap, entry)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, daemon=True, name="taskshell-deadlines")
                self._thread.start()
            if self._heap[0] is entry:
                self._cv.notify()  # only an earlier deadline changes how long the thread sleeps
        return entry

    def cancel(self, entry: list) -> None:
        with self._cv:
            if entry[3]:
                entry[3] = False
                self._dead += 1

    def _loop(self) -> None:
        while True:
            with self._cv:
                while self._heap and not self._heap[0][3]:
                    heapq.heappop(self._heap)
                    self._dead -= 1
                if not self._heap:
                    self._cv.wait(5.0)
                    continue
                delay = (self._heap[0][0] - self._clock.now()).total_seconds()
                if delay > 0:
                    self._cv.wait(delay)
                    continue
                entry = heapq.heappop(self._heap)
            if entry[3]:
                entry[3] = False
                entry[2]()


def make_runtime(clock: Clock) -> Runtime:
    if isinstance(clock, VirtualClock):
        return VirtualRuntime(clock)
    return RealRuntime(clock)
