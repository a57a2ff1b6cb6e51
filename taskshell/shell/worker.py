"""Every statement runs on one worker thread, never on the UI thread; Ctrl-C interrupts SQLite.

The shell turns SIGINT into `request_cancel()` rather than a KeyboardInterrupt that could land
anywhere. A cancel that comes before a call starts stops it from running at all; during a call it
interrupts the connection, again and again, because SQLite ignores an interrupt while no statement
is running (the call may still be translating).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

T = TypeVar("T")
IDLE_POLL_SECONDS = 0.5
INTERRUPT_REPEAT_SECONDS = 0.05


class Cancelled(Exception):
    """The user pressed Ctrl-C and the statement stopped (or never started)."""


class StatementWorker:
    def __init__(self, interrupt: Callable[[], None]) -> None:
        self._interrupt = interrupt
        self._cancel = threading.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="taskshell-statements")

    def request_cancel(self) -> None:
        """Stop the running call and any call that starts before `reset_cancel()` (signal-safe)."""
        self._cancel.set()
        self._interrupt()

    def reset_cancel(self) -> None:
        self._cancel.clear()

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` on the worker and wait. Raises Cancelled when a cancel was requested and
        the call failed or never ran; a call that finished anyway returns its result."""
        if self._cancel.is_set():
            raise Cancelled()
        future: Future[T] = self._executor.submit(fn, *args)
        while not future.done():
            cancelling = self._cancel.is_set()
            wait([future], INTERRUPT_REPEAT_SECONDS if cancelling else IDLE_POLL_SECONDS)
            if cancelling and not future.done():
                self._interrupt()
        error = future.exception()
        if error is not None:
            if self._cancel.is_set():
                raise Cancelled() from None
            raise error
        return future.result()

    def close(self) -> None:
        self._executor.shutdown(wait=True)
