"""Errors are values with a place.

Every problem with the user's input is a :class:`McalcError` (or a subclass) carrying one line of text: what went
wrong, where (a column of the expression, an operation and its shapes, a variable), and a hint.  The CLI prints
``str(error)`` on stderr and exits with code 2; the library never lets any other exception escape for bad input.

Advice names settings, and the command line and the Python API spell them differently (``--shape A=2x2``,
``shapes="A=2x2"``).  A message or hint that names a setting is therefore a function of the :class:`Words`, written
once for both::

    raise UsageError(lambda w: f"{w.value} names '{name}', which is not a variable",
                     hint=lambda w: f"give it a shape, e.g. {w.eg('shape', name + '=2x2')}")

``str(error)``, ``error.message`` and ``error.hint`` say it in the command line's words (CLI); the API raises
``error.phrased(API)``, which says the same in the API's.  Only mcalc's own text is phrased: the user's text (an
expression, a name) goes into the message as it is and is never rewritten.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Union


class Words(NamedTuple):
    """How the user spells each setting: the command line's options (CLI) or the Python API's arguments (API).
    (A NamedTuple rather than a frozen dataclass: a tenth of the cost at every start.)"""

    shape: str              # --shape                  shapes=
    value: str              # --value                  values=
    with_value: str         # with --value             in values=
    wrt: str                # --wrt                    wrt=
    order: str              # --order                  order=
    layout: str             # --layout                 layout=
    fd: str                 # --fd                     fd=        (compute's and product's arguments)
    tol: str                # --tol                    tol=
    seed: str               # --seed                   seed=
    fd_columns: str         # --fd-columns             columns=
    vjp: str                # --vjp                    mcalc.vjp  (the product)
    jvp: str                # --jvp                    mcalc.jvp
    cotangent: str          # --vjp                    the cotangent  (its vector)
    tangent: str            # --jvp                    the tangent
    hvp: str                # --hvp                    mcalc.hvp
    direction: str          # --hvp                    the direction  (H v's v)
    det: str                # --det                    the determinant
    tensor: str             # --tensor                 the tensor
    go_sparse: str          # write it sparse with --format npz --out J.npz
                            #                          ask for it sparse: jacobian(..., sparse=True)
    jacobian: str           # mcalc jac                jacobian()
    gradient: str           # grad                     gradient
    explain: str            # mcalc explain            mcalc.explain()
    separator: str          # between a setting and its value: ' ' after an option, nothing after 'name='
    quote: str              # around a text value: none on the command line, '"' in Python
    names_values: bool      # whether a setting's name is the name of its value (the cotangent; not --vjp)

    def eg(self, setting: str, value: str, text: bool = True) -> str:
        """A setting given a value, as the user writes it: --shape A=2x2 or shapes="A=2x2"; --tol 1e-6 or tol=1e-6
        (text=False: a number, not quoted)."""
        q = self.quote if text else ""
        return f"{getattr(self, setting)}{self.separator}{q}{value}{q}"

    def value_of(self, name: Text) -> str:
        """'the value of A' for a variable (a str); for a setting (a callable: lambda w: w.cotangent), 'the value
        of --vjp' or, where its name names the value, 'the cotangent'."""
        if not callable(name):
            return f"the value of {name}"
        return name(self) if self.names_values else f"the value of {name(self)}"


CLI = Words(
    shape="--shape", value="--value", with_value="with --value", wrt="--wrt", order="--order", layout="--layout",
    fd="--fd", tol="--tol", seed="--seed", fd_columns="--fd-columns", vjp="--vjp", jvp="--jvp", cotangent="--vjp", tangent="--jvp",
    hvp="--hvp", direction="--hvp", det="--det", tensor="--tensor", go_sparse="write it sparse with --format npz --out J.npz", jacobian="mcalc jac",
    gradient="grad", explain="mcalc explain", separator=" ", quote="", names_values=False)

API = Words(
    shape="shapes=", value="values=", with_value="in values=", wrt="wrt=", order="order=", layout="layout=",
    fd="fd=", tol="tol=", seed="seed=", fd_columns="columns=", vjp="mcalc.vjp", jvp="mcalc.jvp", cotangent="the cotangent",
    tangent="the tangent", hvp="mcalc.hvp", direction="the direction", det="the determinant", tensor="the tensor",
    go_sparse="ask for it sparse: jacobian(..., sparse=True)", jacobian="jacobian()", gradient="gradient",
    explain="mcalc.explain()", separator="", quote='"', names_values=True)

Text = Union[str, Callable[[Words], str]]     # a message or hint: plain text, or text that names settings


def phrase(text: Text | None, words: Words) -> str | None:
    """Text said in these words."""
    return text(words) if callable(text) else text


def setting(name: str) -> Callable[[Words], str]:
    """A setting's name, in the reader's words: setting("shape") says --shape or shapes=."""
    return lambda words: getattr(words, name)


def printable(text: str) -> str:
    """User text as it may be echoed to a terminal: control characters (a carriage return, an escape sequence, a
    newline inside the expression) as '?', one column each, so that a caret still points where it did."""
    return "".join(c if c.isprintable() else "?" for c in str(text))


class McalcError(Exception):
    """Base class of every error mcalc reports about its input."""

    kind = "error"

    def __init__(self, message: Text, *, hint: Text | None = None, col: int | None = None,
                 source: str | None = None):
        self.words = CLI
        self.message_text, self.hint_text = message, hint      # as written: text, or functions of the words
        self.col = col
        self.source = source
        self.part = None           # the text it is in, where not the expression: "the answer" (check's --expect)
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return phrase(self.message_text, self.words)

    @message.setter
    def message(self, text: Text) -> None:
        self.message_text = text
        self.args = (self.message,)

    @property
    def hint(self) -> str | None:
        return phrase(self.hint_text, self.words)

    @hint.setter
    def hint(self, text: Text | None) -> None:
        self.hint_text = text

    def phrased(self, words: Words) -> McalcError:
        """This error in other words (the API's): its message and hint are said again; returns it, to raise."""
        self.words = words
        self.args = (self.message,)
        return self

    def line(self, words: Words | None = None) -> str:
        """The error as one line, in these words (default: its own)."""
        words = words or self.words
        where = f" at column {self.col + 1}" if self.col is not None else ""
        where += f"{' of' if where else ' in'} {self.part}" if self.part else ""
        text = f"{self.kind}{where}: {phrase(self.message_text, words)}"
        hint = phrase(self.hint_text, words)
        return f"{text} (hint: {hint})" if hint else text

    def __str__(self) -> str:
        return self.line()

    def __reduce__(self):
        """Pickled as said (the functions that phrase it are not picklable)."""
        state = {**self.__dict__, "message_text": self.message, "hint_text": self.hint}
        return type(self), (self.message,), state

    def caret(self) -> str | None:
        """The expression with a caret under the offending column, when there is one."""
        if self.col is None or self.source is None:
            return None
        return f"  {printable(self.source)}\n  {' ' * self.col}^"


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
