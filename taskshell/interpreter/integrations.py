"""Notification integration DDL: CREATE / ALTER / DROP / DESC / SHOW (SEMANTICS §5.2)."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from taskshell.errors import CompilationError
from taskshell.grammar import ast
from taskshell.interpreter.result import Result
from taskshell.notify import store
from taskshell.notify.relations import notifications_sql
from taskshell.translate.system_relations import sql_literal

if TYPE_CHECKING:
    from taskshell.interpreter.interpreter import Interpreter

DONE = "Statement executed successfully."


def _name(interp: Interpreter, ident: ast.Ident) -> str:
    return interp.session.normalize(ident)


def not_found(name: str) -> CompilationError:
    return CompilationError(f"Notification integration '{name}' does not exist or not authorized.",
                            code="002003", sqlstate="02000")


def already_exists(name: str) -> CompilationError:
    return CompilationError(f"Notification integration '{name}' already exists.", code="002002",
                            sqlstate="42710")


def _lookup(interp: Interpreter, ident: ast.Ident) -> store.Integration:
    name = _name(interp, ident)
    found = store.get(interp.session.conn, name)
    if found is None:
        raise not_found(name)
    return found


# ---------------------------------------------------------------- CREATE
def create_integration(interp: Interpreter, cmd: ast.CreateNotificationIntegration) -> Result:
    kind = store.check_type(cmd.type)
    if cmd.webhook is None:
        raise CompilationError("Webhook options are required")
    values: dict[str, object] = {"method": store.DEFAULT_METHOD, "authorization_header": ""}
    values.update(store.webhook_values(cmd.webhook, creating=True))
    name = _name(interp, cmd.name)
    conn = interp.session.conn
    with interp.atomic():
        existing = store.get(conn, name)
        if existing and cmd.if_not_exists:
            return Result.of_status(f"{existing.name} already exists, statement succeeded.")
        if existing and not cmd.or_replace:
            raise already_exists(existing.name)
        if existing:
            store.delete(conn, existing.id)
        values.update(name=name, type=kind, enabled=int(cmd.enabled), comment=cmd.comment,
                      owner=interp.session.role, created_on=interp.now_us())
        store.insert(conn, values)
    return Result.of_status(f"Integration {name} successfully created.")


# ---------------------------------------------------------------- ALTER / DROP
def alter_integration(interp: Interpreter, cmd: ast.AlterNotificationIntegration) -> Result:
    changes: dict[str, object] = {}
    if cmd.enabled is not None:
        changes["enabled"] = int(cmd.enabled)
    if cmd.webhook is not None:
        changes.update(store.webhook_values(cmd.webhook, creating=False))
    if cmd.comment is not None:
        changes["comment"] = cmd.comment
    if not changes:
        raise CompilationError("No options to alter")
    conn = interp.session.conn
    with interp.atomic():
        name = _name(interp, cmd.name)
        found = store.get(conn, name)
        if found is None:
            if cmd.if_exists:
                return Result.of_status(DONE)
            raise not_found(name)
        store.update(conn, found.id, changes)
    return Result.of_status(DONE)


def drop_integration(interp: Interpreter, cmd: ast.DropNotificationIntegration) -> Result:
    conn = interp.session.conn
    with interp.atomic():
        name = _name(interp, cmd.name)
        found = store.get(conn, name)
        if found is None:
            if cmd.if_exists:
                return Result.of_status(DONE)
            raise not_found(name)
        store.delete(conn, found.id)
    return Result.of_status(f"{found.name} successfully dropped.")


# ---------------------------------------------------------------- DESC / SHOW
def describe_integration(interp: Interpreter, cmd: ast.DescribeNotificationIntegration) -> Result:
    found = _lookup(interp, cmd.name)
    if interp.session.dialect == "databend":
        return interp.query(notifications_sql(where=f"i.id = {found.id}"))
    options = found.webhook_options()
    rows = (
        ("ENABLED", "Boolean", "true" if found.enabled else "false", "false"),
        ("TYPE", "String", found.type.upper(), ""),
        ("WEBHOOK_URL", "String", options["url"], ""),
        ("WEBHOOK_METHOD", "String", options["method"], store.DEFAULT_METHOD),
        ("WEBHOOK_AUTHORIZATION_HEADER", "String", options["authorization_header"], ""),
        ("COMMENT", "String", found.comment or "", ""),
    )
    return Result(("property", "property_type", "property_value", "property_default"), rows)


def show_integrations(interp: Interpreter, cmd: ast.ShowNotificationIntegrations) -> Result:
    where = f"WHERE lower(i.name) LIKE lower({sql_literal(cmd.like)})" if cmd.like is not None else ""
    return interp.query(
        "SELECT i.name AS name, 'NOTIFICATION - ' || upper(i.type) AS type, 'NOTIFICATION' AS category,"
        " CASE WHEN i.enabled THEN 'true' ELSE 'false' END AS enabled, COALESCE(i.comment, '') AS comment,"
        f" ts_format(i.created_on) AS created_on FROM _ts_notification_integrations i {where}"
        " ORDER BY i.name")


# ---------------------------------------------------------------- tasks that name an integration
def missing_integration_notices(conn: sqlite3.Connection, props: ast.TaskProps | None) -> tuple[str, ...]:
    """Warnings for ERROR_/SUCCESS_INTEGRATION names that do not exist yet: the Databend guide
    creates the task before its integration, so the name is kept and only a notice is given."""
    if props is None:
        return ()
    notices = []
    for option, name in (("ERROR_INTEGRATION", props.error_integration),
                         ("SUCCESS_INTEGRATION", props.success_integration)):
        if name and not store.exists(conn, name):
            notices.append(f"{option} '{name}' does not exist yet; notifications will be sent once it is "
                           "created.")
    return tuple(notices)
