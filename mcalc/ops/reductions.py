"""Reductions: sums and means (of everything, or along an axis), the trace, the norm, log-sum-exp and softmax.
Sums are linear (their maps are rows of ones, one factor per axis); the others give their differentials."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..algebra import const
from ..errors import ShapeError
from ..tree import call, fmt_shape, size_of
from . import maps
from .core import Op, Show, need_ndim, register, square
from .structural import linear_jvp


def _reduce_infer(shapes, axis=None, **_):
    s = shapes[0]
    if axis is None:
        return ()
    if not s or not -len(s) <= axis < len(s):
        raise ShapeError(f"axis {axis} is out of range for shape {fmt_shape(s)}")
    return tuple(d for i, d in enumerate(s) if i != axis % len(s))


def _axis_count(node) -> tuple[int | None, int]:
    shape, axis = node.args[0].shape, node.params.get("axis")
    axis = None if axis is None else axis % len(shape)
    return axis, size_of(shape) if axis is None else shape[axis]


def _reduce_fwd(mean: bool):
    def fwd(node, x):
        nd = len(node.args[0].shape)
        axis, count = _axis_count(node)
        out = np.sum(x, axis=tuple(range(-nd, 0)) if axis is None else axis - nd)
        return out / count if mean else out
    return fwd


def _reduce_linear(mean: bool):
    def linear(node, i, order):
        x = node.args[0]
        axis, count = _axis_count(node)
        L = maps.ones(1, max(1, x.size)) if axis is None else maps.reduce(x.shape, {axis}, order)
        return const(Fraction(1, count)) * L if mean and count > 1 else L
    return linear


for _name, _mean in (("sum", False), ("mean", True)):
    register(Op(_name, _reduce_infer, _reduce_fwd(_mean), jvp=linear_jvp, linear=_reduce_linear(_mean),
                show=Show(kwargs=("axis",)), example=(f"{_name}(A, axis=0)", "A=2x3"),
                help=f"{_name} of all entries, or along axis=0/1", family="reductions"),
             spelled=(_name,), methods=(_name,), literals=("axis",), help=f"{_name} of all entries, or along axis=0/1")


def _trace_map(n: int, order: str):
    """vec(I)ᵀ: the trace sums the diagonal (1 for a 1×1 matrix, which is its own trace)."""
    return maps.eye(1) if n == 1 else call("row", call("vec", maps.eye(n), order=order))


def _trace_infer(shapes, **_):
    square("trace", shapes[0])
    return ()


register(Op("trace", _trace_infer, lambda node, x: np.trace(x, axis1=-2, axis2=-1), jvp=linear_jvp,
            linear=lambda node, i, order: _trace_map(node.args[0].shape[0], order),
            show=Show(uni="tr(#)", tex="\\operatorname{tr}\\left(#\\right)"), example=("trace(A)", "A=3x3"),
            help="trace of a square matrix", family="reductions"),
         spelled=("trace", "tr"), methods=("trace",), help="trace of a square matrix")


# --- the norm ----------------------------------------------------------------------------------------------------

def _norm_fwd(node, x):
    nd = len(node.args[0].shape)
    return np.sqrt(np.sum(x * x, axis=tuple(range(-nd, 0))))


def _norm_jvp(node, tangents):
    (dx,) = tangents
    if dx is None:
        return None
    x = node.args[0]
    u = call("unit", x)
    if x.ndim == 2:
        return call("trace", call("matmul", u.T, dx))              # the Frobenius inner product ⟨X/‖X‖, dX⟩
    return call("matmul", u, dx) if x.ndim == 1 else u * dx


def _norm_sympy(sp, node, x):
    return sp.sqrt(sum(v ** 2 for v in np.ravel(x)))


register(Op("norm", lambda s, **_: (), _norm_fwd, jvp=_norm_jvp, kink=_norm_fwd, sympy=_norm_sympy,
            show=Show(uni="‖#‖", tex="\\left\\lVert #\\right\\rVert"), example=("norm(x)", "x=3"),
            note="Frobenius for matrices; 0 at x = 0", help="Euclidean norm of a vector, Frobenius norm of a matrix",
            family="reductions"),
         spelled=("norm",), help="Euclidean norm of a vector, Frobenius norm of a matrix")


def _unit_fwd(node, x):
    """x / ‖x‖, and 0 at x = 0: the subgradient of the norm there (as abs has), so that ‖r‖² is differentiable
    at r = 0."""
    n = np.sqrt(np.sum(x * x))
    return x / n if n else np.zeros_like(x)


register(Op("unit", lambda s, **_: s[0], _unit_fwd, expand=lambda node: node.args[0] / call("norm", node.args[0]),
            help="x / ‖x‖, 0 at x = 0 (inside derivatives of the norm)", family="reductions"))


# --- softmax and log-sum-exp ------------------------------------------------------------------------------------

def _vector_only(label, keep):
    def infer(shapes, **_):
        need_ndim(label, shapes[0], (1,), "a vector")
        return shapes[0] if keep else ()
    return infer


def _softmax_fwd(node, x):
    e = np.exp(x - np.max(x.real, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def _logsumexp_fwd(node, x):
    m = np.max(x.real, axis=-1, keepdims=True)
    return (m + np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True)))[..., 0]


def _softmax_jvp(node, tangents):
    (dx,) = tangents
    if dx is None:
        return None
    s = node
    return s * dx - s * (s @ dx)                                     # (diag(s) - s sᵀ) dx


def _softmax_sympy(sp, node, x):
    e = [sp.exp(v) for v in x]
    return np.array(e, dtype=object) / sum(e)


register(Op("softmax", _vector_only("softmax", True), _softmax_fwd, jvp=_softmax_jvp, sympy=_softmax_sympy,
            saturates=True, symbol="s", example=("softmax(x)", "x=3"), help="softmax of a vector",
            family="reductions"),
         spelled=("softmax",), help="softmax of a vector")
register(Op("logsumexp", _vector_only("logsumexp", False), _logsumexp_fwd,
            jvp=lambda node, t: None if t[0] is None else call("softmax", node.args[0]) @ t[0],
            sympy=lambda sp, node, x: sp.log(sum(sp.exp(v) for v in x)), saturates=True,
            example=("logsumexp(x)", "x=3"), help="log Σ exp of a vector", family="reductions"),
         spelled=("logsumexp",), help="log Σ exp of a vector")
