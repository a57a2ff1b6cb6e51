"""A session: one connection to the catalog, the current role, settings and clock."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from taskshell.catalog.db import Catalog
from taskshell.catalog.streams import StreamCache
from taskshell.errors import CompilationError
from taskshell.scheduler import sqlenv
from taskshell.scheduler.clock import Clock
from taskshell.translate.context import TranslateContext

if TYPE_CHECKING:
    from taskshell.grammar.ast import Ident

DIALECTS = ("snowflake", "databend")
DEFAULT_TIMEZONE = {"snowflake": "America/Los_Angeles", "databend": "UTC"}
DATABASE = {"snowflake": "TASKSHELL", "databend": "default"}
SCHEMA = {"snowflake": "PUBLIC", "databend": "default"}


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CompilationError(f"invalid time zone {name}", code="002003") from None
    return name


def check_dialect(name: str) -> str:
    value = str(name).lower()
    if value not in DIALECTS:
        raise CompilationError(f"Invalid value '{name}' for parameter DIALECT: expected snowflake or databend.")
    return value


@dataclass
class Session:
    catalog: Catalog
    clock: Clock
    dialect: str = "snowflake"
    role: str = "ACCOUNTADMIN"
    warehouse: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    conn: sqlite3.Connection = field(init=False)
    env: sqlenv.SqlEnv = field(init=False)
    user_transaction: bool = False
    streams: StreamCache = field(init=False, default_factory=StreamCache)

    def __post_init__(self) -> None:
        self.dialect = check_dialect(self.dialect)
        self.conn = self.catalog.connect()
        self.env = sqlenv.SqlEnv(clock=self.clock, timezone=lambda: self.timezone)
        sqlenv.install(self.conn, self.env)

    @property
    def timezone(self) -> str:
        return str(self.settings.get("TIMEZONE") or DEFAULT_TIMEZONE[self.dialect])

    @property
    def database(self) -> str:
        return DATABASE[self.dialect]

    @property
    def schema(self) -> str:
        return SCHEMA[self.dialect]

    def context(self) -> TranslateContext:
        return TranslateContext(now=self.clock.now(), timezone=self.timezone, dialect=self.dialect,
                                database=self.database, schema=self.schema, role=self.role,
                                streams=self.streams.get(self.conn), in_transaction=self.user_transaction)

    def normalize(self, ident: Ident) -> str:
        """Unquoted names fold to upper case in Snowflake and lower case in Databend."""
        if ident.quoted:
            return ident.value
        return ident.value.upper() if self.dialect == "snowflake" else ident.value.lower()

    def close(self) -> None:
        if self.user_transaction and self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        self.conn.close()
