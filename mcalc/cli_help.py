"""How the commands' help reads: `Usage: mcalc jac [OPTIONS] EXPR` (Typer writes {EXPR}), a one-line summary in
the list of commands (Typer keeps the docstring's line breaks there), no type beside EXPR (Typer writes <str>), and
examples written as a shell reads them: a command too long for the terminal continues on an indented line after
a backslash, never broken inside quotes, so that it can be copied as it is."""

from __future__ import annotations

import inspect
from contextlib import contextmanager

from typer._click.types import StringParamType
from typer.core import TyperCommand


class Untyped(StringParamType):
    """A text argument whose help shows its metavar alone (EXPR), without a type."""

    def get_metavar(self, param, ctx=None) -> str:
        return ""


UNTYPED = Untyped()


@contextmanager
def to_a_closed_pipe():
    """Help written to a reader that closed early (mcalc -h | head): rich's handler exits with 1 (mcalc's
    "disagree"); it is a BrokenPipeError, and the help's exit code stays 0 (cli_errors.Group.main)."""
    try:
        yield
    except SystemExit as e:
        if e.code == 1:
            raise BrokenPipeError from None
        raise


class Command(TyperCommand):
    """A command whose usage line, summary and examples read as described above."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.help and not self.short_help:
            self.short_help = " ".join(inspect.cleandoc(self.help).split("\n\n")[0].split())

    def collect_usage_pieces(self, ctx) -> list[str]:
        return [p[1:-1] if p.startswith("{") and p.endswith("}") else p for p in super().collect_usage_pieces(ctx)]

    def format_help(self, ctx, formatter) -> None:
        with to_a_closed_pipe():
            self._format_help(ctx, formatter)

    def _format_help(self, ctx, formatter) -> None:
        if self.rich_markup_mode is None or not self.epilog:
            return super().format_help(ctx, formatter)
        epilog, self.epilog = self.epilog, None      # (printed below, not as a paragraph of marked-up text)
        try:
            super().format_help(ctx, formatter)
        finally:
            self.epilog = epilog
        from rich.console import Console

        console = Console(highlight=False, markup=False)       # (its closed pipe: to_a_closed_pipe)
        title, *examples = [part.strip() for part in epilog.split("\n\n")]
        console.print()
        console.print(" " + title, style="bold")
        for example in examples:
            console.print("\n".join(wrapped(example, console.width)), soft_wrap=True)


def wrapped(command: str, width: int, indent: int = 3, more: int = 4) -> list[str]:
    """A shell command in lines of at most width characters (where its words allow): each but the last ends in
    ' \\', the continuations are indented `more` further, and a break falls only between words, never inside
    quotes or $(...)."""
    words = shell_words(command)
    lines, line = [], " " * indent + words[0]
    for word in words[1:]:
        if len(line) + 1 + len(word) + 2 > width and line.strip():
            lines.append(line + " \\")
            line = " " * (indent + more) + word
        else:
            line += " " + word
    return lines + [line]


def shell_words(command: str) -> list[str]:
    """The command split at the spaces a shell splits it at: quoted text and $(...) stay whole."""
    words, word, quote, depth = [], "", None, 0
    for k, ch in enumerate(command):
        if depth:
            depth += {"(": 1, ")": -1}.get(ch, 0)
        elif quote:
            quote = None if ch == quote else quote
            depth = 1 if quote == '"' and ch == "(" and command[k - 1:k] == "$" else 0
        elif ch in "'\"":
            quote = ch
        elif ch == "(" and command[k - 1:k] == "$":
            depth = 1
        elif ch == " ":
            if word:
                words.append(word)
            word = ""
            continue
        word += ch
    return words + ([word] if word else [])
