"""The matrices of linear maps, as trees of the language, in either flatten order: the one place where row-major
and column-major differ.

For Y = A X B with X of shape (q, s), the Kronecker identities are

    row-major     vec_r(A X B) = (A ⊗ Bᵀ) vec_r(X)
    column-major  vec_c(A X B) = (Bᵀ ⊗ A) vec_c(X)

so d vec(AB)/d vec(A) is I ⊗ Bᵀ row-major and Bᵀ ⊗ I column-major, and d vec(AB)/d vec(B) is A ⊗ I row-major and
I ⊗ A column-major.  A map that acts on each axis of an array separately (broadcasting, indexing, sums along an
axis) is the Kronecker product of one factor per axis: the last axis varies fastest in row-major order, the first
in column-major order.
"""

from __future__ import annotations

from ..tree import Const, Node, call, size_of


def eye(n: int) -> Node:
    return call("eye", n=n)


def ones(m: int, n: int) -> Node:
    return call("ones", m=m, n=n)


def zeros(m: int, n: int) -> Node:
    return call("zeros", m=m, n=n)


def zeros_like(node: Node) -> Node:
    """A zero array shaped like node."""
    return call("zeros", m=node.shape[0], n=node.shape[1]) if node.ndim == 2 else \
        call("zeros", m=node.shape[0]) if node.ndim == 1 else call("zeros")


def row_major(shape: tuple, order: str) -> Node:
    """The matrix taking vec(X) in the given order to numpy's flattening, row by row (K vec_c(X) = vec_c(Xᵀ) =
    vec_r(X) for a matrix in column-major order; the identity otherwise)."""
    if order == "row" or len(shape) < 2:
        return eye(max(1, size_of(shape)))
    return call("commutation", m=shape[0], n=shape[1], order="col")


def as_matrix(v: Node, side: str = "col") -> Node:
    """A value as a matrix: itself when 2-D, a vector (or scalar) as a column or a row."""
    return v if v.ndim == 2 else call(side, v)


def sandwich(left, right, order: str) -> Node:
    """The matrix of X ↦ L X R; an int stands for the identity of that size."""
    L = eye(left) if isinstance(left, int) else left
    Rt = eye(right) if isinstance(right, int) else right.T
    return call("kron", L, Rt) if order == "row" else call("kron", Rt, L)


def per_axis(factors: list, order: str) -> Node:
    """One factor per axis, as a Kronecker product in flatten order."""
    if order == "col":
        factors = factors[::-1]
    result = factors[0]
    for f in factors[1:]:
        result = call("kron", result, f)
    return result


def broadcast(shape: tuple, out: tuple, order: str) -> Node:
    """The matrix that copies an array of `shape` to the broadcast shape `out`: I where an axis is kept, a column
    of ones where it is repeated."""
    if tuple(shape) == tuple(out):
        return eye(max(1, size_of(out)))
    if not shape:
        return ones(size_of(out), 1)
    shape = (1,) * (len(out) - len(shape)) + tuple(shape)
    return per_axis([eye(o) if s == o else ones(o, 1) for s, o in zip(shape, out)], order)


def reduce(shape: tuple, axes: set, order: str) -> Node:
    """The matrix that sums an array of `shape` over `axes`: the transpose of broadcasting the result back."""
    return per_axis([ones(1, n) if k in axes else eye(n) for k, n in enumerate(shape)], order)


def select(key: tuple, shape: tuple, order: str) -> Node:
    """The rows of the identity that indexing picks: one factor per axis."""
    key = key + (slice(None),) * (len(shape) - len(key))
    factors = []
    for k, n in zip(key, shape):
        if isinstance(k, slice) and k.indices(n) == (0, n, 1):
            factors.append(eye(n))
        else:
            factors.append(call("index", eye(n), key=(slice(k % n, k % n + 1) if isinstance(k, int) else k,)))
    return per_axis(factors, order)


def embed(n: int, key: slice) -> Node:
    """The transpose of a selection: entries placed at positions key among n."""
    return call("index", eye(n), key=(key,)).T


def diag_of(v: Node, order: str) -> Node:
    """diag(v) for the entries of v in flatten order (a matrix v through its vec)."""
    if v.ndim == 0:
        return call("mul", v, eye(1))
    return call("diag", v if v.ndim == 1 else call("vec", v, order=order))




# --- the algebra of maps, for the chain rule over closed forms ----------------------------------------------------

def compose(L: Node, R: Node) -> Node:
    from ..algebra import make

    return make("matmul", L, R)


def plus(L: Node, R: Node) -> Node:
    from ..algebra import make

    return make("add", L, R)


def transpose(L: Node) -> Node:
    from ..algebra import make

    return make("transpose", L)


def side_by_side(blocks: list, vertical: bool = False) -> Node:
    """Blocks side by side (one above the other when vertical): several wrt variables."""
    from ..algebra import make

    return blocks[0] if len(blocks) == 1 else make("vstack" if vertical else "hstack", *blocks)


def _scalar_times(J: Node) -> tuple[Node | None, Node]:
    """(s, M) for a closed form s·M built by mcalc with a scalar s, else (None, J)."""
    from ..algebra import is_op

    return (J.args[0], J.args[1]) if is_op(J, "mul") and J.args[0].ndim == 0 and not J.primal else (None, J)


def gradient(J: Node, shape: tuple, order: str) -> Node | None:
    """G for a Jacobian s·vec(G)ᵀ of a scalar function of a matrix (s·gᵀ of a vector, the 1×1 entry of a
    scalar): the gradient, shaped like the variable.  None when the closed form is not of that form."""
    from ..algebra import is_op, make

    s, row = _scalar_times(J)
    if not is_op(row, "row"):
        return None
    inner = row.args[0]
    if len(shape) == 2:
        if not (is_op(inner, "vec") and inner.params["order"] == order and inner.args[0].shape == tuple(shape)):
            return None
        inner = inner.args[0]
    elif inner.shape != tuple(shape):
        return None
    return inner if s is None else make("mul", s, inner)


def row_of(C: Node) -> Node:
    """A cotangent C (shaped like some node) as the row vec(C)ᵀ, row-major."""
    from ..algebra import make

    return make("row", make("vec", C, order="row") if C.ndim == 2 else C)


def read_cotangent(J: Node, shape: tuple) -> Node | None:
    """G with vec(G)ᵀ = J (row-major), for a 1×n closed form J, where the algebra gives vec(G)ᵀ (or a row of ones,
    a sum's adjoint); else None."""
    from ..algebra import is_op, make

    G = gradient(J, shape, "row")
    if G is not None:
        return G
    c, J1 = _scalar_times(J)
    if is_op(J1, "ones") or is_op(J1, "eye") and J1.shape == (1, 1):
        filled = make("ones", **dict(zip("mn", shape))) if shape else Const(1.0)
        return filled if c is None else make("mul", c, filled)
    return None


def cotangent(J: Node, shape: tuple) -> Node:
    """G with vec(G)ᵀ = J: read off (read_cotangent), else J itself reshaped (a correct tree, if not a textbook's)."""
    from ..algebra import make

    G = read_cotangent(J, shape)
    if G is not None:
        return G
    flat = make("transpose", J)
    return make("reshape", flat, shape=tuple(shape)) if shape else make("sum", flat)


def grid(node: Node) -> list | None:
    """The entries of a matrix made of 1×1 blocks (a Jacobian of scalars), as rows of scalar nodes."""
    from ..algebra import is_op

    if node.shape == (1, 1):
        if is_op(node, "row", "col") and node.args[0].ndim == 0:
            return [[node.args[0]]]
        if is_op(node, "eye", "zeros"):
            return [[1.0 if is_op(node, "eye") else 0.0]]
        return None
    if not is_op(node, "hstack", "vstack"):
        return None
    parts = [grid(b) for b in node.args]
    if any(q is None for q in parts):
        return None
    if is_op(node, "vstack"):
        return [row for q in parts for row in q]
    return [[e for q in parts for e in q[r]] for r in range(len(parts[0]))]



def is_grid(J: Node) -> bool:
    """Whether a closed form is a matrix of single entries (the Jacobian of [r cos(t), r sin(t)])."""
    return grid(J) is not None and J.size > 1
