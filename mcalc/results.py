"""What is read off a Jacobian: the gradient shaped like its variable, the determinant, the tensor."""

from __future__ import annotations

import numpy as np

from .chain import flatten_perm
from .compare import Result
from .errors import UsageError
from .ops import fmt_shape
from .problem import Problem


def gradient_of(result: Result) -> tuple[np.ndarray, np.ndarray | None]:
    """(gradient, its finite-difference counterpart) shaped like the one wrt variable, from a jac result."""
    p = result.problem
    v = p.wrt[0]
    order = "F" if p.order == "col" else "C"
    F = None if result.F is None else result.F.reshape(v.shape, order=order)
    return result.J.reshape(v.shape, order=order), F


def require_gradient(problem: Problem) -> None:
    """A gradient needs a scalar expression and one wrt variable."""
    if problem.root.size != 1:                       # a scalar, or a 1×1 matrix such as x.T@A@x
        shape = fmt_shape(problem.root.shape)
        raise UsageError(lambda w: f"{w.gradient} needs a scalar expression; {problem.expression} has shape {shape}",
                         hint=lambda w: f"use {w.jacobian} for a Jacobian")
    if len(problem.wrt) != 1:
        names = [v.name for v in problem.wrt]
        raise UsageError(lambda w: f"{w.gradient} takes one {w.wrt} variable, and there are {len(names)} "
                                   f"({', '.join(names)})",
                         hint=lambda w: f"pick one, e.g. {w.eg('wrt', names[0])}, and ask once per variable "
                                        f"({w.jacobian} gives all of them as one row)")


def determinant(result: Result, symbolic=None) -> dict:
    """det J of a square Jacobian (a change of coordinates): the number, and the symbolic form (expanded, or
    simplified where it is not a polynomial); TooLargeError where that would not build in time."""
    m, n = result.J.shape
    if m != n:
        raise UsageError(lambda w: f"{w.det} needs a square Jacobian; this one is {m}×{n}")
    doc = {"determinant": float(np.linalg.det(result.J))}
    if symbolic is not None:
        from .symbolic import determinant, within_time

        doc["determinant_symbolic"] = within_time(determinant, symbolic)
    return doc


def tensor(result: Result) -> np.ndarray:
    """The Jacobian as the array of seed 000: ∂f[i...]/∂X[k...], shape output + input (input + output in the
    denominator layout).  The flatten order does not enter."""
    p = result.problem
    if len(p.wrt) != 1:
        raise UsageError(lambda w: f"{w.tensor} takes one {w.wrt} variable")
    v = p.wrt[0]
    J = result.J if p.layout == "numerator" else result.J.T
    f = "F" if p.order == "col" else "C"
    T = J.reshape(p.root.shape + v.shape, order="C") if f == "C" else _unflatten_col(J, p.root.shape, v.shape)
    if p.layout == "denominator":
        T = np.moveaxis(T, list(range(len(p.root.shape))), list(range(len(v.shape), T.ndim)))
    return T


def _unflatten_col(J, out_shape, in_shape):
    rows = np.argsort(flatten_perm(out_shape, "col"))
    cols = np.argsort(flatten_perm(in_shape, "col"))
    return J[np.ix_(rows, cols)].reshape(out_shape + in_shape)
