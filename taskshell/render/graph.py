"""A task graph drawn as a tree: each task with its state and its last run's outcome.

Fed by the rows of SHOW TASKS and TASK_HISTORY; pure, so it is tested on plain tuples.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from taskshell.render.timeline import parse_timestamp

_MAX_ERROR = 70


@dataclass(frozen=True)
class TaskNode:
    name: str
    state: str  # 'started' | 'suspended'
    predecessors: tuple[str, ...] = ()
    finalizer: str | None = None  # the finalizer of this root, if any
    last_state: str | None = None  # the last finished run's STATE
    last_error: str | None = None


def nodes_from_rows(task_columns: Sequence[str], task_rows: Sequence[Sequence[Any]],
                    run_columns: Sequence[str] = (), run_rows: Sequence[Sequence[Any]] = ()
                    ) -> dict[str, TaskNode]:
    """Nodes keyed by upper-cased name, from SHOW TASKS rows and TASK_HISTORY rows (any order)."""
    last_runs = _last_runs(run_columns, run_rows)
    index = {c.lower(): i for i, c in enumerate(task_columns)}
    nodes: dict[str, TaskNode] = {}
    for row in task_rows:
        name = str(row[index["name"]])
        relations = _json(row[index["task_relations"]]) if "task_relations" in index else {}
        finalizer = relations.get("FinalizerTask") if isinstance(relations, dict) else None
        predecessors = _json(row[index["predecessors"]]) if "predecessors" in index else []
        state, error = last_runs.get(name.upper(), (None, None))
        nodes[name.upper()] = TaskNode(
            name=name, state=str(row[index["state"]]),
            predecessors=tuple(_short(p) for p in predecessors or ()),
            finalizer=_short(finalizer) if finalizer else None,
            last_state=state, last_error=error)
    return nodes


def draw_graph(task: str, nodes: Mapping[str, TaskNode]) -> str:
    """The graph that holds `task`, from its root(s) down; a task with several predecessors is drawn
    in full under the first and referred to under the others."""
    if task.upper() not in nodes:
        raise KeyError(task)
    children: dict[str, list[str]] = {}
    for key, node in nodes.items():
        for parent in node.predecessors:
            children.setdefault(parent.upper(), []).append(key)
    lines: list[str] = []
    drawn: set[str] = set()
    for root in _roots(task.upper(), nodes):
        lines.append(_label(nodes[root], marked=root == task.upper()))
        drawn.add(root)
        _draw_children(root, nodes, children, "", drawn, lines, task.upper())
        finalizer = nodes[root].finalizer
        if finalizer and finalizer.upper() in nodes:
            lines.append("finalizer: " + _label(nodes[finalizer.upper()], marked=finalizer.upper() == task.upper()))
    return "\n".join(lines) + "\n"


def _roots(key: str, nodes: Mapping[str, TaskNode]) -> list[str]:
    roots: list[str] = []
    pending, seen = [key], set()
    finalized = {n.finalizer.upper(): k for k, n in nodes.items() if n.finalizer}
    while pending:
        current = pending.pop()
        if current in seen or current not in nodes:
            continue
        seen.add(current)
        parents = [p.upper() for p in nodes[current].predecessors if p.upper() in nodes]
        if current in finalized:
            parents.append(finalized[current])
        if not parents and current not in roots:
            roots.append(current)
        pending.extend(parents)
    return sorted(roots)


def _draw_children(parent: str, nodes: Mapping[str, TaskNode], children: Mapping[str, list[str]],
                   indent: str, drawn: set[str], lines: list[str], marked: str) -> None:
    kids = sorted(children.get(parent, ()))
    for i, key in enumerate(kids):
        last = i == len(kids) - 1
        branch, carry = ("└── ", "    ") if last else ("├── ", "│   ")
        if key in drawn:
            lines.append(f"{indent}{branch}{nodes[key].name}  (shown above)")
            continue
        drawn.add(key)
        lines.append(indent + branch + _label(nodes[key], marked=key == marked))
        _draw_children(key, nodes, children, indent + carry, drawn, lines, marked)


def _label(node: TaskNode, *, marked: bool) -> str:
    if node.last_state is None:
        outcome = "never run"
    else:
        outcome = f"last run {node.last_state}"
        if node.last_error:
            error = node.last_error.splitlines()[0]
            outcome += ": " + (error if len(error) <= _MAX_ERROR else error[: _MAX_ERROR - 1] + "…")
    pointer = "  ◀" if marked else ""
    return f"{node.name}  [{node.state}]  {outcome}{pointer}"


def _last_runs(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> dict[str, tuple[str, str | None]]:
    if not rows:
        return {}
    index = {c.upper(): i for i, c in enumerate(columns)}
    latest: dict[str, tuple[str, str, str | None]] = {}
    for row in rows:
        state = row[index["STATE"]]
        if state in ("SCHEDULED", "EXECUTING"):
            continue
        name = str(row[index["NAME"]]).upper()
        when = str(row[index.get("COMPLETED_TIME", index["SCHEDULED_TIME"])] or row[index["SCHEDULED_TIME"]])
        error = row[index["ERROR_MESSAGE"]] if "ERROR_MESSAGE" in index else None
        if name not in latest or _instant_key(when) >= _instant_key(latest[name][0]):
            latest[name] = (when, state, error)
    return {name: (state, error) for name, (_, state, error) in latest.items()}


def _instant_key(text: str) -> float:
    parsed = parse_timestamp(text)
    return parsed.timestamp() if parsed else 0.0


def _json(value: Any) -> Any:
    if value is None or value == "":
        return None
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return None


def _short(qualified: str) -> str:
    """The task's own name from a qualified one ('DB.PUBLIC.T' → 'T')."""
    part = str(qualified).rsplit(".", 1)[-1]
    return part[1:-1].replace('""', '"') if part.startswith('"') else part
