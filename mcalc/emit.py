"""What a command shows, and how: the format and the output file, checked before anything is computed; the options
each format can show; the result written as pretty text, JSON, CSV, plain text, .npy, .npz, LaTeX or Markdown, to
stdout or --out (or nowhere with --quiet); and the exit code from the verdict.  No mathematics here.

The renderers load when they are used (rich for pretty output only, SymPy for --symbolic only), so that the
canonical command and the machine formats start fast.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from typing import NamedTuple, NoReturn

import typer

from .errors import DomainError, NoClosedFormError, TooLargeError, UsageError

GRAD_FORMATS = ("pretty", "json", "csv", "plain", "npy", "latex", "markdown")
CHECK_FORMATS = ("pretty", "json")
HESS_FORMATS = ("pretty", "json", "csv", "plain", "npy", "npz", "latex", "markdown")
EXPLAIN_FORMATS = ("pretty", "json", "plain", "latex", "markdown")


def R():
    from . import render

    return render


def O():
    from . import output

    return output


def have_scipy() -> bool:
    from importlib.util import find_spec

    return find_spec("scipy") is not None


class Output(NamedTuple):
    """Where and how a command writes: the format, the output file (None: stdout), the digits shown, --quiet and
    --no-color.  (A NamedTuple, not a frozen dataclass: less to build at every start.)"""

    fmt: str
    out: str | None
    precision: int | None
    quiet: bool
    no_color: bool
    notes: dict             # what JSON says beside the result (symbolic_skipped: why --symbolic shows nothing)

    @classmethod
    def checked(cls, fmt: str, out: str | None, precision: int | None, quiet: bool, no_color: bool,
                allowed: tuple = ()) -> Output:
        """The format (case-insensitive) and the output file ('-' is stdout), refused before anything is
        computed, so that a bad option never follows a long computation."""
        from .output import FORMATS

        from .problem import prefixed

        fmt = prefixed(allowed or FORMATS, fmt) or fmt.lower()          # (-f js: json)
        to_stdout, out = out == "-", None if out == "-" else out
        if fmt not in (allowed or FORMATS):
            raise UsageError(f"unknown format '{fmt}' for this command",
                             hint="choose " + ", ".join(allowed or FORMATS))
        if fmt in ("npy", "npz") and not out and not to_stdout:
            raise UsageError(f"--format {fmt} writes a binary file and needs --out FILE",
                             hint="--out - writes it to stdout, for a pipe")
        if fmt in ("npy", "npz") and to_stdout and sys.stdout.isatty():
            raise UsageError(f"--format {fmt} is binary and stdout is a terminal", hint=f"redirect it: > J.{fmt}")
        if fmt == "npz" and not have_scipy():
            raise UsageError("--format npz needs SciPy", hint="pip install scipy")
        if precision is not None and not 1 <= precision <= 17:
            raise UsageError(f"--precision must be between 1 and 17, got {precision}")
        return cls(fmt, out, precision, quiet, no_color, {})

    def emit(self, array=None, pretty=None, json=None, typeset=None, text=None) -> None:
        """Write the result in the format: pretty(digits, height) a renderable, json() a JSON document (arrays in
        it are written as they are converted) or its text, typeset(fmt, digits) text or pieces of text, array a
        matrix (csv, plain, npy, npz), text the plain form where it is not a matrix.  Nothing is copied whole:
        a matrix goes to the file or stdout a band of rows at a time."""
        if self.out is None and self.quiet:
            return
        fmt, out, digits = self.fmt, self.out, 4 if self.precision is None else self.precision
        if fmt == "pretty":
            _print_rich(lambda height: pretty(digits, height), out, self.no_color)
        elif fmt == "json":
            doc = json()
            if self.notes and isinstance(doc, dict):
                doc.update(self.notes)
            _write(doc if isinstance(doc, str) else lambda f: O().write_json(doc, f), out)
        elif fmt in ("latex", "markdown"):
            if typeset is None:
                raise UsageError(f"--format {fmt} is not available here")
            _write(typeset(fmt, digits), out)
        elif fmt == "plain" and text is not None:
            _write(text, out)
        elif fmt in ("csv", "plain"):
            ndim = len(getattr(array, "shape", ()))
            if ndim > 2:
                raise UsageError(f"--format {fmt} writes matrices; use json or npy for an array of {ndim} dimensions")
            _write(lambda f: O().write_matrix_text(f, array, "," if fmt == "csv" else " ", self.precision), out)
        else:
            _write(lambda f: (O().write_npz if fmt == "npz" else O().write_npy)(f, array), out, binary=True)


# --- what each command shows, and its exit code ------------------------------------------------------------------

def jacobian(o: Output, result, symbolic=None, det=None, tensor=None, spy: bool = False) -> NoReturn:
    """jac: the sparsity picture, the tensor, or the Jacobian with its symbolic form and determinant."""
    if spy:
        o.emit(pretty=lambda r, h: R().spy_view(result, h))
    else:
        o.emit(array=result.J if tensor is None else tensor,
               pretty=lambda r, h: R().jac_view(result, r, h, symbolic, det) if tensor is None else
               R().tensor_view(result, tensor, r),
               json=lambda: O().jac_doc(result, symbolic, det, tensor),
               typeset=lambda f, r: O().jac_typeset(result, f, r, symbolic, det))
    exit_with_verdict(result, o.fmt)


def hessian(o: Output, result, info, symbolic=None) -> NoReturn:
    """hess: the Hessian with its eigenvalues and curvature; exit 1 when its check disagrees."""
    o.emit(array=result.J, pretty=lambda r, h: R().hess_view(result, info, r, h, symbolic),
           json=lambda: O().hess_doc(result, info, symbolic),
           typeset=lambda f, r: O().jac_typeset(result, f, r, symbolic))
    exit_with_verdict(result, o.fmt)


def gradient(o: Output, result, g, F, symbolic=None) -> NoReturn:
    """grad: the gradient shaped like its variable, and its finite-difference counterpart F."""
    o.emit(array=g, pretty=lambda r, h: R().grad_view(result, g, r, h, symbolic),
           json=lambda: O().grad_doc(result, g, F, symbolic),
           typeset=lambda f, r: O().grad_typeset(result, g, f, r, symbolic))
    exit_with_verdict(result, o.fmt, gradient=True)


def product(o: Output, pr) -> NoReturn:
    """--vjp and --jvp: the product, shaped like the variable or the output; exit 1 when its check disagrees."""
    o.emit(array=pr.value, pretty=lambda r, h: R().product_view(pr, r), json=lambda: O().product_doc(pr))
    raise typer.Exit(0 if pr.agree is not False else 1)


def check(o: Output, r) -> NoReturn:
    """check: the verdict on an answer; exit 0 when it is right, 1 when it is wrong."""
    o.emit(pretty=lambda p, h: R().check_view(r, p, h), json=lambda: O().answer_doc(r))
    raise typer.Exit(0 if r.right else 1)


def explanation(o: Output, prob, ex, verified) -> None:
    """explain: the derivation; plain output is the closed form alone, so it is refused where there is none or
    where it could not be checked (a closed form is never printed unchecked)."""
    gradient = ex.gradient_mc() if ex.gradient is not None else None    # (a scalar's: shaped like the variable)
    text = gradient or ex.mc
    if o.fmt == "plain" and text is None:
        from .explain import unwritable

        tree = ex.gradient if ex.gradient is not None else ex.formula
        op = None if tree is None else unwritable(tree)
        if op is not None:
            raise NoClosedFormError(f"the {'gradient' if ex.formula is None else 'closed form'} uses {op}, which "
                                    "mcalc's syntax has no spelling for", hint="the pretty, latex and json formats "
                                                                               "show it")
        if ex.formula is None and ex.gradient is None:
            raise NoClosedFormError(f"no closed form is known for {', '.join(ex.missing)}",
                                    hint="mcalc jac computes the Jacobian numerically")
        raise TooLargeError(f"the {'gradient' if ex.formula is None else 'closed form'} is too long to write in "
                            "mcalc's syntax", hint="the pretty format names its repeated subexpressions")
    if o.fmt == "plain" and gradient is None and verified and verified[0] is None:
        e = verified[1]
        if isinstance(e, DomainError):                        # (1/norm(x))·2·norm(x)·xᵀ at x = 0
            raise DomainError(f"the closed form cannot be evaluated at these values: {e.message}",
                              hint="choose other values with --value (mcalc jac computes the Jacobian here)")
        raise type(e)(f"the closed form cannot be checked at this size: {e.message}",
                      hint="the pretty and json formats show it unchecked; smaller shapes check the same rule")
    o.emit(text=None if text is None else text + "\n", pretty=lambda p, h: R().explain_view(prob, ex, verified),
           json=lambda: O().explain_doc(prob, ex, verified), typeset=lambda f, p: O().explain_typeset(prob, ex, f))


def exit_with_verdict(result, fmt: str, gradient: bool = False) -> NoReturn:
    """Exit 0 when the check agrees (or was skipped), else 1; formats without a verdict of their own (csv,
    plain, npy, latex, markdown) say why on stderr, in one line (naming entries as a gradient's, for grad)."""
    if result.comparison is None or result.comparison.agree:
        raise typer.Exit(0)
    if fmt not in ("pretty", "json"):
        line = R().verdict(result, gradient).plain.splitlines()[0].lstrip("✗ ")
        sys.stderr.write(f"mcalc: {line}\n")
    raise typer.Exit(1)


# --- options the format cannot show, refused before anything is computed -----------------------------------------

def refuse_jac_options(fmt: str, vjp: bool, jvp: bool, tensor: bool, det: bool, symbolic: bool, spy: bool) -> None:
    """jac's options that exclude each other."""
    if (vjp or jvp) and vjp + jvp + tensor + det + symbolic + spy > 1:
        raise UsageError("--vjp and --jvp go alone (without each other, --tensor, --det, --symbolic or --spy)")
    if (vjp or jvp) and fmt == "npz":
        raise UsageError("--format npz writes a sparse Jacobian; a product with a vector is written with npy")
    if tensor and fmt not in ("json", "npy", "pretty"):
        raise UsageError("--tensor writes json, npy or pretty output")
    if spy and (fmt != "pretty" or tensor or det or symbolic):
        raise UsageError("--spy draws the sparsity pattern on the terminal: pretty output, without --tensor, "
                         "--det or --symbolic")
    if fmt == "npz" and (tensor or det or symbolic):
        raise UsageError("--format npz writes the numeric Jacobian alone (without --tensor, --det or --symbolic)")


def symbolic_shown(prob, fmt: str, symbolic: bool, det: bool = False) -> None:
    """--symbolic and --det where the format cannot show them, or --symbolic where the Jacobian is too big to
    spell out."""
    if (det or symbolic) and fmt in ("csv", "plain", "npy"):
        raise UsageError(f"--{'det' if det else 'symbolic'} shows in pretty, json, latex or markdown output, "
                         f"not {fmt}")


def noted(prob, ignore_unused: bool):
    """The problem, after a note on stderr where a --shape names something the expression lacks while one of its
    variables gets mcalc's values (tanh(W@x + bb) with --shape b=3: a typo)."""
    from .problem import broadcast_note, unused_note

    for note in (None if ignore_unused else unused_note(prob), broadcast_note(prob)):
        if note:
            sys.stderr.write(f"mcalc: note: {note}\n")
    return prob


def symbolic(function: str, prob, wanted: bool, o: Output):
    """The symbolic Jacobian, gradient or Hessian (symbolic_jacobian, ...) when wanted; SymPy loads now.  JSON
    takes every entry that builds in time; the other formats those that stay readable (symbolic.READABLE).  Where
    none is shown, stderr says why, and so does the JSON (symbolic_skipped)."""
    if not wanted:
        return None
    from . import symbolic as S

    try:
        return S.within_time(getattr(S, function), prob, readable=o.fmt != "json")[0]
    except ImportError:
        raise UsageError("--symbolic needs SymPy", hint="pip install sympy") from None
    except TooLargeError as e:               # (the numbers follow, with what was skipped and why)
        sys.stderr.write(f"mcalc: note: symbolic entries skipped: {e.line()}\n")
        o.notes["symbolic_skipped"] = e.line()
        return None


def determinant(result, symbolic):
    """--det: the determinant, with its symbolic form where that builds in time (else a note, and the number)."""
    from .results import determinant as det

    try:
        return det(result, symbolic)
    except TooLargeError as e:
        sys.stderr.write(f"mcalc: note: symbolic determinant skipped: {e.line()}\n")
        return det(result, None)


# --- writing ---------------------------------------------------------------------------------------------------------

def _write(data, out: str | None, binary: bool = False) -> None:
    """Write to out (None: stdout) data: text, bytes, pieces of text, or a writer, a function that writes to the
    open file (binary: a binary file; to stdout, through write() alone, so that a closed pipe is a
    BrokenPipeError, not numpy's OSError)."""
    binary = binary or isinstance(data, bytes)
    if isinstance(data, (str, bytes)):
        write = _pieces([data])
    elif callable(data):
        write = data
    else:
        write = _pieces(data)
    if out is None:
        with writing():
            write(_Sink(sys.stdout.buffer) if binary else sys.stdout)
            sys.stdout.flush()
        return
    try:
        with open(out, "wb" if binary else "w") as f:
            write(f)
    except OSError as e:
        raise UsageError(f"cannot write '{out}': {e.strerror or e}") from None


def _pieces(pieces):
    def write(f):
        for piece in pieces:
            f.write(piece)
    return write


class _Sink(io.RawIOBase):
    """A binary stream that only writes: numpy then writes in pieces (not with tofile, whose OSError on a closed
    pipe would hide the BrokenPipeError), and zipfile without seeking."""

    def __init__(self, stream):
        super().__init__()
        self.stream = stream

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        return self.stream.write(data)


@contextlib.contextmanager
def writing():
    """Standard output that a reader closed (| head, | true) is not an error: the rest is dropped and the exit code
    stays the one for what was computed.  One that cannot take the output (a full disk) is refused, exit 2."""
    try:
        yield
    except BrokenPipeError:
        _drop_stdout()
    except OSError as e:
        _drop_stdout()
        raise UsageError(f"cannot write the output: {e.strerror or e}") from None


def _drop_stdout() -> None:
    """Send what is left (and Python's final flush) to /dev/null."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def lines(rows) -> None:
    """Plain lines on stdout (for grep), through the same writing rules as every output."""
    _write("".join(f"{row}\n" for row in rows), None)


def console(**options):
    """A rich Console on stdout whose closed pipe is writing()'s to handle: rich's own handler exits with 1, which
    is mcalc's "disagree" (mcalc jac ... | true)."""
    from rich.console import Console

    c = Console(**options)
    c.on_broken_pipe = _broken_pipe
    return c


def _broken_pipe():
    raise BrokenPipeError


def _print_rich(renderable, out: str | None, no_color: bool) -> None:
    from rich.console import Console

    if out is not None:
        import io

        buf = io.StringIO()
        Console(file=buf, no_color=True, width=120, highlight=False, soft_wrap=False).print(renderable(None))
        _write(buf.getvalue(), out)
        return
    plain = no_color or bool(os.environ.get("NO_COLOR"))
    screen = console(highlight=False, no_color=plain, color_system=None if plain else "auto")
    if not screen.is_terminal and not os.environ.get("COLUMNS"):
        screen.width = 120             # piped to a file or a pager: as wide as --out writes, not 80
    with writing():
        screen.print(renderable(screen.size.height if screen.is_terminal else None))
        sys.stdout.flush()
