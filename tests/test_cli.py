"""The command-line contract of DESIGN §4, through the installed program."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.conftest import program, run_program


def test_command_runs_and_exits_zero(tmp_path: Path) -> None:
    result = run_program([str(tmp_path / "c.db"), "-c", "select 1 as one; select 2 as two", "--format", "csv"])
    assert (result.returncode, result.stdout, result.stderr) == (0, "one\n1\n\ntwo\n2\n", "")


def test_command_may_repeat(tmp_path: Path) -> None:
    result = run_program([str(tmp_path / "c.db"), "--format", "tsv", "-c", "create table t (a int)",
                          "-c", "insert into t values (7)", "-c", "select a from t"])
    assert result.returncode == 0
    assert result.stdout.endswith("a\n7\n")


def test_stdin_is_run_when_not_a_terminal(tmp_path: Path) -> None:
    result = run_program([str(tmp_path / "c.db"), "--format", "json"], stdin="select 'x' as v;\n")
    assert (result.returncode, result.stdout) == (0, '[{"v": "x"}]\n')
    result = run_program([str(tmp_path / "c.db"), "-f", "-", "--format", "json"], stdin="select 2 as v")
    assert result.stdout == '[{"v": 2}]\n'


def test_failure_stops_names_file_line_and_exits_one(tmp_path: Path) -> None:
    script = tmp_path / "s.sql"
    script.write_text("select 1 as a;\n\nselect 1/0;\nselect 3 as c;\n")
    result = run_program([str(tmp_path / "c.db"), "-f", str(script), "--format", "csv"])
    assert result.returncode == 1
    assert result.stdout == "a\n1\n"
    assert result.stderr == f"{script}:3: 1006 (22012): divided by zero while evaluating function `divide(1, 0)`\n"


def test_continue_on_error_runs_the_rest(tmp_path: Path) -> None:
    result = run_program([str(tmp_path / "c.db"), "--continue-on-error", "--format", "csv",
                          "-c", "select 1/0; select 3 as c"])
    assert result.returncode == 1
    assert result.stdout == "c\n3\n"


def test_bad_usage_exits_two(tmp_path: Path) -> None:
    assert run_program(["--format", "xml", "-c", "select 1"]).returncode == 2
    assert run_program(["--clock", "2026-11-01T00:00:00", "-c", "select 1"]).returncode == 2
    assert run_program([str(tmp_path / "c.db"), "-f", str(tmp_path / "missing.sql")]).returncode == 2


def test_default_catalog_comes_from_environment(tmp_path: Path) -> None:
    target = tmp_path / "env.db"
    run_program(["-c", "create table kept (a int)"], env={"TASKSHELL_CATALOG": str(target)})
    result = run_program(["-c", "show tables", "--format", "csv"], env={"TASKSHELL_CATALOG": str(target)})
    assert "kept" in result.stdout.lower()
    assert target.exists()


def test_default_catalog_lives_in_user_data_dir(tmp_path: Path) -> None:
    result = run_program(["-c", "create table here (a int)"], env={"XDG_DATA_HOME": str(tmp_path)})
    assert result.returncode == 0
    assert (tmp_path / "taskshell" / "default.db").exists()


def test_memory_catalog_keeps_nothing(tmp_path: Path) -> None:
    result = run_program([":memory:", "--format", "csv", "-c", "create table t (a int); insert into t values (1);"
                          " select count(*) as n from t"], cwd=tmp_path)
    assert result.stdout.endswith("n\n1\n")
    assert list(tmp_path.iterdir()) == []


def test_catalog_tables_are_hidden_from_show_tables(tmp_path: Path) -> None:
    result = run_program([str(tmp_path / "c.db"), "--format", "json", "-c", "create table mine (a int); show tables"])
    names = [row["name"] for row in json.loads(result.stdout.splitlines()[-1])]
    assert names == ["MINE"]


def test_script_path_does_not_import_prompt_toolkit_or_rich(tmp_path: Path) -> None:
    code = textwrap.dedent(f"""
        import sys
        from taskshell.cli import main
        code = main([{str(tmp_path / 'c.db')!r}, '-c', 'select 1', '--format', 'csv'])
        assert code == 0
        loaded = [m for m in ('prompt_toolkit', 'rich', 'sqlglot') if m in sys.modules]
        print(loaded, file=sys.stderr)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "[]"


def test_two_processes_write_the_same_catalog(tmp_path: Path) -> None:
    catalog = str(tmp_path / "shared.db")
    run_program([catalog, "-c", "create table t (who int, n int)"])
    script = "".join(f"insert into t values ({{who}}, {i});\n" for i in range(200))
    procs = [subprocess.Popen(program() + [catalog, "--format", "csv"], stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    for who, proc in enumerate(procs):
        proc.stdin.write(script.format(who=who))
        proc.stdin.close()
    for proc in procs:
        assert proc.wait(timeout=60) == 0, proc.stderr.read()
    result = run_program([catalog, "--format", "csv", "-c", "select who, count(*) as n from t group by who order by who"])
    assert result.stdout == "who,n\n0,200\n1,200\n"


def test_version_and_help() -> None:
    assert run_program(["--version"]).stdout.startswith("taskshell ")
    help_text = run_program(["--help"]).stdout
    for flag in ("--command", "--file", "--format", "--echo", "--continue-on-error", "--clock", "--dialect",
                 "--no-scheduler"):
        assert flag in help_text


def test_a_transaction_left_open_at_the_end_does_not_leave_runs_executing(tmp_path: Path) -> None:
    # the task's run starts before the BEGIN and ends while the script's transaction holds the write
    # lock; the open transaction is rolled back first at exit, so the run's end is recorded at once
    catalog = tmp_path / "c.db"
    script = ("CREATE TABLE kept (a INT); CREATE TASK w SCHEDULE = '1 SECONDS' AS SELECT SYSTEM$WAIT(0.3);"
              " ALTER TASK w RESUME; SELECT SYSTEM$WAIT(1.1); BEGIN; INSERT INTO kept VALUES (1);"
              " SELECT SYSTEM$WAIT(0.6)")
    began = time.monotonic()
    result = run_program([str(catalog), "--format", "csv", "-c", script])
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - began < 8  # not the busy timeout's 10 s
    conn = sqlite3.connect(catalog)
    try:
        assert conn.execute("SELECT count(*) FROM kept").fetchone() == (0,)  # rolled back
        states = [r[0] for r in conn.execute("SELECT state FROM _ts_task_runs")]
        assert states and "EXECUTING" not in states
        assert conn.execute("SELECT count(*) FROM _ts_graph_runs WHERE state = 'EXECUTING'").fetchone() == (0,)
    finally:
        conn.close()


def test_the_first_task_ddl_inside_a_transaction_commits_it_and_starts_the_scheduler(tmp_path: Path) -> None:
    # the process has no scheduler yet; the DDL commits the open transaction before the scheduler
    # starts (starting registers the process, a write the session's own lock would block)
    catalog = tmp_path / "c.db"
    assert run_program([str(catalog), "-c", "CREATE TABLE t (a INT)"]).returncode == 0
    began = time.monotonic()
    result = run_program([str(catalog), "--format", "csv", "-c",
                          "BEGIN; INSERT INTO t VALUES (1); CREATE TASK k SCHEDULE = '1 SECONDS'"
                          " AS INSERT INTO t VALUES (2); ALTER TASK k RESUME; SELECT SYSTEM$WAIT(1.5)"])
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - began < 8
    conn = sqlite3.connect(catalog)
    try:
        assert sorted(r[0] for r in conn.execute("SELECT a FROM t")) == [1, 2]
    finally:
        conn.close()


def test_a_script_that_is_not_utf8_is_refused_with_one_line(tmp_path: Path) -> None:
    script = tmp_path / "bad.sql"
    script.write_bytes(b"select 1;\n\xff\xfe select 2;\n")
    result = run_program([str(tmp_path / "c.db"), "-f", str(script)])
    assert result.returncode == 2
    assert result.stderr.strip() == f"taskshell: cannot read {script}: it is not UTF-8 text"


def test_commands_and_files_run_in_the_order_given(tmp_path: Path) -> None:
    script = tmp_path / "first.sql"
    script.write_text("select 'file' as src;\n", encoding="utf-8")
    result = run_program([str(tmp_path / "c.db"), "--format", "csv", "-f", str(script), "-c", "select 'command' as src"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["src", "file", "src", "command"]
