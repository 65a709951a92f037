"""The operations of the language: each one's shape rule, forward numpy function and local derivative rules.

A rule is declared next to its primitive and by its class, as in JAX: element-wise functions give ``diag(f'(x))``;
structural ops (transpose, indexing, diag, vec, stacking) are linear and move entries, so their rule is the
``Gather`` obtained by running the op on entry numbers; sums are adjoints of broadcasts; products are bilinear and
give one rule per operand; ``@`` gives the Kronecker products of ``linops``.  Rules never see the engine.

Forward functions take arrays whose trailing axes have the node's argument shapes and which may carry one extra
leading batch axis (finite differences evaluate many perturbations at once), so they index from the end.
A rule gets the node, its value and its arguments' values (unbatched) and returns a ``LinOp`` of shape
(node.size, args[argnum].size).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import numpy as np

from .errors import ShapeError
from .linops import Dense, Diag, Gather, Identity, Kron, Sum, Transposed, Zero


@dataclass(frozen=True)
class Op:
    name: str
    infer: Callable            # (arg_shapes: list[tuple], **params) -> output shape; raises ShapeError
    fwd: Callable              # (node, *vals) -> value
    rules: tuple               # rules[i]: (node, ans, *vals) -> LinOp, d node / d args[i] (indexable, for stack)
    domain: Callable | None = None   # (node, *vals) -> message when the arguments are outside the domain
    analytic: bool = True      # complex-analytic, so the complex-step method applies
    rule_doc: str = ""         # the differential, for humans
    needs_invertible: bool = False   # default values must make its argument well conditioned
    saturates: bool = False    # flat or explosive away from 0: default values should be small
    work: Callable | None = None     # (node) -> rough flops of one evaluation, when not about its size
    kink_at_zero: bool = False       # not differentiable where its argument is 0: default values avoid it
    flat: bool = False               # piecewise constant (sign, step): a zero derivative wherever there is one
    params: dict | None = None       # fixed parameters every node of this op gets (mean: {"mean": True})


OPS: dict[str, Op] = {}


def register(op: Op) -> Op:
    OPS[op.name] = op
    return op


def size_of(shape) -> int:
    return math.prod(shape)                             # exact: numpy's int64 product would wrap around


def core(x: np.ndarray, nd: int) -> tuple[int, ...]:
    """Leading (batch) axes of a value whose trailing nd axes are its shape."""
    return x.shape[: x.ndim - nd]


def lift(x: np.ndarray, nd: int, out_nd: int) -> np.ndarray:
    """Insert axes between the batch axes and the nd trailing axes so the value has out_nd trailing axes."""
    if nd == out_nd:
        return x
    b = core(x, nd)
    return x.reshape(b + (1,) * (out_nd - nd) + x.shape[len(b):])


@lru_cache(maxsize=256)
def broadcast_index(shape: tuple, out_shape: tuple) -> np.ndarray:
    """For each entry of out_shape, the row-major index of the entry of shape that broadcasting copies there."""
    idx = np.broadcast_to(np.arange(size_of(shape)).reshape(shape), out_shape).ravel()
    idx.setflags(write=False)
    return idx


def _entry(shape, flat) -> str:
    if not shape:
        return ""
    return "[" + ", ".join(str(int(i)) for i in np.unravel_index(int(flat), shape)) + "]"


def first_bad(mask: np.ndarray, x: np.ndarray, shape) -> str:
    """'-1 at [0, 1]' for the first entry where mask holds (mask and x carry a possible batch axis)."""
    both = np.broadcast_shapes(np.shape(mask), np.shape(x))         # (2**x: the base is a scalar)
    flat = np.flatnonzero(np.broadcast_to(mask, both))[0]
    v = np.broadcast_to(x, both).ravel()[flat]
    v = v.real if np.iscomplexobj(v) else v
    return f"{float(v):g}" + (f" at {_entry(shape, flat % max(size_of(shape), 1))}" if shape else "")


# --- structural rule: run the op on entry numbers --------------------------------------------------------------

def structural_rule(argnum: int):
    """The rule of an op whose every output entry is one input entry or zero (transpose, index, diag, vec):
    evaluate the op on the numbers 1..n of the argument's entries (zeros for the other arguments)."""

    def rule(node, ans, *vals):
        codes = [np.zeros(a.shape) for a in node.args]
        arg = node.args[argnum]
        codes[argnum] = np.arange(1, arg.size + 1, dtype=float).reshape(arg.shape)
        out = np.asarray(node.op.fwd(node, *codes)).ravel()
        return Gather.make(out.astype(np.intp) - 1, arg.size)

    return rule


def product_rule(argnum: int):
    """The rule of a bilinear op whose every output entry is one entry of each argument multiplied together
    (broadcasting *, outer, kron): which entry, from running the op on entry numbers with ones for the other
    argument; its weight, from running it with ones in place of this argument."""

    def rule(node, ans, *vals):
        arg = node.args[argnum]
        numbers = np.arange(1, arg.size + 1, dtype=float).reshape(arg.shape)
        with_numbers = [numbers if i == argnum else np.ones(np.shape(v)) for i, v in enumerate(vals)]
        with_ones = [np.ones(arg.shape) if i == argnum else v for i, v in enumerate(vals)]
        idx = np.rint(np.asarray(node.op.fwd(node, *with_numbers))).astype(np.intp).ravel() - 1
        w = np.asarray(node.op.fwd(node, *with_ones), dtype=float).ravel()
        return Gather.make(idx, arg.size, w)

    return rule


# --- shape helpers ---------------------------------------------------------------------------------------------

def same_shape(shapes, **_):
    return shapes[0]


def need_ndim(label, shape, allowed, what):
    if len(shape) not in allowed:
        kinds = {0: "a scalar", 1: "a vector", 2: "a matrix"}
        raise ShapeError(f"{label} needs {what}, got {kinds.get(len(shape), 'an array')} of shape {fmt_shape(shape)}")


def fmt_shape(shape) -> str:
    return "scalar ()" if not shape else "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def square(label, shape):
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ShapeError(f"{label} needs a square matrix, got shape {fmt_shape(shape)}")


# --- element-wise functions ---------------------------------------------------------------------------------

def unary(name, f, df, doc, domain=None, analytic=True, saturates=False, kink_at_zero=False, flat=False):
    """Register an element-wise function f with derivative df(x, ans): its rule is diag(f'(x))."""

    def fwd(node, x):
        return f(x)

    def rule(node, ans, x):
        d = df(x, ans)
        return Diag(d if np.ndim(d) == 0 else np.broadcast_to(d, np.shape(x)).ravel(), np.size(x))

    return register(Op(name, same_shape, fwd, (rule,), domain=domain, analytic=analytic, rule_doc=doc,
                       saturates=saturates, kink_at_zero=kink_at_zero, flat=flat))


def _where(cond_fn, msg):
    def domain(node, x):
        bad = cond_fn(x.real if np.iscomplexobj(x) else x)
        if np.any(bad):
            return f"{msg}, got {first_bad(bad, x, node.args[0].shape)}"
        return None
    return domain


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))        # stable for large |x| and complex-analytic


def _softplus(x):
    return np.log1p(np.exp(x)) if np.iscomplexobj(x) else np.logaddexp(0.0, x)


unary("neg", np.negative, lambda x, y: -1.0, "d(-x) = -dx")
unary("exp", np.exp, lambda x, y: y, "d exp(x) = exp(x) ⊙ dx", saturates=True)
unary("log", np.log, lambda x, y: 1.0 / x, "d log(x) = dx ⊘ x",
      domain=_where(lambda x: x <= 0, "log needs positive arguments"))
unary("sqrt", np.sqrt, lambda x, y: 0.5 / y, "d sqrt(x) = dx ⊘ (2 sqrt(x))",
      domain=_where(lambda x: x < 0, "sqrt needs non-negative arguments"))
unary("sin", np.sin, lambda x, y: np.cos(x), "d sin(x) = cos(x) ⊙ dx")
unary("cos", np.cos, lambda x, y: -np.sin(x), "d cos(x) = -sin(x) ⊙ dx")
unary("tan", np.tan, lambda x, y: 1.0 + y * y, "d tan(x) = (1 + tan(x)²) ⊙ dx")
unary("arcsin", np.arcsin, lambda x, y: 1.0 / np.sqrt(1.0 - x * x), "d arcsin(x) = dx ⊘ sqrt(1 - x²)",
      domain=_where(lambda x: np.abs(x) > 1, "arcsin needs arguments in [-1, 1]"))
unary("arccos", np.arccos, lambda x, y: -1.0 / np.sqrt(1.0 - x * x), "d arccos(x) = -dx ⊘ sqrt(1 - x²)",
      domain=_where(lambda x: np.abs(x) > 1, "arccos needs arguments in [-1, 1]"))
unary("arctan", np.arctan, lambda x, y: 1.0 / (1.0 + x * x), "d arctan(x) = dx ⊘ (1 + x²)")
unary("sinh", np.sinh, lambda x, y: np.cosh(x), "d sinh(x) = cosh(x) ⊙ dx", saturates=True)
unary("cosh", np.cosh, lambda x, y: np.sinh(x), "d cosh(x) = sinh(x) ⊙ dx", saturates=True)
unary("tanh", np.tanh, lambda x, y: 1.0 - y * y, "d tanh(x) = (1 - tanh(x)²) ⊙ dx", saturates=True)
unary("sigmoid", _sigmoid, lambda x, y: y * (1.0 - y), "d σ(x) = σ(x)(1 - σ(x)) ⊙ dx", saturates=True)
unary("softplus", _softplus, lambda x, y: _sigmoid(x), "d softplus(x) = σ(x) ⊙ dx", saturates=True)
unary("square", np.square, lambda x, y: 2.0 * x, "d x² = 2x ⊙ dx")
unary("relu", lambda x: np.maximum(x, 0.0), lambda x, y: (x > 0).astype(float),
      "d relu(x) = [x > 0] ⊙ dx  (0 at x = 0)", analytic=False, kink_at_zero=True)
unary("abs", np.abs, lambda x, y: np.sign(x), "d |x| = sign(x) ⊙ dx  (0 at x = 0)", analytic=False,
      kink_at_zero=True)
unary("sign", np.sign, lambda x, y: 0.0, "d sign(x) = 0  (a jump at x = 0)", analytic=False, kink_at_zero=True,
      flat=True)
unary("step", lambda x: (x > 0).astype(float), lambda x, y: 0.0, "d [x > 0] = 0  (a jump at x = 0; step(0) = 0)",
      analytic=False, kink_at_zero=True, flat=True)


# --- broadcasting binary operations ----------------------------------------------------------------------------

def _broadcast_infer(symbol):
    def infer(shapes, **_):
        try:
            return tuple(np.broadcast_shapes(*shapes))
        except ValueError:
            raise ShapeError(f"'{symbol}': shapes {fmt_shape(shapes[0])} and {fmt_shape(shapes[1])} do not broadcast",
                             hint="numpy broadcasting: trailing dimensions must be equal or 1") from None
    return infer


def binary(name, symbol, f, partials, doc, domain=None, product=False):
    """Register a broadcasting binary operation with partial derivatives partials[i](a, b, ans) (arrays or
    scalars, broadcast to the output); the rule gathers each output entry's operand entry with that weight."""

    def fwd(node, a, b):
        nd = len(node.shape)
        return f(lift(a, len(node.args[0].shape), nd), lift(b, len(node.args[1].shape), nd))

    def make_rule(i):
        if product:
            return product_rule(i)

        def rule(node, ans, a, b):
            arg = node.args[i]
            nd = len(node.shape)
            w = partials[i](lift(a, len(node.args[0].shape), nd), lift(b, len(node.args[1].shape), nd), ans)
            if np.ndim(w) == 0 and arg.shape == node.shape:
                return Diag(w, arg.size)
            w = None if np.ndim(w) == 0 and w == 1 else np.broadcast_to(w, node.shape).ravel()
            return Gather.make(broadcast_index(arg.shape, node.shape), arg.size, w)
        return rule

    return register(Op(name, _broadcast_infer(symbol), fwd, (make_rule(0), make_rule(1)), domain=domain,
                       rule_doc=doc))


def _div_domain(node, a, b):
    bb = b.real if np.iscomplexobj(b) else b
    if np.any(bb == 0):
        return f"division by zero: the divisor is {first_bad(bb == 0, b, node.args[1].shape)}"
    return None


def _pow_domain(node, a, b):
    nd = len(node.shape)
    a = lift(a, len(node.args[0].shape), nd)
    b = lift(b, len(node.args[1].shape), nd)
    ar, br = (a.real, b.real) if np.iscomplexobj(a) or np.iscomplexobj(b) else (a, b)
    bad = (ar < 0) & (br != np.round(br))
    if np.any(bad):
        return f"a negative base to a non-integer power: base {first_bad(bad, a, node.shape)}"
    bad = (ar == 0) & (br < 0)
    if np.any(bad):
        return f"zero to a negative power: base {first_bad(bad, a, node.shape)}"
    return None


def _pow_da(a, b, ans):
    return np.where(b == 0, 0.0, b * a ** (b - 1))         # x**0 is constant, also at x = 0


def _pow_db(a, b, ans):
    return np.where(ans == 0, 0.0, ans * np.log(np.where(ans == 0, 1.0, a)))   # 0**b is 0 near b > 0


binary("add", "+", np.add, (lambda a, b, y: 1.0, lambda a, b, y: 1.0), "d(a + b) = da + db")
binary("sub", "-", np.subtract, (lambda a, b, y: 1.0, lambda a, b, y: -1.0), "d(a - b) = da - db")
binary("mul", "*", np.multiply, (), "d(a ⊙ b) = da ⊙ b + a ⊙ db", product=True)
binary("div", "/", np.divide, (lambda a, b, y: 1.0 / b, lambda a, b, y: -y / b), "d(a ⊘ b) = da ⊘ b - a ⊙ db ⊘ b²",
       domain=_div_domain)
binary("power", "**", np.power, (_pow_da, _pow_db), "d(a^b) = b a^(b-1) ⊙ da + a^b log(a) ⊙ db",
       domain=_pow_domain)


# --- matrix product ----------------------------------------------------------------------------------------------

def _mm_shapes(shapes):
    a, b = shapes
    for s, side in ((a, "left"), (b, "right")):
        if len(s) == 0:
            raise ShapeError(f"'@' needs vectors or matrices, the {side} operand is a scalar",
                             hint="use * to scale by a scalar")
    a2 = (1, a[0]) if len(a) == 1 else a
    b2 = (b[0], 1) if len(b) == 1 else b
    if a2[1] != b2[0]:
        raise ShapeError(f"'@': shapes {fmt_shape(a)} and {fmt_shape(b)} are not aligned ({a2[1]} != {b2[0]})",
                         hint="the left operand's columns must match the right operand's rows")
    return a2, b2


def _mm_infer(shapes, **_):
    (a, b), (a2, b2) = shapes, _mm_shapes(shapes)
    return tuple(([a2[0]] if len(a) == 2 else []) + ([b2[1]] if len(b) == 2 else []))


def _mm_fwd(node, a, b):
    va, vb = len(node.args[0].shape) == 1, len(node.args[1].shape) == 1
    if va and vb:
        return np.sum(a * b, axis=-1)
    out = np.matmul(a[..., None, :] if va else a, b[..., :, None] if vb else b)
    return out[..., 0, :] if va else (out[..., 0] if vb else out)


def _mm_rule_a(node, ans, a, b):
    (m, _), (_, p) = _mm_shapes([x.shape for x in node.args])
    b2 = b.reshape(-1, p)
    return Kron.make(Identity(m), Dense(b2.T))                 # row-major: d vec(AB)/d vec(A) = I ⊗ Bᵀ


def _mm_rule_b(node, ans, a, b):
    (m, _), (_, p) = _mm_shapes([x.shape for x in node.args])
    return Kron.make(Dense(a.reshape(m, -1)), Identity(p))   # row-major: d vec(AB)/d vec(B) = A ⊗ I


def _mm_work(node):
    (m, n), (_, p) = _mm_shapes([a.shape for a in node.args])
    return m * n * p


register(Op("matmul", _mm_infer, _mm_fwd, (_mm_rule_a, _mm_rule_b), rule_doc="d(A B) = dA B + A dB",
            work=_mm_work))


def _dot_infer(shapes, **_):
    if any(len(s) != 1 for s in shapes):
        raise ShapeError(f"dot takes two vectors, got shapes {fmt_shape(shapes[0])} and {fmt_shape(shapes[1])}",
                         hint="use @ for matrix products")
    return _mm_infer(shapes)


register(Op("dot", _dot_infer, _mm_fwd, (_mm_rule_a, _mm_rule_b), rule_doc="d(uᵀv) = duᵀ v + uᵀ dv",
            work=_mm_work))


# --- structural ops: they move entries ---------------------------------------------------------------------------

def _transpose_fwd(node, x):
    return np.swapaxes(x, -1, -2) if len(node.args[0].shape) == 2 else x


register(Op("transpose", lambda s, **_: tuple(reversed(s[0])), _transpose_fwd, (structural_rule(0),),
            rule_doc="d(Xᵀ) = (dX)ᵀ  (a commutation matrix)"))


def _index_infer(shapes, key, **_):
    try:
        shape = np.empty(shapes[0])[key].shape
    except (IndexError, ValueError) as e:
        raise ShapeError(f"index [{key_text(key)}] does not fit shape {fmt_shape(shapes[0])}: {e}",
                         hint="indices are 0-based, as in numpy") from None
    if 0 in shape:
        raise ShapeError(f"index [{key_text(key)}] selects nothing from shape {fmt_shape(shapes[0])}",
                         hint="a slice start:stop needs start < stop (or a negative step)")
    return shape


def key_text(key, sep: str = ", ") -> str:
    """An index as written inside its brackets: (1, slice(None, 2)) → '1, :2'."""
    def one(k):
        if isinstance(k, slice):
            return ":".join("" if v is None else str(v) for v in (k.start, k.stop)) + (
                f":{k.step}" if k.step is not None else "")
        return str(k)
    return sep.join(one(k) for k in key)


def _index_fwd(node, x):
    key = node.params["key"]
    key = key + (slice(None),) * (len(node.args[0].shape) - len(key))      # index the leading axes, after any batch
    return x[(Ellipsis,) + key]


register(Op("index", _index_infer, _index_fwd, (structural_rule(0),),
            rule_doc="d(X[i]) = dX[i]  (a selection)"))


def _diag_infer(shapes, **_):
    s = shapes[0]
    need_ndim("diag", s, (1, 2), "a vector or a matrix")
    return (s[0], s[0]) if len(s) == 1 else (min(s),)


def _diag_fwd(node, x):
    if len(node.args[0].shape) == 1:
        return x[..., :, None] * np.eye(node.shape[0])
    return np.diagonal(x, axis1=-2, axis2=-1).copy()


register(Op("diag", _diag_infer, _diag_fwd, (structural_rule(0),), rule_doc="d diag(x) = diag(dx)"))


def _vec_fwd(node, x):
    nd = len(node.args[0].shape)
    if nd == 2 and node.params["order"] == "col":
        x = np.swapaxes(x, -1, -2)
    return x.reshape(core(x, nd) + (-1,))


register(Op("vec", lambda s, **_: (size_of(s[0]),), _vec_fwd, (structural_rule(0),),
            rule_doc="d vec(X) = vec(dX)  (in the chosen flatten order)"))


def _view_infer(kind):
    def infer(shapes, **_):
        need_ndim(kind, shapes[0], (0, 1), "a scalar or a vector")
        n = size_of(shapes[0])
        return (n, 1) if kind == "col" else (1, n)
    return infer


def _view_fwd(node, x):
    return x.reshape(core(x, len(node.args[0].shape)) + node.shape)


register(Op("col", _view_infer("col"), _view_fwd, (structural_rule(0),), rule_doc="d col(x) = col(dx)"))
register(Op("row", _view_infer("row"), _view_fwd, (structural_rule(0),), rule_doc="d row(x) = row(dx)"))


def commutation(m: int, n: int, order: str = "row") -> np.ndarray:
    """K with K vec(X) = vec(Xᵀ) for every m×n matrix X, both flattened in the given order."""
    ids = np.arange(m * n).reshape(m, n)                  # X's entries, numbered
    f = "F" if order == "col" else "C"
    where = np.argsort(ids.ravel(order=f))                 # where each entry sits in vec(X)
    K = np.zeros((m * n, m * n))
    K[np.arange(m * n), where[ids.T.ravel(order=f)]] = 1.0
    return K


def _stack_infer(shapes, **_):
    first = shapes[0]
    for s in shapes[1:]:
        if s != first:
            raise ShapeError(f"the elements of [...] must have one shape, got {fmt_shape(first)} and {fmt_shape(s)}")
    if len(first) >= 2:
        raise ShapeError("[...] would build an array of more than 2 dimensions",
                         hint="mcalc works with scalars, vectors and matrices")
    return (len(shapes),) + first


def _stack_fwd(node, *vals):
    nd = len(node.args[0].shape)
    batch = np.broadcast_shapes(*[core(v, nd) for v in vals])
    vals = [np.broadcast_to(v, batch + v.shape[len(core(v, nd)):]) for v in vals]
    return np.stack(vals, axis=len(batch))


def _concat_infer(axis):
    def infer(shapes, **_):
        for s in shapes:
            need_ndim("hstack" if axis else "vstack", s, (2,), "matrices")
        keep = 1 - axis
        if any(s[keep] != shapes[0][keep] for s in shapes):
            raise ShapeError(f"{'hstack' if axis else 'vstack'} needs matrices with the same number of "
                             f"{'rows' if axis else 'columns'}, got " + ", ".join(fmt_shape(s) for s in shapes))
        out = list(shapes[0])
        out[axis] = sum(s[axis] for s in shapes)
        return tuple(out)
    return infer


def _concat_fwd(node, *vals):
    batch = np.broadcast_shapes(*[core(v, 2) for v in vals])
    vals = [np.broadcast_to(v, batch + v.shape[-2:]) for v in vals]
    return np.concatenate(vals, axis=-1 if node.op.name == "hstack" else -2)


class _EachArgument:
    """rules[i] for an op with any number of arguments."""

    def __init__(self, rule):
        self.rule = rule

    def __getitem__(self, i):
        return lambda node, ans, *vals: self.rule(node, i, ans, *vals)


def _stack_rule(node, i, ans, *vals):
    # element i fills entries i·k ... i·k + k - 1 of the result: the adjoint of gathering them
    k = node.args[i].size
    return Transposed(Gather(np.arange(i * k, (i + 1) * k), node.size))


register(Op("stack", _stack_infer, _stack_fwd, _EachArgument(_stack_rule), rule_doc="d[a, b, ...] = [da, db, ...]"))
register(Op("hstack", _concat_infer(1), _concat_fwd,
            _EachArgument(lambda node, i, ans, *vals: structural_rule(i)(node, ans, *vals)),
            rule_doc="d hstack(A, B) = hstack(dA, dB)"))
register(Op("vstack", _concat_infer(0), _concat_fwd,
            _EachArgument(lambda node, i, ans, *vals: structural_rule(i)(node, ans, *vals)),
            rule_doc="d vstack(A, B) = vstack(dA, dB)"))


# --- reductions: adjoints of broadcasts -----------------------------------------------------------------------

def _reduce_infer(shapes, axis=None, **_):
    s = shapes[0]
    if axis is None:
        return ()
    if not s or not -len(s) <= axis < len(s):
        raise ShapeError(f"axis {axis} is out of range for shape {fmt_shape(s)}")
    return tuple(d for i, d in enumerate(s) if i != axis % len(s))


def _reduce_axis_scale(node):
    """(the summed axis or None, the factor: 1, or 1/count for a mean)."""
    shape, axis = node.args[0].shape, node.params.get("axis")
    axis = None if axis is None else axis % len(shape)
    count = size_of(shape) if axis is None else shape[axis]
    return axis, (1.0 / count if node.params.get("mean") else 1.0)


def _reduce_fwd(node, x):
    nd = len(node.args[0].shape)
    axis, scale = _reduce_axis_scale(node)
    out = np.sum(x, axis=tuple(range(-nd, 0)) if axis is None else axis - nd)
    return out * scale if scale != 1 else out


def _reduce_rule(node, ans, x):
    shape = node.args[0].shape
    axis, scale = _reduce_axis_scale(node)
    kept = tuple(1 if axis is None or i == axis else d for i, d in enumerate(shape))
    # sum is the adjoint of broadcasting the result back over the summed axes
    L = Transposed(Gather(broadcast_index(kept, shape), size_of(kept)))
    return L if scale == 1 else L.scaled(scale)


register(Op("sum", _reduce_infer, _reduce_fwd, (_reduce_rule,), rule_doc="d sum(X) = sum(dX)"))
register(Op("mean", _reduce_infer, _reduce_fwd, (_reduce_rule,), rule_doc="d mean(X) = mean(dX)", params={"mean": True}))


def _trace_infer(shapes, **_):
    square("trace", shapes[0])
    return ()


def _trace_rule(node, ans, x):
    n = x.shape[0]
    diagonal = np.full(n * n, -1)
    diagonal[:: n + 1] = 0
    return Transposed(Gather(diagonal, 1))            # the sum of the diagonal entries: vec(I)ᵀ


register(Op("trace", _trace_infer, lambda node, x: np.trace(x, axis1=-2, axis2=-1), (_trace_rule,),
            rule_doc="d tr(X) = tr(dX)"))


# --- matrix functions -----------------------------------------------------------------------------------------

def _cube(node):
    return node.args[0].shape[0] ** 3


def _square_infer(label):
    def infer(shapes, **_):
        square(label, shapes[0])
        return shapes[0]
    return infer


def _scalar_of_square(label):
    def infer(shapes, **_):
        square(label, shapes[0])
        return ()
    return infer


def _singular(node, x):
    xr = x.real if np.iscomplexobj(x) else x
    with np.errstate(all="ignore"):
        cond = np.linalg.cond(xr)
    if np.any(~np.isfinite(cond) | (cond > 1e14)):
        return "the matrix is singular (or numerically so)"
    return None


def _inv_fwd(node, x):
    return np.linalg.inv(x)


def _inv_rule(node, ans, x):
    return Kron(Dense(-ans), Dense(ans.T))        # d inv(X) = -inv(X) dX inv(X) → -(Y ⊗ Yᵀ), row-major


register(Op("inv", _square_infer("inv"), _inv_fwd, (_inv_rule,), domain=_singular, needs_invertible=True, work=_cube,
            rule_doc="d inv(X) = -inv(X) dX inv(X)"))


def adjugate(a: np.ndarray) -> np.ndarray:
    """adj(A), also for singular A: with A = U S Vᵀ, adj(A) = det(U) det(V) V adj(S) Uᵀ."""
    n = a.shape[0]
    if n == 1:
        return np.ones((1, 1))
    u, s, vt = np.linalg.svd(a)
    others = np.array([np.prod(np.delete(s, i)) for i in range(n)])
    return np.linalg.det(u) * np.linalg.det(vt) * (vt.T * others) @ u.T


def _det_rule(node, ans, x):
    # d det(X) = tr(adj(X) dX): the row vec(adj(X)ᵀ), which is det(X) inv(X)ᵀ when X is well conditioned (and
    # then more accurate than the SVD formula, which also covers singular X)
    with np.errstate(all="ignore"):
        cofactors = ans * np.linalg.inv(x).T if np.linalg.cond(x) < 1e8 else adjugate(x).T
    return Dense(cofactors.reshape(1, -1))


register(Op("det", _scalar_of_square("det"), lambda node, x: np.linalg.det(x), (_det_rule,), needs_invertible=True,
            work=_cube,
            rule_doc="d det(X) = det(X) tr(inv(X) dX) = tr(adj(X) dX)"))


def _logdet_fwd(node, x):
    if np.iscomplexobj(x):       # analytic continuation of log|det| near the real axis (for the complex step)
        d = np.linalg.det(x)
        return np.log(d * np.sign(d.real))
    return np.linalg.slogdet(x)[1]


def _logdet_domain(node, x):
    xr = x.real if np.iscomplexobj(x) else x
    if np.any(np.linalg.slogdet(xr)[0] == 0):
        return "logdet of a singular matrix"
    return None


register(Op("logdet", _scalar_of_square("logdet"), _logdet_fwd,
            (lambda node, ans, x: Dense(np.linalg.inv(x).T.reshape(1, -1)),), domain=_logdet_domain,
            needs_invertible=True, work=_cube, rule_doc="d log|det X| = tr(inv(X) dX)"))


def _matpow_rule(node, ans, x):
    k, n = node.params["k"], x.shape[0]
    if k == 0:
        return Zero(n * n, n * n)
    powers = [Identity(n)] + [Dense(np.linalg.matrix_power(x, i)) for i in range(1, k)]
    # d(X^k) = Σ_i X^i dX X^(k-1-i)  →  Σ_i X^i ⊗ (X^(k-1-i))ᵀ, row-major
    return Sum([Kron.make(powers[i], powers[k - 1 - i].T) for i in range(k)]) if k > 1 else Identity(n * n)


register(Op("matpow", _square_infer("^"), lambda node, x: np.linalg.matrix_power(x, node.params["k"]),
            (_matpow_rule,), rule_doc="d(X^k) = Σᵢ Xⁱ dX X^(k-1-i)",
            work=lambda node: _cube(node) * max(1, node.params["k"]).bit_length()))


def _norm_fwd(node, x):
    nd = len(node.args[0].shape)
    return np.sqrt(np.sum(x * x, axis=tuple(range(-nd, 0))))


def _norm_rule(node, ans, x):
    # at x = 0 the norm has a kink: the subgradient 0 (as abs has), so that ‖r‖² stays differentiable at r = 0
    return Dense((x / ans if ans else np.zeros_like(x)).reshape(1, -1))


register(Op("norm", lambda s, **_: (), _norm_fwd, (_norm_rule,), kink_at_zero=True,
            rule_doc="d‖x‖ = xᵀdx / ‖x‖  (Frobenius for matrices; 0 at x = 0)"))


def _vector_only(label):
    def infer(shapes, **_):
        need_ndim(label, shapes[0], (1,), "a vector")
        return shapes[0] if label == "softmax" else ()
    return infer


def _softmax_fwd(node, x):
    e = np.exp(x - np.max(x.real, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def _logsumexp_fwd(node, x):
    m = np.max(x.real, axis=-1, keepdims=True)
    return (m + np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True)))[..., 0]


def _softmax_rule(node, ans, x):
    # diag(s) - s sᵀ, kept as a diagonal plus an outer product (a Kronecker product of a column and a row)
    return Sum([Diag(ans, ans.size), Kron(Dense(-ans[:, None]), Dense(ans[None, :]))])


register(Op("softmax", _vector_only("softmax"), _softmax_fwd, (_softmax_rule,),
            rule_doc="d softmax(x) = (diag(s) - s sᵀ) dx,  s = softmax(x)", saturates=True))
register(Op("logsumexp", _vector_only("logsumexp"), _logsumexp_fwd,
            (lambda node, ans, x: Dense(_softmax_fwd(node, x).reshape(1, -1)),),
            rule_doc="d logsumexp(x) = softmax(x)ᵀ dx", saturates=True))


def _outer_infer(shapes, **_):
    for s in shapes:
        need_ndim("outer", s, (1,), "vectors")
    return (shapes[0][0], shapes[1][0])


register(Op("outer", _outer_infer, lambda node, u, v: u[..., :, None] * v[..., None, :],
            (product_rule(0), product_rule(1)), rule_doc="d(u vᵀ) = du vᵀ + u dvᵀ"))


def _kron_shapes(shapes):
    for s in shapes:
        need_ndim("kron", s, (1, 2), "vectors or matrices")
    return [(1, s[0]) if len(s) == 1 else s for s in shapes]


def _kron_infer(shapes, **_):
    (p, q), (r, s) = _kron_shapes(shapes)
    return (q * s,) if all(len(x) == 1 for x in shapes) else (p * r, q * s)


def _kron_fwd(node, a, b):
    (p, q), (r, s) = _kron_shapes([x.shape for x in node.args])
    a = a.reshape(core(a, len(node.args[0].shape)) + (p, 1, q, 1))
    b = b.reshape(core(b, len(node.args[1].shape)) + (1, r, 1, s))
    out = a * b
    return out.reshape(out.shape[:-4] + node.shape)


register(Op("kron", _kron_infer, _kron_fwd, (product_rule(0), product_rule(1)),
            rule_doc="d(A ⊗ B) = dA ⊗ B + A ⊗ dB"))


# --- the function table of the language ------------------------------------------------------------------------

@dataclass(frozen=True)
class Fn:
    """A function of the language: the op it builds from `operands` expression arguments, then integer literal
    parameters (`literals`, given positionally after the operands or by keyword), or, with `constant`, the array
    it stands for.  `context` names settings of the command the op needs (vec: the flatten order)."""

    op: str
    operands: int = 1                 # -1: any number (at least 2)
    literals: tuple[str, ...] = ()
    required: int = 0                 # how many of the literals must be given
    help: str = ""
    constant: Callable | None = None  # (**literals, **context) -> the array
    shape: Callable | None = None     # (**literals) -> the constant's shape, checked before it is built
    context: tuple[str, ...] = ()

    @property
    def nargs(self) -> tuple[int, int]:
        if self.operands < 0:
            return 2, 1000
        return self.operands + self.required, self.operands + len(self.literals)

    @property
    def kwargs(self) -> tuple[str, ...]:
        return self.literals


FUNCTIONS: dict[str, Fn] = {
    **{name: Fn(name, help=f"element-wise {name}") for name in (
        "exp", "log", "sqrt", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
        "sigmoid", "relu", "softplus", "abs", "square")},
    "sign": Fn("sign", help="element-wise sign: -1, 0 or 1 (the derivative of abs)"),
    "step": Fn("step", help="element-wise [x > 0], step(0) = 0 (the derivative of relu)"),
    "sum": Fn("sum", literals=("axis",), help="sum of all entries, or along axis=0/1"),
    "mean": Fn("mean", literals=("axis",), help="mean of all entries, or along axis=0/1"),
    "trace": Fn("trace", help="trace of a square matrix"),
    "tr": Fn("trace", help="alias of trace"),
    "det": Fn("det", help="determinant"),
    "logdet": Fn("logdet", help="log|det X|, as numpy.linalg.slogdet"),
    "inv": Fn("inv", help="matrix inverse"),
    "norm": Fn("norm", help="Euclidean norm of a vector, Frobenius norm of a matrix"),
    "softmax": Fn("softmax", help="softmax of a vector"),
    "logsumexp": Fn("logsumexp", help="log Σ exp of a vector"),
    "diag": Fn("diag", help="vector → diagonal matrix, matrix → its diagonal"),
    "kron": Fn("kron", 2, help="Kronecker product"),
    "outer": Fn("outer", 2, help="outer product of two vectors"),
    "dot": Fn("dot", 2, help="inner product of two vectors"),
    "vec": Fn("vec", help="flatten in the current --order", context=("order",)),
    "transpose": Fn("transpose", help="transpose (also A.T and A')"),
    "hstack": Fn("hstack", -1, help="matrices side by side"),
    "vstack": Fn("vstack", -1, help="matrices one above the other"),
    "col": Fn("col", help="a vector (or scalar) as an n×1 matrix"),
    "row": Fn("row", help="a vector (or scalar) as a 1×n matrix"),
    "eye": Fn("", 0, ("n",), 1, "identity matrix eye(n) (a constant)", constant=lambda n: np.eye(n),
              shape=lambda n: (n, n)),
    "ones": Fn("", 0, ("m", "n"), 1, "ones(n) or ones(m, n) (a constant)",
               constant=lambda **d: np.ones(tuple(d.values())), shape=lambda **d: tuple(d.values())),
    "zeros": Fn("", 0, ("m", "n"), 1, "zeros(n) or zeros(m, n) (a constant)",
                constant=lambda **d: np.zeros(tuple(d.values())), shape=lambda **d: tuple(d.values())),
    "commutation": Fn("", 0, ("m", "n"), 2, "commutation(m, n): K with K vec(X) = vec(Xᵀ) for m×n X, in the "
                      "current --order (a constant)", constant=commutation, shape=lambda m, n: (m * n, m * n),
                      context=("order",)),
}

CONSTANTS = {"pi": np.pi, "e": np.e}

OPERATORS = {  # the operators of the language: text → (op, description)
    "a + b": ("add", "element-wise, with numpy broadcasting"),
    "a - b": ("sub", "element-wise, with numpy broadcasting"),
    "a * b": ("mul", "element-wise, with numpy broadcasting"),
    "a / b": ("div", "element-wise, with numpy broadcasting"),
    "a ** b": ("power", "element-wise power"),
    "-a": ("neg", "negation"),
    "A @ B": ("matmul", "matrix product (also matrix·vector, vector·matrix, vector·vector)"),
    "X ^ k": ("matpow", "matrix power, k an integer literal ≥ 0 (binds like **)"),
    "A', A.T": ("transpose", "transpose"),
    "A[i, j], A[:, j]": ("index", "indexing and slicing, 0-based"),
    "[a, b], [[a, b], [c, d]]": ("stack", "vectors and matrices from expressions"),
}
