"""Cutting scripts into statements, and knowing when typed input is ready to run."""

import time

import pytest

from taskshell.grammar.splitter import Statement, is_complete, split


def texts(script: str) -> list[str]:
    return [s.text for s in split(script)]


def test_statements_are_cut_at_semicolons_and_a_final_one_needs_none():
    assert texts("select 1; select 2;\nselect 3") == ["select 1", "select 2", "select 3"]


def test_empty_and_comment_only_statements_are_dropped():
    assert texts(";; -- nothing here\n; /* nor here */ ;select 1;;") == ["select 1"]
    assert split("") == []
    assert split("  \n -- just a comment\n") == []


def test_semicolons_inside_strings_and_identifiers_do_not_cut():
    script = """select 'a;b', 'it''s; fine', 'It\\'s; fine' ; select "odd;""name" from t; select 3"""
    assert texts(script) == [
        """select 'a;b', 'it''s; fine', 'It\\'s; fine'""",
        'select "odd;""name" from t',
        "select 3",
    ]


def test_semicolons_inside_comments_do_not_cut():
    script = "select 1 -- first; still a comment\n, 2 // another; comment\n/* block; 'quote */ from t; select 4"
    statements = texts(script)
    assert len(statements) == 2
    assert statements[0].startswith("select 1 -- first; still a comment\n, 2")
    assert statements[0].endswith("from t")
    assert statements[1] == "select 4"


def test_leading_and_trailing_comments_are_removed_from_the_text():
    assert texts("-- about the query\n/* more */ select 1 -- why\n;") == ["select 1"]


def test_dollar_quoted_body_is_one_statement():
    assert texts("EXECUTE IMMEDIATE $$ SELECT 1; SELECT 2; $$; select 3") == [
        "EXECUTE IMMEDIATE $$ SELECT 1; SELECT 2; $$",
        "select 3",
    ]


def test_task_with_a_begin_end_body_is_one_statement():
    script = "CREATE TASK t AS BEGIN INSERT INTO a VALUES (1); SELECT CASE WHEN x THEN 1 END; END;"
    assert texts(script) == [script[:-1]]


def test_databend_task_body_holding_a_transaction_stays_whole():
    script = (
        "CREATE TASK t WAREHOUSE = 'default' SCHEDULE = 1 MINUTE AS\n"
        "BEGIN\n  BEGIN;\n  INSERT INTO a VALUES (1);\n  DELETE FROM b;\n  COMMIT;\nEND;\n"
        "SHOW TASKS;"
    )
    statements = texts(script)
    assert len(statements) == 2
    assert statements[0].endswith("COMMIT;\nEND")
    assert statements[1] == "SHOW TASKS"


def test_transaction_statements_are_not_blocks():
    assert texts("BEGIN; INSERT INTO t VALUES (1); COMMIT;") == ["BEGIN", "INSERT INTO t VALUES (1)", "COMMIT"]
    assert texts("begin transaction; select 1; Begin Work; BEGIN NAME tx1; START TRANSACTION; rollback") == [
        "begin transaction", "select 1", "Begin Work", "BEGIN NAME tx1", "START TRANSACTION", "rollback",
    ]
    assert texts("BEGIN -- a transaction\n; select 1") == ["BEGIN", "select 1"]


def test_declare_block_with_control_flow_is_one_statement():
    script = """DECLARE
  x INTEGER DEFAULT (CASE WHEN 1 > 0 THEN 1 ELSE 2 END);
  c1 CURSOR FOR SELECT id FROM t;
BEGIN
  IF (x > 0) THEN
    x := 2;
  ELSEIF (x < 0) THEN
    x := 3;
  END IF;
  FOR i IN 1 TO 3 DO
    x := x + i;
  END FOR;
  WHILE (x < 100) DO
    x := x * 2;
  END WHILE;
  REPEAT
    x := x - 1;
  UNTIL (x < 50)
  END REPEAT;
  LOOP
    BREAK;
  END LOOP;
  CASE (x)
    WHEN 1 THEN RETURN 'one';
    ELSE RETURN 'other';
  END CASE;
  BEGIN
    INSERT INTO log VALUES (x);
  EXCEPTION
    WHEN OTHER THEN RETURN 'failed';
  END;
  RETURN x;
END;
SELECT 'after';"""
    statements = split(script)
    assert [s.text for s in statements] == [script[: script.index(";\nSELECT 'after'")], "SELECT 'after'"]
    assert statements[1].line == script.count("\n") + 1


def test_keywords_match_in_any_case_but_only_as_whole_words():
    assert len(split("create task t as Begin insert into a values (1); eNd; select 2")) == 2
    script = "select begin_date, weekend, t.end, casement, \"BEGIN\" from t; select 'BEGIN'; select 3"
    assert len(split(script)) == 3
    assert len(split("select 1 -- begin\n; /* begin */ select 2; select $$ begin $$")) == 3


def test_positions_after_multi_line_comments():
    script = "select 1;\n/* a comment\n   over lines */\n\n  select\n  2; select 3"
    assert split(script) == [
        Statement("select 1", 1, 1, 0),
        Statement("select\n  2", 5, 3, script.index("select\n")),
        Statement("select 3", 6, 6, script.index("select 3")),
    ]


def test_windows_line_endings():
    script = "select 1;\r\n-- note\r\nselect 'a'\r\n  , 2;\r\nselect 3\r\n"
    statements = split(script)
    assert [s.text for s in statements] == ["select 1", "select 'a'\r\n  , 2", "select 3"]
    assert [(s.line, s.column) for s in statements] == [(1, 1), (3, 1), (5, 1)]


def test_unterminated_text_runs_to_the_end_of_the_input():
    assert texts("select 1; select 'open; select 2") == ["select 1", "select 'open; select 2"]
    assert texts("select 1; select $$ x; y") == ["select 1", "select $$ x; y"]
    assert texts("select 1; /* open; select 2") == ["select 1"]


@pytest.mark.parametrize("text", [
    "", "   \n\t", "-- comment only", "/* block */", "select 1;", "select 1;  -- done\n",
    "select 1; /* done */ ", "BEGIN;", "CREATE TASK t AS BEGIN SELECT 1; END;",
    "EXECUTE IMMEDIATE $$ SELECT 1; $$;", "select 1;\r\n",
])
def test_input_that_is_ready_to_run(text):
    assert is_complete(text)


@pytest.mark.parametrize("text", [
    "select 1", "select 1; select 2", "select 'open;", 'select "open;', "select 1 /* open ;",
    "select $$ open ;", "CREATE TASK t AS BEGIN SELECT 1;", "CREATE TASK t AS BEGIN SELECT 1; END",
    "DECLARE x INT; BEGIN x := 1;", "BEGIN IF (1 = 1) THEN SELECT 1; END IF;", "select 1 -- ;",
])
def test_input_that_needs_more_lines(text):
    assert not is_complete(text)


@pytest.mark.parametrize("text", ["!help", "  !source x.sql", "\\dt", "!set format = csv"])
def test_meta_commands_are_complete_at_the_end_of_their_line(text):
    assert is_complete(text)


def test_splitting_a_ten_thousand_statement_script_is_fast():
    script = "".join(
        f"INSERT INTO t VALUES ({i}, 'name {i}; x', 3.5); -- row {i}\n"
        f"CREATE TASK t{i} AS BEGIN INSERT INTO a SELECT CASE WHEN x THEN 1 END FROM s; END;\n"
        for i in range(5_000)
    )
    started = time.perf_counter()
    statements = split(script)
    elapsed = time.perf_counter() - started
    assert len(statements) == 10_000
    print(f"split {len(statements)} statements in {elapsed:.3f}s ({len(statements) / elapsed:,.0f}/s)")


def test_begin_as_a_name_opens_no_block():
    # BEGIN is not a reserved word in Snowflake: a column or an alias may be called begin
    script = ("create table shifts (begin int, stop int); insert into shifts (begin, stop) values (1, 2);"
              " select 1 as begin, 2 as x; select 1 as begin from shifts; update shifts set begin = 3;")
    assert texts(script) == ["create table shifts (begin int, stop int)",
                             "insert into shifts (begin, stop) values (1, 2)", "select 1 as begin, 2 as x",
                             "select 1 as begin from shifts", "update shifts set begin = 3"]
    assert is_complete("create table shifts (begin int, stop int);")


def test_begin_still_opens_a_block_where_a_block_can_start():
    assert texts("create task t as -- the body\nbegin select 1; end; select 2;") == [
        "create task t as -- the body\nbegin select 1; end", "select 2"]
    assert texts("begin if (1 > 0) then begin select 1; end; end if; end; select 9;") == [
        "begin if (1 > 0) then begin select 1; end; end if; end", "select 9"]
