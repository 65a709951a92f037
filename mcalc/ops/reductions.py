"""Reductions, as numpy has them: along every axis or one (axis=0, axis=-1, axis=(0, 1)), with keepdims.  Sums
and means are linear (their maps are rows of ones, one factor per axis); prod, max, min, var, std, the norms,
log-sum-exp and softmax give their differentials; cumsum and diff are linear maps along an axis.  Ties in max and
min share the derivative equally (JAX's convention), and are kinks.
"""

from __future__ import annotations


import numpy as np

from ..algebra import const
from ..errors import ShapeError, UsageError
from ..printing import CALL
from ..tree import call, fmt_shape, size_of
from . import maps
from .core import (an_axis, FUNCTIONS, Fn, Op, ParamError, Show, axes_in_order, axis, flag, integer, lift, need_ndim, number,
                   one_axis, register, square, via)
from .structural import linear_jvp

KEEP = {"axis": axis, "keepdims": flag}          # the parameters every reduction takes, as numpy names them


def reduced_shape(shape, axis=None, keepdims=None) -> tuple:
    if axis is None:
        return (1,) * len(shape) if keepdims else ()
    if keepdims:
        return tuple(1 if i == axis else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i != axis)


def _reduce_infer(shapes, axis=None, keepdims=None, **_):
    s = shapes[0]
    if axis is not None and not 0 <= axis < len(s):
        raise ShapeError(f"axis {axis} is out of range for shape {fmt_shape(s)}")
    return reduced_shape(s, axis, keepdims)


def axes(node) -> tuple:
    """The reduced axes of a (possibly batched) value of the node's argument, counted from the end."""
    nd, a = node.args[0].ndim, node.params.get("axis")
    return tuple(range(-nd, 0)) if a is None else (a - nd,)


def count(node) -> int:
    """How many entries each result entry reduces."""
    shape, a = node.args[0].shape, node.params.get("axis")
    return size_of(shape) if a is None else shape[a]


def kept(r, node=None):
    """A reduced value r (of a reduction node) as it broadcasts against the node's argument: a matrix's row sums
    as a column."""
    node = node if node is not None else r
    if node.params.get("keepdims") or node.params.get("axis") != 1:
        return r
    return call("col", r)


def along(name, x, node, **extra):
    """The reduction name of x along the node's axes (keepdims as the node)."""
    return call(name, x, **{k: v for k, v in node.params.items() if k in ("axis", "keepdims")}, **extra)


def along_kept(name, x, node, **extra):
    """The reduction name of x along the node's axes, keeping them (to broadcast against x)."""
    a = node.params.get("axis")
    return call(name, x, **({} if a is None else {"axis": a}), keepdims=True, **extra)


def _reduction(name, fwd, jvp=None, linear=None, kinds=KEEP, spelled=None, methods=(), literals=("axis", "keepdims"),
               show_kwargs=("axis", "keepdims"), infer=_reduce_infer, help="", example=None, **kw):
    return register(Op(name, infer, fwd, jvp=jvp or linear_jvp, linear=linear,
                       show=kw.pop("show", None) or Show(kwargs=show_kwargs), example=example or (f"{name}(A, axis=0)",
                                                                                               "A=2x3"),
                       help=help, family="reductions", **kw),
                    spelled=spelled or (name,), methods=methods, literals=literals, kinds=kinds, help=help)


# --- sum and mean --------------------------------------------------------------------------------------------------

def _sum_fwd(mean: bool):
    def fwd(node, x):
        out = np.sum(x, axis=axes(node), keepdims=bool(node.params.get("keepdims")))
        return out / count(node) if mean else out
    return fwd


def _sum_linear(mean: bool):
    def linear(node, i, order):
        x = node.args[0]
        a, n = node.params.get("axis"), count(node)
        L = maps.ones(1, max(1, x.size)) if a is None else maps.reduce(x.shape, {a}, order)
        return const(1 / n) * L if mean and n > 1 else L
    return linear


for _name, _mean in (("sum", False), ("mean", True)):
    _reduction(_name, _sum_fwd(_mean), linear=_sum_linear(_mean), methods=(_name,),
               help=f"{_name} of all entries, or along an axis (axis=0, axis=-1, keepdims=True)")


# --- prod ----------------------------------------------------------------------------------------------------------

def _along_last(f):
    """f applied along the reduced axes of a node (moved last, and flattened for all of them)."""
    def g(node, x):
        ax = axes(node)
        if len(ax) == 1:
            return np.moveaxis(f(np.moveaxis(x, ax[0], -1)), -1, ax[0])
        nd = node.args[0].ndim
        b = x.shape[: x.ndim - nd]
        return f(x.reshape(b + (-1,))).reshape(x.shape)
    return g


def _exclusive_prod(v):
    """The product of the other entries along the last axis (prefix times suffix products: exact at zeros)."""
    one = np.ones_like(v[..., :1])
    left = np.cumprod(np.concatenate([one, v[..., :-1]], axis=-1), axis=-1)
    right = np.flip(np.cumprod(np.concatenate([one, np.flip(v, -1)[..., :-1]], axis=-1), axis=-1), -1)
    return left * right


register(Op("others", lambda s, **_: s[0], _along_last(_exclusive_prod),
            expand=lambda node: along_kept("prod", node.args[0], node) / node.args[0],
            help="the product of the other entries (along the axis): ∂ prod(x)/∂xᵢ, exact where xᵢ = 0",
            family="reductions"))


def _prod_jvp(node, tangents):
    (dx,) = tangents
    x = node.args[0]
    a = node.params.get("axis")
    return along("sum", call("others", x, **({} if a is None else {"axis": a})) * dx, node)


_reduction("prod", lambda node, x: np.prod(x, axis=axes(node), keepdims=bool(node.params.get("keepdims"))),
           jvp=_prod_jvp, methods=("prod",), example=("prod(A, axis=1)", "A=2x3"),
           sympy=lambda sp, node, x: _sympy_reduce(node, x, lambda v: sp.Mul(*v)),
           help="product of all entries, or along an axis")


def _sympy_reduce(node, x, f, keepdims=None):
    """A reduction of SymPy entries along the node's axes: f of each group of reduced entries."""
    x = np.asarray(x, dtype=object)
    a = node.params.get("axis")
    ax = list(range(x.ndim)) if a is None else [a]
    keep = [i for i in range(x.ndim) if i not in ax]
    moved = np.transpose(x, keep + ax).reshape([x.shape[i] for i in keep] + [-1])
    out = np.empty(moved.shape[:-1], dtype=object)
    for idx in np.ndindex(out.shape):
        out[idx] = f(list(moved[idx]))
    keepdims = node.params.get("keepdims") if keepdims is None else keepdims
    return out.reshape(reduced_shape(x.shape, a, keepdims))


# --- max and min -------------------------------------------------------------------------------------------------

def _extreme_fwd(f):
    def fwd(node, x):
        return f(x, axis=axes(node), keepdims=bool(node.params.get("keepdims")))
    return fwd


def _onehot_fwd(node, x):
    """1/k at the k entries that tie for the extreme (along the axis), 0 elsewhere."""
    ax, f = axes(node), np.max if node.params["of"] == "max" else np.min
    hit = (x.real == f(x.real, axis=ax, keepdims=True)).astype(float)
    return hit / np.sum(hit, axis=ax, keepdims=True)


def _onehot_expand(node):
    x = node.args[0]
    a = node.params.get("axis")
    hit = call("equal", x, call(node.params["of"], x, **({} if a is None else {"axis": a}), keepdims=True))
    return hit / call("sum", hit, **({} if a is None else {"axis": a}), keepdims=True)


def _show_onehot(p, node):
    x, a = node.args[0], node.params.get("axis")
    inner = p(x) + ("" if a is None else f", axis={a}")
    arg = f"\\operatorname{{arg{node.params['of']}}}\\left({inner}\\right)" if p.notation == "tex" else \
        f"arg{node.params['of']}({inner})"
    return (f"\\operatorname{{onehot}}\\left({arg}\\right)" if p.notation == "tex" else f"onehot({arg})"), CALL


register(Op("onehot", lambda s, **_: s[0], _onehot_fwd, expand=_onehot_expand, whole=True,
            show=Show(uni=_show_onehot, tex=_show_onehot),
            help="1 at the largest (smallest) entry along the axis, 1/k at each of k that tie: ∂ max(x)/∂x",
            family="reductions"))


def _extreme_jvp(node, tangents):
    """The derivative goes to the extreme entries, shared equally where they tie."""
    (dx,) = tangents
    a = node.params.get("axis")
    w = call("onehot", node.args[0], of=node.op.name, **({} if a is None else {"axis": a}))
    return along("sum", w * dx, node)


def _gap(node, x):
    """How far the extreme entry is from the next one (0 at a tie): a kink without sides."""
    def top_two(v):
        v = np.sort(v.real, axis=-1)
        if node.op.name == "max":
            v = -v[..., ::-1]
        return np.abs(v[..., 1] - v[..., 0]) if v.shape[-1] > 1 else np.full(v.shape[:-1], np.inf)
    ax = axes(node)
    if len(ax) == 1:
        return top_two(np.moveaxis(x, ax[0], -1))
    return top_two(x.reshape(x.shape[: x.ndim - node.args[0].ndim] + (-1,)))


for _name, _f, _sp in (("max", np.max, "Max"), ("min", np.min, "Min")):
    _reduction(_name, _extreme_fwd(_f), jvp=_extreme_jvp, spelled=(_name, f"a{_name}"), methods=(_name,),
               kink=_gap, sided=False, analytic=False, example=(f"{_name}(A, axis=0)", "A=2x3"),
               sympy=lambda sp, node, x, f=_sp: _sympy_reduce(node, x, lambda v: getattr(sp, f)(*v)),
               note="ties share the derivative equally",
               help="largest entry, or along an axis (amax); ties share the derivative equally" if _name == "max"
               else "smallest entry, or along an axis (amin); ties share the derivative equally")


# --- var and std ---------------------------------------------------------------------------------------------------

def _var_infer(shapes, axis=None, keepdims=None, ddof=None, **_):
    out = _reduce_infer(shapes, axis=axis, keepdims=keepdims)
    n = size_of(shapes[0]) if axis is None else shapes[0][axis]
    if ddof and n - ddof < 1:
        raise ShapeError(f"ddof={ddof} needs more than {ddof} entries to average, got {n}")
    return out


def _var_fwd(std: bool):
    def fwd(node, x):
        ax, n, ddof = axes(node), count(node), node.params.get("ddof", 0)
        c = x - np.mean(x, axis=ax, keepdims=True)
        v = np.sum(c * c, axis=ax, keepdims=bool(node.params.get("keepdims"))) / (n - ddof)
        return np.sqrt(v) if std else v
    return fwd


def _var_jvp(std: bool):
    def jvp(node, tangents):
        """d var = 2/(n - ddof) Σ (x - x̄) ⊙ dx; d std = d var / (2 std)."""
        (dx,) = tangents
        x = node.args[0]
        c = x - along_kept("mean", x, node)
        k = (1 if std else 2) / (count(node) - node.params.get("ddof", 0))
        d = const(k) * along("sum", c * dx, node)
        return d / node if std else d
    return jvp


def _sympy_var(std):
    def f(sp, node, x):
        n, ddof = count(node), node.params.get("ddof", 0)

        def var(v):
            m = sp.Add(*v) / n
            return sp.Add(*[(e - m) ** 2 for e in v]) / (n - ddof)
        return _sympy_reduce(node, x, (lambda v: sp.sqrt(var(v))) if std else var)
    return f


for _name, _std in (("var", False), ("std", True)):
    _reduction(_name, _var_fwd(_std), jvp=_var_jvp(_std), infer=_var_infer, methods=(_name,),
               kinds={**KEEP, "ddof": integer(0)}, literals=("axis", "ddof", "keepdims"),
               show_kwargs=("axis", "ddof", "keepdims"), sympy=_sympy_var(_std), example=(f"{_name}(A, axis=1)", "A=2x3"),
               help=("variance" if _name == "var" else "standard deviation") +
               " of all entries or along an axis; ddof=1 for the sample's")


# --- the trace -----------------------------------------------------------------------------------------------------

def _trace_map(n: int, order: str, offset: int = 0):
    """vec(I)ᵀ: the trace sums the diagonal (1 for a 1×1 matrix, which is its own trace); with an offset, the
    diagonal of eye(n, k=offset)."""
    if offset:
        return call("row", call("vec", call("offset_eye", n=n, k=offset), order=order))
    return maps.eye(1) if n == 1 else call("row", call("vec", maps.eye(n), order=order))


def _trace_infer(shapes, **_):
    square("trace", shapes[0])
    return ()


def _show_trace(tex):
    def show(p, node):
        if node.params.get("offset"):
            return p.call(node)
        inner = p(node.args[0])
        return f"\\operatorname{{tr}}\\left({inner}\\right)" if tex else f"tr({inner})"
    return show


register(Op("trace", _trace_infer, lambda node, x: np.trace(x, node.params.get("offset", 0), axis1=-2, axis2=-1),
            jvp=linear_jvp, linear=lambda node, i, order: _trace_map(node.args[0].shape[0], order,
                                                                    node.params.get("offset", 0)),
            spread=lambda node: min(node.args[0].shape),                  # (an entry sums the diagonal)
            show=Show(uni=_show_trace(False), tex=_show_trace(True), kwargs=("offset",)), example=("trace(A)", "A=3x3"),
            help="trace of a square matrix (offset: of a diagonal above or below)", family="reductions"),
         spelled=("trace", "tr"), methods=("trace",), literals=("offset",), kinds={"offset": integer()},
         derive=lambda shapes, given: {"offset": given.get("offset") or None},
         help="trace of a square matrix (offset=1: the sum of the diagonal above)")


# --- norms ---------------------------------------------------------------------------------------------------------

_VECTOR_ORDS = "None, 2, 1, inf, -inf, 0 or any p ≥ 1"
_MATRIX_ORDS = "None, 'fro', 'nuc', 2, -2, 1, -1, inf, -inf"


def _ord(v, shapes):
    """numpy's ord: a number (inf, -inf, 0, p ≥ 1) or 'fro' / 'nuc'."""
    if v is None or v in ("fro", "nuc"):
        return v
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (v not in (0, np.inf, -np.inf, -1, -2) and v < 1):
        raise ParamError(f"must be one of {_VECTOR_ORDS} for vectors, {_MATRIX_ORDS} for matrices; got {v!r}")
    return int(v) if float(v).is_integer() else float(v)


_ord.words = "numpy's ord"


def _matrix_norm(node) -> bool:
    return node.args[0].ndim == 2 and node.params.get("axis") is None


def _norm_infer(shapes, ord=None, axis=None, keepdims=None, **_):
    out = _reduce_infer(shapes, axis=axis, keepdims=keepdims)
    matrix = len(shapes[0]) == 2 and axis is None
    ok = ("fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf) if matrix else (None,)
    if ord is not None and matrix and ord not in ok:
        raise ShapeError(f"ord={ord!r} is not a matrix norm (matrix norms: {_MATRIX_ORDS})")
    if ord in ("fro", "nuc") and not matrix:
        raise ShapeError(f"ord={ord!r} is a matrix norm; this is a norm of {'a vector' if len(shapes[0]) == 1 else 'vectors along an axis'}")
    return out


_TRANSPOSED = {1: np.inf, np.inf: 1, -1: -np.inf, -np.inf: -1}     # ‖Aᵀ‖₁ = ‖A‖∞: column sums are row sums


def _norm_params(shapes, given):
    """numpy's axis=(1, 0) is the matrix norm of Aᵀ; canonical: one axis as an integer, both as none, and no ord
    for the default (2 for vectors, 'fro' for matrices)."""
    axes_, ord_ = given.get("axis"), given.get("ord")
    if axes_ is not None and len(axes_) == 2:
        if axes_ == (1, 0):
            ord_ = _TRANSPOSED.get(ord_, ord_)
        axes_ = None
    elif axes_ is not None:
        axes_ = axes_[0] if len(shapes[0]) == 2 else None
    matrix = len(shapes[0]) == 2 and axes_ is None
    if ord_ == ("fro" if matrix else 2):
        ord_ = None
    return {"axis": axes_, "ord": ord_}


def _meaning(node):
    """What the norm is, in other operations (where its derivative is read from)."""
    x, p = node.args[0], node.params.get("ord")
    kw = {k: v for k, v in node.params.items() if k in ("axis", "keepdims")}
    if _matrix_norm(node):
        if p in (1, -1, np.inf, -np.inf):           # the largest (smallest) column / row sum of |X|
            out = call("max" if p > 0 else "min", call("sum", call("abs", x), axis=0 if abs(p) == 1 else 1))
        else:                                       # the largest, smallest or all singular values
            s = call("svdvals", x)
            out = call("sum", s) if p == "nuc" else call("max" if p > 0 else "min", s)
        return call("reshape", out, shape=node.shape) if node.shape else out
    if p == 1:
        return call("sum", call("abs", x), **kw)
    if p in (np.inf, -np.inf):
        return call("max" if p > 0 else "min", call("abs", x), **kw)
    if p == 0:
        return call("sum", call("not_equal", x, 0.0), **kw)
    return call("power", call("sum", call("power", call("abs", x), float(p)), **kw), 1.0 / p)


def _two_norm(x, axis=None, keepdims=False):
    """sqrt(Σ x²) scaled by the largest |x| first, so that neither x² underflows (1e-200) nor overflows (1e200)."""
    s = np.max(np.abs(x), axis=axis, keepdims=True) if np.size(x) else np.zeros((1,) * np.ndim(x))
    safe = np.where(s > 0, s, 1.0)
    y = x / safe
    out = safe * np.sqrt(np.sum(y * y, axis=axis, keepdims=True))
    out = np.where(s > 0, out, 0.0)
    return out if keepdims else np.squeeze(out, axis=axis) if axis is not None else out.reshape(())


def _norm_fwd(node, x):
    p, ax, keep = node.params.get("ord"), axes(node), bool(node.params.get("keepdims"))
    if p is None:
        return _two_norm(x, ax, keep)
    if _matrix_norm(node):
        if p in ("nuc", 2, -2):
            s = np.linalg.svd(x, compute_uv=False)
            out = np.sum(s, axis=-1) if p == "nuc" else s[..., 0] if p == 2 else s[..., -1]
        else:
            sums = np.sum(np.abs(x), axis=-2 if abs(p) == 1 else -1)
            out = (np.max if p > 0 else np.min)(sums, axis=-1)
        return out.reshape(out.shape + (1, 1)) if keep else out
    a = np.abs(x)
    if p == 0:
        return np.sum(x != 0, axis=ax, keepdims=keep).astype(float)
    if p in (np.inf, -np.inf):
        return (np.max if p > 0 else np.min)(a, axis=ax, keepdims=keep)
    return np.sum(a ** p, axis=ax, keepdims=keep) ** (1.0 / p)


def _norm_jvp(node, tangents):
    (dx,) = tangents
    x = node.args[0]
    if node.params.get("ord") is not None:
        return via(_meaning)(node, tangents)
    if node.params.get("axis") is not None or node.params.get("keepdims"):
        return along("sum", x / kept(node) * dx, node)                 # x/‖x‖ along the axis
    u = call("unit", x)
    if x.ndim == 2:
        return call("trace", call("matmul", u.T, dx))              # the Frobenius inner product ⟨X/‖X‖, dX⟩
    return call("matmul", u, dx) if x.ndim == 1 else u * dx


def _norm_kink(node, x):
    """0 where the norm is not differentiable: at 0 (the 2-norm, p-norms), where an entry is 0 (the 1- and
    inf-norms), at a tie of the largest entries (the inf-norm) or column (row) sums (the matrix 1- and inf-norms)."""
    p = node.params.get("ord")
    if _matrix_norm(node) and p in ("nuc", 2, -2):           # a zero or repeated singular value
        s = np.linalg.svd(x.real, compute_uv=False)
        if s.shape[-1] < 2:                                  # (one singular value: no tie)
            return np.min(s)
        gaps = [np.min(np.diff(s))] if p == "nuc" else [s[0] - s[1]] if p == 2 else [s[-2] - s[-1]]
        return min(np.min(np.abs(gaps)), np.min(s))
    if p is None or p not in (0, 1, -1, np.inf, -np.inf):
        return _norm_fwd(node, x)
    a = np.abs(x.real)
    if _matrix_norm(node):
        a = np.sum(a, axis=-2 if abs(p) == 1 else -1)
    elif p in (0, 1, -1):
        return np.min(a)
    top = np.sort(a.reshape(-1) if node.params.get("axis") is None else np.moveaxis(a, node.params["axis"], -1), -1)
    gap = (top[..., -1] - top[..., -2]) if p > 0 else (top[..., 1] - top[..., 0])
    return min(np.min(gap) if top.shape[-1] > 1 else np.inf, np.min(np.abs(x.real)))


def _norm_sympy(sp, node, x):
    p = node.params.get("ord")
    if _matrix_norm(node) and p in ("nuc", 2, -2):
        raise UsageError(f"mcalc has no symbolic form of norm(X, {p!r})", hint="drop --symbolic")
    if _matrix_norm(node) and p is not None:
        col = abs(p) == 1
        sums = [sp.Add(*[sp.Abs(v) for v in (x[:, j] if col else x[j, :])]) for j in range(x.shape[1 if col else 0])]
        out = (sp.Max if p > 0 else sp.Min)(*sums)
        return np.full(node.shape, out, dtype=object) if node.shape else out

    def one(v):
        if p is None:
            return sp.sqrt(sp.Add(*[e ** 2 for e in v]))
        if p in (np.inf, -np.inf):
            return (sp.Max if p > 0 else sp.Min)(*[sp.Abs(e) for e in v])
        if p == 0:
            return sp.Add(*[sp.Piecewise((0, sp.Eq(e, 0)), (1, True)) for e in v])
        return sp.Add(*[sp.Abs(e) ** p for e in v]) ** sp.Rational(1, p) if isinstance(p, int) else \
            sp.Add(*[sp.Abs(e) ** p for e in v]) ** (1 / p)
    return _sympy_reduce(node, x, one)


def _show_norm(p, node):
    text = f"‖{p(node.args[0])}‖" if p.notation == "uni" else f"\\left\\lVert {p(node.args[0])}\\right\\rVert"
    o = node.params.get("ord")
    if o is not None:
        sub = {np.inf: "∞", -np.inf: "-∞", "fro": "F", "nuc": "*"}.get(o, str(o))
        if p.notation == "tex":
            sub = {"∞": "\\infty", "-∞": "-\\infty"}.get(sub, sub)
        text += p.sub(sub) if p.notation == "tex" else (p.sub(sub) if sub.lstrip("-").isdigit() else sub)
    if node.params.get("axis") is not None or node.params.get("keepdims"):
        return p.call(node), 6
    return text, 6


register(Op("norm", _norm_infer, _norm_fwd, jvp=_norm_jvp, kink=_norm_kink, sided=False, sympy=_norm_sympy,
            analytic=False,
            show=Show(uni=_show_norm, tex=_show_norm, literals=("ord",), kwargs=("axis", "keepdims")),
            example=("norm(x)", "x=3"),
            note="kinks at 0, and for ord 1 and inf where an entry is 0 or the largest tie",
            help="a vector norm (ord 2, 1, inf, p) or matrix norm ('fro', 1, inf), of all entries or along an axis",
            family="reductions"),
         spelled=("norm",), literals=("ord", "axis", "keepdims"), kinds={"ord": _ord, **KEEP, "axis": axes_in_order},
         derive=_norm_params,
         help="norm(x, ord=None, axis=None): numpy.linalg.norm (vectors: 2, 1, inf, -inf, 0, p; matrices: 'fro', "
              "1, -1, inf, -inf)")


def _unit_fwd(node, x):
    """x / ‖x‖, and 0 at x = 0: the subgradient of the norm there (as abs has), so that ‖r‖² is differentiable
    at r = 0."""
    s = np.max(np.abs(x)) if np.size(x) else 0.0
    if not s:
        return np.zeros_like(x)
    y = x / s                                        # (scaled: x = 1e-200 has a direction too)
    return y / np.sqrt(np.sum(y * y))


register(Op("unit", lambda s, **_: s[0], _unit_fwd, expand=lambda node: node.args[0] / call("norm", node.args[0]),
            help="x / ‖x‖, 0 at x = 0 (inside derivatives of the norm)", family="reductions"))


# --- softmax, log-softmax and log-sum-exp --------------------------------------------------------------------------

def _needs_axis(label):
    def derive(shapes, given):
        if len(shapes[0]) == 2 and "axis" not in given:
            raise ParamError("of a matrix needs axis= (scipy's default is every entry, jax.nn's the last axis)",
                             hint=f"{label}(X, axis=-1) for each row, {label}(X, axis=0) for each column, "
                                  f"{label}(X, axis=None) for all entries")
        return {}
    return derive


def _softmax_fwd(node, x):
    ax = axes(node)
    e = np.exp(x - np.max(x.real, axis=ax, keepdims=True))
    return e / np.sum(e, axis=ax, keepdims=True)


def _lse(node, x, keepdims):
    ax = axes(node)
    m = np.max(x.real, axis=ax, keepdims=True)
    out = m + np.log(np.sum(np.exp(x - m), axis=ax, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=ax)


def _softmax_jvp(node, tangents):
    (dx,) = tangents
    s = node
    if s.ndim == 1:
        return s * dx - s * (s @ dx)                                 # (diag(s) - s sᵀ) dx
    return s * dx - s * along_kept("sum", s * dx, node)


def _log_softmax_jvp(node, tangents):
    (dx,) = tangents
    x = node.args[0]
    s = call("softmax", x, **{k: v for k, v in node.params.items() if k == "axis"})
    if x.ndim == 1:
        return dx - s @ dx
    return dx - along_kept("sum", s * dx, node)


def _logsumexp_jvp(node, tangents):
    (dx,) = tangents
    x = node.args[0]
    s = call("softmax", x, **{k: v for k, v in node.params.items() if k == "axis"})
    if x.ndim == 1:
        return s @ dx
    return along("sum", s * dx, node)


def _sympy_softmax(log):
    def f(sp, node, x):
        x = np.asarray(x, dtype=object)
        lse = _sympy_reduce(node, x, lambda v: sp.log(sp.Add(*[sp.exp(e) for e in v])), keepdims=True)
        return x - lse if log else np.vectorize(sp.exp, otypes=[object])(x - lse)
    return f


def _same(shapes, axis=None, **_):
    _reduce_infer(shapes, axis=axis)
    return shapes[0]


for _name, _fwd, _jvp, _sp, _help in (
        ("softmax", _softmax_fwd, _softmax_jvp, _sympy_softmax(False), "exp(x) / Σ exp(x), of a vector or along an axis"),
        ("log_softmax", lambda node, x: x - _lse(node, x, True), _log_softmax_jvp, _sympy_softmax(True),
         "x - logsumexp(x), of a vector or along an axis")):
    register(Op(_name, _same, _fwd, jvp=_jvp, sympy=_sp, saturates=True, symbol="s" if _name == "softmax" else None,
                show=Show(kwargs=("axis",)), example=(f"{_name}(x)", "x=3"), help=_help, family="reductions"),
             spelled=(_name,), literals=("axis",), kinds={"axis": axis}, derive=_needs_axis(_name), help=_help)

register(Op("logsumexp", _reduce_infer, lambda node, x: _lse(node, x, bool(node.params.get("keepdims"))),
            jvp=_logsumexp_jvp, saturates=True, show=Show(kwargs=("axis", "keepdims")),
            sympy=lambda sp, node, x: _sympy_reduce(node, x, lambda v: sp.log(sp.Add(*[sp.exp(e) for e in v]))),
            example=("logsumexp(x)", "x=3"), help="log Σ exp(x), of all entries or along an axis",
            family="reductions"),
         spelled=("logsumexp",), literals=("axis", "keepdims"), kinds=KEEP,
         help="log Σ exp(x), of all entries or along an axis (scipy.special.logsumexp)")


# --- cumulative sums and products, differences -------------------------------------------------------------------

def _cum_infer(shapes, axis=None, **_):
    s = shapes[0]
    need_ndim("cumsum", s, (1, 2), "a vector or a matrix")
    return (size_of(s),) if axis is None and len(s) == 2 else s


def _cum_fwd(f):
    def fwd(node, x):
        nd = node.args[0].ndim
        a = node.params.get("axis")
        if a is None:
            return f(x.reshape(x.shape[: x.ndim - nd] + (-1,)), axis=-1)
        return f(x, axis=a - nd)
    return fwd


def _cumsum_linear(node, i, order):
    x, a = node.args[0], node.params.get("axis")
    if x.ndim < 2:
        return call("tri", n=max(1, x.size))
    if a is None:                                      # numpy flattens first, row by row
        return maps.compose(call("tri", n=x.size), maps.row_major(x.shape, order))
    return maps.per_axis([call("tri", n=d) if k == a else maps.eye(d) for k, d in enumerate(x.shape)], order)


register(Op("cumsum", _cum_infer, _cum_fwd(np.cumsum), jvp=linear_jvp, linear=_cumsum_linear,
            spread=lambda node: max(node.args[0].shape, default=1),      # (up to a whole axis, or all entries)
            show=Show(kwargs=("axis",)),
            example=("cumsum(A, axis=1)", "A=2x3"),
            help="running sums (of the flattened array, or along an axis)", family="reductions"),
         spelled=("cumsum",), methods=("cumsum",), literals=("axis",), kinds={"axis": one_axis},
         help="running sums along an axis (numpy.cumsum; no axis: of the flattened array)")


def _cumprod_domain(node, x):
    if np.any(x.real == 0):
        return "mcalc differentiates cumprod where no entry is 0"
    return None


register(Op("cumprod", _cum_infer, _cum_fwd(np.cumprod), domain=_cumprod_domain,
            jvp=lambda node, t: node * call("cumsum", t[0] / node.args[0], **node.params),
            show=Show(kwargs=("axis",)), example=("cumprod(x)", "x=3"),
            help="running products (of the flattened array, or along an axis); entries nonzero", family="reductions"),
         spelled=("cumprod",), methods=("cumprod",), literals=("axis",), kinds={"axis": one_axis},
         help="running products along an axis (numpy.cumprod; no axis: of the flattened array)")


def _diff_params(shapes, given):
    """numpy's defaults (the last axis, n = 1) are written canonically as none."""
    a = given.get("axis")
    return {"axis": None if a is None or a == len(shapes[0]) - 1 else a, "n": None if given.get("n") == 1 else
            given.get("n")}


def _diff_infer(shapes, n=1, axis=None, **_):
    s = shapes[0]
    need_ndim("diff", s, (1, 2), "a vector or a matrix")
    a = len(s) - 1 if axis is None else axis
    if s[a] - n < 1:
        raise ShapeError(f"diff of order {n} needs more than {n} entries along axis {a}, got {s[a]}")
    return tuple(d - n if k == a else d for k, d in enumerate(s))


def _diff_axis(node) -> int:
    a = node.params.get("axis")
    return node.args[0].ndim - 1 if a is None else a


def _diff_linear(node, i, order):
    x, n, a = node.args[0], node.params.get("n", 1), _diff_axis(node)
    D = None
    for k in range(n):                                  # each difference: the rows 1: minus the rows :-1 of I
        d = x.shape[a] - k
        step = maps.select((slice(1, None),), (d,), "row") - maps.select((slice(None, d - 1),), (d,), "row")
        D = step if D is None else maps.compose(step, D)
    return maps.per_axis([D if k == a else maps.eye(m) for k, m in enumerate(x.shape)], order)


register(Op("diff", _diff_infer, lambda node, x: np.diff(x, n=node.params.get("n", 1),
                                                         axis=_diff_axis(node) - node.args[0].ndim),
            jvp=linear_jvp, linear=_diff_linear, show=Show(kwargs=("n", "axis")), example=("diff(x)", "x=4"),
            help="differences of neighbours (n times), along the last axis or axis=", family="reductions"),
         spelled=("diff",), literals=("n", "axis"), kinds={"n": integer(1), "axis": an_axis}, derive=_diff_params,
         help="x[1:] - x[:-1] along an axis, n times (numpy.diff)")


# --- standardize: (x - mean) / sqrt(var + epsilon) ---------------------------------------------------------------

def _standardize_meaning(node):
    x, eps = node.args[0], node.params.get("epsilon", 1e-5)
    kw = {} if node.params.get("axis") is None else {"axis": node.params["axis"]}
    return (x - call("mean", x, keepdims=True, **kw)) / call("sqrt", call("var", x, keepdims=True, **kw) + eps)


def _standardize_fwd(node, x):
    ax, eps = axes(node), node.params.get("epsilon", 1e-5)
    c = x - np.mean(x, axis=ax, keepdims=True)
    return c / np.sqrt(np.mean(c * c, axis=ax, keepdims=True) + eps)


def _last_axis(shapes, given):
    """jax.nn.standardize normalizes along the last axis unless told otherwise."""
    nd = len(shapes[0])
    a = given.get("axis", nd - 1 if nd else None)
    return {"axis": None if nd < 2 or a is None else a}


def _standardize_sympy(sp, node, x):
    x = np.asarray(x, dtype=object)
    eps = sp.nsimplify(node.params.get("epsilon", 1e-5))
    mean = _sympy_reduce(node, x, lambda v: sp.Add(*v) / len(v), keepdims=True)
    var = _sympy_reduce(node, (x - mean) ** 2, lambda v: sp.Add(*v) / len(v), keepdims=True)
    return (x - mean) / np.vectorize(sp.sqrt, otypes=[object])(var + eps)


register(Op("standardize", _same, _standardize_fwd, jvp=via(_standardize_meaning), sympy=_standardize_sympy,
            show=Show(kwargs=("axis", "epsilon")), example=("standardize(x)", "x=4"), saturates=True,
            help="(x - mean) / sqrt(var + epsilon) along the last axis (epsilon=1e-5)", family="reductions"),
         spelled=("standardize",), literals=("axis", "epsilon"), kinds={"axis": axis, "epsilon": number},
         derive=_last_axis, help="jax.nn.standardize: (x - mean) / sqrt(var + epsilon), along the last axis")


# --- average: weighted means -------------------------------------------------------------------------------------

def _weights_of(shape_a, shape_w, axis_):
    """How weights broadcast against the array: the same shape, or (along an axis) one weight per position."""
    if tuple(shape_w) == tuple(shape_a):
        return "same"
    if len(shape_w) == 1 and axis_ is not None and shape_w[0] == shape_a[axis_]:
        return "column" if axis_ == 0 and len(shape_a) == 2 else "same"
    raise ShapeError(f"average's weights of shape {fmt_shape(shape_w)} fit neither the array's shape "
                     f"{fmt_shape(shape_a)} nor its axis", hint="numpy: the same shape, or one weight per entry of "
                                                                "the axis")


def _average_infer(shapes, axis=None, keepdims=None, **_):
    _weights_of(shapes[0], shapes[1], axis)
    return _reduce_infer(shapes[:1], axis=axis, keepdims=keepdims)


def _weights_node(node):
    a, w = node.args
    return call("col", w) if _weights_of(a.shape, w.shape, node.params.get("axis")) == "column" else w


def _average_meaning(node):
    a, w = node.args[0], _weights_node(node)
    kw = {k: v for k, v in node.params.items() if k in ("axis", "keepdims")}
    spread = w if w.shape == a.shape else w * call("ones", **dict(zip("mn", a.shape)))   # a weight per row, column
    return call("sum", a * w, **kw) / call("sum", spread, **kw)


def _weights_broadcast(node, a, w):
    """The weights shaped like the (possibly batched) array: a weight per row as a column, per column as a row."""
    if _weights_of(node.args[0].shape, node.args[1].shape, node.params.get("axis")) == "column":
        w = w[..., :, None]
    else:
        w = lift(w, node.args[1].ndim, node.args[0].ndim)
    return np.broadcast_to(w, np.broadcast_shapes(np.shape(w), np.shape(a)))


def _average_fwd(node, a, w):
    ax, keep = axes(node), bool(node.params.get("keepdims"))
    w = _weights_broadcast(node, a, w)
    return np.sum(a * w, axis=ax, keepdims=keep) / np.sum(w, axis=ax, keepdims=keep)


def _average_domain(node, a, w):
    if np.any(np.sum(_weights_broadcast(node, a, w), axis=axes(node)) == 0):
        return "average's weights sum to 0"
    return None


register(Op("average", _average_infer, _average_fwd, jvp=via(_average_meaning), domain=_average_domain,
            show=Show(mc=lambda p, node: (f"average({p(node.args[0])}"
                                          + "".join(f", {k}={node.params[k]}" for k in ("axis", "keepdims")
                                                    if node.params.get(k) is not None)
                                          + f", weights={p(node.args[1])})", 6)),
            example=("average(x, weights=w)", "x=3,w=3"), help="the weighted mean sum(a w) / sum(w) (weights=)",
            family="reductions"))
FUNCTIONS["average"] = Fn("mean", literals=("axis", "keepdims"), kinds=KEEP, operand_kw=("weights",),
                          dispatch=lambda shapes, given: "average" if len(shapes) == 2 else "mean", reaches=("average",),
                          help="numpy.average(a, axis=None, weights=None): the (weighted) mean")
