"""Results drawn as text: tables for people, csv/tsv/json/markdown for tools, errors with carets."""

import json
import subprocess
import sys

import pytest

from taskshell.errors import CompilationError, ParseError
from taskshell.interpreter.result import Result
from taskshell.render import FORMATS, format_error, render
from taskshell.render.table import _draw_rich
from taskshell.render.text import format_float

MIXED = Result(
    columns=("id", "name", "score", "active"),
    rows=(
        (1, "plain", 0.333333, True),
        (22, 'comma, "quote"\nnewline', 5.0, False),
        (None, "naïve | 日本", None, None),
    ),
)
STATUS = Result.of_status("Task T1 successfully created.")
EMPTY = Result(columns=("name", "state"), rows=())


def test_csv_has_a_header_then_rows_with_nulls_empty_and_bools_spelled_out():
    assert render(MIXED, "csv") == (
        "id,name,score,active\n"
        "1,plain,0.333333,true\n"
        '22,"comma, ""quote""\nnewline",5.0,false\n'
        ",naïve | 日本,,\n"
    )


def test_tsv_separates_with_tabs():
    assert render(MIXED, "tsv") == (
        "id\tname\tscore\tactive\n"
        "1\tplain\t0.333333\ttrue\n"
        '22\t"comma, ""quote""\nnewline"\t5.0\tfalse\n'
        "\tnaïve | 日本\t\t\n"
    )


def test_json_is_one_line_of_row_objects():
    text = render(MIXED, "json")
    assert text.endswith("\n") and text.count("\n") == 1
    assert json.loads(text) == [
        {"id": 1, "name": "plain", "score": 0.333333, "active": True},
        {"id": 22, "name": 'comma, "quote"\nnewline', "score": 5.0, "active": False},
        {"id": None, "name": "naïve | 日本", "score": None, "active": None},
    ]
    assert "naïve" in text  # unicode stays readable


def test_json_suffixes_repeated_column_names():
    result = Result(columns=("id", "id", "x", "id"), rows=((1, 2, 3, 4),))
    assert json.loads(render(result, "json")) == [{"id": 1, "id_2": 2, "x": 3, "id_3": 4}]


def test_json_of_no_rows_is_an_empty_array():
    assert render(EMPTY, "json") == "[]\n"


def test_markdown_is_a_github_table_with_pipes_escaped():
    assert render(MIXED, "markdown") == (
        "|   id | name                      |    score | active |\n"
        "| ---: | ------------------------- | -------: | ------ |\n"
        "|    1 | plain                     | 0.333333 | true   |\n"
        '|   22 | comma, "quote"<br>newline |      5.0 | false  |\n'
        "| NULL | naïve \\| 日本             |     NULL | NULL   |\n"  # 日本 is four columns wide
    )


@pytest.mark.parametrize(("value", "text"), [
    (0.333333, "0.333333"), (5.0, "5.0"), (1 / 3, "0.333333333333333"), (0.1 + 0.2, "0.3"),
    (1e-05, "0.00001"), (-2.5, "-2.5"), (0.0, "0.0"), (1e16, "10000000000000000.0"), (1e300, "1e+300"),
    (float("nan"), "NaN"), (float("inf"), "inf"),
])
def test_floats_print_without_exponent_noise(value, text):
    assert format_float(value) == text


def test_json_floats_match_the_other_formats_and_stay_valid_json():
    result = Result(columns=("a", "b", "c"), rows=((1e-05, 0.1 + 0.2, float("nan")),))
    text = render(result, "json")
    assert text == '[{"a": 0.00001, "b": 0.3, "c": "NaN"}]\n'
    json.loads(text)


@pytest.mark.parametrize(("fmt", "expected"), [
    ("table", "Task T1 successfully created.\n"),
    ("csv", "status\nTask T1 successfully created.\n"),
    ("tsv", "status\nTask T1 successfully created.\n"),
    ("json", '[{"status": "Task T1 successfully created."}]\n'),
    ("markdown", "| status                        |\n| ----------------------------- |\n"
                 "| Task T1 successfully created. |\n"),
])
def test_status_results(fmt, expected):
    assert render(STATUS, fmt) == expected


@pytest.mark.parametrize(("fmt", "expected"), [
    ("table", "name   state\n────────────\n(0 rows)\n"),
    ("csv", "name,state\n"),
    ("tsv", "name\tstate\n"),
    ("json", "[]\n"),
    ("markdown", "| name | state |\n| ---- | ----- |\n"),
])
def test_empty_results_show_the_header_only(fmt, expected):
    assert render(EMPTY, fmt) == expected


def test_table_shows_null_and_right_aligns_numbers():
    assert render(MIXED, "table") == (
        "  id   name                score   active\n"
        "─────────────────────────────────────────\n"
        "   1   plain            0.333333   true\n"
        '  22   comma, "quote"        5.0   false\n'
        "       newline\n"
        "NULL   naïve | 日本         NULL   NULL\n"
    )


def test_wide_table_without_a_width_is_neither_cut_nor_wrapped():
    long_text = "word " * 80
    result = Result(columns=("definition", "n"), rows=((long_text.strip(), 1),))
    lines = render(result, "table").splitlines()
    assert len(lines) == 3
    assert long_text.strip() in lines[2]
    assert "…" not in "".join(lines)


def test_table_fits_a_terminal_width():
    result = Result(columns=("definition", "n"), rows=(("word " * 80, 1),))
    lines = render(result, "table", width=40).splitlines()
    assert max(len(line) for line in lines) <= 40
    assert len(lines) > 3  # wrapped to fit


def test_table_values_are_never_read_as_markup():
    result = Result(columns=("[bold]h[/bold]",), rows=(("[red]x[/red] :smile:",),))
    assert "[red]x[/red] :smile:" in render(result, "table")
    assert "[red]x[/red] :smile:" in render(result, "table", width=80)


def test_table_in_colour_has_a_bold_header_and_dim_nulls():
    result = Result(columns=("a",), rows=((None,),))
    text = render(result, "table", color=True)
    assert "\x1b[1m" in text and "\x1b[2mNULL" in text
    assert "\x1b[" not in render(result, "table")


@pytest.mark.parametrize("result", [
    MIXED,
    EMPTY,
    Result(columns=("", "x"), rows=(("", ""), ("", None))),
    Result(columns=("wide",), rows=(("日本語テキスト",), ("😀 ok",), ("e\u0301",))),
    Result(columns=("multi\nline head", "n"), rows=(("a\n", 1), ("\n\nb", 22), ("x", 3.5))),
    Result(columns=("bytes", "big", "neg"), rows=((b"\x01\xff", 10**30, -0.0),)),
    Result(columns=("pad",), rows=(("trailing   ",), ("  lead",))),
])
def test_plain_table_drawing_matches_rich(result):
    assert render(result, "table") == _draw_rich(result, None, False)


def test_a_large_table_renders_quickly():
    rows = tuple((i, f"task {i}", i / 7, None) for i in range(5_000))
    text = render(Result(columns=("id", "name", "ratio", "error"), rows=rows), "table")
    assert text.count("\n") == 5_002


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        render(MIXED, "xml")
    assert FORMATS == ("table", "csv", "tsv", "json", "markdown")


def test_plain_formats_do_not_import_rich():
    code = (
        "import sys\n"
        "from taskshell.interpreter.result import Result\n"
        "from taskshell.render import render\n"
        "for f in ('csv', 'tsv', 'json', 'markdown'):\n"
        "    render(Result(('a',), ((1,),)), f)\n"
        "print('rich' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# Errors


def test_error_names_file_line_code_and_message():
    err = CompilationError("Task not found: 'T9'; while alter task")
    assert format_error(err, source="script.sql", statement="alter task t9 resume", statement_line=7) == (
        "script.sql:7: 002003 (42000): Task not found: 'T9'; while alter task\n"
    )
    assert format_error(err) == "002003 (42000): Task not found: 'T9'; while alter task\n"


def test_caret_under_the_position_on_the_first_line():
    err = ParseError("syntax error line 1 at position 6 unexpected 'FOO'.", position=(1, 7),
                     expected=("FROM", "WHERE"))
    text = format_error(err, source="<stdin>", statement="select FOO bar", statement_line=3)
    assert text == (
        "<stdin>:3: 001003 (42000): syntax error line 1 at position 6 unexpected 'FOO'.\n"
        "select FOO bar\n"
        "      ^\n"
        "Expected one of: FROM, WHERE\n"
    )


def test_caret_keeps_the_source_column_when_the_statement_starts_mid_line():
    err = ParseError("syntax error line 1 at position 6 unexpected 'FOO'.", position=(1, 7))
    text = format_error(err, source="-c", statement="select FOO", statement_column=11)
    assert text.splitlines()[1:] == ["          select FOO", "                ^"]


def test_caret_on_a_later_line_of_the_statement():
    err = ParseError("syntax error line 2 at position 5 unexpected 'wher'.", position=(2, 6))
    statement = "select *\n\tfrom wher x"
    text = format_error(err, source="script.sql", statement=statement, statement_line=10, statement_column=5)
    assert text.splitlines() == [
        "script.sql:11: 001003 (42000): syntax error line 2 at position 5 unexpected 'wher'.",
        "\tfrom wher x",
        "\t    ^",
    ]


def test_expected_tokens_are_not_repeated_when_the_message_lists_them():
    err = ParseError("unexpected 'X'; expected one of: FROM, WHERE", position=(1, 1), expected=("FROM",))
    assert "Expected one of" not in format_error(err, statement="X")


def test_no_caret_without_a_statement_or_a_position():
    err = ParseError("syntax error", position=(1, 3))
    assert format_error(err) == "001003 (42000): syntax error\n"
    assert format_error(CompilationError("bad"), statement="select 1") == "002003 (42000): bad\n"
