"""Structural operations: they move entries (transpose, indexing, diag, vec, col/row, building arrays from
pieces).  Each is linear, so its differential is itself applied to the differentials of its arguments, and its map
is a selection, an embedding or a commutation matrix, built per axis in the flatten order (mcalc.ops.maps)."""

from __future__ import annotations

import numpy as np

from ..algebra import is_op, make
from ..errors import ShapeError
from ..linops import Diag, Gather
from ..printing import ATOM, CALL
from ..tree import Node, call, fmt_shape, size_of
from . import maps
from .arithmetic import pull_scalar, split_scalar
from .core import FUNCTIONS, METHODS, Fn, Op, ParamError, Show, axis, core, integer, key_text, need_ndim, register


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
    return register(Op(name, infer, fwd, jvp=linear_jvp, linear=linear, family="structural", **kw),
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
    if a.primal:
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
    try:
        shape = np.empty(shapes[0])[key].shape
    except (IndexError, ValueError) as e:
        raise ShapeError(f"index [{key_text(key)}] does not fit shape {fmt_shape(shapes[0])}: {e}",
                         hint="indices are 0-based, as in numpy") from None
    if 0 in shape:
        raise ShapeError(f"index [{key_text(key)}] selects nothing from shape {fmt_shape(shapes[0])}",
                         hint="a slice start:stop needs start < stop (or a negative step)")
    return shape


def _index_fwd(node, x):
    key = node.params["key"]
    key = key + (slice(None),) * (len(node.args[0].shape) - len(key))      # index the leading axes, after any batch
    return x[(Ellipsis,) + key]


def _index_linop(node, read):
    """Rows of a map (the selections eye(n)[key] of closed forms): a Gather, built from the slice alone."""
    key, arg = node.params["key"], node.args[0]
    if len(key) != 1 or arg.ndim != 2:
        return None
    n = arg.shape[0]
    k = key[0]
    rows = np.arange(*k.indices(n)) if isinstance(k, slice) else np.array([k % n])
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
        return f"{p(a, ATOM)}_{{[{key_text(key, ',')}]}}", ATOM
    return f"{p(a, ATOM)}[{key_text(key, ', ' if p.notation == 'mc' else ',')}]", ATOM


structural("index", _index_infer, _index_fwd,
           lambda node, i, order: maps.select(node.params["key"], node.args[0].shape, order),
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


structural("diag", _diag_infer, _diag_fwd, _diag_linear, rewrite=(pull_scalar,),
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
    if any(isinstance(d, bool) or not isinstance(d, (int, float)) or d != int(d) or d < -1 for d in dims):
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


def _stack_linear(node, i, order):
    """Element i fills entries i·k ... i·k + k - 1 of the result (row-major), or every count-th one from i."""
    k, count = node.args[i].size, len(node.args)
    if order == "row" or node.args[i].ndim == 0:
        return maps.embed(node.size, slice(i * k, (i + 1) * k))
    return maps.embed(node.size, slice(i, None, count))


def _entry(p, e) -> str:
    from ..algebra import const

    return p(e if isinstance(e, Node) else const(e))


def _show_list(p, node):
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
        return p.call(node), ATOM
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
