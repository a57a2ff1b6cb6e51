"""The notifier: delivers the outbox from threads of its own, never from a task run's thread.

A dispatcher thread watches the catalog (`PRAGMA data_version`, so commits from any process count)
and the earliest retry time. Each integration with due messages gets a lane: a thread that claims
and sends that integration's messages one by one. A slow or dead endpoint therefore holds up only
its own lane — never a task run and never another integration.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from typing import TYPE_CHECKING

from taskshell.notify import outbox, store
from taskshell.notify.delivery import DeliverySettings, backoff_seconds, make_client, send

if TYPE_CHECKING:
    import httpx

    from taskshell.catalog.db import Catalog
    from taskshell.scheduler.clock import Clock
    from taskshell.scheduler.runs import FinishedRun, TaskRunner

DEFAULT_POLL_SECONDS = 0.1
DEFAULT_DRAIN_SECONDS = 3.0


def disabled_message(name: str) -> str:
    return f"Notification integration '{name}' is disabled; the message was not sent."


class Notifier:
    def __init__(self, catalog: Catalog, clock: Clock | None = None,
                 settings: DeliverySettings | None = None, *, poll_seconds: float = DEFAULT_POLL_SECONDS,
                 rng: random.Random | None = None) -> None:
        self.catalog = catalog
        self.clock = clock
        self.settings = settings or DeliverySettings()
        self.poll_seconds = poll_seconds
        self.owner = f"{catalog.process_id}/notifier-{os.urandom(2).hex()}"
        self._rng = rng or random.Random()
        self._lock = threading.Condition()  # notified whenever a lane ends
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lanes: dict[str, threading.Thread] = {}
        self._in_flight: set[int] = set()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._dispatch, daemon=True, name="taskshell-notifier")
            self._thread.start()

    def attach(self, runner: TaskRunner) -> None:
        """Queue messages for the runs `runner` records, and look for them soon after."""
        outbox.attach(runner)
        if self._on_finished not in runner.on_finished:
            runner.on_finished.append(self._on_finished)

    def wake(self) -> None:
        self._wake.set()

    def stop(self, drain_seconds: float = DEFAULT_DRAIN_SECONDS) -> None:
        """Deliver what is due for up to `drain_seconds`, then stop; what is left stays pending for
        the next process that opens the catalog."""
        if self._thread is None:
            return
        self.wait_idle(drain_seconds)
        self._stopping.set()
        self.wake()
        self._thread.join()
        self._thread = None
        with self._lock:
            lanes = list(self._lanes.values())
        for lane in lanes:  # a lane stuck on a hanging endpoint keeps its lease and is left behind
            lane.join(timeout=0.2)
        with self._lock:
            busy = set(self._in_flight)
        conn = self.catalog.connect()
        try:
            outbox.release_claims(conn, self.owner, keep=busy)
        finally:
            conn.close()

    # ------------------------------------------------------------------ dispatcher
    def _on_finished(self, conn: sqlite3.Connection, run: FinishedRun) -> None:
        if outbox.may_report(run):  # not for every run: most report nowhere
            self.wake()  # before the run's commit; the dispatcher sees the commit on its next look

    def wait_idle(self, timeout: float, *, settled: bool = False) -> bool:
        """Wait until no message is being sent and none is due now (messages waiting out a backoff
        do not count unless `settled`: then every message must be delivered or given up);
        False when `timeout` seconds pass first."""
        deadline = time.monotonic() + timeout
        conn = self.catalog.connect()

        def busy() -> bool:
            if self._lanes:
                return True
            if settled:
                return outbox.next_due_us(conn) is not None
            return bool(outbox.due_integrations(conn, outbox.wall_us()))

        try:
            with self._lock:
                while busy():
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self.wake()
                    self._lock.wait(min(remaining, self.poll_seconds))
            return True
        finally:
            conn.close()

    def _dispatch(self) -> None:
        conn = self.catalog.connect()
        try:
            seen_version = None
            next_due: int | None = 0
            while not self._stopping.is_set():
                version = conn.execute("PRAGMA data_version").fetchone()[0]
                now = outbox.wall_us()
                if version != seen_version or (next_due is not None and next_due <= now) or self._wake.is_set():
                    self._wake.clear()
                    seen_version = version
                    for name in outbox.due_integrations(conn, now):
                        self._open_lane(name)
                    next_due = outbox.next_due_us(conn)
                wait = self.poll_seconds
                ahead = None if next_due is None else (next_due - outbox.wall_us()) / 1_000_000
                if ahead is not None and ahead > 0:  # due already: a busy lane has it, and wakes us
                    wait = min(wait, ahead)
                self._wake.wait(wait)
        finally:
            conn.close()

    def _open_lane(self, name: str) -> None:
        key = name.lower()
        with self._lock:
            if key in self._lanes or self._stopping.is_set():
                return
            lane = threading.Thread(target=self._lane, args=(key, name), daemon=True,
                                    name=f"taskshell-notify-{name}")
            self._lanes[key] = lane
        lane.start()

    # ------------------------------------------------------------------ a lane
    def _lane(self, key: str, name: str) -> None:
        conn = self.catalog.connect()
        client = make_client(self.settings)
        try:
            lease_us = int(self.settings.lease_seconds * 1_000_000)
            while not self._stopping.is_set():
                claimed = outbox.claim_next(conn, name, self.owner, outbox.wall_us(), lease_us)
                if claimed is None:
                    break
                with self._lock:
                    self._in_flight.add(claimed.id)
                try:
                    self._attempt(conn, client, claimed)
                finally:
                    with self._lock:
                        self._in_flight.discard(claimed.id)
        except sqlite3.Error:
            pass  # a busy or closing catalog: the claim's lease runs out and the message is retried
        finally:
            with self._lock:
                self._lanes.pop(key, None)
                self._lock.notify_all()
            client.close()
            conn.close()
            self.wake()

    def _processed_us(self) -> int:
        if self.clock is None:
            return outbox.wall_us()
        return int(self.clock.now().timestamp() * 1_000_000)

    def _attempt(self, conn: sqlite3.Connection, client: httpx.Client, claimed: outbox.Claimed) -> None:
        integration = store.get(conn, claimed.integration_name)
        if integration is None or not integration.enabled:
            error = (outbox.missing_message(claimed.integration_name) if integration is None
                     else disabled_message(integration.name))
            outbox.settle(conn, claimed, self.owner, status=outbox.FAILED, processed_us=self._processed_us(),
                          attempt_status=None, error=error)
            return
        result = send(client, integration, claimed.message)
        attempt = claimed.attempts + 1
        processed = self._processed_us()
        if result.delivered:
            outbox.settle(conn, claimed, self.owner, status=outbox.SUCCEEDED, processed_us=processed,
                          attempt_status=outbox.SUCCEEDED, http_status=result.http_status)
        elif result.retryable and attempt < self.settings.max_attempts:
            delay = backoff_seconds(attempt, self.settings, self._rng, result.retry_after)
            outbox.settle(conn, claimed, self.owner, status=outbox.PENDING, processed_us=processed,
                          attempt_status=outbox.RETRYING, http_status=result.http_status, error=result.error,
                          next_attempt_us=outbox.wall_us() + int(delay * 1_000_000))
        else:
            summary = (f"Gave up after {attempt} attempts; last error: {result.error}" if result.retryable
                       else result.error)
            outbox.settle(conn, claimed, self.owner, status=outbox.FAILED, processed_us=processed,
                          attempt_status=outbox.FAILED, http_status=result.http_status, error=result.error,
                          message_error=summary)


def start_notifier(catalog: Catalog, clock: Clock | None = None, runner: TaskRunner | None = None) -> Notifier:
    """A started notifier for this process; `runner`'s failed runs queue messages for it."""
    notifier = Notifier(catalog, clock)
    if runner is not None:
        notifier.attach(runner)
    notifier.start()
    return notifier
