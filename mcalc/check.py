"""Checking a hand-derived answer: is it the Jacobian (or the gradient), and if not, which usual mistake is it?

An answer is right when every entry is within tol·max|expected| of the expected one (tol 1e-8 by default: an
answer is an exact formula, so only rounding may differ).  A wrong answer is compared with the usual mistakes: the
other flatten order, the other layout (the transpose), both, the transpose of a gradient, a sign, a constant
factor, and, block by block, which blocks of the Jacobian are wrong and whether they are transposed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from .errors import CLI, DomainError, McalcError, UsageError, Words
from .labels import axis_labels, entry_name, jacobian_entry, jacobian_sides
from .ops import fmt_shape
from .problem import Problem, evaluate_text
from .tolerance import DEFAULT_TOL, close, max_relative_error, wrong_entries
from .values import _NUMBERS, parse_value, refuse_subnormal


@dataclass
class CheckResult:
    problem: Problem
    kind: str                          # "jacobian" or "gradient"
    expected: np.ndarray
    given: np.ndarray | None
    tol: float
    right: bool = False
    wrong: list = field(default_factory=list)        # [(i, j), ...] of the wrong entries (2-D positions)
    wrong_count: int = 0
    max_abs_error: float = 0.0
    max_rel_error: float = 0.0
    diagnosis: list = field(default_factory=list)    # sentences, most telling first
    size_message: str | None = None
    factor: float | None = None                      # G = factor·(a right answer, or a slip), where one was found
    elsewhere: bool = False                          # judged at other values than the problem's own


OTHER_POINTS = 2      # a formula is also checked at this many other sets of values


def check_text(problem: Problem, text: str, tol: float | None = None, words: Words = CLI) -> CheckResult:
    """An answer checked at the problem's values and, when it is a formula in the variables, at other values
    too: a formula right at one point only (x[1] for x[0] where the values happen to repeat) is wrong, and a
    factor that changes from point to point is not a constant factor.  words: how the diagnosis names settings
    (the command line's --order col, or the API's order="col")."""
    formula = _is_formula(text)
    if formula:
        r = _too_large(problem, text, tol, words)
        if r is not None:
            return r
    r = check_answer(problem, read_answer(text, problem), tol, words)
    if not formula:
        return r
    others, undefined = [], None
    for k in range(1, OTHER_POINTS + 1):
        try:
            p = problem.elsewhere(k).evaluate()
        except McalcError:           # the expression undefined there, or no values found: not evidence
            continue
        try:
            others.append(check_answer(p, read_answer(text, p), tol, words))
        except McalcError as e:      # the answer undefined where the expression is defined: not a derivative
            undefined = undefined or e
    if r.right and undefined is not None:
        r.right, r.elsewhere = False, True
        r.diagnosis = [f"right at these values, but not judged in general: at other values, where the expression "
                       f"is defined, your answer is not ({undefined.message})"]
        return r
    factors = [x.factor for x in [r] + others]
    constant = None not in factors and all(abs(c - factors[0]) <= 1e-6 * abs(factors[0]) for c in factors)
    wrong = next((x for x in others if not x.right), None)
    if r.right and wrong is not None:
        given = [v for v in problem.wrt if v.name not in problem.defaulted]
        at = ("the values you gave (" + ", ".join(f"{v.name} = {_short(problem.values[v.name])}" for v in given)
              + ")") if given else "the values mcalc chose first"
        if not constant and wrong.factor is not None:
            wrong.diagnosis = [d for d in wrong.diagnosis if not d.startswith("your answer is the right one")]
        there = ", ".join(f"{v.name} = {_short(wrong.problem.values[v.name])}" for v in wrong.problem.wrt)
        wrong.diagnosis.insert(0, f"right at {at}, but not in general: at other values, which mcalc chose "
                                  f"({there}), it is wrong")
        wrong.elsewhere = True
        return wrong
    if not r.right and r.factor is not None and not constant and others:
        if r.expected.size == 1:     # any number is a multiple of any other: no slip to name
            r.diagnosis = [f"wrong, and not by a constant factor; {words.explain} shows the derivation"]
        else:
            r.diagnosis = [f"at these values your answer is {_factor_text(r.factor)} times the right one, but at "
                           "other values the ratio is different: a factor that depends on the variables is "
                           "missing or extra, not a constant"]
        r.factor = None
    return r


def _too_large(problem: Problem, text: str, tol, words: Words) -> CheckResult | None:
    """An answer whose shape alone (its typed tree's) has more entries than the Jacobian: wrong whatever its
    values, so never computed (kron(kron(kron(X, X), X), X)... of a 3×3 X for A@X took a minute and 9 GB to be
    found the wrong size); None for any other answer."""
    from .problem import typed_text

    problem.evaluate()              # (the expression's own errors first)
    try:
        root, _ = typed_text(text, problem)
    except McalcError:
        return None                 # (read_answer says what is wrong with it, as the answer's)
    if root.size <= problem.root.size * sum(v.size for v in problem.wrt):
        return None
    r = check_answer(problem, np.broadcast_to(np.float64(np.nan), root.shape), tol, words)
    r.given = None                  # (not computed: no values to show)
    return r


def _short(value) -> str:
    """A value on one line (a set's row, a bullet): [[4, 1], [1, 3]]."""
    a = np.asarray(value)
    if a.ndim == 0:
        return f"{float(a):g}"
    text = np.array2string(a, threshold=6, edgeitems=2, separator=", ", max_line_width=10 ** 6,
                           formatter={"float_kind": lambda v: f"{v:g}"})
    return " ".join(text.split())


def _is_formula(text: str) -> bool:
    """Whether an answer is an expression in the variables (not numbers or a file)."""
    from .parse import parse

    t = text.strip()
    if t.startswith("@") or _NUMBERS.fullmatch(t):
        return False
    try:
        return bool(parse(t).variables())
    except McalcError:
        return False


def read_answer(text: str, problem: Problem) -> np.ndarray:
    """An answer: @file, rows of numbers ('1 2; 3 4'), or an expression of the language in the same variables."""
    t = text.strip()
    if not t:
        raise UsageError("the answer is empty", hint="write the derivative: an expression such as kron(eye(2), B.T), "
                                                     "numbers ('1 2; 3 4') or @file")
    if t.startswith("@") or _NUMBERS.fullmatch(t):
        return parse_value(t, "the answer")
    problem.evaluate()              # (the expression's own errors first, and never said to be the answer's)
    try:
        return evaluate_text(t, problem)
    except McalcError as e:         # (said to be in the answer; its values are the expression's, not its to change)
        if e.part is None and (e.source is None or e.source.strip() == t) and "the answer" not in e.message:
            e.part = "the answer"
            if isinstance(e, DomainError) and "--value" in (e.hint or ""):
                e.hint = None
        raise


def _as_2d(a: np.ndarray) -> np.ndarray:
    """A gradient or Jacobian as it is shown: a scalar as 1×1, a vector as a column."""
    return a.reshape(1, 1) if a.ndim == 0 else a.reshape(-1, 1) if a.ndim == 1 else a


def wrong_entries_doc(r: CheckResult) -> list[dict]:
    """The wrong entries for JSON (check keeps the ten largest errors): position, label, expected and given."""
    return [{"row": i, "column": j, "label": label, "expected": e, "given": g}
            for (i, j), (label, e, g) in zip(r.wrong, named_wrong(r))]


def named_wrong(r: CheckResult) -> list[tuple[str, float, float]]:
    """The wrong entries listed in r.wrong (the worst first) by label, with the expected and the given value:
    ('f[1,1] wrt A[0,1]', 4.0, 5.0) in a Jacobian or Hessian, ('∂f/∂A[0,1]', 4.0, 5.0) in a gradient."""
    if not r.wrong or r.given is None or r.given.shape != r.expected.shape:
        return []
    p = r.problem
    E = _as_2d(np.asarray(r.expected))
    G = np.asarray(r.given).reshape(E.shape)
    items = []
    for i, j in r.wrong:
        if r.kind == "gradient":
            v = p.wrt[0]
            k = int(np.ravel_multi_index((i, j), E.shape))
            at = f"[{','.join(str(int(c)) for c in np.unravel_index(k, v.shape))}]" if v.shape else ""
            label = entry_name("f", f"{v.name}{at}", gradient=True)
        else:
            try:
                label = entry_name(*jacobian_entry(p, i, j))
            except IndexError:
                label = f"entry ({i}, {j})"
        items.append((label, float(E[i, j]), float(G[i, j])))
    return items


def check_answer(problem: Problem, answer: np.ndarray, tol: float | None = None, words: Words = CLI) -> CheckResult:
    if tol is not None and (isinstance(tol, bool) or not isinstance(tol, (int, float, np.integer, np.floating)) or
                            not (np.isfinite(tol) and 0 < tol < 1)):
        raise UsageError(lambda w: f"{w.tol} must be a relative tolerance between 0 and 1, got "
                                   f"{tol if isinstance(tol, (int, float)) else repr(tol)}",
                         hint=lambda w: f"e.g. {w.eg('tol', '1e-6', text=False)}")
    tol = DEFAULT_TOL if tol is None else float(tol)
    refuse_subnormal(problem.values, "derivatives", problem.nodes)     # (a verdict on digits already lost: none)
    J = problem.analytic()
    answer = np.asarray(answer, dtype=float)
    v = problem.wrt[0] if len(problem.wrt) == 1 else None
    if problem.root.size == 1 and v is not None and answer.shape != J.shape:
        grad = problem.analytic(canonical=True).reshape(v.shape)
        if answer.shape == v.shape or answer.shape == v.shape[::-1] and len(v.shape) == 2:
            return _compare(problem, "gradient", grad, answer, tol, words)
        if len(v.shape) == 1 and answer.shape == (v.shape[0], 1):          # the gradient as a column
            return _compare(problem, "gradient", grad, answer.reshape(v.shape), tol, words, note="(as a column)")
    if answer.shape != J.shape and answer.size == J.size and answer.ndim < 2 and 1 in J.shape:
        answer = answer.reshape(J.shape)               # a vector for a Jacobian with one row or one column
    return _compare(problem, "jacobian", J, answer, tol, words)


def _compare(problem, kind, E, G, tol, words: Words = CLI, note: str | None = None) -> CheckResult:
    r = CheckResult(problem, kind, E, G, tol)
    if G.shape != E.shape:
        r.size_message = _size_message(problem, kind, E, G)      # the headline, even when a slip explains it
        r.wrong_count = r.max_abs_error = r.max_rel_error = None  # (no entries compared: not 0, which reads right)
        r.diagnosis, r.factor = _slips(problem, kind, E, G, tol, words)
        if not r.diagnosis:
            r.diagnosis = _shape_hints(problem, kind, E, G)
        return r
    diff = np.abs(E - G)
    r.max_abs_error = float(diff.max(initial=0.0))
    per = "entry" if kind == "gradient" or E.ndim < 2 else 0 if problem.layout == "numerator" else 1
    groups = [v.size for v in problem.wrt] if kind == "jacobian" else None
    r.max_rel_error = max_relative_error(E, G, per, groups)      # (relative to each column's scale)
    bad = wrong_entries(E, G, tol, per, groups)
    r.right = not bad.any()
    if r.right:
        r.diagnosis = [f"right {note}"] if note else []
        return r
    bad2 = _as_2d(bad)
    order = np.argsort(-_as_2d(diff), axis=None)
    r.wrong_count = int(bad.sum())
    r.wrong = [tuple(int(k) for k in np.unravel_index(f, bad2.shape)) for f in order[:10] if bad2.flat[f]]
    r.diagnosis, r.factor = _slips(problem, kind, E, G, tol, words)
    if not r.diagnosis and kind == "jacobian" and E.ndim == 2:
        r.diagnosis = _blocks(problem, E, G, tol, bad2)
    if not r.diagnosis:
        r.diagnosis = [f"{r.wrong_count} of {bad.size} entries are wrong, and it is not one of the "
                       f"usual slips (order, layout, transpose, sign, factor); {words.explain} shows the derivation"]
    return r


def _other_order(problem: Problem) -> np.ndarray:
    """The Jacobian in the other flatten order, same layout."""
    return problem.arrange(problem.analytic(canonical=True), "col" if problem.order == "row" else "row")


def _factor_text(c: float) -> str:
    """2, 1/2, -3/4 when c is that fraction (within rounding), else c itself: 1.001, 3.14159."""
    f = Fraction(c).limit_denominator(12)
    if abs(float(f) - c) > 1e-9 * max(1.0, abs(c)):
        return f"{c:.6g}"
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def _fit(C: np.ndarray, G: np.ndarray, tol: float) -> float | None:
    """The factor c with G = c·C, if there is one."""
    if C.shape != G.shape:
        return None
    denom = float(np.sum(C * C))
    if denom == 0:
        return None
    c = float(np.sum(C * G)) / denom
    return c if close(c * C, G, tol, "entry") else None


def _slips(problem, kind, E, G, tol, words: Words = CLI) -> tuple[list[str], float | None]:
    """The usual slips, alone or together: another order, the other layout (a transpose), a sign, a factor;
    (sentences, the factor found)."""
    other = "column-major" if problem.order == "row" else "row-major"
    other_layout = "denominator" if problem.layout == "numerator" else "numerator"
    order_flag = words.eg("order", "col" if problem.order == "row" else "row")
    layout_flag = words.eg("layout", other_layout)
    both = f"{order_flag}{' ' if words is CLI else ', '}{layout_flag}"
    if kind == "jacobian":
        O = _other_order(problem)
        candidates = [
            ("", E),
            (f"the {problem.what} in {other} order (the vec of the other convention; {order_flag} would accept it)",
             O),
            (f"the transpose of the {problem.what}: the {other_layout} layout ({layout_flag} would accept it)",
             E.T),
            (f"the transpose of the {problem.what} in {other} order ({both} would accept it)",
             O.T),
        ]
    else:
        E2, X = _as_2d(E), problem.wrt[0].name
        candidates = [("", E), (f"the transpose of the gradient: ∂f/∂{X} written with the shape of {X}ᵀ, as "
                                f"numerator-layout texts do; mcalc's gradient has the shape of {X}", E2.T)]
    if not np.any(G):                                 # (not "the right one times 0")
        return ["your answer is all zeros, and the right one is not"], None
    for what, C in candidates:
        c = _fit(C, _as_2d(G) if C.ndim == 2 else G, tol)
        if c is None or (not what and abs(c - 1) <= tol):
            continue
        factor = "" if abs(c - 1) <= tol else " times -1 (a sign)" if abs(c + 1) <= tol else \
            f" times {_factor_text(c)}"
        if not what:
            return [f"your answer is the right one{factor}"], c
        return [f"your answer is {what}" + (f", and then{factor}" if factor else "")], c
    return [], None


def _blocks(problem, E, G, tol, bad) -> list[str]:
    """Which blocks (one output row against one input row, as printed) are wrong, and how."""
    rows, cols = jacobian_sides(problem)
    rlab, rgroups = axis_labels(rows, problem.order)
    clab, cgroups = axis_labels(cols, problem.order)
    rkeys, ckeys = list(dict.fromkeys(rgroups)), list(dict.fromkeys(cgroups))
    if len(rkeys) * len(ckeys) < 2:
        return []
    wrong, transposed, nonzero = [], [], 0
    for rk in rkeys:
        ri = [i for i, g in enumerate(rgroups) if g == rk]
        for ck in ckeys:
            ci = [j for j, g in enumerate(cgroups) if g == ck]
            e, g = E[np.ix_(ri, ci)], G[np.ix_(ri, ci)]
            nonzero += bool(np.any(e))
            if bad[np.ix_(ri, ci)].any():
                name = f"{rlab[ri[0]]}…{rlab[ri[-1]]} × {clab[ci[0]]}…{clab[ci[-1]]}"
                wrong.append(name)
                if e.shape[0] == e.shape[1] and close(e.T, g, tol, "entry"):
                    transposed.append(name)
    right_nonzero = nonzero - sum(1 for w in wrong if w not in transposed) - len(transposed)
    if transposed and len(transposed) == len(wrong):
        return [f"each of the {len(wrong)} wrong blocks is the transpose of the right block: " +
                "; ".join(wrong[:6]) + (" …" if len(wrong) > 6 else "")]
    if not wrong or right_nonzero <= 0:
        return []
    blocks = "block" if len(wrong) == 1 else "blocks"
    return [f"it is right except {len(wrong)} {blocks} (of the {nonzero} that are not zero): " +
            "; ".join(wrong[:6]) + (" …" if len(wrong) > 6 else "")]


def _size_message(problem, kind, E, G) -> str:
    what = "the gradient is" if kind == "gradient" else f"the {problem.what} is"
    why = "" if kind == "gradient" else (
        " (one row and one column per wrt entry)" if problem.what == "Hessian" else
        " (one row per output entry)" if problem.layout == "numerator" else " (denominator layout: one row per "
                                                                            "wrt entry)")
    return f"your answer is {fmt_shape(G.shape)}, {what} {fmt_shape(E.shape)}{why}"


def _shape_hints(problem, kind, E, G) -> list[str]:
    notes = []
    if kind == "jacobian" and G.shape == E.T.shape and G.shape != E.shape:
        notes.append("it has the shape of the other layout, but not its values")
    v = problem.wrt[0] if len(problem.wrt) == 1 else None
    if problem.what == "Hessian" and v is not None and G.shape == v.shape:
        notes.append(f"it is shaped like {v.name}, as the gradient is: the Hessian, the Jacobian of the gradient, "
                     f"is {E.shape[0]}×{E.shape[1]}")
    elif kind == "jacobian" and problem.root.size > 1 and v is not None and G.shape in (v.shape, problem.root.shape):
        notes.append("a Jacobian has one row per output entry and one column per input entry "
                     f"({E.shape[0]}×{E.shape[1]} here), not the shape of a matrix: flatten both (vec)")
    return notes
