"""Warehouses: named, bounded executors for task runs (DESIGN §3.6)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from taskshell.catalog.warehouses import SIZES
from taskshell.errors import CompilationError
from taskshell.grammar import ast
from taskshell.interpreter.result import Result

if TYPE_CHECKING:
    from taskshell.interpreter.interpreter import Interpreter

_SIZE_ALIASES = {"X-SMALL": "XSMALL", "X-LARGE": "XLARGE", "2X-LARGE": "XXLARGE", "2XLARGE": "XXLARGE",
                 "3X-LARGE": "XXXLARGE", "3XLARGE": "XXXLARGE", "4X-LARGE": "X4LARGE", "4XLARGE": "X4LARGE",
                 "5X-LARGE": "X5LARGE", "5XLARGE": "X5LARGE", "6X-LARGE": "X6LARGE", "6XLARGE": "X6LARGE"}
_KNOWN = {"WAREHOUSE_SIZE", "MAX_CONCURRENCY_LEVEL", "COMMENT"}
# the other properties and parameters CREATE/ALTER WAREHOUSE takes: kept and shown, not acted on
_ACCEPTED = {"WAREHOUSE_TYPE", "GENERATION", "RESOURCE_CONSTRAINT", "MAX_CLUSTER_COUNT", "MIN_CLUSTER_COUNT",
             "SCALING_POLICY", "AUTO_SUSPEND", "AUTO_RESUME", "INITIALLY_SUSPENDED", "RESOURCE_MONITOR",
             "ENABLE_QUERY_ACCELERATION", "QUERY_ACCELERATION_MAX_SCALE_FACTOR", "WAIT_FOR_COMPLETION",
             "STATEMENT_QUEUED_TIMEOUT_IN_SECONDS", "STATEMENT_TIMEOUT_IN_SECONDS", "TAG"}


def normalize_size(value: object) -> str:
    text = str(value).upper().replace("_", "-")
    text = _SIZE_ALIASES.get(text, text.replace("-", ""))
    if text not in SIZES:
        raise CompilationError(f"invalid value '{value}' for property 'WAREHOUSE_SIZE'", code="002043")
    return text


def _props(props: tuple[tuple[str, object], ...]) -> tuple[dict[str, object], dict[str, object]]:
    known: dict[str, object] = {}
    other: dict[str, object] = {}
    for name, value in props:
        if name == "WAREHOUSE_SIZE":
            known[name] = normalize_size(value)
        elif name == "MAX_CONCURRENCY_LEVEL":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise CompilationError(
                    f"invalid value [{value}] for parameter 'MAX_CONCURRENCY_LEVEL'", code="002043")
            known[name] = value
        elif name == "COMMENT":
            known[name] = None if value is None else str(value)
        elif name in _ACCEPTED:
            other[name] = value
        else:  # a misspelt property must not pass unnoticed
            raise CompilationError(f"invalid property '{name}' for 'WAREHOUSE'", code="002043")
    return known, other


def _name(interp: Interpreter, ident: ast.Ident) -> str:
    # 'default' is spelled as a string in Databend; a quoted string keeps its case.
    return interp.session.normalize(ident)


def _not_found(name: str) -> CompilationError:
    return CompilationError(f"Warehouse '{name}' does not exist or not authorized.", sqlstate="02000")


def _get(interp: Interpreter, name: str) -> tuple | None:
    return interp.session.conn.execute(
        "SELECT name, size, max_concurrency_level, state, comment, properties FROM _ts_warehouses"
        " WHERE name = ?", (name,)).fetchone()


def create_warehouse(interp: Interpreter, cmd: ast.CreateWarehouse) -> Result:
    name = _name(interp, cmd.name)
    known, other = _props(cmd.props)
    with interp.atomic():
        existing = _get(interp, name)
        if existing and cmd.if_not_exists:
            return Result.of_status(f"{existing[0]} already exists, statement succeeded.")
        if existing and not cmd.or_replace:
            raise CompilationError(f"Object '{existing[0]}' already exists.", code="002002", sqlstate="42710")
        if existing:
            interp.session.conn.execute("DELETE FROM _ts_warehouses WHERE name = ?", (name,))
        interp.session.conn.execute(
            "INSERT INTO _ts_warehouses(name, size, max_concurrency_level, state, comment, owner,"
            " created_on, properties) VALUES (?, ?, ?, 'STARTED', ?, ?, ?, ?)",
            (name, known.get("WAREHOUSE_SIZE", "XSMALL"), known.get("MAX_CONCURRENCY_LEVEL"),
             known.get("COMMENT"), interp.session.role, interp.now_us(), json.dumps(other)))
    return Result.of_status(f"Warehouse {name} successfully created.")


def alter_warehouse(interp: Interpreter, cmd: ast.AlterWarehouse) -> Result:
    name = _name(interp, cmd.name)
    known, other = _props(cmd.set)
    conn = interp.session.conn
    with interp.atomic():
        existing = _get(interp, name)
        if not existing:
            if cmd.if_exists:
                return Result.of_status("Statement executed successfully.")
            raise _not_found(name)
        properties = json.loads(existing[5] or "{}")
        properties.update(other)
        for unset in cmd.unset:
            if unset == "WAREHOUSE_SIZE":
                known["WAREHOUSE_SIZE"] = "XSMALL"
            elif unset in ("MAX_CONCURRENCY_LEVEL", "COMMENT"):
                known[unset] = None
            elif unset in _ACCEPTED:
                properties.pop(unset, None)
            else:
                raise CompilationError(f"invalid property '{unset}' for 'WAREHOUSE'", code="002043")
        sets = {"size": known.get("WAREHOUSE_SIZE", existing[1]),
                "max_concurrency_level": known.get("MAX_CONCURRENCY_LEVEL", existing[2]),
                "comment": known.get("COMMENT", existing[4]), "properties": json.dumps(properties)}
        if "MAX_CONCURRENCY_LEVEL" in known:
            sets["max_concurrency_level"] = known["MAX_CONCURRENCY_LEVEL"]
        if "COMMENT" in known:
            sets["comment"] = known["COMMENT"]
        if cmd.action:
            sets["state"] = "SUSPENDED" if cmd.action == "SUSPEND" else "STARTED"
        conn.execute(f"UPDATE _ts_warehouses SET {', '.join(f'{k} = ?' for k in sets)} WHERE name = ?",
                     (*sets.values(), name))
    return Result.of_status("Statement executed successfully.")


def drop_warehouse(interp: Interpreter, cmd: ast.DropWarehouse) -> Result:
    name = _name(interp, cmd.name)
    with interp.atomic():
        existing = _get(interp, name)
        if not existing:
            if cmd.if_exists:
                return Result.of_status("Statement executed successfully.")
            raise _not_found(name)
        if existing[0].lower() == "default":
            raise CompilationError("The warehouse 'default' always exists and cannot be dropped.")
        interp.session.conn.execute("DELETE FROM _ts_warehouses WHERE name = ?", (name,))
    return Result.of_status(f"{existing[0]} successfully dropped.")


def show_warehouses(interp: Interpreter, cmd: ast.ShowWarehouses) -> Result:
    where, params = "", ()
    if cmd.like is not None:
        where, params = "WHERE name LIKE ? ESCAPE '\\' COLLATE NOCASE", (cmd.like,)
    # LIKE in SHOW is case-insensitive: compare lower-cased sides (the session LIKE is case-sensitive)
    where = where.replace("name LIKE ?", "lower(name) LIKE lower(?)")
    sizes = " ".join(f"WHEN '{s}' THEN {n}" for s, n in SIZES.items())
    return interp.query(
        "SELECT name, state, 'STANDARD' AS type, size,"
        f" COALESCE(max_concurrency_level, CASE size {sizes} ELSE 1 END) AS max_concurrency_level,"
        " (SELECT count(*) FROM _ts_task_runs r WHERE r.warehouse = w.name COLLATE NOCASE"
        "  AND r.state = 'EXECUTING') AS running,"
        " ts_format(created_on) AS created_on, owner, comment"
        f" FROM _ts_warehouses w {where} ORDER BY name", params)


def use_warehouse(interp: Interpreter, cmd: ast.UseWarehouse) -> Result:
    name = _name(interp, cmd.name)
    existing = _get(interp, name)
    if not existing:
        raise _not_found(name)
    interp.session.warehouse = existing[0]
    return Result.of_status("Statement executed successfully.")
