"""The scheduler: every started root's fire times, claimed and run as graph runs (DESIGN §5).

Every process that opens a catalog runs one. Fire times come from each root's schedule, counted
from the previous scheduled instant (interval: from the resume time), never from "now"; times
missed while no process ran are not back-filled. A due run is claimed by inserting its graph run
row under a unique key, so with several processes each due run executes exactly once.

On the real clock a loop thread sleeps until the earliest fire time or until the catalog changes
(a local notice after task DDL, or `PRAGMA data_version` for other processes), beats, and starts a
claimer on a run thread when something is due: the claimer claims every due fire time in one
transaction and runs the roots that started as groups (`TaskRunner.run_group`: one commit for many
runs), claiming again while more comes due. On a virtual clock nothing moves until `advance` is
called (SYSTEM$WAIT): it runs all work due up to the new time, event by event, in time order.
"""

from __future__ import annotations

import gc
import heapq
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial

from taskshell.catalog.db import BUSY_TIMEOUT_MS, Catalog, write_transaction
from taskshell.catalog.tasks import TaskRecord
from taskshell.errors import ExecutionError
from taskshell.scheduler import claims, liveness
from taskshell.scheduler.clock import Clock
from taskshell.scheduler.events import TASK_AUTO_SUSPENDED, EventBus, SchedulerEvent, SchedulerStatus
from taskshell.scheduler.graphs import SHUTDOWN_MESSAGE, GraphRun, GraphRunner, load_plan, publish_skip
from taskshell.scheduler.runs import Started, TaskRunner, groupable, us
from taskshell.scheduler.runtime import RunControl, Runtime, VirtualRuntime, make_runtime

DEFAULT_HEARTBEAT_MS = 1000
DEFAULT_POLL_SECONDS = 0.05
BUSY_SECONDS = 10.0
REREAD_SECONDS = 0.2
CHECKPOINT_SECONDS = 0.25
GROUP_SIZE = 200  # runs handed to one group
CLAIMER_SECONDS = 0.05  # a claimer claims again while more is due for this long, then hands over
STALL_SECONDS = 0.05  # a claimer that has not moved on for this long gets a second one beside it
DROPPED_MESSAGE = "Task was dropped while the run was in progress."


@dataclass
class _Root:
    task_id: int
    name: str
    schedule: str
    resumed_on: int | None
    generation: int


_FROZEN = threading.Lock()


def _freeze_once() -> None:
    """Move what is alive when the first scheduler starts (modules, grammars, the translator) out of
    the cyclic collector's sight: a full collection then scans only what came later, instead of
    stopping every thread for tens of milliseconds while runs are due. Reference counting still
    frees those objects; only a cycle among them would stay."""
    if _FROZEN.acquire(blocking=False):
        gc.freeze()


@lru_cache(maxsize=4096)
def _instant(value_us: int | None) -> datetime | None:
    return None if value_us is None else datetime.fromtimestamp(value_us / 1_000_000, UTC)


@lru_cache(maxsize=4096)
def _parsed(schedule_json: str) -> object:
    """A stored schedule, parsed once (fire times are computed from it at every fire)."""
    from taskshell.scheduler import schedule as schedules

    return schedules.from_json(schedule_json)


class Scheduler:
    def __init__(self, catalog: Catalog, clock: Clock, *, dialect: str = "snowflake",
                 timezone: str = "America/Los_Angeles", bus: EventBus | None = None,
                 heartbeat_ms: int | None = None, poll_seconds: float = DEFAULT_POLL_SECONDS) -> None:
        self.catalog = catalog
        self.clock = clock
        self.bus = bus or EventBus()
        self.runtime: Runtime = make_runtime(clock)
        self.runner = TaskRunner(catalog, clock, dialect, timezone, runtime=self.runtime, bus=self.bus)
        self.runner.on_catalog_change = self.notify_changed
        self.graphs = GraphRunner(self.runner, self.runtime, catalog.process_id)
        env_beat = os.environ.get("TASKSHELL_HEARTBEAT_MS")
        self.heartbeat_ms = heartbeat_ms or (int(env_beat) if env_beat else DEFAULT_HEARTBEAT_MS)
        self.poll_seconds = poll_seconds
        self.scheduling = False
        self._roots: dict[int, _Root] = {}
        self._heap: list[tuple[datetime, str, int, int]] = []
        self._generation = 0
        self._firing = 0  # threads between taking a fire time and starting its graph run
        self._lock = threading.RLock()
        self._drive_lock = threading.RLock()
        self._changed = threading.Event()
        self._changed.set()
        self._wakeup = threading.Event()  # the loop looks again now (a change, a claimer that ended)
        self._claimers = 0  # claimer jobs queued or running (real clock)
        self._claimed_at = 0.0  # when a claimer last started or moved on (time.monotonic)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._beater: threading.Thread | None = None
        # whether the session this process serves holds the write lock (an open transaction)
        self.session_holds_lock: Callable[[], bool] | None = None
        self._conn: sqlite3.Connection | None = None
        self._signature: object = None
        self.bus.subscribe(self._on_event, kinds=(TASK_AUTO_SUSPENDED,))

    @property
    def virtual(self) -> bool:
        return self.runtime.virtual

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Begin scheduling started roots (a loop thread on the real clock)."""
        _freeze_once()
        self._conn = self.catalog.connect()
        waits = self._conn.execute("PRAGMA busy_timeout").fetchone()[0]
        if not self.virtual:
            self._conn.execute("PRAGMA busy_timeout = 0")
        try:
            liveness.register(self._conn, self.catalog.process_id, None if self.virtual else self.heartbeat_ms)
        except sqlite3.OperationalError:
            # another connection holds the write lock (a run's long write): on the real clock the
            # first beat, on a thread of its own, registers the process; a statement that started
            # the scheduler does not wait for it
            pass
        finally:
            self._conn.execute(f"PRAGMA busy_timeout = {int(waits)}")
        if self.virtual:
            try:  # it never beats: runs left by processes that are gone are failed now, once
                liveness.expire_gone(self._conn, self.catalog.process_id, us(self.clock.now()),
                                     self.runner.on_finished, self.runner.dialect)
            except sqlite3.OperationalError:
                pass  # the catalog is busy: a process on the real clock will see to them
        self.scheduling = True
        if not self.virtual:
            self._thread = threading.Thread(target=self._loop, daemon=True, name="taskshell-scheduler")
            self._thread.start()
            # beats have a thread of their own: a beat waits for the write lock, which a task body
            # that writes holds while it runs, and the loop must notice fire times meanwhile
            self._beater = threading.Thread(target=self._beats, daemon=True, name="taskshell-heartbeat")
            self._beater.start()
            threading.Thread(target=self._checkpoints, daemon=True, name="taskshell-checkpoints").start()

    def keep_alive(self) -> None:
        """Beat for this process without scheduling anything (an engine that only runs EXECUTE TASK),
        so that when the process dies, whoever notices fails the runs it left EXECUTING. A virtual
        clock's process never expires, so it has nothing to register."""
        if self.virtual or self._conn is not None:
            return
        self._conn = self.catalog.connect()
        liveness.register(self._conn, self.catalog.process_id, self.heartbeat_ms)
        self._beater = threading.Thread(target=self._beats, daemon=True, name="taskshell-heartbeat")
        self._beater.start()

    def _beats(self) -> None:
        conn = self.catalog.connect()
        try:
            while True:
                self._beat(conn)  # at once first: runs left by processes that died fail now
                if self._stopping.wait(self.heartbeat_ms / 1000):
                    break
        finally:
            conn.close()

    def stop(self, grace_seconds: float = 0.0) -> None:
        """Stop scheduling; runs still going after `grace_seconds` are cancelled (recorded CANCELLED)."""
        self.scheduling = False
        self._stopping.set()
        self._changed.set()
        self._wakeup.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._beater is not None:
            # a beat under way would register the process again after it unregisters below; one
            # stuck on a locked catalog is left to give up by itself
            self._beater.join(timeout=1.0)
            self._beater = None
        if self.virtual:
            self._cancel_virtual()
        else:
            deadline = time.monotonic() + grace_seconds
            while self.graphs.active and time.monotonic() < deadline:
                time.sleep(0.01)
            self.graphs.stopping = True
            self.graphs.cancel_all(SHUTDOWN_MESSAGE)
            deadline = time.monotonic() + BUSY_SECONDS
            while (self.graphs.active or self._firing) and time.monotonic() < deadline:
                self.graphs.cancel_all(SHUTDOWN_MESSAGE)  # runs that began meanwhile stop too
                time.sleep(0.01)
            self.runtime.abandoned = True  # type: ignore[attr-defined]
        if self._conn is not None:
            try:
                if not self.graphs.active:
                    liveness.unregister(self._conn, self.catalog.process_id)
                # else some run's end could not be recorded (the catalog stayed locked): the process
                # stays registered and stops beating, so that liveness fails its runs (DESIGN §3.2)
            except sqlite3.Error:
                pass  # locked: the row expires like a dead process's, with nothing of its own to fail
            finally:
                self._conn.close()
                self._conn = None
        self.runner.close()

    def _cancel_virtual(self) -> None:
        runtime = self.runtime
        assert isinstance(runtime, VirtualRuntime)
        self.graphs.stopping = True
        with self._drive_lock:
            for _ in range(100):
                self.graphs.cancel_all(SHUTDOWN_MESSAGE)
                runtime.sim.write_lock_released()
                runtime.sim.run_ready()
                if not runtime.sim.live:
                    break

    def notify_changed(self) -> None:
        """Task or warehouse definitions changed in this process: look again."""
        self._changed.set()
        self._wakeup.set()

    def _on_event(self, event: SchedulerEvent) -> None:
        if event.kind == TASK_AUTO_SUSPENDED:
            self.notify_changed()

    def status(self) -> SchedulerStatus:
        with self._lock:
            live = [e for e in self._heap if (r := self._roots.get(e[2])) and r.generation == e[3]]
            top = min(live) if live else None
        return SchedulerStatus(
            running=self.graphs.running(), next_task=top[1] if top else None, next_at=top[0] if top else None,
            # the bus counts failures for the toolbar; reading it must not reset it
            failures=getattr(self.bus, "_failures", 0),
            virtual_now=self.clock.now() if self.virtual else None)

    # ------------------------------------------------------------------ roots and fire times
    def _refresh(self, conn: sqlite3.Connection) -> None:
        signature = conn.execute(
            "SELECT (SELECT group_concat(id || ':' || COALESCE(resumed_on, '') || ':' ||"
            " COALESCE(last_committed_on, ''), ',') FROM _ts_tasks WHERE state = 'started'),"
            " (SELECT group_concat(name || ':' || size || ':' || COALESCE(max_concurrency_level, ''), ',')"
            " FROM _ts_warehouses)").fetchone()
        if signature == self._signature:
            return
        self._signature = signature
        self._load_limits(conn)
        rows = conn.execute(
            "SELECT id, name, schedule, resumed_on FROM _ts_tasks WHERE state = 'started'"
            " AND schedule IS NOT NULL AND finalize_id IS NULL"
            " AND id NOT IN (SELECT task_id FROM _ts_task_predecessors)").fetchall()
        now = self.clock.now()
        with self._lock:
            roots: dict[int, _Root] = {}
            for task_id, name, schedule_json, resumed_on in rows:
                old = self._roots.get(task_id)
                if old and old.schedule == schedule_json and old.resumed_on == resumed_on:
                    roots[task_id] = old
                    continue
                self._generation += 1
                root = _Root(task_id, name, schedule_json, resumed_on, self._generation)
                roots[task_id] = root
                nxt = self._next_fire(root, now)
                if nxt is not None:
                    heapq.heappush(self._heap, (nxt, name, task_id, root.generation))
            self._roots = roots

    def _load_limits(self, conn: sqlite3.Connection) -> None:
        from taskshell.catalog.warehouses import effective_concurrency

        self.runtime.limits = {
            name.lower(): effective_concurrency(size, level)
            for name, size, level in conn.execute(
                "SELECT name, size, max_concurrency_level FROM _ts_warehouses")}

    def _next_fire(self, root: _Root, after: datetime) -> datetime | None:
        # imported here: croniter and the grammar's types cost a script's start-up ~100 ms
        from taskshell.scheduler import schedule as schedules

        return schedules.next_fire_after(_parsed(root.schedule), after, base=_instant(root.resumed_on))

    def _due(self, now: datetime) -> list[tuple[_Root, datetime]]:
        """Pop every fire time up to `now` and queue each root's next one."""
        due: list[tuple[_Root, datetime]] = []
        with self._lock:
            while self._heap and self._heap[0][0] <= now:
                at, name, task_id, generation = heapq.heappop(self._heap)
                root = self._roots.get(task_id)
                if root is None or root.generation != generation:
                    continue
                due.append((root, at))
                nxt = self._next_fire(root, at)
                if nxt is not None and nxt <= now and not self.virtual:
                    nxt = self._next_fire(root, now)  # the loop fell behind: skip, never back-fill
                if nxt is not None:
                    heapq.heappush(self._heap, (nxt, name, task_id, generation))
        return due

    def _fire_due(self, now: datetime, inline: bool = False) -> int:
        """Claim and start every fire time due by `now`; how many there were. `inline`: the calling
        run thread runs the groups itself (see `_claimer`)."""
        due = [claims.Due(root.task_id, root.schedule, root.resumed_on, at) for root, at in self._due(now)]
        if not due:
            return 0
        # every due root is claimed in one transaction; the roots started by the claim run as groups
        # that share a commit (TaskRunner.run_group), in due order, each recording its own start
        handled, rest = self._claim(due)
        group: list[tuple[GraphRun, int, RunControl, Started]] = []
        for item in handled:
            if item.run is not None:
                self.graphs.adopt(item.run)  # type: ignore[arg-type]
                root = item.run.plan.root
                if item.started is not None and groupable(root):
                    group.append((item.run, root.id, item.run.controls[root.id], item.started))
                    continue
            self._spawn_group(group, inline)  # what came before this item goes first
            self.runtime.spawn(partial(self._go, item), name=self._name(item))
        self._spawn_group(group, inline)
        for item in rest:
            self.runtime.spawn(partial(self._fire, item), name=self._name(item))
        if self.virtual and handled:
            # fibers parked on the write lock move after the batch's runs, as after a run's commit
            self.runtime.sim.write_lock_released()  # type: ignore[attr-defined]
        return len(due)

    def _spawn_group(self, group: list[tuple[GraphRun, int, RunControl, Started]], inline: bool = False) -> None:
        """Run the runs gathered so far, GROUP_SIZE at a time, on this thread (`inline`) or on run
        threads; empties `group`."""
        for i in range(0, len(group), GROUP_SIZE):
            part = group[i:i + GROUP_SIZE]
            if inline:
                # even one run goes through a group here: what comes after it in its graph is handed
                # to run threads (a claimer must not run a chain of tasks), and its start and timeout
                # count from when its body began
                self.graphs.run_group(part)
                self._claimed_at = time.monotonic()
            elif len(part) == 1:
                run, _, _, started = part[0]
                self.runtime.spawn(partial(self.graphs.start, run, inline=True, root_started=started),
                                   name=run.plan.root.name)
            else:
                self.runtime.spawn(partial(self.graphs.run_group, part), name=part[0][0].plan.root.name)
        group.clear()

    def _kick(self, now: datetime) -> None:
        """Real clock: when a fire time is due and no claimer is under way, start one; also when the
        one under way has made no progress for STALL_SECONDS (a long body in its group), so that
        fire times are not lost while it runs."""
        with self._lock:
            if not self._heap or self._heap[0][0] > now:
                return
            if self._claimers and time.monotonic() - self._claimed_at < STALL_SECONDS:
                return
            self._claimers += 1
            self._claimed_at = time.monotonic()
            self._firing += 1
        self.runtime.spawn(self._claimer, name="taskshell-claims")

    def _claimer(self) -> None:
        """A run thread claims what is due and runs the groups itself: claiming and running on one
        thread, one after the other, spares the two threads taking turns at the interpreter lock
        (they cannot write at the same time anyway). While runs keep it busy, fire times that came
        due meanwhile are claimed together by the next round."""
        try:
            # more fire times come due while a group runs: claim them at once, on this thread, for as
            # long as no other job waits for a run thread (a claimer hands over after CLAIMER_SECONDS)
            until = time.monotonic() + CLAIMER_SECONDS
            while (self.scheduling and self._fire_due(self.clock.now(), inline=True)
                   and time.monotonic() < until and not self.runtime.pool.waiting()):
                self._claimed_at = time.monotonic()
        finally:
            with self._lock:
                self._claimers -= 1
                self._claimed_at = time.monotonic()
                self._firing -= 1
            self._wakeup.set()  # the loop starts the next claimer if more is due

    def _name(self, item: claims.Claimed | claims.Due) -> str:
        root = self._roots.get(item.due.task_id if isinstance(item, claims.Claimed) else item.task_id)
        return root.name if root else "run"

    def _claim(self, due: list[claims.Due]) -> tuple[list[claims.Claimed], list[claims.Due]]:
        """Claim the due fire times in one transaction (see `claims`); what is left claims alone."""
        conn = self.runner.catalog_connection()
        try:
            if self.virtual:
                # on the driver, which cannot park: a busy catalog leaves every root to its own fiber
                return claims.claim(conn, due, lambda: write_transaction(conn), self.runner, self.graphs,
                                    strict=True)
            # on the real clock only a root that joins a group is recorded started by the claim: the
            # group records when its body really began; any other records its own start
            return claims.claim(conn, due, lambda: self.runtime.write(conn), self.runner, self.graphs,
                                strict=False, startable=groupable)
        finally:
            self.runner.release_connection(conn)

    def _fire(self, item: claims.Due) -> None:
        """A fire time claimed on its own, on the thread (fiber) that then runs it: the claim and the
        root's start share one commit."""
        with self._lock:
            self._firing += 1
        try:
            if not self.scheduling:
                return  # stopped before this thread came to it: the fire time stays unclaimed
            conn = self.runner.catalog_connection()
            try:
                handled, _ = claims.claim(conn, [item], lambda: self.runtime.write(conn), self.runner,
                                          self.graphs, strict=False)
            finally:
                self.runner.release_connection(conn)
            for claimed in handled:
                if claimed.run is not None:
                    self.graphs.adopt(claimed.run)  # type: ignore[arg-type]
                self._go(claimed)
        finally:
            with self._lock:
                self._firing -= 1

    def _go(self, item: claims.Claimed) -> None:
        """Run a claimed fire time's graph, or publish its skip, in its turn."""
        if item.run is not None:
            self.graphs.start(item.run, inline=True, root_started=item.started)
        elif item.skipped is not None:
            root, message = item.skipped
            at = item.due.at
            publish_skip(self.bus, root, self.clock.now(), at, message, int(at.timestamp() * 1000))

    # ------------------------------------------------------------------ the real clock
    def _loop(self) -> None:
        conn = self.catalog.connect()
        version = None
        next_poll = next_read = 0.0
        try:
            while not self._stopping.is_set():
                # other processes' changes are looked for every poll interval, not at every fire time;
                # while runs commit all the time, the catalog is compared at most every REREAD_SECONDS
                if self._changed.is_set() or time.monotonic() >= next_poll:
                    next_poll = time.monotonic() + self.poll_seconds
                    current = conn.execute("PRAGMA data_version").fetchone()[0]
                    if self._changed.is_set() or (current != version and time.monotonic() >= next_read):
                        self._changed.clear()
                        version = current
                        next_read = time.monotonic() + REREAD_SECONDS
                        self._refresh(conn)
                self._kick(self.clock.now())
                timeout = self.poll_seconds
                with self._lock:
                    if self._heap and not self._claimers:
                        timeout = min(timeout, max(0.0, (self._heap[0][0] - self.clock.now()).total_seconds()))
                self._wakeup.wait(timeout)
                self._wakeup.clear()
        finally:
            conn.close()

    def _checkpoints(self) -> None:
        """Run connections leave the log to this thread (see RealRuntime.prepare), so that no run
        start waits for the log to be copied and synced; PASSIVE never waits for anyone."""
        conn = self.catalog.connect()
        try:
            while not self._stopping.wait(CHECKPOINT_SECONDS):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.OperationalError:
                    pass  # busy: the next round tries again
        finally:
            conn.close()

    def _beat(self, conn: sqlite3.Connection) -> None:
        try:
            liveness.beat_and_expire(conn, self.catalog.process_id, self.heartbeat_ms, us(self.clock.now()),
                                     self.runner.on_finished, self.runner.dialect,
                                     beating=lambda: not self._stopping.is_set())
        except sqlite3.OperationalError:
            pass  # the catalog stayed locked past the busy timeout: beat again next time

    # ------------------------------------------------------------------ the virtual clock
    def advance(self, seconds: float) -> None:
        """SYSTEM$WAIT on a virtual clock: run everything due up to now + `seconds`, in time order."""
        self._drive(self.clock.now() + timedelta(seconds=seconds))

    def _drive(self, target: datetime | None, until: Callable[[], bool] | None = None) -> bool:
        runtime = self.runtime
        assert isinstance(runtime, VirtualRuntime)
        sim = runtime.sim
        clock = runtime.clock
        waited: list[float] = []  # when the runs began to wait for a lock held elsewhere
        with self._drive_lock:
            conn = self._conn or self.runner.catalog_connection()
            try:
                sim.write_lock_released()  # the session may have committed since the last drive
                while True:
                    if self.scheduling and self._changed.is_set():
                        self._changed.clear()
                        self._refresh(conn)
                    sim.run_ready()
                    if until is not None and until():
                        return True
                    candidates = [sim.next_timer()]
                    if self.scheduling:
                        with self._lock:
                            candidates.append(self._heap[0][0] if self._heap else None)
                    times = [c for c in candidates if c is not None]
                    if not times:
                        if sim.parked_on_lock() and self._lock_held_elsewhere(waited):
                            # another thread or process holds the write lock for a moment (the
                            # notifier settling a message): the parked runs try again
                            sim.write_lock_released()
                            continue
                        break
                    nxt = min(times)
                    if target is not None and nxt > target:
                        break
                    if nxt > clock.now():
                        clock.set(nxt)
                    sim.fire_timers(nxt)
                    if sim.has_ready():
                        continue  # work already under way moves first; new fire times after it
                    if self.scheduling:
                        self._fire_due(nxt)
                if target is not None and target > clock.now():
                    clock.set(target)
                if self.scheduling and self._changed.is_set():
                    self._changed.clear()
                    self._refresh(conn)
            finally:
                if self._conn is None:
                    self.runner.release_connection(conn)
        return until() if until is not None else True

    def before_session_write(self) -> None:
        """A session statement is about to write: on a virtual clock, a task run that holds the write
        lock across a wait must finish first, and that takes virtual time (SQLite's busy wait)."""
        if not self.virtual or not self.runtime.lock_holders:
            return
        self._drive(self.clock.now() + timedelta(seconds=BUSY_SECONDS), lambda: not self.runtime.lock_holders)
        if self.runtime.lock_holders:
            raise ExecutionError("database is locked: a task run holds the catalog's write lock.",
                                 code="000625")

    # ------------------------------------------------------------------ EXECUTE TASK
    def begin_graph(self, conn: sqlite3.Connection, root: TaskRecord, scheduled_from: str, run_id: int,
                    attempt: int, config: str | None) -> GraphRun:
        """Inside the caller's write transaction: the graph run row and the pinned graph."""
        now = self.clock.now()
        self._load_limits(conn)
        graph_id = self.graphs.insert_graph_run(conn, root, "EXECUTING", now, scheduled_from, run_id, attempt,
                                                None, config=config)
        assert graph_id is not None
        plan = load_plan(conn, root)
        if config is not None:
            plan.members[root.id] = root.with_changes(config=config)
        return GraphRun(graph_id, plan, now, scheduled_from, run_id, attempt)

    def _lock_held_elsewhere(self, waited: list[float]) -> bool:
        """Whether runs parked on the write lock should try again after a short real wait: for as
        long as the busy timeout, since a holder outside the simulation (another thread or process)
        lets go by itself; the session's own open transaction never does."""
        if self.session_holds_lock is not None and self.session_holds_lock():
            return False
        now = time.monotonic()
        if not waited:
            waited.append(now)
        if now - waited[0] > BUSY_TIMEOUT_MS / 1000:
            return False
        time.sleep(0.005)
        return True

    def run_graph(self, run: GraphRun, previous: dict[int, tuple[str, str | None]] | None = None) -> GraphRun:
        """Run a graph to its end (with any automatic retries) and return its last attempt."""
        self.graphs.start(run, previous)
        if self.virtual:
            if not self._drive(None, lambda: run.final().done.is_set()):
                raise ExecutionError(f"The run of task graph {run.plan.root.name} cannot finish: its runs "
                                     "are waiting for the catalog's write lock.")
        else:
            while True:
                last = run.final()
                last.done.wait()
                if last.retry is None:
                    break
        return run.final()

    def cancel_task(self, task_id: int) -> None:
        """DROP TASK: runs of the task still going are cancelled (their rows already say so)."""
        self.graphs.cancel_task(task_id, "CANCELLED", DROPPED_MESSAGE)
