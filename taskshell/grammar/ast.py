"""Typed, frozen commands produced by the Lark front end for the objects taskshell owns.

Names keep the spelling the user wrote (quotes removed, `quoted` remembered); the interpreter
normalises them per dialect. Values are plain Python: str, int, float, bool or None (NULL).
"""

from __future__ import annotations

from dataclasses import dataclass, field

Value = (
    str
    | int
    | float
    | bool
    | None
)


@dataclass(frozen=True)
class Ident:
    value: str
    quoted: bool = False


@dataclass(frozen=True)
class QualifiedName:
    """`db.schema.name`, `schema.name` or `name`; the last part is the object's name."""

    parts: tuple[Ident, ...]

    @property
    def name(self) -> Ident:
        return self.parts[-1]

    def __str__(self) -> str:
        return ".".join(p.value for p in self.parts)


# ---------------------------------------------------------------- schedules
@dataclass(frozen=True)
class IntervalSpec:
    """Databend's unquoted `SCHEDULE = 5 MINUTE` (also SECOND, HOUR, MILLISECOND)."""

    amount: int
    unit: str  # 'MILLISECOND' | 'SECOND' | 'MINUTE' | 'HOUR' (singular, upper case)


@dataclass(frozen=True)
class CronSpec:
    """Databend's `SCHEDULE = USING CRON '<expr>' ['<tz>']`."""

    expr: str
    timezone: str | None


@dataclass(frozen=True)
class QuotedSchedule:
    """Snowflake's `SCHEDULE = '<text>'`: '5 MINUTE', '10 SECONDS', 'USING CRON 0 9 * * * UTC'."""

    text: str


ScheduleSpec = (
    IntervalSpec
    | CronSpec
    | QuotedSchedule
)


# ---------------------------------------------------------------- WHEN conditions
@dataclass(frozen=True)
class Literal:
    value: Value


@dataclass(frozen=True)
class ArrayLiteral:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class FuncCall:
    name: str  # upper case as written, e.g. 'STREAM_STATUS', 'SYSTEM$STREAM_HAS_DATA'
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class BinaryOp:
    op: str  # 'AND' | 'OR' | '=' | '!=' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/' | '||' | 'LIKE' | 'ILIKE'
    left: Expr
    right: Expr


@dataclass(frozen=True)
class UnaryOp:
    op: str  # 'NOT' | '-'
    operand: Expr


@dataclass(frozen=True)
class IsNull:
    operand: Expr
    negated: bool


@dataclass(frozen=True)
class Cast:
    operand: Expr
    type_name: str  # upper case, e.g. 'BOOLEAN', 'VARCHAR', 'NUMBER(10,2)'


@dataclass(frozen=True)
class ColumnRef:
    """A bare name inside a condition (only valid as a cast target or not at all; kept for errors)."""

    name: str


Expr = (
    Literal
    | ArrayLiteral
    | FuncCall
    | BinaryOp
    | UnaryOp
    | IsNull
    | Cast
    | ColumnRef
)


@dataclass(frozen=True)
class Condition:
    text: str  # the condition exactly as written (for SHOW TASKS' condition column)
    expr: Expr


# ---------------------------------------------------------------- tasks
@dataclass(frozen=True)
class TaskProps:
    """Properties of CREATE TASK / ALTER TASK SET, each None when not given.

    `session_params` holds every other `NAME = value` pair (upper-cased names, in order).
    """

    warehouse: str | None = None
    user_task_managed_initial_warehouse_size: str | None = None
    schedule: ScheduleSpec | None = None
    after: tuple[QualifiedName, ...] | None = None
    when: Condition | None = None
    config: str | None = None
    allow_overlapping_execution: bool | None = None
    overlap_policy: str | None = None
    user_task_timeout_ms: int | None = None
    suspend_task_after_num_failures: int | None = None
    error_integration: str | None = None
    success_integration: str | None = None
    comment: str | None = None
    finalize: QualifiedName | None = None
    task_auto_retry_attempts: int | None = None
    user_task_minimum_trigger_interval_in_seconds: int | None = None
    session_params: tuple[tuple[str, Value], ...] = ()


@dataclass(frozen=True)
class Body:
    """A task body (`AS …`) kept as text; `line`/`column` say where it starts in the statement."""

    text: str
    line: int = 1
    column: int = 1


@dataclass(frozen=True)
class CreateTask:
    name: QualifiedName
    props: TaskProps
    body: Body | None  # None only for CLONE
    or_replace: bool = False
    or_alter: bool = False
    if_not_exists: bool = False
    clone_of: QualifiedName | None = None


@dataclass(frozen=True)
class Resume:
    pass


@dataclass(frozen=True)
class Suspend:
    pass


@dataclass(frozen=True)
class AddAfter:
    names: tuple[QualifiedName, ...]


@dataclass(frozen=True)
class RemoveAfter:
    names: tuple[QualifiedName, ...]


@dataclass(frozen=True)
class SetProps:
    props: TaskProps


@dataclass(frozen=True)
class UnsetProps:
    names: tuple[str, ...]  # upper case property or session-parameter names


@dataclass(frozen=True)
class ModifyAs:
    body: Body


@dataclass(frozen=True)
class ModifyWhen:
    condition: Condition


@dataclass(frozen=True)
class RemoveWhen:
    pass


@dataclass(frozen=True)
class SetFinalize:
    root: QualifiedName


@dataclass(frozen=True)
class UnsetFinalize:
    pass


AlterTaskAction = (
    Resume
    | Suspend
    | AddAfter
    | RemoveAfter
    | SetProps
    | UnsetProps
    | ModifyAs
    | ModifyWhen
    | RemoveWhen
    | SetFinalize
    | UnsetFinalize
)


@dataclass(frozen=True)
class AlterTask:
    name: QualifiedName
    action: AlterTaskAction
    if_exists: bool = False


@dataclass(frozen=True)
class DropTask:
    name: QualifiedName
    if_exists: bool = False


@dataclass(frozen=True)
class DescribeTask:
    name: QualifiedName


@dataclass(frozen=True)
class ShowTasks:
    terse: bool = False
    like: str | None = None
    in_scope: tuple[str, ...] | None = None  # ('ACCOUNT',) | ('DATABASE', 'd') | ('SCHEMA', 's') ...
    starts_with: str | None = None
    root_only: bool = False
    limit: int | None = None
    limit_from: str | None = None
    where: str | None = None  # Databend `SHOW TASKS WHERE <expr>`: SQL text over the columns


@dataclass(frozen=True)
class ExecuteTask:
    name: QualifiedName
    retry_last: bool = False
    using_config: str | None = None
    await_completion: bool = False


# ---------------------------------------------------------------- session
@dataclass(frozen=True)
class AlterSession:
    set: tuple[tuple[str, Value], ...] = ()  # upper-cased names
    unset: tuple[str, ...] = ()


# ---------------------------------------------------------------- warehouses
@dataclass(frozen=True)
class CreateWarehouse:
    name: Ident
    props: tuple[tuple[str, Value], ...] = ()  # upper-cased names: WAREHOUSE_SIZE, MAX_CONCURRENCY_LEVEL, COMMENT, ...
    or_replace: bool = False
    if_not_exists: bool = False


@dataclass(frozen=True)
class AlterWarehouse:
    name: Ident
    set: tuple[tuple[str, Value], ...] = ()
    unset: tuple[str, ...] = ()
    action: str | None = None  # 'SUSPEND' | 'RESUME' | None
    if_exists: bool = False


@dataclass(frozen=True)
class DropWarehouse:
    name: Ident
    if_exists: bool = False


@dataclass(frozen=True)
class ShowWarehouses:
    like: str | None = None


@dataclass(frozen=True)
class UseWarehouse:
    name: Ident


# ---------------------------------------------------------------- streams
@dataclass(frozen=True)
class StreamPoint:
    """`AT | BEFORE (<kind> => <value>)`: where a new stream's offset starts.

    STREAM: the other stream's name as written; OFFSET: seconds relative to now (negative = past);
    TIMESTAMP: the text of a string or a cast string, or a number; STATEMENT, SNAPSHOT: the id.
    """

    before: bool
    kind: str  # 'STREAM' | 'TIMESTAMP' | 'OFFSET' | 'STATEMENT' | 'SNAPSHOT'
    value: Value


@dataclass(frozen=True)
class CreateStream:
    """`CREATE STREAM … ON TABLE …`; a flag left None was not written (the dialect picks its default)."""

    name: QualifiedName
    table: QualifiedName
    or_replace: bool = False
    if_not_exists: bool = False
    append_only: bool | None = None
    insert_only: bool | None = None
    show_initial_rows: bool | None = None
    at: StreamPoint | None = None
    comment: str | None = None


@dataclass(frozen=True)
class DropStream:
    name: QualifiedName
    if_exists: bool = False


@dataclass(frozen=True)
class DescribeStream:
    name: QualifiedName


@dataclass(frozen=True)
class ShowStreams:
    """`SHOW [TERSE|FULL] STREAMS …`; in_scope as in ShowTasks (a bare `IN x` / `FROM x` gives
    ('SCHEMA', 'x'), which Databend reads as its database)."""

    terse: bool = False
    full: bool = False
    like: str | None = None
    in_scope: tuple[str, ...] | None = None
    starts_with: str | None = None
    limit: int | None = None
    limit_from: str | None = None
    where: str | None = None  # Databend `SHOW STREAMS WHERE <expr>`: SQL text over the columns


@dataclass(frozen=True)
class SetChangeTracking:
    """`ALTER TABLE t SET CHANGE_TRACKING = <bool>` or Databend's `SET OPTIONS (change_tracking = <bool>)`."""

    table: QualifiedName
    enabled: bool
    if_exists: bool = False


# ---------------------------------------------------------------- notification integrations
WebhookOptions = tuple[tuple[str, str], ...]  # ('url' | 'method' | 'authorization_header', value), as written


@dataclass(frozen=True)
class CreateNotificationIntegration:
    """Databend's `CREATE NOTIFICATION INTEGRATION`; type and method are checked by the interpreter."""

    name: Ident
    type: str  # as written, quotes removed: 'webhook', 'WEBHOOK', ...
    enabled: bool
    webhook: WebhookOptions | None = None
    comment: str | None = None
    or_replace: bool = False
    if_not_exists: bool = False


@dataclass(frozen=True)
class AlterNotificationIntegration:
    """Exactly one of enabled / webhook / comment is set (`SET WEBHOOK` merges the given keys)."""

    name: Ident
    if_exists: bool = False
    enabled: bool | None = None
    webhook: WebhookOptions | None = None
    comment: str | None = None


@dataclass(frozen=True)
class DropNotificationIntegration:
    name: Ident
    if_exists: bool = False


@dataclass(frozen=True)
class DescribeNotificationIntegration:
    name: Ident


@dataclass(frozen=True)
class ShowNotificationIntegrations:
    like: str | None = None


# ---------------------------------------------------------------- task graph helpers
@dataclass(frozen=True)
class TaskDependentsEnable:
    """Databend's `CALL TASK_DEPENDENTS_ENABLE('<task>')`: resume a task and every task after it."""

    name: QualifiedName


Command = (
    CreateTask
    | AlterTask
    | DropTask
    | DescribeTask
    | ShowTasks
    | ExecuteTask
    | AlterSession
    | CreateWarehouse
    | AlterWarehouse
    | DropWarehouse
    | ShowWarehouses
    | UseWarehouse
    | CreateStream
    | DropStream
    | DescribeStream
    | ShowStreams
    | SetChangeTracking
    | CreateNotificationIntegration
    | AlterNotificationIntegration
    | DropNotificationIntegration
    | DescribeNotificationIntegration
    | ShowNotificationIntegrations
    | TaskDependentsEnable
)


@dataclass(frozen=True)
class Parsed:
    """What the front end returns: the command plus the statement text it came from."""

    command: Command
    text: str = field(default="")
