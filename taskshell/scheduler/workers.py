"""The threads task runs execute on.

A task body may block anywhere (SYSTEM$WAIT, a warehouse queue, the catalog's write lock, a long
query), so each run needs a thread of its own while it blocks. What it must not have is a thread of
its own while it computes: with one interpreter lock, a thousand runnable threads only take turns
more slowly and each opens a connection of its own. So at most `limit` workers compute at a time and
further jobs queue; a worker that enters a known blocking wait (`blocking()`) hands its turn to a
queued job at once, and a watchdog starts another worker when no worker has finished a job or
entered a wait for STALL_SECONDS while jobs queue (a long statement, a wait inside SQLite); a pool
that is merely busy gets no more threads. Without a limit (the virtual clock's
fibers, which block by design) every job gets a worker at once.
"""

from __future__ import annotations

import itertools
import queue
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

IDLE_SECONDS = 30.0
STALL_SECONDS = 0.05

Job = Callable[[], None]


class WorkerPool:
    """Threads reused from job to job; a new one starts only when no idle one can take the job."""

    def __init__(self, name: str, limit: int | None = None) -> None:
        self._name = name
        self._limit = limit
        self._lock = threading.Lock()
        self._idle: list[queue.SimpleQueue[Job]] = []
        self._count = itertools.count(1)
        self._computing = 0  # workers running a job and not in a blocking wait
        self._backlog: deque[Job] = deque()
        self._progress = time.monotonic()  # when a worker last finished a job or began to wait
        self._moved = threading.Condition(self._lock)
        self._watchdog: threading.Thread | None = None
        self._local = threading.local()

    def submit(self, job: Job) -> None:
        with self._lock:
            if self._limit is not None and self._computing >= self._limit:
                if not self._backlog:
                    self._progress = time.monotonic()
                self._backlog.append(job)
                self._arm()
                return
            self._computing += 1
            inbox = self._idle.pop() if self._idle else None
        self._hand(inbox, job)

    def waiting(self) -> bool:
        """Whether jobs wait for a worker's turn."""
        return bool(self._backlog)

    def free(self) -> int | None:
        """How many more jobs would start computing at once now (None: no limit)."""
        if self._limit is None:
            return None
        with self._lock:
            return max(0, self._limit - self._computing - len(self._backlog))

    def _hand(self, inbox: queue.SimpleQueue[Job] | None, job: Job) -> None:
        """Give `job` to an idle worker's inbox, or to a new worker (already counted computing)."""
        if inbox is not None:
            inbox.put(job)
            return
        inbox = queue.SimpleQueue()
        inbox.put(job)
        threading.Thread(target=self._work, args=(inbox,), daemon=True,
                         name=f"{self._name}-{next(self._count)}").start()

    def _work(self, inbox: queue.SimpleQueue[Job]) -> None:
        self._local.worker = True
        while True:
            try:
                job = inbox.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if inbox in self._idle:
                        self._idle.remove(inbox)
                        return
                continue  # a job was handed over just as the wait ended
            while job is not None:
                try:
                    job()
                except Exception:  # noqa: BLE001 - reported, and the jobs queued behind it still run
                    threading.excepthook(threading.ExceptHookArgs((*sys.exc_info(), threading.current_thread())))
                finally:
                    with self._lock:
                        self._progress = time.monotonic()
                        job = self._next_locked()
                        if job is None:
                            self._computing -= 1
                            self._idle.append(inbox)

    def _next_locked(self) -> Job | None:
        """A finishing worker's next job from the backlog, if its turn allows one."""
        if not self._backlog or (self._limit is not None and self._computing > self._limit):
            return None
        return self._backlog.popleft()

    @contextmanager
    def blocking(self) -> Iterator[None]:
        """Around a wait of the calling worker: its turn goes to a queued job meanwhile."""
        if self._limit is None or not getattr(self._local, "worker", False):
            yield
            return
        with self._lock:
            self._computing -= 1
            self._progress = time.monotonic()
            started = self._start_backlog_locked()
        for inbox, job in started:
            self._hand(inbox, job)
        try:
            yield
        finally:
            with self._lock:
                self._computing += 1

    def _start_backlog_locked(self, force: int = 0) -> list[tuple[queue.SimpleQueue[Job] | None, Job]]:
        started = []
        while self._backlog and (force > 0 or self._computing < self._limit):  # type: ignore[operator]
            force -= 1
            self._computing += 1
            started.append((self._idle.pop() if self._idle else None, self._backlog.popleft()))
        return started

    def _arm(self) -> None:
        if self._watchdog is None:
            self._watchdog = threading.Thread(target=self._watch, daemon=True, name=f"{self._name}-watchdog")
            self._watchdog.start()
        self._moved.notify()

    def _watch(self) -> None:
        while True:
            with self._lock:
                while not self._backlog:
                    self._moved.wait()
                still = time.monotonic() - self._progress
                if still < STALL_SECONDS:
                    self._moved.wait(STALL_SECONDS - still)
                    continue
                # jobs wait and no worker moved for a while: they are stuck, add one
                self._progress = time.monotonic()
                started = self._start_backlog_locked(force=1)
            for inbox, job in started:
                self._hand(inbox, job)
