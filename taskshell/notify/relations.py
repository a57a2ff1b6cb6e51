"""SQL for `system.notifications` and `system.notification_history` (SEMANTICS §5.2).

Databend's columns come first, in its order; taskshell adds columns after them. The authorization
header never leaves the catalog unmasked (the SQL twin of `store.mask_header`).
"""

from __future__ import annotations

RELATIONS = ("system.notifications", "system.notification_history")

_H = "i.authorization_header"
MASKED_HEADER_SQL = (f"CASE WHEN {_H} = '' THEN '' WHEN instr({_H}, ' ') > 0"
                     f" THEN substr({_H}, 1, instr({_H}, ' ') - 1) || ' ********' ELSE '********' END")
# webhook_options as Databend prints it
WEBHOOK_OPTIONS_SQL = ("json_object('url', COALESCE(i.url, ''), 'method', i.method,"
                       f" 'authorization_header', {MASKED_HEADER_SQL})")


def notifications_sql(where: str = "") -> str:
    return ("SELECT ts_format(i.created_on) AS created_on, i.name AS name, i.id AS id, i.type AS type,"
            f" i.enabled AS enabled, {WEBHOOK_OPTIONS_SQL} AS webhook_options, i.comment AS comment"
            f" FROM _ts_notification_integrations i {('WHERE ' + where) if where else ''} ORDER BY i.name")


def notification_history_sql() -> str:
    """One row per delivery attempt; a message not attempted yet, or settled without a further
    attempt (its integration missing, disabled or dropped, perhaps after attempts that failed),
    also shows as a row with the message's own status, last."""
    attempts = (
        "SELECT n.id AS nid, a.attempt AS attempt, ts_format(n.created_on) AS created_on,"
        " ts_format(a.processed) AS processed, n.message_source AS message_source,"
        " n.integration_name AS integration_name, n.message AS message, a.status AS status,"
        " a.error_message AS error_message, n.message_id AS message_id, n.message_type AS message_type,"
        " a.http_status AS http_status"
        " FROM _ts_notification_attempts a JOIN _ts_notifications n ON n.id = a.notification_id")
    unattempted = (
        "SELECT n.id, n.attempts + 1, ts_format(n.created_on), ts_format(n.processed), n.message_source,"
        " n.integration_name, n.message, n.status, n.error_message, n.message_id, n.message_type, NULL"
        " FROM _ts_notifications n WHERE n.status = 'PENDING' OR n.status IS NOT (SELECT a.status"
        " FROM _ts_notification_attempts a WHERE a.notification_id = n.id ORDER BY a.attempt DESC LIMIT 1)")
    return ("SELECT created_on, processed, message_source, integration_name, message, status, error_message,"
            " message_id, message_type, attempt AS attempt_number, http_status"
            f" FROM ({attempts} UNION ALL {unattempted}) ORDER BY nid, attempt")


def relation_sql(name: str) -> str:
    if name.lower() == "system.notifications":
        return notifications_sql()
    return notification_history_sql()
