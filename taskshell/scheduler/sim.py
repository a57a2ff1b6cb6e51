"""Run threads and, under a virtual clock, the cooperative simulation that makes them deterministic.

A task run needs a thread while it blocks (a body may block inside SQLite, in SYSTEM$WAIT, so it
cannot be a coroutine); with the real clock runs share the threads of a `WorkerPool`. With a
virtual clock every run is a fiber, and fibers run one at a time: a thread holds the baton until it parks (waits for virtual
time, a warehouse slot or the catalog's write lock) or finishes, and the driver moves virtual time
to the next wake-up only when no thread can run. The order of everything is then fixed by the
order of events, so the same script gives the same history every time.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime

from taskshell.scheduler.clock import VirtualClock
from taskshell.scheduler.workers import WorkerPool


class Fiber:
    """One simulated thread: it runs only while it holds the baton."""

    __slots__ = ("name", "cv", "interrupted", "timer", "job")

    def __init__(self, name: str, lock: threading.Lock, job: Callable[[], None] | None = None) -> None:
        self.name = name
        self.cv = threading.Condition(lock)
        self.interrupted = False
        self.timer: list | None = None
        self.job = job  # set until the fiber first gets the baton: it has no thread yet


class Simulation:
    """The baton, the virtual timers and the queues of parked fibers."""

    def __init__(self, clock: VirtualClock, pool: WorkerPool) -> None:
        self.clock = clock
        self._pool = pool
        self._lock = threading.Lock()
        self._driver = threading.Condition(self._lock)
        self._running: Fiber | None = None
        self._ready: deque[Fiber] = deque()
        self._timers: list[list] = []  # [instant, seq, fiber-or-callable, live]
        self._lock_waiters: list[Fiber] = []
        self._seq = itertools.count()
        self._local = threading.local()
        self.live = 0

    # ------------------------------------------------------------------ fibers
    def spawn(self, job: Callable[[], None], name: str = "run") -> None:
        """Queue `job` to run on a fiber when the driver next hands out the baton."""
        fiber = Fiber(name, self._lock, job)
        with self._lock:
            self.live += 1
            self._ready.append(fiber)

    def _fiber_main(self, fiber: Fiber) -> None:
        # A thread that finishes a fiber runs the next ready fiber that has no thread yet itself:
        # the baton moves on in the same order as through the driver, without a thread switch.
        while fiber is not None:
            job, fiber.job = fiber.job, None
            self._local.fiber = fiber
            try:
                job()  # type: ignore[misc]
            finally:
                self._local.fiber = None
                with self._lock:
                    self.live -= 1
                    fiber = self._hand_on()

    def _hand_on(self) -> Fiber | None:
        """With the lock held, the baton's holder lets go: give it to the next ready fiber. Returns
        that fiber when it has no thread yet (the caller runs it or finds it one)."""
        if not self._ready:
            self._running = None
            self._driver.notify()
            return None
        fiber = self._ready.popleft()
        self._running = fiber
        if fiber.job is not None:
            return fiber
        fiber.cv.notify()
        return None

    def _start(self, fiber: Fiber) -> None:
        self._pool.submit(lambda: self._fiber_main(fiber))

    def current(self) -> Fiber | None:
        return getattr(self._local, "fiber", None)

    def _park(self, register: Callable[[Fiber], None]) -> Fiber:
        fiber = self.current()
        if fiber is None:
            raise RuntimeError("only a run thread can wait on the simulation")
        with self._lock:
            register(fiber)
            fresh = self._hand_on()
            if fresh is not None:
                self._start(fresh)
            while self._running is not fiber:
                fiber.cv.wait()
        return fiber

    def sleep_until(self, instant: datetime) -> bool:
        """Park the calling fiber until virtual time reaches `instant`; False when interrupted."""
        def register(fiber: Fiber) -> None:
            fiber.interrupted = False
            entry = [instant, next(self._seq), fiber, True]
            fiber.timer = entry
            heapq.heappush(self._timers, entry)

        fiber = self._park(register)
        fiber.timer = None
        return not fiber.interrupted

    def interrupt(self, fiber: Fiber) -> None:
        """Wake a fiber parked in `sleep_until` now (its sleep returns False)."""
        with self._lock:
            entry = fiber.timer
            if entry is not None and entry[3]:
                entry[3] = False
                fiber.interrupted = True
                self._ready.append(fiber)

    def park(self, register: Callable[[Fiber], None]) -> Fiber:
        """Park the calling fiber; `register` stores it where a later `wake` will find it."""
        return self._park(register)

    def wake(self, fiber: Fiber) -> None:
        with self._lock:
            self._ready.append(fiber)

    def wait_for_write_lock(self) -> None:
        """Park until another fiber ends a write transaction (or the driver runs again)."""
        self._park(self._lock_waiters.append)

    def write_lock_released(self) -> None:
        with self._lock:
            self._ready.extend(self._lock_waiters)
            self._lock_waiters.clear()

    def call_at(self, instant: datetime, action: Callable[[], None]) -> list:
        """Run `action` on the driver when virtual time reaches `instant`; returns a cancel handle."""
        entry = [instant, next(self._seq), action, True]
        with self._lock:
            heapq.heappush(self._timers, entry)
        return entry

    @staticmethod
    def cancel_call(handle: list) -> None:
        handle[3] = False

    # ------------------------------------------------------------------ the driver
    def run_ready(self) -> None:
        """Hand the baton to each ready fiber in turn until every fiber is parked or finished."""
        with self._lock:
            while self._ready:
                fiber = self._ready.popleft()
                self._running = fiber
                if fiber.job is not None:
                    self._start(fiber)
                else:
                    fiber.cv.notify()
                while self._running is not None:
                    self._driver.wait()

    def has_ready(self) -> bool:
        with self._lock:
            return bool(self._ready)

    def next_timer(self) -> datetime | None:
        with self._lock:
            while self._timers and not self._timers[0][3]:
                heapq.heappop(self._timers)
            return self._timers[0][0] if self._timers else None

    def fire_timers(self, instant: datetime) -> None:
        """Wake every fiber (and run every action) due at or before `instant`, in time order."""
        actions: list[Callable[[], None]] = []
        with self._lock:
            while self._timers and self._timers[0][0] <= instant:
                entry = heapq.heappop(self._timers)
                if not entry[3]:
                    continue
                entry[3] = False
                if isinstance(entry[2], Fiber):
                    self._ready.append(entry[2])
                else:
                    actions.append(entry[2])
        for action in actions:
            action()

    def parked_on_lock(self) -> int:
        with self._lock:
            return len(self._lock_waiters)
