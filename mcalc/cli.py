"""The command line: Typer commands that parse options, call the library and render.  No mathematics here.

Exit codes: 0 success (and the finite-difference check agrees), 1 the analytic and finite-difference Jacobians
disagree, 2 bad input or usage.  Every error is one line on stderr (plus a caret line under expression errors):
cli_errors.py says how; emit.py writes each command's result in its format and exits with its verdict.
"""

# (no `from __future__ import annotations`: Typer reads every option's annotation at each start, and strings would
# be compiled and evaluated there, ~1 ms)
import sys
from typing import Annotated, Optional

import typer

from . import __version__, cli_errors, emit
from .cli_errors import Group
from .cli_help import UNTYPED, Command

app = typer.Typer(
    cls=Group, add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Exact Jacobians of matrix expressions, cross-checked by finite differences.\n\n"
         'Example: mcalc jac "A@B" --wrt A --shape 2x2',
)
cli_errors.FULL_APP = app        # (its hints list every command's options; main() builds only the invoked one)


def _version(flag: bool):
    if flag:
        print(f"mcalc {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", "-V", callback=_version, is_eager=True,
                                                 help="Show the version and exit.")] = False,
          install_completion: Annotated[bool, typer.Option(
              "--install-completion", help="Install shell completion for your shell, or the one named after it "
                                           "(bash, zsh, fish, powershell).")] = False,
          show_completion: Annotated[bool, typer.Option(
              "--show-completion", help="Print the completion script for your shell, or the one named after it, "
                                        "to install by hand.")] = False):
    """Exact Jacobians of matrix expressions, cross-checked by finite differences."""
    # (--install-completion and --show-completion are read by cli_errors.Group, before a shell name after them is
    # taken for a command; the completion itself is set up only when the shell asks: completion.py)


# --- options shared by the commands -----------------------------------------------------------------------------

Expr = Annotated[str, typer.Argument(help='The expression, e.g. "A@B", "tanh(W@x + b)", "\\[r*cos(t), r*sin(t)]".',
                                     show_default=False, metavar="EXPR", click_type=UNTYPED)]
Wrt = Annotated[list[str], typer.Option("--wrt", "-w", metavar="NAME",
                                        help="Variable(s) to differentiate with respect to: repeat it or separate "
                                             "with commas (default: every variable).")]
GradWrt = Annotated[list[str], typer.Option("--wrt", "-w", metavar="NAME",
                                            help="The variable to differentiate with respect to (default: the "
                                                 "expression's only variable).")]
Shape = Annotated[list[str], typer.Option("--shape", "-s", metavar="SHAPE", help="Shapes: 2x2 for every variable "
                                          "without its own, A=2x3, x=3 (vector), x=3x1 (column), s=scalar. "
                                          "Repeatable.")]
Value = Annotated[list[str], typer.Option("--value", metavar="NAME=VALUE", help='Values: x="1 2 3", A="1 2; 3 4" (or '
                                          '\\[\\[1,2],\\[3,4]]), A=@J.npy (also .csv, .txt), s=0.5. Repeatable.')]
Seed = Annotated[int, typer.Option(metavar="N", help="Seed of the default values of variables without --value.",
                                   min=0)]
Order = Annotated[str, typer.Option(metavar="[row|col]",
                                    help="Flatten order: row (also row-major, C: numpy, PyTorch) or col (also "
                                         "column-major, F: the vec of the Kronecker identities), or a prefix.")]
Layout = Annotated[str, typer.Option(metavar="[num|denom]",
                                     help="numerator (num: one row per output entry) or denominator (denom: its "
                                          "transpose).")]
Fd = Annotated[Optional[str], typer.Option(metavar="METHOD",
                                           help="Finite-difference check: central, forward, complex, richardson or "
                                                "none. Default: central, with entries that disagree re-checked by "
                                                "the complex step (or richardson).", show_default=False)]
Tol = Annotated[Optional[float], typer.Option(metavar="TOL", help="Tolerance on the relative error between the "
                                              "analytic and finite-difference Jacobians (default per method: central "
                                              "1e-6, forward 1e-4, richardson 1e-8, complex 1e-10).",
                                              show_default=False)]
FdColumns = Annotated[str, typer.Option(metavar="[auto|all|N]",
                                        help="Which wrt entries the check differentiates: auto (all of them when "
                                             "that takes under about a second, else a sample), all, or a number.")]
def _format_option(formats: str):
    return Annotated[str, typer.Option("--format", "-f", metavar="FORMAT", help=formats)]


Format = _format_option("pretty, json, csv, plain, npy (needs --out FILE, or --out - for stdout), npz (sparse, "
                        "scipy.sparse's format; needs --out), latex or markdown.")
GradFormat = _format_option("pretty, json, csv, plain, npy (needs --out FILE, or --out - for stdout), latex or "
                            "markdown.")
CheckFormat = _format_option("pretty or json.")
HessFormat = _format_option("pretty, json, csv, plain, npy (needs --out FILE, or --out - for stdout), latex or "
                            "markdown.")
ExplainFormat = _format_option("pretty, json, plain (the closed form alone, in mcalc's syntax), latex or markdown.")
Out = Annotated[Optional[str], typer.Option("--out", "-o", metavar="FILE", help="Write the output to this file "
                                            "instead of stdout ('-': stdout).", show_default=False)]
Precision = Annotated[Optional[int], typer.Option(metavar="DIGITS", help="Digits, 1-17: decimals in pretty output "
                                                  "(default 4), significant digits in csv and plain (default: exact "
                                                  "round-trip values). JSON always has every digit.",
                                                  show_default=False)]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on stdout (--out files are still "
                                     "written); the exit code tells.")]
NoColor = Annotated[bool, typer.Option("--no-color", help="No colour (also: the NO_COLOR variable, or a pipe).")]


def _no_files(value: bool) -> bool:
    from . import values                             # (set for each command, before any value or answer is read)

    values.NO_FILES_OPTION = bool(value)
    return value


def _max_work(value: Optional[str]) -> Optional[str]:
    from . import budget                             # (set for each command, before anything is estimated)

    budget.MAX_WORK_OPTION = None if value is None else budget.read_work(value, "--max-work")
    return value


MaxWork = Annotated[Optional[str], typer.Option("--max-work", callback=_max_work, is_eager=True, metavar="FLOPS",
                                             help="Refuse, before starting, work beyond this many floating-point "
                                                  "operations (default 1e11; also: MCALC_MAX_WORK).")]
IgnoreUnused = Annotated[bool, typer.Option("--ignore-unused", help="Say nothing of a --shape for a name the "
                                            "expression does not have (scripts looping over expressions).")]
NoFiles = Annotated[bool, typer.Option("--no-files", callback=_no_files, is_eager=True,
                                       help="Read no @file in --value, --expect and the like (also the variable "
                                            "MCALC_NO_FILES): for graders passing untrusted answers.")]


def _examples(*lines: str) -> str:
    return "Examples:\n\n" + "\n\n".join(lines)             # (written as they are: cli_help.Command prints them)


Symbolic = Annotated[bool, typer.Option("--symbolic", help="Entries as symbols (x11, x12, ...; SymPy), for "
                                         "Jacobians of up to a few hundred entries.")]


Det = Annotated[bool, typer.Option("--det", help="The determinant of a square Jacobian (a change of coordinates).")]
Tensor = Annotated[bool, typer.Option("--tensor", help="The Jacobian as an array of shape output + input "
                                      "(json or npy).")]
Vjp = Annotated[Optional[str], typer.Option(metavar="V", help="A cotangent v shaped like the output: print vᵀJ, "
                                            "shaped like the wrt variable, without forming J.", show_default=False)]
Jvp = Annotated[Optional[str], typer.Option(metavar="U", help="A tangent u shaped like the wrt variable: print J u, "
                                            "shaped like the output, without forming J.", show_default=False)]
Spy = Annotated[bool, typer.Option("--spy", help="A picture of the sparsity and block structure, for Jacobians too "
                                   "large to print entry by entry.")]
HessianFlag = Annotated[bool, typer.Option("--hessian", help="EXPECT is the Hessian of the scalar EXPR (the "
                                             "second derivatives), n×n for the n wrt entries.")]
Hvp = Annotated[Optional[str], typer.Option(metavar="V", help="A direction v shaped like the wrt variable: print "
                                            "H v, shaped like it, without forming H.", show_default=False)]
Expect = Annotated[Optional[str], typer.Option("--expect", "-e", metavar="ANSWER", help="Your answer: an "
                                               "expression in the same variables (kron(eye(2), B.T)), a matrix "
                                               "([[1,2],[3,4]] or '1 2; 3 4'), or @file (.npy, .csv, .txt). For a "
                                               "scalar EXPR, an answer shaped like the variable is taken as the "
                                               "gradient.", show_default=False)]
CheckExpr = Annotated[Optional[str], typer.Argument(help='The expression, e.g. "A@B" (not with --set).',
                                                    show_default=False, metavar="EXPR", click_type=UNTYPED)]
ProblemSet = Annotated[Optional[str], typer.Option("--set", metavar="FILE", show_default=False,
                                                   help="Check a problem set instead (TOML or JSON, - for stdin): "
                                                        "one row per problem and a summary; exit 0 only when every "
                                                        "answer is right. Files named in it are never read.")]
CheckTol = Annotated[Optional[float], typer.Option(metavar="TOL", help="Relative tolerance: an entry is right "
                                                   "within tol·max|entries| (default 1e-8).", show_default=False)]


@app.command(cls=Command, epilog=_examples(
    'mcalc jac "A@B" --wrt A --shape 2x2',
    'mcalc jac "A@B" --wrt A --shape 2x2 --order col',
    'mcalc jac "A@W + b" --wrt W --value A="1 2 3; 4 5 6" --shape W=3x2,b=2',
    'mcalc jac "[r*cos(t), r*sin(t)]" --wrt r,t --symbolic --det',
    'mcalc jac "tanh(W@x + b)" --wrt W --shape W=3x4,x=4,b=3 --format json',
    'mcalc jac "A@W + b" --wrt W --value A="1 2 3; 4 5 6" --shape W=3x2,b=2 --vjp "ones(2, 2)"'))
def jac(expr: Expr, wrt: Wrt = [], shape: Shape = [], value: Value = [], seed: Seed = 0, order: Order = "row",
        layout: Layout = "numerator", fd: Fd = None, tol: Tol = None, fd_columns: FdColumns = "auto",
        fmt: Format = "pretty", out: Out = None, precision: Precision = None, quiet: Quiet = False,
        no_color: NoColor = False, symbolic: Symbolic = False, det: Det = False, tensor: Tensor = False,
        vjp: Vjp = None, jvp: Jvp = None, spy: Spy = False, no_files: NoFiles = False, max_work: MaxWork = None,
        ignore_unused: IgnoreUnused = False):
    """The Jacobian of EXPR, exact (matrix-calculus rules and the chain rule) and checked by finite differences.

    Exit code 0 when they agree, 1 when they disagree, 2 on bad input."""
    from . import results
    from .compare import compute
    from .problem import prepare

    o = emit.Output.checked(fmt, out, precision, quiet, no_color)
    emit.refuse_jac_options(o.fmt, vjp is not None, jvp is not None, tensor, det, symbolic, spy)
    prob = emit.noted(prepare(expr, wrt, value, shape, order, layout, seed, evaluate=False), ignore_unused)
    if vjp is not None or jvp is not None:
        from . import products                       # (only here: 1 ms of every start otherwise)
        kind, direction = ("vjp", vjp) if vjp is not None else ("jvp", jvp)
        emit.product(o, products.product(prob, kind, direction, fd, tol))
    emit.symbolic_shown(prob, o.fmt, symbolic, det)
    result = compute(prob, fd, tol, fd_columns, sparse=o.fmt == "npz" or spy and emit.have_scipy())
    sym = emit.symbolic("symbolic_jacobian", prob, symbolic, o)
    emit.jacobian(o, result, sym, emit.determinant(result, sym) if det else None,
                  results.tensor(result) if tensor else None, spy)


@app.command(cls=Command, epilog=_examples(
    'mcalc grad "2*sum(A)" --wrt A --shape 2x3',
    'mcalc grad "sum(A@W + b)" --wrt W --value A="1 2 3; 4 5 6" --shape W=3x2,b=2',
    'mcalc grad "trace(A@B)" --wrt A --shape 2x2 --symbolic',
    'mcalc grad "logdet(X)" --wrt X --shape 3x3 --format json'))
def grad(expr: Expr, wrt: GradWrt = [], shape: Shape = [], value: Value = [], seed: Seed = 0, order: Order = "row",
         layout: Layout = "numerator", fd: Fd = None, tol: Tol = None, fd_columns: FdColumns = "auto",
         fmt: GradFormat = "pretty", out: Out = None, precision: Precision = None, quiet: Quiet = False,
         no_color: NoColor = False, symbolic: Symbolic = False, no_files: NoFiles = False, max_work: MaxWork = None,
        ignore_unused: IgnoreUnused = False):
    """The gradient of a scalar EXPR, shaped like the variable, checked by finite differences.

    Exit code 0 when they agree, 1 when they disagree, 2 on bad input (a non-scalar EXPR: use jac)."""
    from .compare import compute
    from .problem import prepare
    from .results import gradient_of, require_gradient

    o = emit.Output.checked(fmt, out, precision, quiet, no_color, allowed=emit.GRAD_FORMATS)
    prob = emit.noted(prepare(expr, wrt, value, shape, order, layout, seed, evaluate=False), ignore_unused)
    require_gradient(prob)
    emit.symbolic_shown(prob, o.fmt, symbolic)
    result = compute(prob, fd, tol, fd_columns)
    emit.gradient(o, result, *gradient_of(result), emit.symbolic("symbolic_gradient", prob, symbolic, o))


@app.command(cls=Command, epilog=_examples(
    'mcalc hess "x@A@x" --wrt x --shape x=3,A=3x3',
    'mcalc hess "sum(log(1 + exp(X@w)) - y*(X@w))" --wrt w --shape X=20x3,w=3,y=20',
    'mcalc hess "logdet(X)" --wrt X --shape 2x2 --order col',
    'mcalc hess "x@A@y + sum(x**3)" --wrt x --wrt y --shape A=2x2,x=2,y=2',
    'mcalc hess "x@A@x" --wrt x --shape x=3,A=3x3 --hvp "1 0 0"'))
def hess(expr: Expr, wrt: Wrt = [], shape: Shape = [], value: Value = [], seed: Seed = 0, order: Order = "row",
         fd: Fd = None, tol: Tol = None, fd_columns: FdColumns = "auto", fmt: HessFormat = "pretty", out: Out = None,
         precision: Precision = None, quiet: Quiet = False, no_color: NoColor = False, hvp: Hvp = None,
         symbolic: Symbolic = False, no_files: NoFiles = False, max_work: MaxWork = None,
        ignore_unused: IgnoreUnused = False):
    """The Hessian of a scalar EXPR: the Jacobian of its exact gradient, checked by finite differences of that
    gradient, with its eigenvalues and curvature (definite or not, here; everywhere for a quadratic).

    Exit code 0 when the check agrees, 1 when it disagrees, 2 on bad input."""
    from .compare import compute
    from .problem import prepare
    from .second import hessian_info, hessian_problem

    o = emit.Output.checked(fmt, out, precision, quiet, no_color, allowed=emit.HESS_FORMATS)
    described = hvp is None and o.fmt in ("pretty", "json")   # (the eigenvalues: only these formats show them)
    hp = hessian_problem(emit.noted(prepare(expr, wrt, value, shape, order, "numerator", seed, evaluate=False),
                                    ignore_unused), eigenvalues=described)
    if hvp is not None:
        from . import products
        emit.product(o, products.product(hp, "jvp", hvp, fd, tol))
    emit.symbolic_shown(hp.f, o.fmt, symbolic)
    result = compute(hp, fd, tol, fd_columns)
    emit.hessian(o, result, hessian_info(hp, result.J) if described else None,
                 emit.symbolic("symbolic_hessian", hp, symbolic, o))


@app.command(cls=Command, epilog=_examples(
    'mcalc check "A@B" --wrt A --shape 2x2 --expect "kron(eye(2), B.T)"',
    'mcalc check "A@B" --wrt A --shape 2x2 --expect "kron(B.T, eye(2))" --order col',
    'mcalc check "trace(A@B)" --wrt A --shape 2x2 --expect "B.T"',
    'mcalc check "x*y" --wrt x --value x="1 2" --value y="3 4" --expect "3 0; 0 4"',
    'mcalc check "A@B" --wrt A --shape 2x2 --expect @my_answer.npy',
    'mcalc check "x@A@x" --wrt x --shape x=3,A=3x3 --hessian --expect "A + A.T"',
    'mcalc check --set examples/problems.toml',
    'mcalc check --set answers.json --format json'))
def check(ctx: typer.Context, expr: CheckExpr = None, expect: Expect = None, wrt: Wrt = [], shape: Shape = [],
          value: Value = [], seed: Seed = 0,
          order: Order = "row", layout: Layout = "numerator", tol: CheckTol = None, fmt: CheckFormat = "pretty",
          out: Out = None, precision: Precision = None, quiet: Quiet = False, no_color: NoColor = False,
          hessian: HessianFlag = False, no_files: NoFiles = False, max_work: MaxWork = None,
        ignore_unused: IgnoreUnused = False, problem_set: ProblemSet = None):
    """Is a hand-derived Jacobian, gradient or (--hessian) Hessian right? If not, where is it wrong, and which
    usual slip is it?

    Exit code 0 when right, 1 when wrong, 2 on bad input."""
    from . import problemset
    from .check import check_text
    from .problem import prepare
    from .second import hessian_problem

    o = emit.Output.checked(fmt, out, precision, quiet, no_color, allowed=emit.CHECK_FORMATS)
    if problem_set is not None:
        problemset.alone(ctx, expr, expect)
        s = problemset.check_set(problem_set)
        o.emit(pretty=lambda p, h: problemset.view(s), json=lambda: problemset.as_json(s))
        raise typer.Exit(s.exit_code)
    problemset.required(ctx, expr, expect)
    prob = emit.noted(prepare(expr, wrt, value, shape, order, layout, seed, evaluate=False), ignore_unused)
    emit.check(o, check_text(hessian_problem(prob) if hessian else prob, expect, tol))


@app.command(cls=Command, epilog=_examples(
    'mcalc explain "A@B" --wrt A --shape 2x2',
    'mcalc explain "A@B" --wrt A --shape 2x2 --order col',
    'mcalc explain "X^3" --wrt X --shape 2x2',
    'mcalc explain "tanh(W@x + b)" --wrt x --shape W=3x4,x=4,b=3',
    'mcalc explain "softmax(x)" --wrt x --shape x=3 --format latex',
    'mcalc check "A@B" --wrt A --shape 2x2 --expect "$(mcalc explain "A@B" --wrt A --shape 2x2 -f plain)"'))
def explain(expr: Expr, wrt: Wrt = [], shape: Shape = [], value: Value = [], seed: Seed = 0, order: Order = "row",
            layout: Layout = "numerator", fmt: ExplainFormat = "pretty", out: Out = None,
            precision: Precision = None, quiet: Quiet = False, no_color: NoColor = False, symbolic: Symbolic = False,
            no_files: NoFiles = False, max_work: MaxWork = None,
        ignore_unused: IgnoreUnused = False):
    """The derivation: the differential, the rule of each operation, and the closed form of the Jacobian
    (I ⊗ Bᵀ, diag(s) - s sᵀ, ...) in the chosen order and layout, checked against the numbers.

    --format plain prints the closed form in mcalc's syntax alone, ready for mcalc check --expect."""
    from .closedform_check import verify_closed_form
    from .explain import explain as derive
    from .problem import prepare

    o = emit.Output.checked(fmt, out, precision, quiet, no_color, allowed=emit.EXPLAIN_FORMATS)
    prob = emit.noted(prepare(expr, wrt, value, shape, order, layout, seed, evaluate=False), ignore_unused)
    ex = derive(prob.nodes, prob.wrt, prob.order, prob.layout)
    verified = verify_closed_form(prob, ex)
    if symbolic:
        emit.symbolic_shown(prob, o.fmt, symbolic)
        ex.symbolic = emit.symbolic("symbolic_jacobian", prob, symbolic, o)
    emit.explanation(o, prob, ex, verified)


@app.command(cls=Command, epilog=_examples("mcalc ops", "mcalc ops | grep softmax"))
def ops(markdown: Annotated[bool, typer.Option("--markdown", help="One row per operation, by family, as the "
                                               "README's markdown table.")] = False):
    """Every function and operator of the language, with its derivative rule."""
    from rich.table import Table

    from .explain import catalogue, function_table

    if markdown:
        print(function_table(), end="")
        return

    console = emit.console(highlight=False, markup=False)
    if not console.is_terminal:                      # piped (| grep softmax): one operation per line, unwrapped
        emit.lines("\t".join(" ".join(cell.split()) for cell in row) for row in catalogue())
        return
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    for column in ("function", "what", "derivative"):
        table.add_column(column)
    for row in catalogue():
        table.add_row(*row)
    with emit.writing():
        console.print(table)


def main() -> None:
    import warnings

    from .cli_errors import encodable_output, usable_terminal_size

    encodable_output()
    usable_terminal_size()
    warnings.filterwarnings("ignore", category=RuntimeWarning)     # (numpy's overflow notes: mcalc says what failed)
    _invoked(sys.argv)()


def _invoked(argv: list[str]) -> typer.Typer:
    """The app with only the command the first argument names (mcalc jac ...): Typer builds every command's options
    from its signature at each start, ~10 ms for all six; the whole app otherwise (mcalc -h, a misspelled command,
    completion)."""
    import copy
    import os

    if len(argv) < 2 or os.environ.get("_MCALC_COMPLETE"):
        return app
    chosen = [c for c in app.registered_commands if (c.name or c.callback.__name__) == argv[1]]
    if not chosen:
        return app
    one = copy.copy(app)
    one.registered_commands = chosen
    return one
