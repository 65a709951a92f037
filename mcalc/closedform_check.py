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


def verify_closed_form(problem: Problem, ex) -> tuple[bool | None, float | str] | None:
    """Evaluate the closed form at the problem's values and compare it with the analytic Jacobian:
    (True, max error); (None, the DomainError) where the closed form is undefined at these values (det(A)·inv(A)ᵀ
    at a singular A), (None, the TooLargeError) where the Jacobian is too large to form; or None when there is no
    closed form.  One that evaluates to something else is withdrawn (the explanation then says there is none): a
    wrong closed form is never printed."""
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
    if V is not None and V.shape == J.shape and not wrong_entries(J, V, DEFAULT_TOL).any():
        if ex.gradient is not None:                  # the gradient form too, or it is not shown
            want = problem.analytic(canonical=True).reshape(problem.wrt[0].shape)
            try:
                G = evaluate_tree(ex.gradient, problem)
                wrong = G.shape != want.shape or wrong_entries(want, G, DEFAULT_TOL).any()
            except (DomainError, TooLargeError):     # undefined here, as the closed form may be: not shown
                G, wrong = None, False
                ex.gradient = None
            if wrong:
                ex.gradient = None
                ex.missing = ["(a gradient form that failed mcalc's own check; please report it)"]
        return True, float(np.abs(V - J).max(initial=0.0))
    ex.missing, ex.formula = ["(a closed form that failed mcalc's own check; please report it)"], None
    return None
