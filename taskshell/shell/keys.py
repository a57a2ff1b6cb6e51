"""When Enter submits, and the key bindings that apply it.

Enter submits when the splitter says the input is complete (a `;` outside quotes, comments, `$$`
and `BEGIN … END`, or a meta command) and the cursor is at the end; otherwise it starts a new line.
Esc-Enter always inserts a newline. A paste that ends with a newline runs everything pasted.
"""

from __future__ import annotations

from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.keys import Keys

from taskshell.grammar.splitter import is_complete


def should_submit(text: str, cursor: int) -> bool:
    """True when Enter should run `text`: the cursor is at its end (trailing blanks aside) and the
    splitter sees nothing unfinished. Blank input submits too (it just shows a new prompt)."""
    if text[cursor:].strip():
        return False
    return is_complete(text)


def build_key_bindings() -> KeyBindings:
    keys = KeyBindings()

    @keys.add("enter")
    def _submit_or_newline(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        if buffer.complete_state is not None and buffer.complete_state.current_completion is not None:
            buffer.apply_completion(buffer.complete_state.current_completion)
            return
        if should_submit(buffer.text, buffer.cursor_position):
            buffer.validate_and_handle()
        else:
            buffer.insert_text("\n")

    @keys.add("escape", "enter")
    def _newline(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    @keys.add(Keys.BracketedPaste)
    def _paste(event: KeyPressEvent) -> None:
        data = event.data.replace("\r\n", "\n").replace("\r", "\n")
        buffer = event.current_buffer
        buffer.insert_text(data)
        if data.endswith("\n") and should_submit(buffer.text, buffer.cursor_position):
            buffer.validate_and_handle()

    return keys
