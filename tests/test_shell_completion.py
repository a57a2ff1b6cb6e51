"""What the prompt offers at the cursor: `suggest()` decides the kinds, `match()` fills them from a
catalog snapshot. No terminal and no catalog connection on the completion path."""

from __future__ import annotations

import statistics
import time
from types import MappingProxyType

from prompt_toolkit.document import Document

from taskshell.interpreter.snapshot import CatalogSnapshot, build_snapshot
from taskshell.shell.completer import TaskshellCompleter, match
from taskshell.shell.suggest import Keyword, Name, suggest


def keywords(before: str, after: str = "") -> set[str]:
    found: set[str] = set()
    for kind in suggest(before, after).kinds:
        if isinstance(kind, Keyword):
            found.update(kind.words)
    return found


def names(before: str, after: str = "") -> list[Name]:
    return [k for k in suggest(before, after).kinds if isinstance(k, Name)]


def name_kinds(before: str, after: str = "") -> set[str]:
    return {k.kind for k in names(before, after)}


SNAPSHOT = CatalogSnapshot(
    tasks=("LOAD_ORDERS", "NIGHTLY", "REFRESH"),
    task_states=MappingProxyType({"LOAD_ORDERS": "started", "NIGHTLY": "suspended", "REFRESH": "started"}),
    streams=("ORDERS_STREAM",),
    tables=("orders", "customers", "Mixed Case"),
    columns=MappingProxyType({"orders": ("id", "amount", "customer_id"), "customers": ("id", "name"),
                              "mixed case": ("x",)}),
    warehouses=("default", "ETL"),
    integrations=("ALERTS",),
)


def completions(before: str, after: str = "") -> list[str]:
    return [text for text, _ in match(suggest(before, after), SNAPSHOT)]


# ---------------------------------------------------------------- keywords from the grammar
def test_statement_keywords_come_from_the_grammar_and_sql() -> None:
    assert {"CREATE", "ALTER", "SHOW", "EXECUTE", "SELECT", "INSERT"} <= keywords("")
    after_create = keywords("CREATE ")
    assert {"TASK", "WAREHOUSE", "TABLE", "STREAM"} <= after_create
    assert "SELECT" not in after_create


def test_task_properties_fit_after_the_task_name() -> None:
    fits = keywords("CREATE TASK nightly ")
    assert {"SCHEDULE", "AFTER", "WHEN", "AS", "WAREHOUSE", "SUSPEND_TASK_AFTER_NUM_FAILURES",
            "ERROR_INTEGRATION"} <= fits
    assert "RESUME" not in fits


def test_alter_task_offers_actions_then_task_names() -> None:
    assert name_kinds("ALTER TASK ") == {"task"}
    assert {"RESUME", "SUSPEND", "SET", "UNSET", "MODIFY", "ADD", "REMOVE"} <= keywords("ALTER TASK nightly ")
    assert "SUSPEND_TASK_AFTER_NUM_FAILURES" in keywords("ALTER TASK nightly SET ")


def test_schedule_offers_using_cron() -> None:
    assert "USING" in keywords("CREATE TASK t SCHEDULE = ")
    assert "CRON" in keywords("CREATE TASK t SCHEDULE = USING ")


def test_predecessors_are_task_names() -> None:
    assert name_kinds("CREATE TASK child AFTER ") == {"task"}
    assert name_kinds("CREATE TASK child AFTER load_orders, ") == {"task"}
    assert completions("create task child after load_orders, ni") == ["nightly"]


def test_property_values_are_names_of_their_kind() -> None:
    assert name_kinds("CREATE TASK t WAREHOUSE = ") == {"warehouse"}
    assert name_kinds("CREATE TASK t ERROR_INTEGRATION = ") == {"integration"}
    assert completions("CREATE TASK t WAREHOUSE = ") == ["default", "ETL"]
    assert completions("CREATE TASK t OVERLAP_POLICY = NO") == ["NO_OVERLAP"]


def test_partial_keyword_completes_in_the_case_typed() -> None:
    assert completions("create task t suspend_task") == ["suspend_task_after_num_failures"]
    assert completions("CREATE TASK t SUSPEND_TASK") == ["SUSPEND_TASK_AFTER_NUM_FAILURES"]


def test_other_statements_name_their_objects() -> None:
    assert name_kinds("USE WAREHOUSE ") == {"warehouse"}
    assert name_kinds("DROP TASK IF EXISTS ") == {"task"}
    assert name_kinds("EXECUTE TASK ") == {"task"}


# ---------------------------------------------------------------- plain SQL and task bodies
def test_relations_after_from_include_streams() -> None:
    assert name_kinds("SELECT * FROM ") == {"table", "stream"}
    assert "ORDERS_STREAM" in completions("SELECT * FROM ")
    assert name_kinds("INSERT INTO ") == {"table"}


def test_columns_come_from_the_tables_in_scope() -> None:
    assert completions("SELECT ", " FROM customers") [:2] == ["id", "name"]
    assert "amount" not in completions("SELECT ", " FROM customers")
    assert completions("SELECT o.", " FROM orders AS o") == ["id", "amount", "customer_id"]
    assert completions("SELECT * FROM orders o WHERE o.am") == ["amount"]


def test_task_body_is_completed_as_sql() -> None:
    assert name_kinds("CREATE TASK t AS INSERT INTO ") == {"table"}
    assert name_kinds("CREATE TASK t SCHEDULE = '1 minute' AS $$ SELECT * FROM ") == {"table", "stream"}


def test_names_inside_strings_where_functions_take_them() -> None:
    result = suggest("SELECT * FROM TABLE(INFORMATION_SCHEMA.TASK_HISTORY(TASK_NAME => 'nig")
    assert result.word == "nig" and result.kinds == (Name("task"),)
    assert name_kinds("SELECT SYSTEM$STREAM_HAS_DATA('") == {"stream"}
    assert suggest("SELECT 'just text ").kinds == ()


def test_nothing_is_offered_inside_a_comment() -> None:
    assert suggest("SELECT 1 -- a note about fr").kinds == ()


def test_a_finished_statement_starts_a_new_one() -> None:
    assert "CREATE" in keywords("SELECT 1; ")
    assert name_kinds("SELECT 1; SELECT * FROM ") == {"table", "stream"}


def test_names_needing_quotes_are_quoted() -> None:
    assert '"Mixed Case"' in completions("SELECT * FROM ")


# ---------------------------------------------------------------- meta commands
def test_meta_commands_complete_their_names_and_arguments() -> None:
    meta = [("!graph", "Draw a graph."), ("!format", "Set the format.")]
    assert [t for t, _ in match(suggest("!gr"), SNAPSHOT, meta)] == ["!graph"]
    assert completions("!graph ") == ["LOAD_ORDERS", "NIGHTLY", "REFRESH"]
    assert completions("!history re") == ["refresh"]
    assert completions("!format j") == ["json"]


# ---------------------------------------------------------------- the snapshot
def test_snapshot_reads_every_kind_of_name(shell) -> None:  # noqa: ANN001
    shell("CREATE TABLE orders (id INT, amount FLOAT)")
    shell("CREATE WAREHOUSE etl")
    shell("CREATE TASK load_orders SCHEDULE = '1 minute' AS INSERT INTO orders VALUES (1, 2.0)")
    shell("ALTER TASK load_orders RESUME")
    shell("CREATE STREAM orders_changes ON TABLE orders")
    snapshot = build_snapshot(shell.catalog)
    assert snapshot.streams == ("ORDERS_CHANGES",)
    assert snapshot.tasks == ("LOAD_ORDERS",)
    assert snapshot.task_states["LOAD_ORDERS"] == "started"
    assert "orders" in snapshot.tables
    assert snapshot.columns_of(("ORDERS",)) == ("id", "amount")
    assert {"default", "ETL"} <= {w for w in snapshot.warehouses} | {w.upper() for w in snapshot.warehouses}
    assert not any(t.startswith("_ts_") for t in snapshot.tables)


def test_snapshot_is_read_while_the_session_holds_a_transaction(shell) -> None:  # noqa: ANN001
    shell("CREATE TABLE kept (a INT)")
    shell("BEGIN")
    shell("INSERT INTO kept VALUES (1)")  # the session holds the write lock
    snapshot = build_snapshot(shell.catalog)
    shell("COMMIT")
    assert "kept" in snapshot.tables


def test_completion_stays_fast_with_a_thousand_tasks() -> None:
    tasks = tuple(f"TASK_{i:04d}" for i in range(1000))
    tables = tuple(f"t{i}" for i in range(200))
    snapshot = CatalogSnapshot(tasks=tasks, tables=tables,
                               columns=MappingProxyType({t: ("id", "name", f"v_{t}") for t in tables}))
    completer = TaskshellCompleter(lambda: snapshot)
    suggest("")  # the shell loads the grammar in the background before anyone types
    timings = []
    for text in ("ALTER TASK TASK_05", "alter task ", "SELECT * FROM t1", "SELECT  FROM t1 WHERE ",
                 "CREATE TASK x AFTER TASK_0", "!graph TASK_09") * 5:
        started = time.perf_counter()
        found = list(completer.get_completions(Document(text), None))  # type: ignore[arg-type]
        timings.append(time.perf_counter() - started)
        assert found
    assert statistics.median(timings) < 0.02
