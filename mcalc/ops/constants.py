"""Constants: the identity, ones, zeros and the commutation matrix, which closed forms are made of.  Each knows the
structured map it stands for (an identity is never written out)."""

from __future__ import annotations

import numpy as np

from ..errors import ShapeError
from ..linops import Gather, Identity, Transposition, Zero
from ..printing import ATOM, CALL
from .core import Op, ParamError, Show, integer, register


def _dims(m=None, n=None, **_):
    return tuple(d for d in (m, n) if d is not None)


def _positive(label, *dims):
    if any(d is not None and d < 1 for d in dims):
        raise ShapeError(f"{label} needs positive sizes, got {', '.join(str(d) for d in dims if d is not None)}")


def _scalar_or_call(c: str):
    """In mcalc syntax: the number itself for a scalar (0, not zeros(), which the language cannot read back), else
    the call, ones(3) or zeros(2, 3)."""
    def show(p, node):
        return (c, ATOM) if node.shape == () else (p.call(node), CALL)
    return show


def _filled(c: str):
    """1₃ (a column), 1₃ᵀ (a row), 1₂ₓ₃, or 1 for 1×1, in the printer's notation."""
    def show(p, node):
        shape = node.shape + (1,) * (2 - node.ndim) if node.ndim < 2 else node.shape
        m, n = shape
        if p.notation == "tex":
            b = f"\\mathbf{{{c}}}"
            return c if (m, n) == (1, 1) else f"{b}_{{{m}}}" if n == 1 else f"{b}_{{{n}}}^\\top" if m == 1 else \
                f"{b}_{{{m}\\times{n}}}"
        return c if (m, n) == (1, 1) else f"{c}{p.sub(m)}" if n == 1 else f"{c}{p.sub(n)}ᵀ" if m == 1 else \
            f"{c}{p.sub(m)}ₓ{p.sub(n)}"
    return show


def _fill_infer(label):
    def infer(shapes, m=None, n=None, **_):
        _positive(label, m, n)
        return _dims(m, n)
    return infer


def _eye_infer(shapes, n=1, **_):
    _positive("eye", n)
    return (n, n)


def _eye_show(tex):
    def show(p, node):
        n, k = node.params["n"], node.params.get("k")
        if k:
            return p.call(node)
        if n == 1:
            return "1"
        return f"I_{{{n}}}" if tex else f"I{p.sub(n)}"
    return show


def _eye_params(shapes, given):
    m = given.get("M")
    if m is not None and m != given.get("n"):
        raise ParamError("with M ≠ N: mcalc's eye is square", hint="slice a larger one: eye(4)[:2]")
    return {"M": None, "k": given.get("k") or None}


register(Op("eye", _eye_infer, lambda node: np.eye(node.params["n"]),
            as_linop=lambda node, read: Identity(node.params["n"]),
            show=Show(uni=_eye_show(False), tex=_eye_show(True), prec=5, literals=("n",)),
            help="identity matrix eye(n) (a constant)", example=("eye(2) + A", "A=2x2"),
            family="constants"),
         spelled=("eye",), operands=0, literals=("n", "M", "k"), required=1, kinds={"k": integer(), "M": integer(1)},
         derive=_eye_params, dispatch=lambda shapes, given: "offset_eye" if given.get("k") else "eye",
         reaches=("offset_eye",))
# eye(n, k=k) with k ≠ 0 is another operation: every rule that reads eye as the identity stays true.
register(Op("offset_eye", _eye_infer, lambda node: np.eye(node.params["n"], k=node.params["k"]),
            show=Show(name="eye", literals=("n",), kwargs=("k",)), example=("eye(3, k=1) @ A", "A=3x3"),
            help="ones on the k-th diagonal, eye(n, k=k) (a constant)", family="constants"))


def _tri_linop(node, read):
    from ..linops import Tri

    return Tri(node.params["n"])


register(Op("tri", _eye_infer, lambda node: np.tri(node.params["n"]), as_linop=_tri_linop,
            show=Show(literals=("n",)), help="tri(n): the lower triangle of ones (a constant; cumsum's matrix)",
            example=("tri(3) @ x", "x=3"), family="constants"),
         spelled=("tri",), operands=0, literals=("n",), required=1)


def _ones_linop(node, read):
    m, n = (node.shape + (1, 1))[:2] if node.ndim < 2 else node.shape
    if n == 1:                                            # a column of ones: broadcasting a scalar
        return Gather(np.zeros(m, dtype=np.intp), 1)
    if m == 1:                                            # a row of ones: the sum, adjoint of broadcasting
        return Gather(np.zeros(n, dtype=np.intp), 1).T
    return None


def _size_or_shape(v, shapes):
    """n, or numpy's shape tuple (m, n) / (n,)."""
    if isinstance(v, tuple):
        if not 1 <= len(v) <= 2:
            raise ParamError(f"must be a size or a shape of one or two sizes, got {v}",
                             hint="mcalc's arrays have at most two axes")
        return tuple(integer(1)(d, shapes) for d in v)
    return integer(1)(v, shapes)


_size_or_shape.words = "a size or a shape"


def _shape_split(shapes, given):
    """ones((2, 3)) as numpy writes it is ones(2, 3)."""
    m = given.get("m")
    if isinstance(m, tuple):
        if given.get("n") is not None:
            raise ParamError("takes a shape or two sizes, not both")
        return {"m": m[0], "n": m[1] if len(m) == 2 else None}
    return {}


register(Op("ones", _fill_infer("ones"), lambda node: np.ones(node.shape), as_linop=_ones_linop,
            show=Show(mc=_scalar_or_call("1"), uni=_filled("1"), tex=_filled("1"), prec=5, literals=("m", "n")), help="ones(n) or ones(m, n) (a constant)",
            example=("ones(2, 2) * A", "A=2x2"), family="constants"),
         spelled=("ones",), operands=0, literals=("m", "n"), required=1, kinds={"m": _size_or_shape},
         derive=_shape_split)
register(Op("zeros", _fill_infer("zeros"), lambda node: np.zeros(node.shape),
            as_linop=lambda node, read: Zero(*((node.shape + (1, 1))[:2] if node.ndim < 2 else node.shape)),
            show=Show(mc=_scalar_or_call("0"), uni=_filled("0"), tex=_filled("0"), prec=5, literals=("m", "n")), help="zeros(n) or zeros(m, n) (a constant)",
            example=("zeros(2) + x", "x=2"), family="constants"),
         spelled=("zeros",), operands=0, literals=("m", "n"), required=1, kinds={"m": _size_or_shape},
         derive=_shape_split)


def commutation_index(m: int, n: int, order: str) -> np.ndarray:
    """For each entry of vec(Xᵀ), the position in vec(X) of the same entry of the m×n matrix X."""
    i, j = np.arange(m), np.arange(n)
    if order == "col":
        return (i[:, None] + j[None, :] * m).ravel()          # vec_c(Xᵀ)[i·n + j] = X[i, j] = vec_c(X)[j·m + i]
    return (i[None, :] * n + j[:, None]).ravel()              # vec_r(Xᵀ)[j·m + i] = X[i, j] = vec_r(X)[i·n + j]


def commutation(m: int, n: int, order: str = "row") -> np.ndarray:
    """K with K vec(X) = vec(Xᵀ) for every m×n matrix X, both flattened in the given order."""
    K = np.zeros((m * n, m * n))
    K[np.arange(m * n), commutation_index(m, n, order)] = 1.0
    return K


def _commutation_infer(shapes, m=1, n=1, **_):
    _positive("commutation", m, n)
    return (m * n, m * n)


def _commutation_linop(node, read):
    m, n, order = node.params["m"], node.params["n"], node.params["order"]
    if m == 1 or n == 1:
        return Identity(m * n)
    idx = commutation_index(m, n, order)
    return Transposition(idx, m, n) if order == "row" else Gather(idx, m * n)


def _commutation_rules():
    def vector(node):                                      # the transpose of a vector only reshapes it
        m, n = node.params["m"], node.params["n"]
        return _eye(m * n) if m == 1 or n == 1 else None
    return (vector,)


def _eye(n):
    from ..tree import call

    return call("eye", n=n)


register(Op("commutation", _commutation_infer,
            lambda node: commutation(node.params["m"], node.params["n"], node.params["order"]),
            as_linop=_commutation_linop, rewrite=_commutation_rules(),
            show=Show(uni=lambda p, node: f"K{p.sub(node.params['m'])},{p.sub(node.params['n'])}",
                      tex=lambda p, node: f"K_{{{node.params['m']},{node.params['n']}}}", prec=5,
                      literals=("m", "n")),
            help="commutation(m, n): K with K vec(X) = vec(Xᵀ) for m×n X, in the current --order (a constant)",
            example=("commutation(2, 3) @ vec(A)", "A=2x3"), params={"order": "row"}, family="constants"),
         spelled=("commutation",), operands=0, literals=("m", "n"), required=2, context=("order",))

