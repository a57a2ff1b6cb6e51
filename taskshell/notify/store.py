"""Notification integration rows (`_ts_notification_integrations`) and the rules their options follow."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, fields
from urllib.parse import urlsplit

from taskshell.errors import CompilationError

METHODS = ("GET", "POST")
DEFAULT_METHOD = "GET"
WEBHOOK_KEYS = ("url", "method", "authorization_header")


@dataclass(frozen=True)
class Integration:
    id: int
    name: str
    type: str  # 'webhook'
    enabled: bool
    url: str | None
    method: str
    authorization_header: str
    comment: str | None
    owner: str | None
    created_on: int

    def webhook_options(self) -> dict[str, str]:
        """The options as SHOW, DESC and system tables print them: the header is masked."""
        return {"url": self.url or "", "method": self.method,
                "authorization_header": mask_header(self.authorization_header)}


COLUMNS = tuple(f.name for f in fields(Integration))


def mask_header(value: str) -> str:
    """Keep the scheme (`Bearer`, `Basic`) so a user can tell what is set, never the secret."""
    if not value:
        return ""
    return value.split(" ", 1)[0] + " ********" if " " in value else "********"


def check_type(text: str) -> str:
    if text.strip().lower() != "webhook":
        raise CompilationError(f"Unsupported notification type: {text}")
    return "webhook"


def check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise CompilationError(
            f"Invalid webhook url '{url}': only http:// and https:// URLs are accepted.")
    return url.strip()


def check_method(method: str) -> str:
    if method.strip().upper() not in METHODS:
        raise CompilationError(f"Unsupported webhook method: {method}")
    return method.strip().upper()


def webhook_values(options: tuple[tuple[str, str], ...], *, creating: bool) -> dict[str, str]:
    """Column values for the given webhook keys, checked; CREATE needs a url, ALTER merges."""
    given = dict(options)
    values: dict[str, str] = {}
    if "url" in given:
        values["url"] = check_url(given["url"])
    elif creating:
        raise CompilationError("Webhook url is required in Webhook Type Notification")
    if "method" in given:
        values["method"] = check_method(given["method"])
    if "authorization_header" in given:
        values["authorization_header"] = given["authorization_header"]
    return values


# ---------------------------------------------------------------- rows
def _record(row: tuple | None) -> Integration | None:
    if row is None:
        return None
    values = dict(zip(COLUMNS, row, strict=True))
    values["enabled"] = bool(values["enabled"])
    return Integration(**values)


def get(conn: sqlite3.Connection, name: str) -> Integration | None:
    row = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM _ts_notification_integrations WHERE name = ?",
                       (name,)).fetchone()
    return _record(row)


def exists(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM _ts_notification_integrations WHERE name = ?", (name,)).fetchone() is not None


def insert(conn: sqlite3.Connection, values: dict[str, object]) -> int:
    names = list(values)
    cur = conn.execute(
        f"INSERT INTO _ts_notification_integrations({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
        tuple(values[n] for n in names))
    return int(cur.lastrowid)


def update(conn: sqlite3.Connection, integration_id: int, values: dict[str, object]) -> None:
    if not values:
        return
    assignments = ", ".join(f"{name} = ?" for name in values)
    conn.execute(f"UPDATE _ts_notification_integrations SET {assignments} WHERE id = ?",
                 (*values.values(), integration_id))


def delete(conn: sqlite3.Connection, integration_id: int) -> None:
    conn.execute("DELETE FROM _ts_notification_integrations WHERE id = ?", (integration_id,))


def options_json(integration: Integration) -> str:
    return json.dumps(integration.webhook_options(), separators=(",", ":"))
