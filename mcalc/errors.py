"""Errors are values with a place.

Every problem with the user's input is a :class:`McalcError` (or a subclass) carrying one line of text: what went
wrong, where (a column of the expression, an operation and its shapes, a variable), and a hint.  The CLI prints
``str(error)`` on stderr and exits with code 2; the library never lets any other exception escape for bad input.
"""

from __future__ import annotations


class McalcError(Exception):
    """Base class of every error mcalc reports about its input."""

    kind = "error"

    def __init__(self, message: str, *, hint: str | None = None, col: int | None = None,
                 source: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.col = col
        self.source = source

    def __str__(self) -> str:
        where = f" at column {self.col + 1}" if self.col is not None else ""
        text = f"{self.kind}{where}: {self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text

    def caret(self) -> str | None:
        """The expression with a caret under the offending column, when there is one."""
        if self.col is None or self.source is None:
            return None
        return f"  {self.source}\n  {' ' * self.col}^"


class ParseError(McalcError):
    kind = "syntax error"


class UnknownNameError(McalcError):
    kind = "name error"


class ShapeError(McalcError):
    kind = "shape error"


class ValueSpecError(McalcError):
    kind = "value error"


class DomainError(McalcError):
    kind = "domain error"


class StepOutOfDomain(DomainError):
    """A finite-difference step left the function's domain (log near 0): the point itself is fine."""


class TooLargeError(McalcError):
    kind = "too large"


class UsageError(McalcError):
    kind = "usage error"


class NoClosedFormError(McalcError):
    kind = "no closed form"


class InternalError(McalcError):
    """A bug in mcalc, not in the input; raised so that the API's promise (only McalcError) holds."""

    kind = "internal error"
