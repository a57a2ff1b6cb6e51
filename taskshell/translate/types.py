"""Snowflake (and Databend) column types as SQLite declared types with the same meaning.

SQLite decides how a value is stored from the declared type's *affinity* (a substring rule: INT →
INTEGER, CHAR/CLOB/TEXT → TEXT, BLOB → BLOB, REAL/FLOA/DOUB → REAL, anything else → NUMERIC). A
Snowflake name keeps its spelling when its affinity is already right (VARCHAR(10), INT, FLOAT,
NUMBER(10, 2)). Otherwise:

- STRING and NUMBER(p, 0) are substituted (TEXT, INTEGER);
- dates, times, timestamps and semi-structured types would get NUMERIC affinity ('2024' would turn
  into an integer), so they are declared as `<snowflake name> TEXT` (e.g. `TIMESTAMP_NTZ TEXT`),
  binary ones as `<name> BLOB`. The first word is the user's type; `USER_TYPE_SQL` strips the
  suffix again for DESCRIBE, and `user_type` does the same in Python.
"""

from __future__ import annotations

from sqlglot import exp

from taskshell.errors import CompilationError

T = exp.DataType.Type

_SPELLING = {
    T.TIMESTAMPNTZ: "TIMESTAMP_NTZ", T.TIMESTAMPLTZ: "TIMESTAMP_LTZ", T.TIMESTAMPTZ: "TIMESTAMP_TZ",
    T.TIMESTAMP: "TIMESTAMP", T.DATETIME: "DATETIME", T.DATE: "DATE", T.TIME: "TIME",
    T.VARIANT: "VARIANT", T.OBJECT: "OBJECT", T.ARRAY: "ARRAY", T.JSON: "VARIANT", T.MAP: "OBJECT",
    T.STRUCT: "OBJECT", T.GEOGRAPHY: "GEOGRAPHY", T.GEOMETRY: "GEOMETRY",
}
_TEMPORAL = {T.TIMESTAMPNTZ: "timestamp", T.TIMESTAMPLTZ: "timestamp", T.TIMESTAMPTZ: "timestamp",
             T.TIMESTAMP: "timestamp", T.DATETIME: "timestamp", T.DATE: "date", T.TIME: "time"}
_SEMI_STRUCTURED = {T.VARIANT, T.OBJECT, T.ARRAY, T.JSON, T.MAP, T.STRUCT, T.GEOGRAPHY, T.GEOMETRY}
_TEXT = {T.TEXT, T.VARCHAR, T.CHAR, T.NCHAR, T.NVARCHAR}
_BINARY = {T.BINARY, T.VARBINARY, T.BLOB}
_FLOAT = {T.FLOAT, T.DOUBLE}

# The user-facing type of a pragma_table_info() row's `type`.
USER_TYPE_SQL = ("CASE WHEN type LIKE '% TEXT' OR type LIKE '% BLOB' "
                 "THEN substr(type, 1, length(type) - 5) ELSE type END")


def _params(dt: exp.DataType) -> list[str]:
    return [p.sql("snowflake") for p in dt.expressions]


def _scale(dt: exp.DataType) -> int:
    params = _params(dt)
    return int(params[1]) if len(params) > 1 and params[1].isdigit() else 0


def _with_params(name: str, dt: exp.DataType) -> str:
    params = _params(dt)
    return f"{name}({', '.join(params)})" if params else name


def _unsupported(dt: exp.DataType) -> CompilationError:
    return CompilationError(f"Unsupported SQL: data type {dt.sql('snowflake')}", code="002040")


def declared_type(dt: exp.DataType) -> str:
    """The SQLite declared type for a Snowflake column type (see the module docstring)."""
    kind = dt.this
    if kind in _TEXT:
        return "TEXT" if kind == T.TEXT else _with_params(kind.value, dt)
    if kind in exp.DataType.INTEGER_TYPES:
        return kind.value if "INT" in kind.value else "INTEGER"
    if kind in (T.DECIMAL, T.BIGDECIMAL):
        return "INTEGER" if _scale(dt) == 0 else _with_params("NUMBER", dt)
    if kind in _FLOAT:
        return kind.value
    if kind == T.BOOLEAN:
        return "BOOLEAN"
    if kind in _TEMPORAL or kind in _SEMI_STRUCTURED:
        return f"{_SPELLING[kind]} TEXT"
    if kind in _BINARY:
        return f"{kind.value if kind != T.BLOB else 'BINARY'} BLOB"
    raise _unsupported(dt)


def cast_target(dt: exp.DataType) -> str:
    """The `ts_cast` target for a CAST to `dt`: int, number:<scale>, float, text, bool, date,
    time, timestamp, variant or binary."""
    kind = dt.this
    if kind in _TEXT:
        return "text"
    if kind in exp.DataType.INTEGER_TYPES:
        return "number:0"
    if kind in (T.DECIMAL, T.BIGDECIMAL):
        return f"number:{_scale(dt)}"
    if kind in _FLOAT:
        return "float"
    if kind == T.BOOLEAN:
        return "bool"
    if kind in _TEMPORAL:
        return _TEMPORAL[kind]
    if kind in _SEMI_STRUCTURED:
        return "variant"
    if kind in _BINARY:
        return "binary"
    raise _unsupported(dt)


def user_type(declared: str) -> str:
    """The type a user wrote, from a declared type made by `declared_type`."""
    if declared.endswith((" TEXT", " BLOB")):
        return declared[:-5]
    return declared
