"""Products: @, dot, outer and kron.  Each is bilinear: one linear map per operand (the other held fixed), and the
differential op(dA, B) + op(A, dB) follows from them.  matmul also owns the algebra of products of matrices:
identities dropped, scalars in front, Kronecker products meeting by the mixed-product rule
(A ⊗ B)(C ⊗ D) = AC ⊗ BD, diagonals merged, equal factors as powers, and rows of vectors absorbing the matrices
after them (uᵀM = (Mᵀu)ᵀ, vec(X)ᵀ(A ⊗ B) = vec(AᵀXB)ᵀ row-major)."""

from __future__ import annotations

import numpy as np

from ..algebra import computing, current_order, is_op, make
from ..errors import NoClosedFormError, ShapeError
from ..linops import Gather, outer
from ..printing import ATOM, OPERAND, PRODUCT, shown
from ..tree import Node, call, fmt_shape
from . import maps
from .arithmetic import _bilinear_jvp, split_scalar, times
from .core import Op, Show, core, poly_product, register


# --- shapes and values ---------------------------------------------------------------------------------------------

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
    if not (va or vb) and a.shape[-1] == 1:          # (an outer product: not a GEMM of depth 1, which takes half
        return outer(a, b) if a.ndim == b.ndim == 2 else np.multiply(a, b)     # as long again; linops.outer)
    if a.ndim == len(node.args[0].shape) and b.ndim == len(node.args[1].shape):   # (no batch axes: numpy's own
        return np.matmul(a, b)                                                     # matrix-vector product, GEMV)
    out = np.matmul(a[..., None, :] if va else a, b[..., :, None] if vb else b)
    return out[..., 0, :] if va else (out[..., 0] if vb else out)


def _mm_propagates(node, i, a, b) -> bool:
    """A nan or an inf in one factor shows in the product when the other has no zero: BLAS may skip a zero's
    column (reference dgemv does), and then inf * 0 is never computed."""
    return bool(np.all(b if i == 0 else a))


def _mm_work(node):
    (m, n), (_, p) = _mm_shapes([a.shape for a in node.args])
    return m * n * p


def _mm_inner(node):
    """The products an entry sums: the inner size."""
    a = node.args[0]
    return a.shape[-1] if a.ndim else 1


def _mm_linear(node, i, order):
    """d vec(AB)/d vec(A) = I ⊗ Bᵀ row-major (Bᵀ ⊗ I column-major); d vec(AB)/d vec(B) = A ⊗ I (I ⊗ A)."""
    a, b = node.args
    if i == 0:
        return maps.sandwich(1 if a.ndim == 1 else a.shape[0], maps.as_matrix(b, "col"), order)
    return maps.sandwich(maps.as_matrix(a, "row"), 1 if b.ndim == 1 else b.shape[1], order)


# --- the algebra of products -----------------------------------------------------------------------------------

def structural(node: Node) -> bool:
    """A closed-form matrix made of identities, selections, Kronecker products...: not a value to absorb."""
    if is_op(node, "kron", "eye", "commutation", "zeros", "ones", "hstack", "vstack", "diag"):
        return True
    if is_op(node, "index"):
        return is_op(node.args[0], "eye")
    if is_op(node, "transpose", "add", "matmul", "mul"):
        return any(structural(a) for a in node.args)
    return False


def _power_of(node: Node) -> tuple[Node, int]:
    """(X, k) for Xᵏ, X⁻¹ (k = -1) and X itself (k = 1): X⁻¹ X cancels, X X⁻² is X⁻¹."""
    if is_op(node, "matpow") and not node.primal:
        return node.args[0], node.params["k"]
    if is_op(node, "inv"):
        return node.args[0], -1
    return node, 1


def _row_vector(node: Node) -> Node | None:
    """u for row(u) of a vector u."""
    return node.args[0] if is_op(node, "row") and node.args[0].ndim == 1 else None


def selection(node: Node):
    """(n, range) for rows of an identity eye(n)[start:stop:step] (a selection), else None."""
    if is_op(node, "index") and is_op(node.args[0], "eye") and len(node.params["key"]) == 1:
        n, (k,) = node.args[0].params["n"], node.params["key"]
        if isinstance(k, tuple):                     # rows in a list: a selection where they are evenly spaced
            rows = [r % n for r in k]
            step = rows[1] - rows[0] if len(rows) > 1 else 1
            if step and rows == list(range(rows[0], rows[0] + step * len(rows), step)):
                return n, range(rows[0], rows[0] + step * len(rows), step)
            return None
        return n, range(n)[k] if isinstance(k, slice) else range(k % n, k % n + 1)
    return None


def select(n: int, rows: range) -> Node:
    """eye(n)[rows], rows a range, written as the plainest slice (one row: i:i+1; the stop just past the last)."""
    if len(rows) == 1:
        return make("index", maps.eye(n), key=(slice(rows[0], rows[0] + 1),))
    stop = rows[-1] + rows.step
    return make("index", maps.eye(n), key=(slice(rows.start, stop if stop >= 0 else None,
                                                 rows.step if rows.step != 1 else None),))


def _merge(a: Node, b: Node) -> Node | None:
    """a @ b as one factor, where the algebra allows."""
    sa, sb = selection(a), selection(b)
    if sa is not None and sb is not None:                              # rows of rows of I are rows of I
        return select(sb[0], sb[1][sa[1].start:sa[1].stop:sa[1].step])
    if is_op(a, "transpose") and is_op(b, "transpose"):                # embeddings in embeddings: (S₂ S₁)ᵀ
        sa, sb = selection(a.args[0]), selection(b.args[0])
        if sa is not None and sb is not None:
            return make("transpose", select(sa[0], sa[1][sb[1].start:sb[1].stop:sb[1].step]))
    if is_op(a, "kron") and is_op(b, "kron"):
        (A, B), (C, D) = a.args, b.args
        if A.shape[1] == C.shape[0] and B.shape[1] == D.shape[0]:
            return make("kron", make("matmul", A, C), make("matmul", B, D))
    diag_a = is_op(a, "diag") and a.args[0].ndim == 1
    diag_b = is_op(b, "diag") and b.args[0].ndim == 1
    if diag_a and diag_b:
        return make("diag", make("mul", a.args[0], b.args[0]))
    if is_op(a, "ones") and a.shape[0] == 1 and diag_b:                   # 1ᵀ diag(v) = vᵀ
        return make("row", b.args[0])
    if diag_a and is_op(b, "ones") and b.shape[1] == 1:                   # diag(v) 1 = v
        return make("col", a.args[0])
    u = _row_vector(a)
    if u is not None:
        return _row_times(u, b)
    if is_op(b, "col") and b.args[0].ndim == 1 and not structural(a):     # M col(x) = M x
        return make("col", make("matmul", a, b.args[0]))
    (x, j), (y, k) = _power_of(a), _power_of(b)
    if x.key == y.key and x.ndim == 2 and x.shape[0] == x.shape[1]:        # X X = X²
        return make("matpow", x, k=j + k)
    return _cancelled(a, b)


def _cancelled(a: Node, b: Node) -> Node | None:
    """Qᵀ Q = I for orthonormal columns, Q Qᵀ = I for orthonormal rows; F (P F)⁻¹ = P⁻¹ and (F P)⁻¹ F = P⁻¹ for a
    square F (a square product is invertible only if each square factor is)."""
    for q, other, rows in ((b, a, False), (a, b, True)):
        if q.op is not None and q.op.orthonormal is not None and is_op(other, "transpose") \
                and other.args[0].key == q.key and q.op.orthonormal(q)[rows]:
            return maps.eye(a.shape[0])
    if is_op(b, "inv") and a.ndim == 2 and a.shape[0] == a.shape[1]:
        inner = _factors(b.args[0])
        if len(inner) > 1 and inner[-1].key == a.key and all(f.ndim == 2 and f.shape[0] == f.shape[1] for f in inner):
            return make("inv", _chain(inner[:-1]))
    if is_op(a, "inv") and b.ndim == 2 and b.shape[0] == b.shape[1]:
        inner = _factors(a.args[0])
        if len(inner) > 1 and inner[0].key == b.key and all(f.ndim == 2 and f.shape[0] == f.shape[1] for f in inner):
            return make("inv", _chain(inner[1:]))
    return None


def _chain(factors: list[Node]) -> Node:
    out = factors[0]
    for f in factors[1:]:
        out = make("matmul", out, f)
    return out


def _row_times(u: Node, b: Node) -> Node | None:
    """row(u) @ b as a row, where it is one."""
    if is_op(u, "vec") and not u.primal:
        return _vec_row_times(u.args[0], u.params["order"], b)
    if is_op(b, "kron", "add") and not b.primal and b.ndim == 2:     # u as the vec of a row or a column
        order = current_order()
        A, B = b.args if is_op(b, "kron") else (None, None)
        if A is None:
            return _vec_row_times(call("col", u), order, b)
        L, R = (A, B) if order == "row" else (B, A)
        X = call("col", u) if (L.shape[0], R.shape[0]) == (u.size, 1) else \
            call("row", u) if (L.shape[0], R.shape[0]) == (1, u.size) else None
        if X is not None:
            return _vec_row_times(X, order, b)
    if is_op(b, "diag") and b.args[0].ndim == 1:
        return make("row", make("mul", u, b.args[0]))
    if is_op(b, "col") and b.args[0].ndim == 1:
        return make("row", make("matmul", u, b.args[0]))
    if not structural(b):
        return make("row", make("matmul", u, b))                           # uᵀ M = (Mᵀ u)ᵀ
    return None


def _vec_row_times(X: Node, order: str, b: Node) -> Node | None:
    """vec(X)ᵀ b: vec(X)ᵀ (A ⊗ B) = vec(Aᵀ X B)ᵀ row-major and vec(Bᵀ X A)ᵀ column-major; vec(X)ᵀ K = vec(Xᵀ)ᵀ;
    vec(X)ᵀ diag(vec(Y)) = vec(X ⊙ Y)ᵀ; a row distributes over a sum."""
    if is_op(b, "kron"):
        A, B = b.args
        L, R = (A, B) if order == "row" else (B, A)
        if X.ndim == 2 and X.shape == (L.shape[0], R.shape[0]):
            inner = make("matmul", make("matmul", make("transpose", L), X), R)
            return make("row", make("vec", inner, order=order))
    if is_op(b, "commutation") and X.shape == (b.params["n"], b.params["m"]):
        return make("row", make("vec", make("transpose", X), order=order))
    if is_op(b, "diag") and is_op(b.args[0], "vec") and b.args[0].params["order"] == order and \
            b.args[0].args[0].shape == X.shape:
        return make("row", make("vec", make("mul", X, b.args[0].args[0]), order=order))
    if is_op(b, "add") and not b.primal and all(t.shape == b.shape for t in b.args):
        row = make("row", make("vec", X, order=order))
        return make("add", make("matmul", row, b.args[0]), make("matmul", row, b.args[1]))
    return None


def _factors(node: Node) -> list[Node]:
    """The factors of a (non-primal) product of matrices, in order, without recursion."""
    out, stack = [], [node]
    while stack:
        f = stack.pop()
        if is_op(f, "matmul") and not f.primal and f.ndim == 2 and all(a.ndim == 2 for a in f.args):
            stack += [f.args[1], f.args[0]]
        else:
            out.append(f)
    return out


def _matmul_rules(node: Node) -> Node | None:
    a, b = node.args
    if is_op(a, "zeros") or is_op(b, "zeros"):
        return maps.zeros_like(node)
    sa, xa = split_scalar(a)
    sb, xb = split_scalar(b)
    if sa is not None or sb is not None:                                  # scalars in front
        s = sa if sb is None else sb if sa is None else make("mul", sa, sb)
        return make("mul", s, make("matmul", xa, xb))
    if a.ndim == 1 and b.ndim == 2 and not node.primal:
        return make("matmul", make("transpose", b), a)                    # x M = Mᵀ x, as a column
    if not (a.ndim == 2 and b.ndim == 2):
        return None
    coefs, items = [], []
    factors = _factors(a) + _factors(b)
    for f in factors:
        s, f = split_scalar(f)
        if s is not None:
            coefs.append(s)
        if is_op(f, "eye"):
            continue
        if f.shape == (1, 1) and is_op(f, "row", "col") and f.args[0].ndim == 0 and len(factors) > 1:
            coefs.append(f.args[0])                                        # a 1×1 factor is a scalar
            continue
        items.append(f)
        while len(items) >= 2:
            merged = _merge(items[-2], items[-1])
            if merged is None:
                break
            items[-2:] = []
            s, merged = split_scalar(merged)
            if s is not None:
                coefs.append(s)
            if not is_op(merged, "eye"):
                items.append(merged)
    if any(is_op(f, "zeros") for f in items):
        return maps.zeros_like(node)
    chain = items[0] if items else maps.eye(node.shape[0])
    for f in items[1:]:
        chain = call("matmul", chain, f)
    if chain.shape != node.shape:                                          # (1×1 factors left a row of one)
        chain = call("matmul", chain, maps.eye(node.shape[1])) if chain.ndim == 2 else None
        if chain is None or chain.shape != node.shape:
            return None
    total = None
    for s in coefs:                                                        # one coefficient, factors in order
        total = s if total is None else make("mul", total, s)
    chain = times(total, chain)
    return chain if chain.key != node.key else None


def _solved(node: Node) -> Node | None:
    """X⁻¹ b computed as solve(X, b) in trees built to be computed (∇ b·A⁻¹b = -A⁻ᵀb xᵀ): one LU, a third of an
    inverse's work, and more accurate.  A reader keeps X⁻¹ b.  Only for a vector b: X⁻¹ B with a matrix B costs
    an inverse's work either way, and X⁻¹, once computed, is kept for the tree's other uses of it (L⁻ᵀ Φ L⁻¹ of
    a Cholesky factor's gradient); an inverse of the user's own (inv(A) in the expression) is multiplied by."""
    a, b = node.args
    if computing() and is_op(a, "inv") and not a.primal and b.ndim == 1:
        from ..expr import fixed

        if not fixed(a):                       # (a constant's inverse is computed once, kept with the plan)
            return make("solve", a.args[0], b)
    return None


# --- printing ------------------------------------------------------------------------------------------------------

def _as_row(p, v: Node) -> str:
    """A 1-D v written as the row vᵀ: (w@M)ᵀ is wᵀM."""
    if is_op(v, "matmul") and v.args[0].ndim == 1 and v.args[1].ndim == 2:
        return f"{_as_row(p, v.args[0])}{p.jux}{p(v.args[1], OPERAND)}"
    return p.sup(p(v, ATOM), p.top)


def _show_matmul(p, node):
    a, b = node.args
    if p.notation == "mc":
        return f"{p(a, PRODUCT)} @ {p(b, OPERAND)}", PRODUCT
    if a.ndim == 1 and b.ndim == 1:                                       # uᵀ v, and x@A@y is xᵀ A y
        return f"{_as_row(p, a)}{p.jux}{p(b, OPERAND)}", PRODUCT
    if a.ndim == 1:                                                       # v@M is the column Mᵀ v
        return f"{p(call('transpose', b), ATOM)}{p.jux}{p(a, PRODUCT if _chained(a) else OPERAND)}", PRODUCT
    left = p(a, PRODUCT if _chained(a) else OPERAND)                     # associative: A B C
    right = p(b, PRODUCT if _chained(b) else OPERAND)
    return f"{left}{p.jux}{p.paren(right) if right.startswith('-') else right}", PRODUCT


def _chained(node: Node) -> bool:
    """A product that juxtaposition can continue: a matrix or outer product, a scalar times a matrix, a negation."""
    node = shown(node)
    if is_op(node, "col") and node.args[0].ndim == 1:                    # M a bᵀ: a column is the vector
        node = node.args[0]
    return is_op(node, "matmul", "outer", "neg") or (is_op(node, "mul") and any(a.ndim == 0 for a in node.args))


def _show_dot(p, node):
    u, v = node.args
    return f"{p.sup(p(u, ATOM), p.top)}{'' if p.notation == 'uni' else ' '}{p(v, ATOM)}", PRODUCT


def _show_outer(p, node):
    u, v = node.args
    return f"{p(u, ATOM)}{p.jux}{p.sup(p(v, ATOM), p.top)}", PRODUCT


def _show_kron(p, node):
    op = " ⊗ " if p.notation == "uni" else " \\otimes "
    return f"{p(node.args[0], OPERAND)}{op}{p(node.args[1], OPERAND)}", PRODUCT


register(Op("matmul", _mm_infer, _mm_fwd, jvp=_bilinear_jvp, linear=_mm_linear, rewrite=(_matmul_rules, _solved),
            as_linop=lambda node, read: read.map(node.args[0]) @ read.map(node.args[1])
            if node.args[0].ndim == 2 and node.args[1].ndim == 2 else None,
            show=Show(mc=_show_matmul, uni=_show_matmul, tex=_show_matmul, prec=PRODUCT), work=_mm_work,
            poly=poly_product(), spread=_mm_inner, propagates=_mm_propagates, example=("A @ B", "A=2x3,B=3x2"),
            operator="A @ B",
            help="matrix product (also matrix·vector, vector·matrix, vector·vector)", family="products"),
         spelled=("matmul",), operands=2, help="A @ B, as numpy.matmul")


def _dot_infer(shapes, **_):
    if any(len(s) != 1 for s in shapes):
        raise ShapeError(f"dot takes two vectors, got shapes {fmt_shape(shapes[0])} and {fmt_shape(shapes[1])}",
                         hint="use @ for matrix products")
    return _mm_infer(shapes)


def _numpy_dot(shapes, params=None) -> str:
    """numpy.dot: a product with a scalar, the inner product of two vectors, or the matrix product."""
    if any(len(s) == 0 for s in shapes):
        return "mul"
    return "dot" if all(len(s) == 1 for s in shapes) else "matmul"


register(Op("dot", _dot_infer, _mm_fwd, jvp=_bilinear_jvp, linear=_mm_linear, work=_mm_work,
            poly=poly_product(), spread=_mm_inner, show=Show(uni=_show_dot, tex=_show_dot),
            example=("dot(x, y)", "x=3,y=3"), help="inner product of two vectors", family="products"),
         spelled=("dot",), methods=("dot",), operands=2, dispatch=_numpy_dot,
         help="as numpy.dot: the inner product of vectors, the matrix product of matrices (A.dot(B))")


def _outer_infer(shapes, **_):
    from .core import need_ndim

    for s in shapes:
        need_ndim("outer", s, (1,), "vectors")
    return (shapes[0][0], shapes[1][0])


def _outer_linear(node, i, order):
    u, v = node.args
    if i == 0:                                                  # X ↦ X vᵀ on the column du
        return maps.sandwich(u.shape[0], call("row", v), order)
    return maps.sandwich(call("col", u), v.shape[0], order)      # X ↦ u X on the row dvᵀ


register(Op("outer", _outer_infer, lambda node, u, v: u[..., :, None] * v[..., None, :], jvp=_bilinear_jvp,
            linear=_outer_linear, poly=poly_product(), show=Show(uni=_show_outer, tex=_show_outer),
            example=("outer(x, y)", "x=2,y=3"), help="outer product of two vectors", family="products"),
         spelled=("outer",), operands=2, help="outer product of two vectors")


def _kron_shapes(shapes):
    from .core import need_ndim

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


def _kron_rules(node: Node) -> Node | None:
    a, b = node.args
    if is_op(a, "zeros") or is_op(b, "zeros"):
        return maps.zeros_like(node)
    if a.ndim != 2 or b.ndim != 2:
        return None                                                # kron of vectors: as written
    if is_op(a, "eye") and is_op(b, "eye"):
        return maps.eye(node.shape[0])
    if a.shape == (1, 1) and is_op(a, "eye"):
        return b
    if b.shape == (1, 1) and is_op(b, "eye"):
        return a
    sa, xa = split_scalar(a)
    sb, xb = split_scalar(b)
    if sa is not None or sb is not None:
        s = sa if sb is None else sb if sa is None else make("mul", sa, sb)
        return make("mul", s, make("kron", xa, xb))
    for x, other in ((a, b), (b, a)):                       # a 1×1 factor is a scalar
        if x.shape == (1, 1) and is_op(x, "row", "col") and x.args[0].ndim == 0 and other.ndim == 2:
            return make("mul", x.args[0], other)
    return None


def product_map(node: Node, i: int, value) -> Gather:
    """The map of a product whose every output entry is one entry of each argument multiplied together: which
    entry, from running the op on entry numbers with ones for the other argument; its weight, from running it
    with ones in place of this argument."""
    arg = node.args[i]
    vals = [np.zeros(a.shape) if k == i else value(a) for k, a in enumerate(node.args)]
    numbers = np.arange(1, arg.size + 1, dtype=float).reshape(arg.shape)
    with_numbers = [numbers if k == i else v if not node.op.passes_through(k) else np.ones(np.shape(v))
                    for k, v in enumerate(vals)]          # (positions, as take_along_axis's, keep their values)
    with_ones = [np.ones(arg.shape) if k == i else v for k, v in enumerate(vals)]
    idx = np.rint(np.asarray(node.op.fwd(node, *with_numbers))).astype(np.intp).ravel() - 1
    w = np.asarray(node.op.fwd(node, *with_ones), dtype=float).ravel()
    return Gather.make(idx, arg.size, w)


def _no_closed_form(node):
    closed = node.params.get("closed")
    if closed is None:
        raise NoClosedFormError(node.params["of"].op.name)
    return closed


def _kron_linear(node, i, order):
    """kron(A, B) is linear in each argument.  Its entries are those of vec(A) ⊗ vec(B), reordered (Magnus &
    Neudecker, Thm 3.10; a vector is a row, as numpy pads it): for A m×n and B p×q,

        vec_r(A ⊗ B) = (I_m ⊗ K ⊗ I_q)(vec_r(A) ⊗ vec_r(B))     K: vec_r(X) ↦ vec_r(Xᵀ), X n×p
        vec_c(A ⊗ B) = (I_n ⊗ K ⊗ I_p)(vec_c(A) ⊗ vec_c(B))     K: vec_c(X) ↦ vec_c(Xᵀ), X q×m

    so d vec(A ⊗ B)/d vec(B) = P (vec(A) ⊗ I) and d vec(A ⊗ B)/d vec(A) = P (I ⊗ vec(B)).  The numbers keep kron's
    own structured map (a Gather); the closed form is what explain and gradients read."""
    A, B = node.args
    (m, n), (p, q) = [(1,) * (2 - a.ndim) + a.shape for a in (A, B)]
    other = node.args[1 - i]
    I = maps.eye(max(1, node.args[i].size))
    if other.ndim == 0:
        M = call("mul", other, I)
    else:
        v = call("col", call("vec", other, order=order) if other.ndim == 2 else other)
        M = call("kron", v, I) if i == 1 else call("kron", I, v)
        a, (r, c), b = (m, (n, p), q) if order == "row" else (n, (q, m), p)
        if r > 1 and c > 1:
            P = call("kron", call("kron", maps.eye(a), call("commutation", m=r, n=c, order=order)), maps.eye(b))
            M = call("matmul", P, M)
    return call("numeric_map", of=node, argnum=i, n=node.args[i].size, closed=M)


def _kron_adjoint(node, i, C):
    """Σᵢⱼ aᵢⱼ Cᵢⱼ over the blocks Cᵢⱼ of the cotangent, where it has a short form: under a trace (C = I)
    d tr(A ⊗ X) = tr(A) tr(dX), so the gradient is tr(A) I; under a sum (C = 1), sum(A) 1."""
    other, arg = node.args[1 - i], node.args[i]
    if is_op(C, "eye") and all(a.ndim == 2 and a.shape[0] == a.shape[1] for a in node.args):
        return make("mul", call("trace", other), maps.eye(arg.shape[0]))
    if is_op(C, "ones") and arg.ndim:
        return make("mul", call("sum", other), call("ones", **dict(zip("mn", arg.shape))))
    return None


register(Op("kron", _kron_infer, _kron_fwd, jvp=_bilinear_jvp, rewrite=(_kron_rules,),
            linear=_kron_linear, adjoint=_kron_adjoint, poly=poly_product(),
            as_linop=lambda node, read: _kron_linop(read.map(node.args[0]), read.map(node.args[1])),
            show=Show(uni=_show_kron, tex=_show_kron),
            example=("kron(A, B)", "A=2x2,B=2x2"), help="Kronecker product", family="products"),
         spelled=("kron",), operands=2, help="Kronecker product")


def _kron_linop(A, B):
    from ..linops import Kron

    return Kron.make(A, B)


def columns_map(node: Node, i: int, value):
    """The matrix of a map linear in argument i, column by column: the op run on every unit array at once (a
    batch), the other arguments at their values (the Fréchet derivative of expm)."""
    from ..budget import check_work, node_work
    from ..linops import Dense, check_dense

    arg = node.args[i]
    what = f"the derivative of {node.text or node.op.name}, one evaluation per entry of its argument"
    check_work(10 * arg.size * node_work(node, overhead=False), what, hint="use smaller shapes")
    check_dense(arg.size, 8 * max(node.size, arg.size), what, hint="use smaller shapes")   # (the batch, worked on)
    basis = np.eye(arg.size).reshape((arg.size,) + arg.shape)
    vals = [basis if k == i else value(a) for k, a in enumerate(node.args)]
    out = np.asarray(node.op.fwd(node, *vals), dtype=float).reshape(arg.size, -1)
    return Dense(out.T)


def _numeric_linop(node, read):
    of, i = node.params["of"], node.params["argnum"]
    if of.op.name == "kron":
        return _kron_with(of, i, read.value)
    if of.op.name == "take_along_axis":
        return product_map(of, i, read.value)
    return columns_map(of, i, read.value)


def _kron_with(node, i, value):
    """d kron(A, B) in one argument, the other's value fixed: X ↦ A ⊗ X or X ↦ X ⊗ B, by einsum."""
    from ..linops import KronWith

    other, arg = node.args[1 - i], node.args[i]
    A = np.asarray(value(other), dtype=float)
    A = A.reshape((1,) * (2 - A.ndim) + A.shape)
    p, q = (1,) * (2 - arg.ndim) + arg.shape
    return KronWith(A, p, q, left=(i == 1))


register(Op("numeric_map", lambda shapes, of, argnum, n, **_: (of.size, n), lambda node: None,
            as_linop=_numeric_linop,
            rewrite=(_no_closed_form,), help="a structured map with no closed form", family="products"))
