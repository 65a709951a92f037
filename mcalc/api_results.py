"""The Python API's explain() and check(): the same work as `mcalc explain` and `mcalc check`, returned as objects
that hold the numbers (numpy arrays), their labels, the values used and what mcalc says about them (closed form,
verdict, diagnosis), and that display themselves: as the command line's coloured view in a terminal
(rich.print(x): __rich__), as HTML and LaTeX in Jupyter (_repr_html_, _repr_latex_), and as that view in plain
text (str(x)).  How they look is display.py's."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .errors import API, TooLargeError, UsageError


def _flag(v, name: str) -> bool:
    if not isinstance(v, (bool, np.bool_)):         # (hessian="no" is a string, and would be True)
        raise UsageError(f"{name} must be True or False, got {v!r}")
    return bool(v)


def explanation(expr, wrt, values, shapes, order, layout, seed, hessian: bool) -> Explanation:
    """explain(), as `mcalc explain` computes it (or, hessian=True, the Jacobian of the gradient, as `mcalc hess`
    reads its closed form), with the Jacobian at the values used."""
    from .closedform_check import verify_closed_form
    from .explain import explain as derive
    from .problem import prepare
    from .second import hessian_problem

    p = prepare(expr, wrt, values, shapes, order, "numerator" if hessian else layout, seed, evaluate=False)
    if _flag(hessian, "hessian"):
        p = hessian_problem(p)
    ex = derive(p.nodes, p.wrt, p.order, p.layout)
    verified = verify_closed_form(p, ex)
    try:
        J, too_large = p.analytic(), None
    except TooLargeError as e:                       # (the closed form is the point, and may still be shown)
        J, too_large = None, e.phrased(API).message
    return Explanation(p, ex, verified, J, too_large)


def verdict(expr, expect, wrt, values, shapes, order, layout, seed, hessian: bool, tol) -> Verdict:
    """check(), as `mcalc check` judges an answer: text (a formula, checked at other values too, or numbers), or
    an array."""
    from .check import check_answer, check_text
    from .problem import prepare
    from .second import hessian_problem
    from .values import parse_value

    p = prepare(expr, wrt, values, shapes, order, layout, seed, evaluate=False)
    if _flag(hessian, "hessian"):
        p = hessian_problem(p)
    if isinstance(expect, str):
        return Verdict(check_text(p, expect, tol, API))
    return Verdict(check_answer(p.evaluate(), parse_value(expect, lambda w: "expect"), tol, API))


def _values(p) -> tuple[dict, tuple]:
    """The values used (copies, writable) and the names of those mcalc chose."""
    return {name: np.array(v, dtype=float) for name, v in p.values.items()}, tuple(p.defaulted)


def _summary(name: str, a: np.ndarray | None) -> str:
    """name=array([...]) as numpy writes it, summarised when large, continuation lines aligned."""
    if a is None:
        return f"{name}=None"
    with np.printoptions(threshold=64, edgeitems=3):
        return f"{name}=" + np.array_repr(np.asarray(a)).replace("\n", "\n" + " " * (len(name) + 1))


class _Shown:
    """How a result displays: the block matrix in a terminal (Rich), HTML and LaTeX in Jupyter, plain text as str();
    display.py's functions named after the result (explanation_view, verdict_html, ...)."""

    _shown = ""

    def _display(self, how: str):
        from . import display

        return getattr(display, f"{self._shown}_{how}")(self)

    def __rich__(self):
        return self._display("view")

    def _repr_html_(self) -> str:
        return self._display("html")

    def _repr_latex_(self) -> str:
        return self._display("latex")

    def __str__(self) -> str:
        from .display import plain_text

        return plain_text(self.__rich__())


class Explanation(_Shown):
    """What `mcalc explain` says, with the numbers.

    jacobian        the Jacobian at the values used (numpy array; the Hessian with hessian=True), in the order and
                    layout asked for; None where it is too large to form (too_large says why)
    row_labels, col_labels   what each row and column is: 'f[0,1]', 'A[1,0]' (labels: both)
    values, chosen  the values used (name → array) and the names whose values mcalc chose (seed=)
    differential    d f in the differentials of the wrt variables, as the terminal shows it
    steps           each operation's rule, differential and local Jacobians (dicts, as --format json has them)
    closed_form     the closed form in mcalc's syntax, as `mcalc explain -f plain` prints it: the gradient shaped
                    like the variable for a scalar expression and one variable, else the Jacobian; None if unknown
    jacobian_form, gradient_form   each of those alone (mcalc's syntax), pretty: the Jacobian's as the terminal
                    writes it (I₂ ⊗ Bᵀ), names: the short names it uses (name → mcalc syntax)
    latex           the derivation in LaTeX, as `mcalc explain -f latex` writes it
    verified        True when the closed form equals the Jacobian at the values used (and at other values); None
                    when there is none or it could not be evaluated here (not_verified_because says why).  A closed
                    form that disagrees is never given.
    """

    _shown = "explanation"

    def __init__(self, problem, ex, verified, J: np.ndarray | None, too_large: str | None = None):
        from .labels import axis_labels, jacobian_sides
        from .output import explain_typeset

        p = self._problem = problem
        self._ex, self._verified = ex, verified
        self.expression, self.wrt, self.order, self.layout = p.expression, tuple(v.name for v in p.wrt), p.order, \
            p.layout
        self.kind = "hessian" if p.what == "Hessian" else "jacobian"
        self.values, self.chosen = _values(p)
        self.jacobian, self.too_large = J, too_large
        rows, cols = jacobian_sides(p)
        (self.row_labels, self._row_groups), (self.col_labels, self._col_groups) = \
            (axis_labels(rows, p.order), axis_labels(cols, p.order)) if J is not None else (([], None), ([], None))
        self.differential, self.steps = ex.differential, ex.steps
        self.jacobian_form, self.pretty = ex.mc, ex.pretty
        self.gradient_form = ex.gradient_mc() if ex.gradient is not None else None
        self.closed_form = self.gradient_form or self.jacobian_form
        self.names = dict(ex.legend("mc"))
        self.missing = list(ex.missing)
        self.latex = explain_typeset(p, ex, "latex")
        self.verified, self.max_abs_error, self.not_verified_because = None, None, None
        if verified is None:
            if self.closed_form is None:
                self.not_verified_because = "no closed form is known" + (f" for {', '.join(ex.missing)}"
                                                                         if ex.missing else "")
        elif verified[0]:
            self.verified, self.max_abs_error = True, verified[1]
        else:
            self.not_verified_because = verified[1].phrased(API).message

    @property
    def hessian(self) -> np.ndarray | None:
        """The Hessian (explain(..., hessian=True)): the same array as .jacobian, under the name its repr shows."""
        if self.kind != "hessian":
            raise AttributeError("hessian: this explains a Jacobian (explain(..., hessian=True) explains a Hessian)")
        return self.jacobian

    @property
    def labels(self) -> tuple[list[str], list[str]]:
        return self.row_labels, self.col_labels

    def __repr__(self) -> str:
        J = _summary("hessian" if self.kind == "hessian" else "jacobian", self.jacobian).replace("\n", "\n    ")
        return (f"Explanation(expression={self.expression!r}, wrt={self.wrt!r}, order={self.order!r}, "
                f"layout={self.layout!r},\n    closed_form={self.closed_form!r}, verified={self.verified!r},\n"
                f"    {J})")


class WrongEntry(NamedTuple):
    """One wrong entry of an answer: which one, what it should be and what it is."""

    label: str          # 'f[0,0] wrt A[0,1]' (a Jacobian or Hessian), '∂f/∂A[0,1]' (a gradient)
    expected: float
    given: float
    row: int            # its place in expected and given as 2-D grids (a vector's gradient: a column)
    column: int


class Verdict(_Shown):
    """What `mcalc check` says about an answer.

    right           whether it is the Jacobian, gradient or Hessian (also bool(verdict))
    kind            'jacobian', 'gradient' (an answer shaped like the variable) or 'hessian'
    expected, given the right answer and yours, as numpy arrays (at the values shown: values, chosen)
    wrong           the wrong entries, worst first (at most 10), as WrongEntry(label, expected, given, row, column);
                    wrong_count: how many there are
    diagnosis       sentences: which usual slip it is (the other flatten order, the transpose, a sign, a factor,
                    which blocks), or why it could not be judged
    size_message    where the answer has the wrong size, what the sizes are
    judged_elsewhere   True where the answer, a formula, was right at the first values but not at others (which
                    values, expected and given are then)
    """

    _shown = "verdict"

    def __init__(self, r):
        from .check import named_wrong

        self._result = r
        p = r.problem
        self.right = bool(r.right)
        self.kind = "hessian" if r.kind == "jacobian" and p.what == "Hessian" else r.kind
        self.expression, self.wrt, self.order, self.layout = p.expression, tuple(v.name for v in p.wrt), p.order, \
            p.layout
        self.values, self.chosen = _values(p)
        self.expected = np.array(r.expected, dtype=float)
        self.given = None if r.given is None else np.array(r.given, dtype=float)
        self.wrong = [WrongEntry(label, e, g, i, j) for (label, e, g), (i, j) in zip(named_wrong(r), r.wrong)]
        self.wrong_count = r.wrong_count
        self.diagnosis, self.size_message = list(r.diagnosis), r.size_message
        self.tol, self.max_abs_error, self.max_rel_error = r.tol, r.max_abs_error, r.max_rel_error
        self.judged_elsewhere = r.elsewhere

    def __bool__(self) -> bool:
        return self.right

    def __repr__(self) -> str:
        wrong = "" if self.right else f", wrong_count={self.wrong_count}, diagnosis={self.diagnosis!r}"
        return f"Verdict(right={self.right}, kind={self.kind!r}, expression={self.expression!r}{wrong})"
