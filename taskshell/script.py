"""Script mode: statements from -c, -f or stdin, results to stdout, diagnostics to stderr.

This path never imports prompt_toolkit, and imports rich only when a table has to be drawn.
"""

from __future__ import annotations

from typing import TextIO

from taskshell.errors import TaskshellError
from taskshell.grammar.splitter import split
from taskshell.interpreter.interpreter import Interpreter
from taskshell.render import format_error, render


class ScriptRunner:
    def __init__(self, interpreter: Interpreter, out: TextIO, err: TextIO, *, fmt: str = "table",
                 echo: bool = False, continue_on_error: bool = False) -> None:
        self.interpreter = interpreter
        self.out = out
        self.err = err
        self.fmt = fmt
        self.echo = echo
        self.continue_on_error = continue_on_error
        self.failed = False
        self._results = 0

    def run(self, text: str, source: str) -> bool:
        """Run every statement of `text`; False when one failed (and, unless continuing, stop there)."""
        for statement in split(text):
            if self.echo:
                self._separate()
                self.out.write(f"{statement.text};\n")
            try:
                result = self.interpreter.execute(statement.text)
            except TaskshellError as error:
                self.failed = True
                self.out.flush()
                self.err.write(format_error(error, source=source, statement=statement.text,
                                            statement_line=statement.line,
                                            statement_column=statement.column))
                if not self.continue_on_error:
                    return False
                continue
            for notice in result.notices:
                self.err.write(f"{source}:{statement.line}: notice: {notice}\n")
            if not self.echo:
                self._separate()
            self.out.write(render(result, self.fmt))
            self._results += 1
        return not self.failed

    def _separate(self) -> None:
        # result sets are separated by one empty line (json: one array per line, no separator)
        if self._results and self.fmt != "json":
            self.out.write("\n")
