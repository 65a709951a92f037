"""Structural operations: they move entries (transpose, indexing, diag, vec, col/row, building arrays from
pieces).  Each is linear, so its differential is itself applied to the differentials of its arguments, and its map
is a selection, an embedding or a commutation matrix, built per axis in the flatten order (mcalc.ops.maps)."""

from __future__ import annotations

import numpy as np

from ..algebra import is_op, make
from ..errors import ShapeError
from ..linops import Diag, Gather
from ..printing import ATOM, CALL
from ..tree import Const, Node, call, fmt_shape, size_of
from . import maps
from .arithmetic import pull_scalar, split_scalar
from .core import (an_axis, FUNCTIONS, METHODS, Fn, Op, ParamError, Show, axes_in_order, axis, choice, core, integer, key_text,
                   need_ndim, one_axis,
                   no_symbolic,
                   number, numpy_key, register)


def linear_jvp(node, tangents):
    """A linear operation's differential: the operation applied to the arguments' differentials (zeros where an
    argument has none)."""
    if all(t is None for t in tangents):
        return None
    args = [maps.zeros_like(a) if t is None else t for a, t in zip(node.args, tangents)]
    return call(node.op.name, *args, **node.params)


def structural(name, infer, fwd, linear, **kw):
    spelled = kw.pop("spelled", (name,))
    fn = kw.pop("fn", {})
    methods = kw.pop("methods", ())
    jvp = kw.pop("jvp", linear_jvp)
    return register(Op(name, infer, fwd, jvp=jvp, linear=linear, family="structural", **kw),
                    spelled=spelled, methods=methods, help=kw.get("help", ""), **fn)


# --- transpose ---------------------------------------------------------------------------------------------------

def _transpose_fwd(node, x):
    return np.swapaxes(x, -1, -2) if len(node.args[0].shape) == 2 else x


def _transpose_linear(node, i, order):
    x = node.args[0]
    if x.ndim < 2:
        return maps.eye(max(1, x.size))
    return call("commutation", m=x.shape[0], n=x.shape[1], order=order)


def _transpose_rules(node: Node) -> Node | None:
    """Transposes go to the leaves: (Aᵀ)ᵀ = A, (A ⊗ B)ᵀ = Aᵀ ⊗ Bᵀ, (AB)ᵀ = BᵀAᵀ, (X⁻¹)ᵀ = (Xᵀ)⁻¹, ..."""
    (a,) = node.args
    if a.ndim < 2:
        return a                                                   # numpy: the transpose of a vector is itself
    if is_op(a, "transpose"):
        return a.args[0]
    if is_op(a, "eye") or (is_op(a, "diag") and a.args[0].ndim == 1):
        return a
    if is_op(a, "zeros", "ones"):
        return make(a.op.name, m=a.shape[1], n=a.shape[0])
    if is_op(a, "col", "row"):
        return make("row" if is_op(a, "col") else "col", a.args[0])
    if is_op(a, "commutation"):
        return make("commutation", m=a.params["n"], n=a.params["m"], order=a.params["order"])
    s, x = split_scalar(a)
    if s is not None:
        return make("mul", s, make("transpose", x))
    if a.primal and not is_op(a, "matmul", "inv", "matpow"):         # ((Wᵀ S)ᵀ = Sᵀ W, (X⁻¹)ᵀ = X⁻ᵀ; others whole)
        return None
    if any(b.ndim != 2 for b in a.args) or is_op(a, "add") and any(b.shape != a.shape for b in a.args):
        return None                                                # (vectors and broadcasting: as written)
    if is_op(a, "kron"):
        return make("kron", make("transpose", a.args[0]), make("transpose", a.args[1]))
    if is_op(a, "matmul"):
        return make("matmul", make("transpose", a.args[1]), make("transpose", a.args[0]))
    if is_op(a, "add"):
        return make("add", make("transpose", a.args[0]), make("transpose", a.args[1]))
    if is_op(a, "inv", "matpow"):
        return make(a.op.name, make("transpose", a.args[0]), **a.params)
    if is_op(a, "hstack", "vstack"):
        return make("vstack" if is_op(a, "hstack") else "hstack", *(make("transpose", b) for b in a.args))
    return None


def _show_transpose(p, node):
    (a,) = node.args
    if p.notation == "mc":
        return f"{p(a, ATOM)}.T", ATOM
    if a.ndim < 2:                                                 # x.T of a vector is x, as in numpy
        return p.raw(a)
    if is_op(a, "transpose") or is_op(a, "row"):                   # (Aᵀ)ᵀ = A; row(x)ᵀ is the column x
        return p.raw(a.args[0])
    if is_op(a, "inv") and a.key not in p.names:                   # (X⁻¹)ᵀ is X⁻ᵀ
        return p.sup(p(a.args[0], ATOM), "⁻ᵀ" if p.notation == "uni" else "{-\\top}"), ATOM
    return p.sup(p(a, ATOM), p.top), ATOM


structural("transpose", lambda s, **_: tuple(reversed(s[0])), _transpose_fwd, _transpose_linear,
           rewrite=(_transpose_rules,), as_linop=lambda node, read: read.map(node.args[0]).T,
           show=Show(mc=_show_transpose, uni=_show_transpose, tex=_show_transpose, prec=ATOM),
           example=("A.T", "A=2x3"), operator="A', A.T", help="transpose (also A.T and A')", methods=("transpose",))


# --- indexing ------------------------------------------------------------------------------------------------

def _index_infer(shapes, key, **_):
    lists = [k for k, part in enumerate(key) if isinstance(part, tuple)]
    if len(lists) > 1 and lists[-1] - lists[0] != len(lists) - 1:
        raise ShapeError(f"index [{key_text(key)}]: mcalc takes lists of indices side by side only, as A[[0, 1], "
                         "[1, 0]]", hint="index in two steps: A[[0, 1]][:, [2, 0]]")
    try:
        shape = _key_shape(tuple(shapes[0]), key)
    except (IndexError, ValueError) as e:
        raise ShapeError(f"index [{key_text(key)}] does not fit shape {fmt_shape(shapes[0])}: {e}",
                         hint="indices are 0-based, as in numpy") from None
    if 0 in shape:
        raise ShapeError(f"index [{key_text(key)}] selects nothing from shape {fmt_shape(shapes[0])}",
                         hint="a slice start:stop needs start < stop (or a negative step)")
    if len(shape) > 2:
        raise ShapeError(f"index [{key_text(key)}] would give {len(shape)} axes; mcalc's arrays have at most 2")
    return shape


def _key_shape(shape: tuple, key: tuple) -> tuple:
    """The shape numpy's indexing gives, computed from the key (eye(n)[idx] of a map, n = 90 000, is never
    allocated to find it): integers drop an axis, slices and lists keep one, None adds one; lists side by side
    broadcast, in place."""
    if sum(k is not None for k in key) > len(shape):
        raise IndexError(f"too many indices for an array of {len(shape)} axes")
    out, axis, lists = [], 0, []
    for k in key:
        if k is None:
            out.append(1)
            continue
        d = shape[axis]
        axis += 1
        if isinstance(k, slice):
            out.append(len(range(*k.indices(d))))
        elif isinstance(k, tuple):
            bad = [i for i in k if not -d <= i < d]
            if bad:
                raise IndexError(f"index {bad[0]} is out of bounds for an axis of size {d}")
            if not lists:
                out.append(None)                         # where the lists' shape goes
            lists.append(len(k))
        elif not -d <= k < d:
            raise IndexError(f"index {k} is out of bounds for an axis of size {d}")
    out += list(shape[axis:])
    if lists:
        n = max(lists)
        if any(m not in (1, n) for m in lists):
            raise ValueError(f"lists of lengths {', '.join(map(str, lists))} do not broadcast")
        out[out.index(None)] = n
    return tuple(out)


def _basic(key) -> bool:
    return all(isinstance(k, (int, slice)) for k in key)


def _index_fwd(node, x):
    key = numpy_key(node.params["key"])
    used = sum(k is not None for k in key)
    key = key + (slice(None),) * (len(node.args[0].shape) - used)      # index the leading axes, after any batch
    return x[(Ellipsis,) + key]


def gather_map(idx, in_shape, out_shape, order):
    """The matrix whose row-major rows pick input entries idx (row-major numbers): rows of the identity, between
    the flatten orders' permutations."""
    n = max(1, size_of(in_shape))
    rows = call("index", maps.eye(n), key=(tuple(int(i) for i in np.ravel(idx)),))
    if order == "row":
        return rows
    return maps.compose(maps.transpose(maps.row_major(out_shape, order)),
                        maps.compose(rows, maps.row_major(in_shape, order)))


def _index_linear(node, i, order):
    key, shape = node.params["key"], node.args[0].shape
    if _basic(key):
        return maps.select(key, shape, order)
    idx = np.arange(size_of(shape)).reshape(shape)[numpy_key(key)]
    return gather_map(idx, shape, node.shape, order)


def _index_linop(node, read):
    """Rows of a map (the selections eye(n)[key] of closed forms): a Gather, built from the key alone."""
    key, arg = node.params["key"], node.args[0]
    if len(key) != 1 or arg.ndim != 2:
        return None
    n = arg.shape[0]
    k = key[0]
    rows = np.arange(*k.indices(n)) if isinstance(k, slice) else np.array(k if isinstance(k, tuple) else [k]) % n
    return Gather.make(rows, n) @ read.map(arg)


def _index_rules(node: Node) -> Node | None:
    (a,) = node.args
    key = node.params["key"]
    if is_op(a, "eye") and len(key) == 1 and isinstance(key[0], slice) and \
            key[0].indices(a.shape[0]) == (0, a.shape[0], 1):
        return a
    return None


def _show_index(p, node):
    (a,) = node.args
    key = node.params["key"]
    if p.notation == "tex":
        return f"{{{p(a, ATOM)}}}_{{[{key_text(key, ',')}]}}", ATOM     # (braced: I_{3} indexed, no double _)
    return f"{p(a, ATOM)}[{key_text(key, ', ' if p.notation == 'mc' else ',')}]", ATOM


structural("index", _index_infer, _index_fwd, _index_linear,
           rewrite=(_index_rules,), as_linop=_index_linop,
           show=Show(mc=_show_index, uni=_show_index, tex=_show_index, prec=ATOM), spelled=(),
           example=("A[:, 1]", "A=2x3"), operator="A[i, j], A[:, j]", help="indexing and slicing, 0-based")


# --- diag, vec, col, row ---------------------------------------------------------------------------------------

def _diag_infer(shapes, **_):
    s = shapes[0]
    need_ndim("diag", s, (1, 2), "a vector or a matrix")
    return (s[0], s[0]) if len(s) == 1 else (min(s),)


def _diag_fwd(node, x):
    if len(node.args[0].shape) == 1:
        return x[..., :, None] * np.eye(node.shape[0])
    return np.diagonal(x, axis1=-2, axis2=-1).copy()


def _diag_linear(node, i, order):
    x = node.args[0]
    if x.ndim == 1:                                  # vector → matrix: entries at positions k·(n + 1), both orders
        n = x.shape[0]
        return maps.embed(n * n, slice(None, None, n + 1))
    m, n = x.shape
    k = min(m, n)
    step = n + 1 if order == "row" else m + 1
    return call("index", maps.eye(m * n), key=(slice(None, (k - 1) * step + 1, step),))


def _diag_sympy(sp, node, x):
    if np.ndim(x) == 1:
        return np.array(sp.diag(*x).tolist(), dtype=object)
    return np.array([x[i, i] for i in range(min(x.shape))], dtype=object)


def _diag_adjoint(node, i, C):
    """diag(v) and the diagonal of a square matrix are each other's transposes: the cotangent is diag(C)."""
    x = node.args[0]
    return call("diag", C) if x.ndim == 1 or x.shape[0] == x.shape[1] else None


def _diag_rules(node: Node) -> Node | None:
    """diag(1) = I; the diagonal of Aᵀ is A's."""
    (a,) = node.args
    if a.ndim == 1 and is_op(a, "ones"):
        return maps.eye(a.shape[0])
    if a.ndim == 2 and is_op(a, "transpose") and a.shape[0] == a.shape[1]:
        return make("diag", a.args[0])
    return None


structural("diag", _diag_infer, _diag_fwd, _diag_linear, rewrite=(_diag_rules, pull_scalar), adjoint=_diag_adjoint,
           as_linop=lambda node, read: Diag(np.ravel(read.value(node.args[0])), node.shape[0])
           if node.args[0].ndim == 1 else None, sympy=_diag_sympy,
           show=Show(tex_name="\\operatorname{diag}"), example=("diag(x) @ A", "x=2,A=2x2"),
           help="vector → diagonal matrix, matrix → its diagonal")


def _vec_fwd(node, x):
    nd = len(node.args[0].shape)
    if nd == 2 and node.params["order"] == "col":
        x = np.swapaxes(x, -1, -2)
    return x.reshape(core(x, nd) + (-1,))


def _vec_linear(node, i, order):
    x = node.args[0]
    if x.ndim < 2 or node.params["order"] == order:
        return maps.eye(x.size)
    return call("commutation", m=x.shape[0], n=x.shape[1], order=order)   # vec in the other order: K vec(X)


def _vec_rules(node: Node) -> Node | None:
    (a,) = node.args
    if a.ndim == 1:
        return a
    if is_op(a, "col", "row") and a.args[0].ndim == 1:             # a row or a column flattens to its vector
        return a.args[0]
    return pull_scalar(node)


structural("vec", lambda s, **_: (size_of(s[0]),), _vec_fwd, _vec_linear, rewrite=(_vec_rules,),
           params={"order": "row"}, show=Show(tex_name="\\operatorname{vec}"), example=("vec(A)", "A=2x3"),
           help="flatten in the current --order", fn={"context": ("order",)})


def _view_infer(kind):
    def infer(shapes, **_):
        need_ndim(kind, shapes[0], (0, 1), "a scalar or a vector")
        n = size_of(shapes[0])
        return (n, 1) if kind == "col" else (1, n)
    return infer


def _view_fwd(node, x):
    return x.reshape(core(x, len(node.args[0].shape)) + node.shape)


def _show_col(p, node):
    return p.raw(node.args[0])                                      # a vector is a column


def _show_row(p, node):
    (x,) = node.args
    if x.ndim == 0:
        return p.raw(x)
    return p.sup(p(x, ATOM), p.top), ATOM


def _view_rules(node: Node) -> Node | None:
    (a,) = node.args
    if is_op(a, "transpose") and a.args[0].ndim == 1:              # x.T of a vector is x
        return make(node.op.name, a.args[0])
    return pull_scalar(node)


structural("col", _view_infer("col"), _view_fwd, lambda node, i, order: maps.eye(node.size),
           rewrite=(_view_rules,), show=Show(uni=_show_col, tex=_show_col), example=("col(x)", "x=3"),
           help="a vector (or scalar) as an n×1 matrix")
structural("row", _view_infer("row"), _view_fwd, lambda node, i, order: maps.eye(node.size),
           rewrite=(_view_rules,), show=Show(uni=_show_row, tex=_show_row), example=("row(x)", "x=3"),
           help="a vector (or scalar) as a 1×n matrix")


# --- reshape, ravel, squeeze, expand_dims ------------------------------------------------------------------------

def new_shape(v, shapes):
    """numpy's shape argument: an int or a tuple, with at most one -1 (the size that fits), for the operand."""
    dims = v if isinstance(v, tuple) else (v,)
    if any(isinstance(d, bool) or not isinstance(d, int) or d < -1 for d in dims):
        raise ParamError(f"must be a size or a tuple of sizes (one of them may be -1), got {v!r}")
    dims, size = [int(d) for d in dims], size_of(shapes[0])
    if dims.count(-1) > 1:
        raise ParamError("can only have one -1 (the size that fits)")
    if -1 in dims:
        known = size_of([d for d in dims if d != -1])
        if known == 0 or size % known:
            raise ParamError(f"cannot fit an array of size {size} into shape {fmt_shape(tuple(dims))}", shape=True)
        dims[dims.index(-1)] = size // known
    if size_of(dims) != size:
        raise ParamError(f"cannot reshape an array of size {size} (shape {fmt_shape(shapes[0])}) into shape "
                         f"{fmt_shape(tuple(dims))}", shape=True)
    if len(dims) > 2:
        raise ParamError(f"asks for {len(dims)} axes; mcalc's arrays have at most 2", shape=True)
    return tuple(dims)


new_shape.words = "a shape"


def _reshape_infer(shapes, shape=(), **_):
    if size_of(shape) != size_of(shapes[0]) or len(shape) > 2:
        raise ShapeError(f"cannot reshape shape {fmt_shape(shapes[0])} into {fmt_shape(shape)}")
    return tuple(shape)


def _reshape_linear(node, i, order):
    """numpy reshapes row by row: the identity in row-major order, a permutation in column-major order."""
    x = node.args[0]
    return maps.compose(maps.transpose(maps.row_major(node.shape, order)), maps.row_major(x.shape, order))


def _reshape_rules(node: Node) -> Node | None:
    (a,) = node.args
    if a.shape == node.shape:
        return a
    if is_op(a, "reshape"):                                        # a reshape of a reshape is one reshape
        return make("reshape", a.args[0], shape=node.shape)
    return pull_scalar(node)


def _show_reshape(p, node):
    (x,) = node.args
    if node.ndim == 1 and x.ndim == 2:
        return p.function("ravel", p(x), node), CALL
    return p.function("reshape", f"{p(x)}, {node.shape!r}".replace(",)", ",)"), node), CALL


structural("reshape", _reshape_infer, lambda node, x: x.reshape(core(x, node.args[0].ndim) + node.shape),
           _reshape_linear, rewrite=(_reshape_rules,), show=Show(mc=_show_reshape, uni=_show_reshape,
                                                                   tex=_show_reshape),
           example=("reshape(A, (-1, 2))", "A=2x3"), help="the same entries, row by row, in another shape",
           methods=("reshape",), fn={"literals": ("shape",), "required": 1, "kinds": {"shape": new_shape},
                                     "rest": True})


def _spelled_as_reshape(name, shape_of, literals=(), kinds=None, help="", method=True):
    """ravel, flatten, squeeze, expand_dims: reshapes whose shape follows from the operand's."""
    FUNCTIONS[name] = Fn("reshape", literals=literals, kinds=kinds,
                         derive=lambda shapes, given: {"shape": shape_of(shapes[0], given), **{k: None for k in given}},
                         help=help)
    if method:
        METHODS[name] = name


def _squeezed(shape, given):
    a = given.get("axis")
    if a is not None and shape[a] != 1:
        raise ParamError(f"cannot squeeze axis {a} of shape {fmt_shape(shape)}: its size is not 1", shape=True)
    return tuple(d for k, d in enumerate(shape) if d != 1 or (a is not None and k != a))


def _expanded(shape, given):
    a = given["axis"]
    if not -len(shape) - 1 <= a <= len(shape):
        raise ParamError(f"{a} is out of range for a result of {len(shape) + 1} axes", shape=True)
    if len(shape) >= 2:
        raise ParamError("would give 3 axes; mcalc's arrays have at most 2", shape=True)
    out = list(shape)
    out.insert(a % (len(shape) + 1), 1)
    return tuple(out)


_spelled_as_reshape("ravel", lambda shape, given: (size_of(shape),), help="the entries row by row (numpy.ravel)")
_spelled_as_reshape("flatten", lambda shape, given: (size_of(shape),), help="the entries row by row (x.flatten())")
_spelled_as_reshape("squeeze", _squeezed, literals=("axis",), kinds={"axis": axis},
                    help="the shape without its axes of size 1 (numpy.squeeze)")
_spelled_as_reshape("expand_dims", _expanded, literals=("axis",), kinds={"axis": integer()}, method=False,
                    help="a new axis of size 1 at axis (numpy.expand_dims)")
FUNCTIONS["expand_dims"].required = 1


# --- triangles -------------------------------------------------------------------------------------------------------

def _triangle(name, f):
    def infer(shapes, k=None, **_):
        need_ndim(name, shapes[0], (2,), "a matrix")
        return shapes[0]

    def linear(node, i, order):
        """diag(vec(mask)): the entries kept, in flatten order (the mask: the triangle of ones)."""
        m, n = node.shape
        mask = call(name, maps.ones(m, n), **node.params)
        return maps.diag_of(mask, order)

    structural(name, infer, lambda node, x: f(x, node.params.get("k", 0)), linear,
               show=Show(kwargs=("k",)), example=(f"{name}(A)", "A=3x3"),
               help=f"the {'lower' if name == 'tril' else 'upper'} triangle (k=1 above the diagonal, -1 below)",
               fn={"literals": ("k",), "kinds": {"k": integer()}, "derive": lambda shapes, given: {
                   "k": None if given.get("k") == 0 else given.get("k")}})


_triangle("tril", np.tril)
_triangle("triu", np.triu)


# --- arrays from pieces --------------------------------------------------------------------------------------------

def _stack_infer(shapes, axis=None, **_):
    first = shapes[0]
    for s in shapes[1:]:
        if s != first:
            raise ShapeError(f"the elements of [...] must have one shape, got {fmt_shape(first)} and {fmt_shape(s)}")
    if len(first) >= 2:
        raise ShapeError("[...] would build an array of more than 2 dimensions",
                         hint="mcalc works with scalars, vectors and matrices")
    return first + (len(shapes),) if axis == 1 else (len(shapes),) + first


def _stack_fwd(node, *vals):
    nd = len(node.args[0].shape)
    batch = np.broadcast_shapes(*[core(v, nd) for v in vals])
    vals = [np.broadcast_to(v, batch + v.shape[len(core(v, nd)):]) for v in vals]
    return np.stack(vals, axis=-1 if node.params.get("axis") == 1 else len(batch))


def _stack_linear(node, i, order):
    """Element i fills entries i·k ... i·k + k - 1 of the result (row-major), or every count-th one from i
    (column-major; or row-major for the columns of axis=1)."""
    k, count = node.args[i].size, len(node.args)
    if (order == "row") != (node.params.get("axis") == 1) or node.args[i].ndim == 0:
        return maps.embed(node.size, slice(i * k, (i + 1) * k))
    return maps.embed(node.size, slice(i, None, count))


def _entry(p, e) -> str:
    from ..algebra import const

    return p(e if isinstance(e, Node) else const(e))


def _show_list(p, node):
    if node.params.get("axis") == 1:                       # columns: the transpose of the rows
        rows = "[" + ", ".join(p(e) for e in node.args) + "]"
        if p.notation == "mc":
            return f"stack({rows}, axis=1)", ATOM
        return p.sup(rows if p.notation == "uni" else p.raw(call("stack", *node.args))[0], p.top), ATOM
    if p.notation == "tex":
        if all(is_op(a, "stack") for a in node.args):
            body = " \\\\ ".join(" & ".join(p(e) for e in row.args) for row in node.args)
        else:
            body = " \\\\ ".join(p(e) for e in node.args)
        return "\\begin{bmatrix} " + body + " \\end{bmatrix}", ATOM
    return "[" + ", ".join(p(e) for e in node.args) + "]", ATOM


def _show_concat(p, node):
    grid = maps.grid(node)
    horizontal = is_op(node, "hstack")
    if p.notation == "mc":
        if grid is not None:
            return "[" + ", ".join("[" + ", ".join(_entry(p, e) for e in row) + "]" for row in grid) + "]", ATOM
        return f"{node.op.name}([{', '.join(p(a) for a in node.args)}])", ATOM
    if p.notation == "tex":
        if grid is not None:
            body = " \\\\ ".join(" & ".join(_entry(p, e) for e in row) for row in grid)
        else:
            body = (" & " if horizontal else " \\\\ ").join(p(b) for b in node.args)
        return "\\begin{bmatrix} " + body + " \\end{bmatrix}", ATOM
    if grid is not None:
        return "[" + "; ".join(", ".join(_entry(p, e) for e in row) for row in grid) + "]", ATOM
    return "[" + (" | " if horizontal else "; ").join(p(b) for b in node.args) + "]", ATOM


structural("stack", _stack_infer, _stack_fwd, _stack_linear, spelled=(),
           show=Show(mc=_show_list, uni=_show_list, tex=_show_list, prec=ATOM),
           example=("[x, 2*x]", "x=3"), operator="[a, b], [[a, b], [c, d]]",
           help="vectors and matrices from expressions")


def _concat_infer(axis):
    def infer(shapes, **_):
        name = "hstack" if axis else "vstack"
        for s in shapes:
            need_ndim(name, s, (2,), "matrices")
        keep = 1 - axis
        if any(s[keep] != shapes[0][keep] for s in shapes):
            raise ShapeError(f"{name} needs matrices with the same number of "
                             f"{'rows' if axis else 'columns'}, got " + ", ".join(fmt_shape(s) for s in shapes))
        out = list(shapes[0])
        out[axis] = sum(s[axis] for s in shapes)
        return tuple(out)
    return infer


def _concat_fwd(axis):
    def fwd(node, *vals):
        batch = np.broadcast_shapes(*[core(v, 2) for v in vals])
        vals = [np.broadcast_to(v, batch + v.shape[-2:]) for v in vals]
        return np.concatenate(vals, axis=-1 if axis else -2)
    return fwd


def _concat_linear(node, i, order):
    """The embedding of argument i's entries among the result's."""
    shapes = [a.shape for a in node.args]
    m, n = node.shape
    horizontal = node.op.name == "hstack"
    before = sum(s[1 if horizontal else 0] for s in shapes[:i])
    mine = shapes[i][1 if horizontal else 0]
    if horizontal == (order == "row"):          # each row (hstack, row-major) or column (vstack, col-major) splits
        count, width = (m, n) if horizontal else (n, m)
        return call("kron", maps.eye(count), maps.embed(width, slice(before, before + mine)))
    size = node.args[i].size                    # the argument's entries are one contiguous run
    start = before * (m if horizontal else n)
    return maps.embed(node.size, slice(start, start + size))


def _concat_rules(node: Node) -> Node | None:
    """Consecutive selections one above the other (embeddings side by side) are one: [I[0:2]; I[2:4]] = I[0:4]."""
    from .products import select, selection

    horizontal = is_op(node, "hstack")
    parts = [b.args[0] if horizontal and is_op(b, "transpose") else b for b in node.args]
    found = [selection(q) for q in parts]
    for k in range(len(found) - 1):
        s1, s2 = found[k], found[k + 1]
        if s1 and s2 and s1[0] == s2[0] and s1[1].step == s2[1].step == 1 and s1[1].stop == s2[1].start:
            joined = select(s1[0], range(s1[1].start, s2[1].stop))
            joined = make("transpose", joined) if horizontal else joined
            blocks = node.args[:k] + (joined,) + node.args[k + 2:]
            return blocks[0] if len(blocks) == 1 else make(node.op.name, *blocks)
    return None


structural("hstack", _concat_infer(1), _concat_fwd(1), _concat_linear, rewrite=(_concat_rules,),
           show=Show(mc=_show_concat, uni=_show_concat, tex=_show_concat, prec=ATOM),
           example=("hstack(A, 2*A)", "A=2x2"), help="matrices side by side", fn={"operands": -1})
structural("vstack", _concat_infer(0), _concat_fwd(0), _concat_linear, rewrite=(_concat_rules,),
           show=Show(mc=_show_concat, uni=_show_concat, tex=_show_concat, prec=ATOM),
           example=("vstack(A, A@A)", "A=2x2"), help="matrices one above the other", fn={"operands": -1})


# --- numpy's concatenate, stack, hstack, vstack: sequences of arrays -------------------------------------------

def _join_infer(shapes, **_):
    for s in shapes:
        need_ndim("concatenate", s, (1,), "vectors")
    return (sum(s[0] for s in shapes),)


def _join_fwd(node, *vals):
    batch = np.broadcast_shapes(*[core(v, 1) for v in vals])
    return np.concatenate([np.broadcast_to(v, batch + v.shape[-1:]) for v in vals], axis=-1)


def _join_linear(node, i, order):
    before = sum(a.size for a in node.args[:i])
    return maps.embed(node.size, slice(before, before + node.args[i].size))


structural("concatenate", _join_infer, _join_fwd, _join_linear,
           show=Show(mc=lambda p, node: (f"concatenate([{', '.join(p(a) for a in node.args)}])", ATOM)),
           example=("concatenate([x, 2*x])", "x=3"), help="vectors joined end to end", spelled=())


def _same_ndim(name, shapes):
    nds = {len(s) for s in shapes}
    if len(nds) != 1:
        raise ParamError(f"of arrays with different numbers of axes ({', '.join(fmt_shape(s) for s in shapes)})",
                         shape=True, hint="make them alike first, e.g. x[None, :] for a row")
    return nds.pop()


def _concatenate(shapes, given):
    nd, axis_ = _same_ndim("concatenate", shapes), given.get("axis", 0)
    if nd == 0:
        raise ParamError("of scalars: they have no axis to join along", shape=True, hint="write [a, b]")
    if not -nd <= axis_ < nd:
        raise ParamError(f"with axis {axis_}: out of range for arrays of {nd} axes", shape=True)
    return {"axis": None}


def _seq(name, pick, derive=None, literals=(), kinds=None, help="", sequence=True):
    FUNCTIONS[name] = Fn(name, operands=-1, literals=literals, kinds=kinds, derive=derive, help=help,
                         dispatch=pick, sequence=sequence)


def _pick_concatenate(shapes, params):
    if len(shapes[0]) == 1:
        return "concatenate"
    return "vstack" if params.get("axis", 0) in (0, -2) else "hstack"


def _pick_h(shapes, params):
    return "concatenate" if len(shapes[0]) == 1 else "hstack"


def _pick_v(shapes, params):
    return "stack" if len(shapes[0]) <= 1 else "vstack"


def _pick_stack(shapes, params):
    return "stack"


def _stack_params(shapes, given):
    nd = _same_ndim("stack", shapes)
    a = given.get("axis", 0)
    if nd >= 2:
        raise ParamError("of matrices would give 3 axes; mcalc's arrays have at most 2", shape=True)
    if a not in (0, -nd - 1) and not (nd == 1 and a in (1, -1)):
        raise ParamError(f"axis {a} is out of range for stacking arrays of {nd} axes", shape=True)
    return {"axis": 1 if nd == 1 and a in (1, -1) else None}


def _hv_params(name):
    def derive(shapes, given):
        nd = _same_ndim(name, shapes)
        if nd == 0:
            raise ParamError("of scalars: write [a, b]", shape=True)
        return {}
    return derive


_seq("concatenate", _pick_concatenate, derive=_concatenate, literals=("axis",), kinds={"axis": integer()},
     help="numpy.concatenate([a, b], axis=0): vectors end to end, matrices stacked along the axis")
_seq("hstack", _pick_h, derive=_hv_params("hstack"), sequence="or arrays",
     help="numpy.hstack: vectors end to end, matrices side by side")
_seq("vstack", _pick_v, derive=_hv_params("vstack"), sequence="or arrays",
     help="numpy.vstack: vectors as rows, matrices one above the other")
_seq("stack", _pick_stack, derive=_stack_params, literals=("axis",), kinds={"axis": integer()},
     help="numpy.stack([a, b], axis=0): scalars into a vector, vectors as rows (axis=1: as columns)")


# --- gathers: each output entry one input entry (flip, roll, tile, repeat, diagonal, broadcast_to, take) ------

def _numbers(shape):
    return np.arange(size_of(shape)).reshape(shape)


def gathering(name, pick, literals=(), kinds=None, derive=None, required=0, help="", example=None, methods=(),
              aliases=(), show=None, shape=None):
    """An operation that picks input entries: pick(numbers, **params) applied to the array of the input's entry
    numbers (row-major) says which; the value, the map (rows of the identity) and the differential (the same
    operation on the differential) all follow.  shape(input shape, **params): the output's shape, where pick
    would take a step per output entry to tell it."""

    def infer(shapes, **params):
        try:                                   # (on entries of no bytes: tile(x, 10**5) is refused, never built)
            out = shape(shapes[0], **params) if shape else np.shape(pick(np.empty(shapes[0], dtype=[]), **params))
        except (ValueError, IndexError, TypeError, ZeroDivisionError) as e:
            raise ShapeError(f"{name.removesuffix('_piece')}: {e}") from None
        if len(out) > 2:
            raise ShapeError(f"{name} would give {len(out)} axes; mcalc's arrays have at most 2")
        if 0 in out:
            raise ShapeError(f"{name} selects nothing")
        return out

    def idx(node):
        return np.asarray(pick(_numbers(node.args[0].shape), **node.params))

    def fwd(node, x):
        nd = node.args[0].ndim
        flat = x.reshape(core(x, nd) + (-1,))
        return flat[..., idx(node).ravel()].reshape(core(x, nd) + node.shape)

    def linear(node, i, order):
        return gather_map(idx(node), node.args[0].shape, node.shape, order)

    structural(name, infer, fwd, linear, show=show or Show(kwargs=literals), example=example or (f"{name}(A)", "A=2x3"),
               help=help, spelled=(name, *aliases), methods=methods,
               fn={"literals": literals, "kinds": kinds or {}, "derive": derive, "required": required})


def _ints(v, shapes):
    """An integer or a tuple of integers (reps, shifts, a shape)."""
    items = v if isinstance(v, tuple) else (v,)
    if not items or any(isinstance(k, bool) or not isinstance(k, int) for k in items):
        raise ParamError(f"must be an integer or a tuple of integers, got {v!r}")
    return tuple(int(k) for k in items) if isinstance(v, tuple) else int(v)


_ints.words = "integers"

gathering("flip", lambda a, axis=None: np.flip(a, axis), literals=("axis",), kinds={"axis": axis},
          example=("flip(A, axis=1)", "A=2x3"), help="the entries in reverse order (along an axis)")
gathering("fliplr", np.fliplr, example=("fliplr(A)", "A=2x3"), help="the columns in reverse order")
gathering("flipud", np.flipud, example=("flipud(A)", "A=2x3"), help="the rows in reverse order")
gathering("roll", lambda a, shift=0, axis=None: np.roll(a, shift, axis), literals=("shift", "axis"),
          kinds={"shift": _ints, "axis": axes_in_order}, required=1, example=("roll(A, 1, axis=1)", "A=2x3"),
          help="the entries shifted cyclically (along an axis)")
gathering("tile", lambda a, reps=1: np.tile(a, reps), literals=("reps",), kinds={"reps": _ints}, required=1,
          example=("tile(x, 2)", "x=3"), help="the array repeated reps times (per axis)")
def _repeat_shape(shape, repeats=1, axis=None):
    """numpy.repeat's output shape, in a step (numpy's own takes one per output entry)."""
    n = size_of(shape) if axis is None else shape[axis]
    reps = repeats if isinstance(repeats, tuple) else (repeats,)
    if any(r < 0 for r in reps):
        raise ValueError("negative dimensions are not allowed")
    if len(reps) not in (1, n):
        raise ValueError(f"operands could not be broadcast together with shape ({n},) ({len(reps)},)")
    total = n * reps[0] if len(reps) == 1 else sum(reps)
    return (total,) if axis is None else tuple(shape[:axis]) + (total,) + tuple(shape[axis + 1:])


gathering("repeat", lambda a, repeats=1, axis=None: np.repeat(a, repeats, axis), literals=("repeats", "axis"),
          kinds={"repeats": _ints, "axis": one_axis}, required=1, methods=("repeat",), shape=_repeat_shape,
          example=("repeat(x, 2)", "x=3"), help="each entry repeated (of the flattened array, or along an axis)")
gathering("diagonal", lambda a, offset=0: np.diagonal(a, offset), literals=("offset",),
          kinds={"offset": integer()}, methods=("diagonal",), example=("diagonal(A, 1)", "A=3x3"),
          help="the diagonal (offset above it, negative below), as numpy.diagonal")
gathering("broadcast_to", lambda a, shape=(): np.broadcast_to(a, shape), literals=("shape",),
          kinds={"shape": lambda v, shapes: v if isinstance(v, tuple) else (v,)}, required=1,
          example=("broadcast_to(s, (2, 3))", "s=scalar"), help="the array copied to a larger shape, as broadcasting does")
gathering("take", lambda a, indices=(), axis=None: np.take(a, np.array(indices), axis), literals=("indices", "axis"),
          kinds={"indices": _ints, "axis": one_axis}, required=1, methods=("take",),
          example=("take(x, [2, 0])", "x=3"), help="the entries at the given positions (of the flattened array, or "
                                                    "along an axis)")


# --- pad: the input placed among zeros ------------------------------------------------------------------------

def _pad_width(v, shapes):
    nd = len(shapes[0])
    items = v if isinstance(v, tuple) else (v,)
    if not all(isinstance(k, (int, tuple)) for k in items):
        raise ParamError(f"must be an integer, a pair, or a pair per axis, got {v!r}")
    try:
        width = np.broadcast_to(np.array(v, dtype=int), (nd, 2))
    except ValueError:
        raise ParamError(f"does not fit an array of {nd} axes: {v!r}", shape=True) from None
    if np.any(width < 0):
        raise ParamError("must not be negative")
    return tuple(tuple(int(k) for k in row) for row in width)


def _pad_infer(shapes, pad_width=(), constant_values=0.0, **_):
    out = tuple(d + a + b for d, (a, b) in zip(shapes[0], pad_width))
    if len(out) == 0:
        raise ShapeError("pad needs an array, got a scalar")
    return out


def _pad_fwd(node, x):
    nd = node.args[0].ndim
    width = ((0, 0),) * (x.ndim - nd) + node.params["pad_width"]
    return np.pad(x, width, constant_values=node.params.get("constant_values", 0.0))


def _pad_linear(node, i, order):
    """The adjoint of cutting the input back out of the result: rows of the identity, transposed."""
    inner = tuple(slice(a, a + d) for d, (a, _) in zip(node.args[0].shape, node.params["pad_width"]))
    positions = _numbers(node.shape)[inner]
    return maps.transpose(gather_map(positions, node.shape, node.args[0].shape, order))


def _pad_jvp(node, tangents):
    (dx,) = tangents
    return call("pad", dx, pad_width=node.params["pad_width"])


structural("pad", _pad_infer, _pad_fwd, _pad_linear, jvp=_pad_jvp, show=Show(kwargs=("pad_width", "constant_values")),
           example=("pad(A, 1)", "A=2x2"), help="the array with a border of constant values (mode='constant')",
           fn={"literals": ("pad_width", "mode", "constant_values"), "required": 1,
               "kinds": {"pad_width": _pad_width, "mode": choice("constant"), "constant_values": number},
               "derive": lambda shapes, given: {"mode": None, "constant_values": given.get("constant_values") or None}})


# --- more of numpy's rearrangements -------------------------------------------------------------------------------

gathering("rot90", lambda a, k=1: np.rot90(a, k), literals=("k",), kinds={"k": integer()},
          example=("rot90(A)", "A=2x3"), help="the matrix turned by 90° k times (counterclockwise)")
gathering("swapaxes", lambda a, axis1=0, axis2=1: np.swapaxes(a, axis1, axis2), literals=("axis1", "axis2"),
          kinds={"axis1": integer(), "axis2": integer()}, required=2, methods=("swapaxes",),
          example=("swapaxes(A, 0, 1)", "A=2x3"), help="two axes exchanged (for a matrix: its transpose)")
gathering("moveaxis", lambda a, source=0, destination=0: np.moveaxis(a, source, destination),
          literals=("source", "destination"), kinds={"source": integer(), "destination": integer()}, required=2,
          example=("moveaxis(A, 0, 1)", "A=2x3"), help="an axis moved to another place (for a matrix: its transpose)")
_spelled_as_reshape("atleast_1d", lambda shape, given: shape or (1,), method=False,
                    help="a scalar as a vector of one entry; arrays as they are (numpy.atleast_1d)")
_spelled_as_reshape("atleast_2d", lambda shape, given: (1,) * (2 - len(shape)) + tuple(shape), method=False,
                    help="a scalar or a vector as a matrix of one row; matrices as they are (numpy.atleast_2d)")
FUNCTIONS["full"] = Fn("broadcast_to", lead=1, literals=("shape",), required=1,
                       kinds={"shape": lambda v, shapes: v if isinstance(v, tuple) else (v,)},
                       help="full(shape, fill_value): an array of one value (numpy.full); differentiable in the value")


def _transpose_axes(shapes, given):
    axes = given.get("axes")
    if axes is None:
        return {}
    if sorted(axes if isinstance(axes, tuple) else (axes,)) != list(range(len(shapes[0]))):
        raise ParamError(f"with axes {axes!r}: they must be a permutation of 0..{len(shapes[0]) - 1}", shape=True)
    return {"axes": None}


def _pick_transpose(shapes, given):
    axes = given.get("axes")
    axes = axes if axes is None or isinstance(axes, tuple) else (axes,)       # (numpy: transpose(x, 0) of a vector)
    return "reshape" if axes is not None and axes == tuple(range(len(shapes[0]))) else "transpose"


_t = FUNCTIONS["transpose"]
FUNCTIONS["transpose"] = Fn("transpose", literals=("axes",), rest=True, kinds={"axes": _ints},
                            derive=lambda shapes, given: {**_transpose_axes(shapes, given),
                                                          **({"shape": tuple(shapes[0])} if _pick_transpose(
                                                              shapes, given) == "reshape" else {})},
                            dispatch=_pick_transpose, help=_t.help)


# --- linspace, cross --------------------------------------------------------------------------------------------

def _linspace_infer(shapes, num=50, endpoint=None, **_):
    for s in shapes:
        if s != ():
            raise ShapeError(f"linspace takes scalar end points, got shape {fmt_shape(s)}")
    if num < 1:
        raise ShapeError(f"linspace needs num ≥ 1, got {num}")
    return (num,)


def _ramp(node):
    """t in [0, 1] with start + (stop - start) t the points (numpy's spacing, endpoint or not)."""
    num = node.params.get("num", 50)
    return np.linspace(0.0, 1.0, num, endpoint=node.params.get("endpoint") is not False)


def _linspace_fwd(node, a, b):
    t = _ramp(node)
    return np.asarray(a)[..., None] * (1 - t) + np.asarray(b)[..., None] * t


def _linspace_linear(node, i, order):
    from ..algebra import const

    t = _ramp(node)
    return call("col", call("mul", const(1.0), Const(1 - t if i == 0 else t)))


structural("linspace", _linspace_infer, _linspace_fwd, _linspace_linear,
           show=Show(kwargs=("num", "endpoint")), example=("linspace(a, b, 5)", "a=scalar,b=scalar"),
           help="num evenly spaced points from start to stop (numpy.linspace)",
           fn={"operands": 2, "literals": ("num", "endpoint"), "kinds": {"num": integer(1), "endpoint": choice(True, False)},
               "derive": lambda shapes, given: {"endpoint": None if given.get("endpoint", True) else False}})


def _cross_infer(shapes, **_):
    for s in shapes:
        if s != (3,):
            raise ShapeError(f"cross takes two vectors of 3 entries, got shape {fmt_shape(s)}")
    return (3,)


def _skew(v, sign):
    """The matrix of u ↦ v × u (sign 1) or u ↦ u × v (sign -1)."""
    e = [call("index", v, key=(k,)) for k in range(3)]
    z = Const(0.0)
    rows = [[z, -e[2], e[1]], [e[2], z, -e[0]], [-e[1], e[0], z]]
    return call("stack", *[call("stack", *[q if sign > 0 or q is z else -q for q in row]) for row in rows])


def _cross_linear(node, i, order):
    a, b = node.args
    return _skew(b, -1) if i == 0 else _skew(a, 1)


def _cross_jvp(node, tangents):
    da, db = tangents
    a, b = node.args
    parts = [call("cross", da, b) if da is not None else None, call("cross", a, db) if db is not None else None]
    parts = [q for q in parts if q is not None]
    return parts[0] if len(parts) == 1 else parts[0] + parts[1]


structural("cross", _cross_infer, lambda node, a, b: np.cross(*np.broadcast_arrays(a, b)), _cross_linear,
           jvp=_cross_jvp, example=("cross(a, b)", "a=3,b=3"),
           sympy=lambda sp, node, a, b: np.array(sp.Matrix(list(a)).cross(sp.Matrix(list(b))), dtype=object).ravel(),
           help="the cross product of two 3-vectors", fn={"operands": 2})


# --- sorting: a permutation that depends on the values -------------------------------------------------------------

def _sort_axis(node) -> int:
    a = node.params.get("axis")
    return node.args[0].ndim - 1 if a is None else a


def _one_axis(shapes, given):
    """numpy's default is the last axis, written canonically as none."""
    a = given.get("axis")
    return {"axis": None if a is None or a == len(shapes[0]) - 1 else a}


def _sort_kink(node, x):
    """0 where two entries tie (the permutation jumps there): the smallest gap between sorted neighbours."""
    v = np.sort(np.real(x), axis=_sort_axis(node) - node.args[0].ndim)
    return np.min(np.abs(np.diff(v, axis=_sort_axis(node) - node.args[0].ndim))) if v.shape[-1] > 1 else np.inf


def _vector_or_matrix(label):
    def infer(shapes, **_):
        need_ndim(label, shapes[0], (1, 2), "a vector or a matrix")
        return shapes[0]
    return infer


def _sort_work(node):
    """A comparison sort: about log₂ n memory-bound passes over the entries (ENTRY_COST each)."""
    from ..budget import ENTRY_COST

    n = node.args[0].shape[_sort_axis(node)] if node.args[0].shape else 1
    return ENTRY_COST * node.size * max(1, int(n).bit_length())


register(Op("argsort", _vector_or_matrix("argsort"),
            lambda node, x: np.argsort(np.real(x), axis=_sort_axis(node) - node.args[0].ndim, kind="stable")
            .astype(float), flat=True, work=_sort_work, kink=_sort_kink, sided=False, analytic=False, show=Show(kwargs=("axis",)),
            sympy=no_symbolic("argsort"),
            example=("x * argsort(x)", "x=3"),
            help="the positions that sort the entries (stable; derivative 0)", family="structural"),
         spelled=("argsort",), methods=("argsort",), literals=("axis",), kinds={"axis": an_axis}, derive=_one_axis,
         help="the positions that sort x (numpy.argsort, stable): values, derivative 0")


def _tal_infer(shapes, axis=None, **_):
    a, idx = shapes
    if len(a) != len(idx) or len(a) not in (1, 2):
        raise ShapeError(f"take_along_axis needs indices with as many axes as the array, got {fmt_shape(a)} and "
                         f"{fmt_shape(idx)}")
    return idx


def _tal_fwd(node, a, idx):
    nd = node.args[0].ndim
    axis_ = (nd - 1 if node.params.get("axis") is None else node.params["axis"]) - nd
    idx = np.asarray(np.real(idx), dtype=np.intp)
    batch = np.broadcast_shapes(core(a, nd), core(idx, nd))
    a = np.broadcast_to(a, batch + a.shape[a.ndim - nd:])
    idx = np.broadcast_to(idx, batch + idx.shape[idx.ndim - nd:])
    return np.take_along_axis(a, idx, axis_)


def _tal_domain(node, a, idx):
    """numpy takes integer positions within the axis (negative from the end)."""
    n = node.args[0].shape[_sort_axis(node)]
    v = np.real(idx)
    bad = (v != np.round(v)) | (v < -n) | (v >= n)
    if np.any(bad):
        return (f"take_along_axis needs whole positions from {-n} to {n - 1} (as argsort gives), got "
                f"{float(np.ravel(v[bad])[0]):g}")
    return None


def _tal_adjoint(node, i, C):
    """Picking entries is transposed by adding each cotangent back where it was picked from."""
    return call("scatter_along_axis", C, node.args[1], shape=node.args[0].shape, **node.params) if i == 0 else None


def _scatter_fwd(node, c, idx):
    """out[..., idx[..., k], ...] += c[..., k, ...] along the axis: take_along_axis transposed."""
    shape = tuple(node.params["shape"])
    nd = len(shape)
    axis_ = (nd - 1 if node.params.get("axis") is None else node.params["axis"]) - nd
    idx = np.asarray(np.real(idx), dtype=np.intp)
    batch = np.broadcast_shapes(core(c, nd), core(idx, nd))
    c = np.moveaxis(np.broadcast_to(c, batch + c.shape[c.ndim - nd:]), axis_, -1)
    idx = np.moveaxis(np.broadcast_to(idx, batch + idx.shape[idx.ndim - nd:]), axis_, -1)
    n = shape[axis_]
    lead, k = c.shape[:-1], c.shape[-1]
    count = int(np.prod(lead, dtype=np.int64))
    where = (np.arange(count)[:, None] * n + (idx.reshape(count, k) % n)).ravel()

    def add(w):
        return np.bincount(where, weights=w.reshape(-1), minlength=count * n).reshape(lead + (n,))
    out = add(np.real(c)) + 1j * add(np.imag(c)) if np.iscomplexobj(c) else add(c)
    return np.moveaxis(out, -1, axis_)


register(Op("scatter_along_axis", lambda shapes, shape, **_: tuple(shape), _scatter_fwd,
            jvp=lambda node, t: call("scatter_along_axis", t[0], node.args[1], **node.params),
            linear=lambda node, i, order: call("numeric_map", of=node, argnum=i, n=node.args[i].size), passes=(0,),
            adjoint=lambda node, i, C: call("take_along_axis", C, node.args[1],
                                            **{k: v for k, v in node.params.items() if k == "axis"}) if i == 0 else None,
            sympy=no_symbolic("scatter_along_axis"), show=Show(kwargs=("axis",)),
            help="entries added back where take_along_axis picked them (its transpose)", family="structural"))


register(Op("take_along_axis", _tal_infer, _tal_fwd, domain=_tal_domain, jvp=lambda node, t: call("take_along_axis", t[0],
                                                                               node.args[1], **node.params),
            adjoint=_tal_adjoint,
            linear=lambda node, i, order: call("numeric_map", of=node, argnum=i, n=node.args[i].size), passes=(0,),
            sympy=no_symbolic("take_along_axis"),
            show=Show(kwargs=("axis",)), example=("take_along_axis(x, argsort(x))", "x=3"),
            help="entries picked along an axis by positions (argsort's)", family="structural"),
         spelled=("take_along_axis",), operands=2, literals=("axis",), kinds={"axis": one_axis}, derive=_one_axis,
         help="numpy.take_along_axis(a, indices, axis): entries picked along an axis")


def _sort_jvp(node, tangents):
    (dx,) = tangents
    a = node.params.get("axis")
    order = call("argsort", node.args[0], **({} if a is None else {"axis": a}))
    return call("take_along_axis", dx, order, **({} if a is None else {"axis": a}))


register(Op("sort", _vector_or_matrix("sort"),
            lambda node, x: np.take_along_axis(x, np.argsort(np.real(x), axis=_sort_axis(node) - node.args[0].ndim,
                                                             kind="stable"), _sort_axis(node) - node.args[0].ndim),
            jvp=_sort_jvp, kink=_sort_kink, sided=False, analytic=False, show=Show(kwargs=("axis",)), work=_sort_work,
            sympy=no_symbolic("sort"),
            example=("sort(x)", "x=3"), note="ties are kinks", help="the entries in increasing order (along an axis)",
            family="structural"),
         spelled=("sort",), literals=("axis",), kinds={"axis": an_axis}, derive=_one_axis,
         help="numpy.sort(x, axis=-1): the entries in order; its derivative permutes dx the same way")
FUNCTIONS["msort"] = Fn("sort", derive=lambda shapes, given: {"axis": 0 if len(shapes[0]) == 2 else None},
                        help="numpy.msort(a) (before numpy 2): sort(a, axis=0)")


# --- split: a list of pieces, indexed -----------------------------------------------------------------------------

def _piece(splitter, default_axis=0):
    def pick(a, indices_or_sections=1, axis=None, item=0):
        ax = default_axis(a) if callable(default_axis) else default_axis
        pieces = splitter(a, indices_or_sections, axis=ax if axis is None else axis)
        if not -len(pieces) <= item < len(pieces):
            raise ValueError(f"piece {item} of {len(pieces)}")
        return pieces[item]
    return pick


def _show_piece(name):
    def show(p, node):
        ios = node.params.get("indices_or_sections")
        ios = f"[{', '.join(map(str, ios))}]" if isinstance(ios, tuple) else str(ios)
        axis_ = f", axis={node.params['axis']}" if node.params.get("axis") is not None else ""
        return f"{name}({p(node.args[0])}, {ios}{axis_})[{node.params.get('item', 0)}]", ATOM
    return Show(mc=show, uni=show, tex=show, prec=ATOM)


for _name, _splitter, _axis in (("split", np.split, 0), ("array_split", np.array_split, 0),
                                ("hsplit", np.array_split, lambda a: 1 if a.ndim > 1 else 0),
                                ("vsplit", np.array_split, 0)):
    gathering(f"{_name}_piece", _piece(_splitter, _axis), literals=("indices_or_sections", "axis", "item"),
              kinds={"indices_or_sections": _ints, "axis": one_axis},
              example=({"split": "split(x, [1, 3])[1]", "vsplit": "vsplit(A, 2)[1]"}.get(_name, f"{_name}(x, 2)[1]"),
                       "A=4x2" if _name == "vsplit" else "x=4"), help=f"a piece of numpy.{_name}", aliases=(), show=_show_piece(_name))
    FUNCTIONS.pop(f"{_name}_piece", None)
    FUNCTIONS[_name] = Fn(f"{_name}_piece", literals=("indices_or_sections",) + (("axis",) if _name in (
        "split", "array_split") else ()), required=1, kinds={"indices_or_sections": _ints, "axis": one_axis},
        pieces=f"{_name}_piece", help=f"numpy.{_name}: a list of pieces; take one: {_name}(x, 2)[0]")

FUNCTIONS["nan_to_num"] = Fn("reshape", derive=lambda shapes, given: {"shape": tuple(shapes[0])},
                             help="x itself (mcalc's values are finite): numpy.nan_to_num")
FUNCTIONS["positive"] = Fn("reshape", derive=lambda shapes, given: {"shape": tuple(shapes[0])},
                           help="+x, as numpy.positive")
for _name in ("real", "real_if_close", "conj", "conjugate"):     # mcalc's arrays are real: each is x itself
    FUNCTIONS[_name] = Fn("reshape", derive=lambda shapes, given: {"shape": tuple(shapes[0])},
                          help=f"numpy.{_name} of a real array: x itself")
METHODS["conj"], METHODS["conjugate"] = "conj", "conjugate"
gathering("rollaxis", lambda a, axis=0, start=0: np.rollaxis(a, axis, start), literals=("axis", "start"),
          kinds={"axis": one_axis, "start": integer()}, required=1, example=("rollaxis(A, 1)", "A=2x3"),
          help="an axis rolled back to start (numpy.rollaxis; for a matrix: its transpose)")
