"""The command line: Typer commands that parse options, call the library and render.  No mathematics here.

Exit codes: 0 success (and the finite-difference check agrees), 1 the analytic and finite-difference Jacobians
disagree, 2 bad input or usage.  Every error is one line on stderr (plus a caret line under expression errors).
"""

from __future__ import annotations

import os
import re
import sys
from typing import Annotated, Optional

import typer
from typer.core import TyperGroup

from . import __version__
from .errors import DomainError, McalcError, NoClosedFormError, UsageError


def _fail(message: str, caret: str | None = None, code: int = 2):
    sys.stderr.write(f"mcalc: {message}\n" + (caret + "\n" if caret else ""))
    sys.stderr.flush()
    sys.exit(code)


class _Group(TyperGroup):
    """Turns library errors and usage errors into one line on stderr and exit code 2, never a traceback."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            rv = super().main(args=args, prog_name="mcalc", complete_var=complete_var, standalone_mode=False,
                              **extra)
        except McalcError as e:
            _fail(str(e), e.caret())
        except KeyboardInterrupt:
            _fail("interrupted", code=130)
        except MemoryError:
            _fail("too large: mcalc ran out of memory (hint: use smaller shapes, or --fd none)")
        except Exception as e:
            if hasattr(e, "format_message") and hasattr(e, "exit_code"):      # click's usage errors
                message = e.format_message().replace("\n", " ").strip()
                if not message:                       # bare 'mcalc': the help is already printed
                    sys.exit(2)
                ctx = getattr(e, "ctx", None)
                where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
                option = re.match(r"No such option: (\S+)", message)
                argv = [str(a) for a in (sys.argv[1:] if args is None else args)]
                dashed = next((a for k, a in enumerate(argv) if re.match(r"-[^-].*[][()@*+/'^]", a)   # "-sum(x)":
                               and not (k and argv[k - 1].startswith("-"))), None)   # -s with the value um(x)
                if option and not re.fullmatch(r"--[A-Za-z][\w-]*", option.group(1)) or \
                        message.startswith("Missing argument") and dashed:
                    text = option.group(1) if option else dashed
                    text = text if len(text) <= 30 else text[:27] + "..."
                    message = f"no such option: {text}" if option else f"{message.rstrip('.')}: '{text}' was read as options"
                    command = next((a for a in argv if a in ("jac", "grad", "check", "explain")), "jac")
                    where = (" (hint: start an expression that begins with '-' with a space, \" -x\", or put it "
                             f"after the options and '--': mcalc {command} --wrt x -- \"-x\")")
                _fail(f"usage error: {message}{where}")
            if type(e).__name__ == "Abort":
                _fail("aborted", code=130)
            if os.environ.get("MCALC_DEBUG"):
                raise
            _fail(f"internal error: {type(e).__name__}: {e} (a bug in mcalc; please report it with the command; "
                  "MCALC_DEBUG=1 shows the traceback)", code=3)
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(
    cls=_Group, add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
    help="Exact Jacobians of matrix expressions, cross-checked by finite differences.\n\n"
         'Example: mcalc jac "A@B" --wrt A --shape 2x2',
)


def _version(flag: bool):
    if flag:
        print(f"mcalc {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                 help="Show the version and exit.")] = False):
    """Exact Jacobians of matrix expressions, cross-checked by finite differences."""


# --- options shared by the commands -----------------------------------------------------------------------------

Expr = Annotated[str, typer.Argument(help='The expression, e.g. "A@B", "tanh(W@x + b)", "\\[r*cos(t), r*sin(t)]".',
                                     show_default=False, metavar="EXPR")]
Wrt = Annotated[list[str], typer.Option("--wrt", "-w", help="Variable(s) to differentiate with respect to: "
                                        "repeat it or separate with commas (default: every variable).")]
Shape = Annotated[list[str], typer.Option("--shape", "-s", help="Shapes: 2x2 for every variable without its own, "
                                          "A=2x3, x=3 (vector), x=3x1 (column), s=scalar. Repeatable.")]
Value = Annotated[list[str], typer.Option("--value", help='Values: A="\\[\\[1,2],\\[3,4]]", x="1 2 3", '
                                          'A="1 2; 3 4", A=@file.npy|.csv|.txt, s=0.5. Repeatable.')]
Seed = Annotated[int, typer.Option(help="Seed of the default values of variables without --value.")]
Order = Annotated[str, typer.Option(help="Flatten order: row (alias C; numpy, PyTorch) or col (alias F; the vec "
                                    "of the Kronecker identities).")]
Layout = Annotated[str, typer.Option(help="numerator (one row per output entry) or denominator (its transpose).")]
Fd = Annotated[Optional[str], typer.Option(help="Finite-difference check: central, forward, complex, richardson or "
                                           "none. Default: central, with entries that disagree re-checked by the "
                                           "complex step (or richardson).", show_default=False)]
Tol = Annotated[Optional[float], typer.Option(help="Tolerance on the relative error between the analytic and "
                                              "finite-difference Jacobians (default per method: central 1e-6, "
                                              "forward 1e-4, richardson 1e-8, complex 1e-10).", show_default=False)]
FdColumns = Annotated[str, typer.Option(help="Which wrt entries the check differentiates: auto (all of them when "
                                        "that takes under about a second, else a sample), all, or a number.")]
def _format_option(formats: str):
    return Annotated[str, typer.Option("--format", "-f", help=formats)]


Format = _format_option("pretty, json, csv, plain, npy (needs --out FILE, or --out - for stdout), npz (sparse, "
                        "scipy.sparse's format; needs --out), latex or markdown.")
GradFormat = _format_option("pretty, json, csv, plain, npy (needs --out FILE, or --out - for stdout), latex or "
                            "markdown.")
CheckFormat = _format_option("pretty or json.")
ExplainFormat = _format_option("pretty, json, plain (the closed form alone, in mcalc's syntax), latex or markdown.")
Out = Annotated[Optional[str], typer.Option("--out", "-o", help="Write the output to this file instead of stdout ('-': stdout).",
                                            show_default=False)]
Precision = Annotated[Optional[int], typer.Option(help="Digits, 1-17: decimals in pretty output (default 4), "
                                                  "significant digits in csv and plain (default: exact round-trip "
                                                  "values). JSON always has every digit.", show_default=False)]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on stdout (--out files are still "
                                     "written); the exit code tells.")]
NoColor = Annotated[bool, typer.Option("--no-color", help="No colour (also: the NO_COLOR variable, or a pipe).")]


def _examples(*lines: str) -> str:
    return "Examples:\n\n" + "\n\n".join(line.replace("[", "\\[") for line in lines)


Symbolic = Annotated[bool, typer.Option("--symbolic", help="Entries as symbols (x11, x12, ...; SymPy), for "
                                         "Jacobians of up to a few hundred entries.")]


@app.command(epilog=_examples(
    'mcalc jac "A@B" --wrt A --shape 2x2',
    'mcalc jac "A@B" --wrt A --shape 2x2 --order col',
    'mcalc jac "A@W + b" --wrt W --value A="1 2 3; 4 5 6" --shape W=3x2,b=2',
    'mcalc jac "[r*cos(t), r*sin(t)]" --wrt r,t --symbolic --det',
    'mcalc jac "tanh(W@x + b)" --wrt W --shape W=3x4,x=4,b=3 --format json',
    'mcalc jac "A@W + b" --wrt W --value A="1 2 3; 4 5 6" --shape W=3x2,b=2 --vjp "ones(2, 2)"'))
def jac(expr: Expr, wrt: Wrt = [], shape: Shape = [], value: Value = [], seed: Seed = 0, order: Order = "row",
        layout: Layout = "numerator", fd: Fd = None, tol: Tol = None, fd_columns: FdColumns = "auto",
        fmt: Format = "pretty", out: Out = None, precision: Precision = None, quiet: Quiet = False,
        no_color: NoColor = False, symbolic: Symbolic = False,
        det: Annotated[bool, typer.Option("--det", help="The determinant of a square Jacobian (a change of "
                                          "coordinates).")] = False,
        tensor: Annotated[bool, typer.Option("--tensor", help="The Jacobian as an array of shape output + input "
                                             "(json or npy).")] = False,
        vjp: Annotated[Optional[str], typer.Option(help="A cotangent v shaped like the output: print vᵀJ, shaped "
                                                   "like the wrt variable, without forming J.",
                                                   show_default=False)] = None,
        jvp: Annotated[Optional[str], typer.Option(help="A tangent u shaped like the wrt variable: print J u, "
                                                   "shaped like the output, without forming J.",
                                                   show_default=False)] = None,
        spy: Annotated[bool, typer.Option("--spy", help="A picture of the sparsity and block structure, for "
                                          "Jacobians too large to print entry by entry.")] = False):
    """The Jacobian of EXPR, exact (matrix-calculus rules and the chain rule) and checked by finite differences.

    Exit code 0 when they agree, 1 when they disagree, 2 on bad input."""
    from . import compare, products, results
    from .problem import prepare

    fmt, out = _check_output_options(fmt, out, precision)
    _jac_options(fmt, vjp is not None, jvp is not None, tensor, det, symbolic, spy)
    prob = prepare(expr, wrt, value, shape, order, layout, seed, evaluate=False)
    if vjp is not None or jvp is not None:
        pr = products.product(prob, "vjp" if vjp is not None else "jvp", vjp if vjp is not None else jvp, fd, tol)
        _emit(fmt, out, quiet, no_color, precision, array=pr.value,
              pretty=lambda r, h: R().product_view(pr, r), json=lambda: O().product_json(pr))
        raise typer.Exit(0 if pr.agree is not False else 1)
    _symbolic_shown(prob, fmt, symbolic, det)
    result = compare.compute(prob, fd, tol, fd_columns, sparse=fmt == "npz" or spy and _have_scipy())
    sym = _symbolic("symbolic_jacobian", prob, symbolic)
    dets = results.determinant(result, sym) if det else None
    T = results.tensor(result) if tensor else None
    if spy:
        _emit(fmt, out, quiet, no_color, precision, pretty=lambda r, h: R().spy_view(result, h))
        _exit_with_verdict(result, fmt)
    _emit(fmt, out, quiet, no_color, precision, array=result.J if T is None else T,
          pretty=lambda r, h: R().jac_view(result, r, h, sym, dets) if T is None else R().tensor_view(result, T, r),
          json=lambda: O().jac_json(result, sym, dets, T),
          typeset=lambda f, r: O().jac_typeset(result, f, r, sym, dets))
    _exit_with_verdict(result, fmt)


@app.command(epilog=_examples(
    'mcalc grad "2*sum(A)" --wrt A --shape 2x3',
    'mcalc grad "sum(A@W + b)" --wrt W --value A="1 2 3; 4 5 6" --shape W=3x2,b=2',
    'mcalc grad "trace(A@B)" --wrt A --shape 2x2 --symbolic',
    'mcalc grad "logdet(X)" --wrt X --shape 3x3 --format json'))
def grad(expr: Expr, wrt: Wrt = [], shape: Shape = [], value: Value = [], seed: Seed = 0, order: Order = "row",
         layout: Layout = "numerator", fd: Fd = None, tol: Tol = None, fd_columns: FdColumns = "auto",
         fmt: GradFormat = "pretty", out: Out = None, precision: Precision = None, quiet: Quiet = False,
         no_color: NoColor = False, symbolic: Symbolic = False):
    """The gradient of a scalar EXPR, shaped like the variable, checked by finite differences.

    Exit code 0 when they agree, 1 when they disagree, 2 on bad input (a non-scalar EXPR: use jac)."""
    from .compare import compute
    from .problem import prepare
    from .results import gradient_of, require_gradient

    fmt, out = _check_output_options(fmt, out, precision,
                                     allowed=("pretty", "json", "csv", "plain", "npy", "latex", "markdown"))
    prob = prepare(expr, wrt, value, shape, order, layout, seed, evaluate=False)
    require_gradient(prob)
    _symbolic_shown(prob, fmt, symbolic)
    result = compute(prob, fd, tol, fd_columns)
    g, F = gradient_of(result)
    sym = _symbolic("symbolic_gradient", prob, symbolic)
    _emit(fmt, out, quiet, no_color, precision, array=g,
          pretty=lambda r, h: R().grad_view(result, g, r, h, sym), json=lambda: O().grad_json(result, g, F, sym),
          typeset=lambda f, r: O().grad_typeset(result, g, f, r, sym))
    _exit_with_verdict(result, fmt)


def _exit_with_verdict(result, fmt: str) -> None:
    """Exit 0 when the check agrees (or was skipped), else 1; formats without a verdict of their own (csv,
    plain, npy, latex, markdown) say why on stderr, in one line."""
    if result.comparison is None or result.comparison.agree:
        raise typer.Exit(0)
    if fmt not in ("pretty", "json"):
        line = R().verdict(result).plain.splitlines()[0].lstrip("✗ ")
        sys.stderr.write(f"mcalc: {line}\n")
    raise typer.Exit(1)


@app.command(epilog=_examples(
    'mcalc check "A@B" --wrt A --shape 2x2 --expect "kron(eye(2), B.T)"',
    'mcalc check "A@B" --wrt A --shape 2x2 --expect "kron(B.T, eye(2))" --order col',
    'mcalc check "trace(A@B)" --wrt A --shape 2x2 --expect "B.T"',
    'mcalc check "x*y" --wrt x --value x="1 2" --value y="3 4" --expect "3 0; 0 4"',
    'mcalc check "A@B" --wrt A --shape 2x2 --expect @my_answer.npy'))
def check(expr: Expr,
          expect: Annotated[str, typer.Option("--expect", "-e", help="Your answer: an expression in the same "
                                              "variables (kron(eye(2), B.T)), a matrix ([[1,2],[3,4]] or "
                                              "'1 2; 3 4'), or @file (.npy, .csv, .txt). For a scalar EXPR, an "
                                              "answer shaped like the variable is taken as the gradient.",
                                              show_default=False)],
          wrt: Wrt = [], shape: Shape = [], value: Value = [], seed: Seed = 0, order: Order = "row",
          layout: Layout = "numerator",
          tol: Annotated[Optional[float], typer.Option(help="Relative tolerance: an entry is right within "
                                                       "tol·max|entries| (default 1e-8).", show_default=False)] = None,
          fmt: CheckFormat = "pretty", out: Out = None, precision: Precision = None, quiet: Quiet = False,
          no_color: NoColor = False):
    """Is a hand-derived Jacobian (or gradient) right? If not, where is it wrong, and which usual slip is it?

    Exit code 0 when right, 1 when wrong, 2 on bad input."""
    from .check import check_text
    from .problem import prepare

    fmt, out = _check_output_options(fmt, out, precision, allowed=("pretty", "json"))
    prob = prepare(expr, wrt, value, shape, order, layout, seed)
    r = check_text(prob, expect, tol)
    _emit(fmt, out, quiet, no_color, precision, pretty=lambda p, h: R().check_view(r, p, h),
          json=lambda: O().check_json(r))
    raise typer.Exit(0 if r.right else 1)


@app.command(epilog=_examples(
    'mcalc explain "A@B" --wrt A --shape 2x2',
    'mcalc explain "A@B" --wrt A --shape 2x2 --order col',
    'mcalc explain "X^3" --wrt X --shape 2x2',
    'mcalc explain "tanh(W@x + b)" --wrt x --shape W=3x4,x=4,b=3',
    'mcalc explain "softmax(x)" --wrt x --shape x=3 --format latex',
    'mcalc check "A@B" --wrt A --shape 2x2 --expect "$(mcalc explain "A@B" --wrt A --shape 2x2 -f plain)"'))
def explain(expr: Expr, wrt: Wrt = [], shape: Shape = [], value: Value = [], seed: Seed = 0, order: Order = "row",
            layout: Layout = "numerator", fmt: ExplainFormat = "pretty", out: Out = None,
            precision: Precision = None, quiet: Quiet = False, no_color: NoColor = False, symbolic: Symbolic = False):
    """The derivation: the differential, the rule of each operation, and the closed form of the Jacobian
    (I ⊗ Bᵀ, diag(s) - s sᵀ, ...) in the chosen order and layout, checked against the numbers.

    --format plain prints the closed form in mcalc's syntax alone, ready for mcalc check --expect."""
    from .closedform_check import verify_closed_form
    from .explain import explain as derive
    from .problem import prepare

    fmt, out = _check_output_options(fmt, out, precision, allowed=("pretty", "json", "plain", "latex", "markdown"))
    prob = prepare(expr, wrt, value, shape, order, layout, seed)
    ex = derive(prob.nodes, prob.wrt, prob.order, prob.layout)
    verified = verify_closed_form(prob, ex)
    if symbolic:
        _symbolic_shown(prob, fmt, symbolic)
        ex.symbolic = _symbolic("symbolic_jacobian", prob, symbolic)
    if fmt == "plain" and ex.formula is None:
        raise NoClosedFormError(f"no closed form is known for {', '.join(ex.missing)}",
                                hint="mcalc jac computes the Jacobian numerically")
    if fmt == "plain" and verified and verified[0] is None:   # never print a closed form not checked
        e = verified[1]
        if isinstance(e, DomainError):                        # (1/norm(x))·2·norm(x)·xᵀ at x = 0
            raise DomainError(f"the closed form cannot be evaluated at these values: {e.message}",
                              hint="choose other values with --value (mcalc jac computes the Jacobian here)")
        raise type(e)(f"the closed form cannot be checked at this size: {e.message}",
                      hint="the pretty and json formats show it unchecked; smaller shapes check the same rule")
    _emit(fmt, out, quiet, no_color, precision, text=None if ex.mc is None else ex.mc + "\n",
          pretty=lambda p, h: R().explain_view(prob, ex, verified), json=lambda: O().explain_json(prob, ex, verified),
          typeset=lambda f, p: O().explain_typeset(prob, ex, f))


def _jac_options(fmt: str, vjp: bool, jvp: bool, tensor: bool, det: bool, symbolic: bool, spy: bool) -> None:
    """jac's options that exclude each other, refused before anything is computed."""
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


def _have_scipy() -> bool:
    from importlib.util import find_spec

    return find_spec("scipy") is not None


def _symbolic_shown(prob, fmt: str, symbolic: bool, det: bool = False) -> None:
    """--symbolic and --det refused, before anything is computed, where the format cannot show them or the
    Jacobian is too big to spell out."""
    if (det or symbolic) and fmt in ("csv", "plain", "npy"):
        raise UsageError(f"--{'det' if det else 'symbolic'} shows in pretty, json, latex or markdown output, "
                         f"not {fmt}")
    if symbolic:
        from .symbolic import check_size

        check_size(prob)


def _symbolic(function: str, prob, wanted: bool):
    """The symbolic Jacobian or gradient (symbolic_jacobian, symbolic_gradient) when wanted; SymPy loads now."""
    if not wanted:
        return None
    from . import symbolic as S

    try:
        return getattr(S, function)(prob)[0]
    except ImportError:
        raise UsageError("--symbolic needs SymPy", hint="pip install sympy") from None


def R():
    from . import render

    return render


def O():
    from . import output

    return output


@app.command(epilog=_examples("mcalc ops", "mcalc ops | grep softmax"))
def ops():
    """Every function and operator of the language, with its derivative rule."""
    from .ops import FUNCTIONS, OPERATORS, OPS

    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    for column in ("function", "what", "derivative"):
        table.add_column(column)
    for text, (op, what) in OPERATORS.items():
        table.add_row(text, what, OPS[op].rule_doc)
    for name, fn in FUNCTIONS.items():
        rule = OPS[fn.op].rule_doc if fn.constant is None else "none: a constant"
        table.add_row(f"{name}()", fn.help, rule)
    Console(highlight=False, markup=False).print(table)


# --- output --------------------------------------------------------------------------------------------------

def _check_output_options(fmt: str, out: str | None, precision: int | None,
                          allowed: tuple = ()) -> tuple[str, str | None]:
    """The format (case-insensitive) and the output file (None for stdout, also given as '-'); checked before
    anything is computed, so that a bad option never follows a long computation."""
    from .output import FORMATS

    fmt = fmt.lower()
    to_stdout, out = out == "-", None if out == "-" else out
    if fmt not in (allowed or FORMATS):
        raise UsageError(f"unknown format '{fmt}' for this command", hint="choose " + ", ".join(allowed or FORMATS))
    if fmt in ("npy", "npz") and not out and not to_stdout:
        raise UsageError(f"--format {fmt} writes a binary file and needs --out FILE",
                         hint="--out - writes it to stdout, for a pipe")
    if fmt in ("npy", "npz") and to_stdout and sys.stdout.isatty():
        raise UsageError(f"--format {fmt} is binary and stdout is a terminal", hint=f"redirect it: > J.{fmt}")
    if fmt == "npz" and not _have_scipy():
        raise UsageError("--format npz needs SciPy", hint="pip install scipy")
    if precision is not None and not 1 <= precision <= 17:
        raise UsageError(f"--precision must be between 1 and 17, got {precision}")
    return fmt, out


def _emit(fmt, out, quiet, no_color, precision, array=None, pretty=None, json=None, typeset=None, text=None):
    """Write the command's result in the chosen format: to --out, or to stdout unless --quiet."""
    if out is None and quiet:
        return
    digits = 4 if precision is None else precision
    if fmt == "pretty":
        _print_rich(lambda height: pretty(digits, height), out, no_color)
    elif fmt == "json":
        _write(json(), out)
    elif fmt in ("latex", "markdown"):
        if typeset is None:
            raise UsageError(f"--format {fmt} is not available here")
        _write(typeset(fmt, digits), out)
    elif fmt == "plain" and text is not None:
        _write(text, out)
    elif fmt in ("csv", "plain"):
        from .output import matrix_text

        if np_ndim(array) > 2:
            raise UsageError(f"--format {fmt} writes matrices; use json or npy for an array of {np_ndim(array)} "
                             "dimensions")
        _write(matrix_text(array, "," if fmt == "csv" else " ", precision), out)
    elif fmt == "npz":
        from .output import npz_bytes

        _write(npz_bytes(array), out)
    else:
        from .output import npy_bytes

        _write(npy_bytes(array), out)


def np_ndim(a) -> int:
    return len(getattr(a, "shape", ()))


def _write(data, out: str | None) -> None:
    if out is None:
        if isinstance(data, bytes):
            sys.stdout.buffer.write(data)
        else:
            sys.stdout.write(data)
        sys.stdout.flush()
        return
    try:
        with open(out, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
    except OSError as e:
        raise UsageError(f"cannot write '{out}': {e.strerror}") from None


def _print_rich(renderable, out: str | None, no_color: bool) -> None:
    from rich.console import Console

    if out is not None:
        import io

        buf = io.StringIO()
        Console(file=buf, no_color=True, width=120, highlight=False, soft_wrap=False).print(renderable(None))
        _write(buf.getvalue(), out)
        return
    plain = no_color or bool(os.environ.get("NO_COLOR"))
    console = Console(highlight=False, no_color=plain, color_system=None if plain else "auto")
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console.width = 120            # piped to a file or a pager: as wide as --out writes, not 80
    console.print(renderable(console.size.height if console.is_terminal else None))


def main() -> None:
    app()
