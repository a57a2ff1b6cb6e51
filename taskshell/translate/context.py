"""What the translator needs to know about the session, and what it hands back.

The translator is pure: it reads `TranslateContext`, returns a `Translation` made of SQLite SQL
steps, and never touches a connection. The interpreter runs the steps in order inside one
transaction (a savepoint when the user has a transaction open).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from taskshell.catalog.streams import StreamInfo


@dataclass(frozen=True)
class TranslateContext:
    now: datetime = field(default_factory=lambda: datetime.now(UTC))  # aware; the session clock
    timezone: str = "America/Los_Angeles"  # IANA name of the session's TIMEZONE
    dialect: str = "snowflake"  # 'snowflake' | 'databend'
    database: str = "TASKSHELL"
    schema: str = "PUBLIC"
    role: str = "ACCOUNTADMIN"
    in_task: bool = False  # True while translating a task body
    # The catalog's streams by lower-cased name (a snapshot the session keeps; see catalog.streams)
    streams: Mapping[str, StreamInfo] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    in_transaction: bool = False  # an explicit transaction is open: stream reads stay pinned until it ends


@dataclass(frozen=True)
class SqlStep:
    sql: str
    params: tuple[Any, ...] = ()
    counts_as: str | None = None  # 'inserted' | 'updated' | 'deleted': rowcount adds to that figure
    returns_rows: bool = False  # the rows of this step (the last such step) are the statement's result


@dataclass(frozen=True)
class Translation:
    """kind is one of: 'select', 'insert', 'update', 'delete', 'merge', 'create_table', 'ctas',
    'drop_table', 'alter_table', 'create_view', 'drop_view', 'begin', 'commit', 'rollback',
    'show_tables', 'describe_table', 'other'."""

    kind: str
    steps: tuple[SqlStep, ...]
    status: str | None = None  # one-row status text for DDL, e.g. 'Table T1 successfully created.'
    object_name: str | None = None
    tables_written: tuple[str, ...] = ()
    drops_columns: bool = False  # an ALTER TABLE that drops columns (a tracked table's log follows)
