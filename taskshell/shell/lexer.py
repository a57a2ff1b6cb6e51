"""Syntax highlighting for the prompt: SQL, taskshell's own keywords, `$$` bodies and meta commands."""

from __future__ import annotations

import re
from pathlib import Path

from pygments.lexer import RegexLexer, include, words
from pygments.token import (
    Comment,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Text,
    Whitespace,
)

import taskshell.grammar
from taskshell.shell import sqlwords

# Keywords are read from the grammar file's quoted words (cheap: no parser is built), so every word
# the grammar knows is highlighted.
_GRAMMAR_WORD = re.compile(r'"([A-Za-z_][A-Za-z_0-9]*)"i')


def _grammar_file_words() -> set[str]:
    installed = Path(taskshell.grammar.__file__).parent / "taskshell.lark"
    path = installed if installed.exists() else Path(__file__).parents[2] / "grammar" / "taskshell.lark"
    try:
        return {w.upper() for w in _GRAMMAR_WORD.findall(path.read_text(encoding="utf-8"))}
    except OSError:
        return set()


_TASKSHELL_WORDS = tuple(sorted({*sqlwords.TASKSHELL_WORDS, *(_grammar_file_words() - set(sqlwords.SQL_KEYWORDS))}))
_SQL_WORDS = tuple(sorted({*sqlwords.SQL_KEYWORDS, *sqlwords.SQL_STATEMENT_STARTS, "TABLES", "VIEWS",
                           "TERSE", "LIKE", "LIMIT", "ACCOUNT", "DATABASE", "SCHEMA", "STARTS", "ROOT",
                           "ONLY", "REPLACE", "EXISTS", "COPY", "GRANTS", "OVERWRITE", "CALL", "AT",
                           "BEFORE", "TIMESTAMP", "OFFSET", "STATEMENT", "VARCHAR", "INT", "INTEGER",
                           "NUMBER", "FLOAT", "BOOLEAN", "DATE", "DECLARE", "RETURN", "LOOP", "FOR",
                           "WHILE", "REPEAT", "LET", "WORK", "TO"} - set(_TASKSHELL_WORDS)))
_FUNCTIONS = tuple(sorted({f for f in sqlwords.SQL_FUNCTIONS if "$" not in f} |
                          set(sqlwords.INFORMATION_SCHEMA_FUNCTIONS)))


class TaskshellLexer(RegexLexer):
    """SQL with taskshell's task, stream and warehouse words; a `$$ … $$` body is lexed as SQL."""

    name = "taskshell"
    aliases = ["taskshell"]
    flags = re.IGNORECASE | re.MULTILINE

    tokens = {
        "root": [
            (r"\A\s*[!\\][\w?]*", Keyword.Pseudo),
            (r"\$\$", String.Delimiter, "body"),
            include("sql"),
        ],
        "body": [
            (r"\$\$", String.Delimiter, "#pop"),
            include("sql"),
        ],
        "sql": [
            (r"\s+", Whitespace),
            (r"(--|//).*?$", Comment.Single),
            (r"/\*", Comment.Multiline, "comment"),
            (r"'(?:''|\\.|[^'\\])*'?", String.Single),
            (r'"(?:""|[^"])*"?', Name.Quoted),
            (r"(?:\d+\.\d*|\.\d+|\d+)(?:e[+-]?\d+)?", Number),
            (words(_TASKSHELL_WORDS, prefix=r"(?<![\w$.])", suffix=r"(?![\w$])"), Keyword.Reserved),
            (words(_SQL_WORDS, prefix=r"(?<![\w$.])", suffix=r"(?![\w$])"), Keyword),
            (r"SYSTEM\$\w+", Name.Builtin),
            (words(_FUNCTIONS, suffix=r"(?=\s*\()"), Name.Function),
            (r"[A-Za-z_][\w$]*", Name),
            (r"=>|::|<=|>=|<>|!=|\|\||[-+*/%<>=]", Operator),
            (r"[;(),.\[\]]", Punctuation),
            (r".", Text),
        ],
        "comment": [
            (r"\*/", Comment.Multiline, "#pop"),
            (r"[^*]+", Comment.Multiline),
            (r"\*", Comment.Multiline),
        ],
    }
