"""Explain's closed form judged before it is shown: evaluated at the problem's values and compared with the analytic
Jacobian by the rule answers are judged by (tolerance.py); one that disagrees is withdrawn."""

from __future__ import annotations

import numpy as np

from .errors import DomainError, McalcError, TooLargeError
from .expr import evaluate
from .problem import Problem, located
from .tolerance import DEFAULT_TOL, wrong_entries
from .tree import Node, topo_order


def evaluate_tree(tree: Node, problem: Problem) -> np.ndarray:
    """A tree built on the problem's expression (a closed form) evaluated at the problem's values: the same tree
    that is printed, never its text read back."""
    with located(problem.expression):
        return np.asarray(evaluate(topo_order(tree), problem.values)[id(tree)], dtype=float)


def verify_closed_form(problem: Problem, ex, points: int = 2) -> tuple[bool | None, float | str] | None:
    """Evaluate the closed form at the problem's values, and at `points` other points (the differentiated
    variables drawn anew), and compare it with the analytic Jacobian: (True, max error); (None, the DomainError)
    where the closed form is undefined at these values (det(A)·inv(A)ᵀ at a singular A), (None, the TooLargeError)
    where the Jacobian is too large to form; or None when there is no closed form.  One that evaluates to
    something else anywhere is withdrawn (the explanation then says there is none): a wrong closed form is never
    printed.  The gradient shaped like the variable is judged the same way, on its own."""
    holds = None if ex.gradient is None else _gradient_holds(problem, ex.gradient, points)
    if holds is not True and ex.gradient is not None:
        ex.gradient = None
        ex.missing = ["(a gradient form that failed mcalc's own check; please report it)" if holds is False else
                      "(not shown: the gradient form cannot be evaluated at these values)"]
    if ex.formula is None:
        return None
    try:
        J = problem.analytic()                       # not differentiable here: that error is the user's to see
    except TooLargeError as e:
        return None, e
    try:
        V = evaluate_tree(ex.formula, problem)
    except (DomainError, TooLargeError) as e:
        return None, e
    except McalcError:                               # not even a valid expression: a bug, withdrawn below
        V = None
    if V is not None and V.shape == J.shape and not wrong_entries(J, V, DEFAULT_TOL).any() and \
            all(_formula_holds(p, ex.formula) for p in _elsewhere(problem, points)):
        return True, float(np.abs(V - J).max(initial=0.0))
    ex.missing, ex.formula = ["(a closed form that failed mcalc's own check; please report it)"], None
    return None


def _elsewhere(problem: Problem, points: int):
    """The problem at other points, where values can be found (a domain may exclude some draws)."""
    for k in range(1, points + 1):
        try:
            yield problem.elsewhere(k).evaluate()
        except McalcError:
            continue


def _formula_holds(p: Problem, formula: Node) -> bool:
    try:
        J, V = p.analytic(), evaluate_tree(formula, p)
    except McalcError:                               # undefined or not differentiable there: not evidence
        return True
    return V.shape == J.shape and not wrong_entries(J, V, DEFAULT_TOL).any()


def _gradient_holds(problem: Problem, gradient: Node, points: int) -> bool | None:
    """The gradient tree against the analytic gradient, at the values and elsewhere: None where it is undefined
    at the problem's own values (det(A) A⁻ᵀ at a singular A: not shown), no evidence where it is elsewhere."""
    for k, p in enumerate([problem, *_elsewhere(problem, points)]):
        try:
            want = p.analytic(canonical=True).reshape(p.wrt[0].shape)
            G = evaluate_tree(gradient, p)
        except (DomainError, TooLargeError):
            if k == 0:
                return None
            continue
        except McalcError:
            return False
        if G.shape != want.shape or wrong_entries(want, G, DEFAULT_TOL).any():
            return False
    return True
