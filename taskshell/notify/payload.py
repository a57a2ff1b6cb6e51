"""Notification payloads: Databend's task error message (SEMANTICS §5.2), as pure functions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

VERSION = "1.0"
TASK_FAILED = "TASK_FAILED"
TASK_SUCCEEDED = "TASK_SUCCEEDED"
ERROR_KIND = "UnexpectedError"
DEFAULT_ERROR_CODE = "500"
# messageId is derived from the run, so a message written twice (a retried hook) is the same message
_MESSAGE_IDS = uuid.UUID("0b7e4f0c-6a51-4f43-9d2e-5c8a1f3b7d29")
FAILED_STATES = ("FAILED", "FAILED_AND_AUTO_SUSPENDED")


@dataclass(frozen=True)
class RunFacts:
    """What a message says about one finished run."""

    tenant_id: str
    task_name: str
    task_id: str
    root_task_name: str
    root_task_id: str
    run_id: str
    state: str
    scheduled_time: datetime
    query_start_time: datetime | None
    completed_time: datetime
    query_id: str | None
    error_code: str | None
    error_message: str | None
    run_seq: int


def rfc3339(instant: datetime | None) -> str | None:
    """UTC with microseconds and a `Z`, as Databend prints its times."""
    if instant is None:
        return None
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def message_id(facts: RunFacts, integration: str, message_type: str) -> str:
    return str(uuid.uuid5(_MESSAGE_IDS, f"{facts.tenant_id}|{facts.run_seq}|{integration.lower()}|{message_type}"))


def message_type_for(state: str) -> str | None:
    if state in FAILED_STATES:
        return TASK_FAILED
    if state == "SUCCEEDED":
        return TASK_SUCCEEDED
    return None


def task_message(facts: RunFacts, integration: str, message_type: str, timestamp: datetime) -> dict[str, Any]:
    """The message body: header fields, then one entry per run in `messages`."""
    failed = message_type == TASK_FAILED
    entry = {
        "runId": facts.run_id,
        "scheduledTime": rfc3339(facts.scheduled_time),
        "queryStartTime": rfc3339(facts.query_start_time),
        "completedTime": rfc3339(facts.completed_time),
        "queryId": facts.query_id or "unknown",
        "errorKind": ERROR_KIND if failed else None,
        # always "500" with errorKind UnexpectedError, as Databend sends it (SEMANTICS §5.2); the
        # run's own error code stays in TASK_HISTORY
        "errorCode": DEFAULT_ERROR_CODE if failed else None,
        "errorMessage": (facts.error_message or "") if failed else None,
    }
    return {
        "version": VERSION,
        "messageId": message_id(facts, integration, message_type),
        "messageType": message_type,
        "timestamp": rfc3339(timestamp),
        "tenantId": facts.tenant_id,
        "taskName": facts.task_name,
        "taskId": facts.task_id,
        "rootTaskName": facts.root_task_name,
        "rootTaskId": facts.root_task_id,
        "messages": [entry],
    }
