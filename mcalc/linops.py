"""Structured linear maps: what derivative rules return and what the chain rule composes.

One convention, written once.  A map ``J`` of shape ``(m, n)`` takes the row-major flattening of an input array
(n entries) to the row-major flattening of an output array (m entries): numerator layout, one row per output entry.
Column-major order and the denominator layout are applied once, at the end (:meth:`LinOp.reordered`, ``.T``).

The Kronecker identities, for ``Y = A X B`` with ``X`` of shape (q, s):

    row-major     vec_r(A X B) = (A ⊗ Bᵀ) vec_r(X)
    column-major  vec_c(A X B) = (Bᵀ ⊗ A) vec_c(X)

so ``d vec(AB)/d vec(A)`` is ``I ⊗ Bᵀ`` row-major and ``Bᵀ ⊗ I`` column-major, and ``d vec(AB)/d vec(B)`` is
``A ⊗ I`` row-major and ``I ⊗ A`` column-major.  Changing the flatten order of both sides turns ``A ⊗ B`` into
``B ⊗ A``.

Structure is kept as long as possible: ``Zero`` is a type, never an array; ``Diag`` (an identity when its diagonal
is a scalar), ``Gather`` (one entry per row: permutations, indexing, broadcasting, element-wise products with
broadcasting), ``Kron`` and lazy ``Sum``/``Transposed`` compose among themselves without densifying where the
algebra allows it.  ``Dense`` is the last resort, and every dense allocation is checked against the memory budget.
"""

from __future__ import annotations

import math
import os
import re
import weakref

from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .errors import TooLargeError, UsageError

_BUDGET: int | None = None


def memory_budget() -> int:
    """Bytes mcalc allows itself for one dense array: half the available memory (``MCALC_MAX_BYTES`` overrides)."""
    global _BUDGET
    if _BUDGET is None:
        env = os.environ.get("MCALC_MAX_BYTES", "").strip()
        if env:
            _BUDGET = _bytes(env)
        else:
            available = 8 << 30
            try:
                with open("/proc/meminfo") as f:
                    for line in f:
                        if line.startswith("MemAvailable:"):
                            available = int(line.split()[1]) * 1024
                            break
            except OSError:
                pass
            try:                                        # (a process limit, ulimit -v, counts too)
                import resource

                soft = resource.getrlimit(resource.RLIMIT_AS)[0]
                if soft != resource.RLIM_INFINITY and soft > 0:
                    available = min(available, soft)
            except (ImportError, ValueError, OSError):
                pass
            _BUDGET = available // 2
    return _BUDGET


_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def _bytes(text: str) -> int:
    """'2000000', '512M', '2G', '1.5GiB', '64kb' → bytes (powers of 1024)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(?:([KMGT])(?:I?B)?|B)?\s*", text.upper())
    if m is None:
        raise UsageError(f"MCALC_MAX_BYTES='{text}' is not a size", hint="give bytes, e.g. 2000000000, 512M or 2G")
    size = float(m.group(1)) * _UNITS[m.group(2) or ""]
    if not size < 1 << 62:
        raise UsageError(f"MCALC_MAX_BYTES='{text[:20]}{'…' if len(text) > 20 else ''}' is larger than any memory",
                         hint="give bytes, e.g. 2000000000, 512M or 2G")
    return int(size)


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if n < 1024 or unit == "EiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} EiB"  # pragma: no cover


def check_dense(m: int, n: int, what: str = "an intermediate Jacobian", itemsize: int = 8,
                hint: str | None = None, copies: int = 1, why: str = "") -> None:
    """Refuse, before allocating, an m×n array (times copies) that does not fit in the memory budget."""
    need = m * n * itemsize
    if need * copies > memory_budget():
        extra = f", and {why} needs {copies} such arrays ({human_bytes(need * copies)})" if copies > 1 else ""
        raise TooLargeError(
            f"{what} would be {m}×{n} = {m * n:,} entries ({human_bytes(need)}){extra}, more than the "
            f"{human_bytes(memory_budget())} mcalc allows itself",
            hint=hint or "use smaller shapes, or raise the limit with MCALC_MAX_BYTES")


def zeros(m: int, n: int, dtype=float) -> np.ndarray:
    check_dense(m, n, itemsize=np.dtype(dtype).itemsize)
    return np.zeros((m, n), dtype=dtype)


def outer(col: np.ndarray, row: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """A column (m×1) times a row (1×n), an m×n array (into out if given): einsum's outer-product kernel, 1.3-1.6x
    faster than numpy's broadcast multiply once it is large (BLAS, with an inner dimension of 1, is slower still)."""
    if col.size * row.size < 1 << 12 or col.dtype.kind != "f" or row.dtype.kind != "f":
        return np.multiply(col, row, out=out)
    return np.einsum("i,j->ij", col[:, 0], row[0], out=out)


def empty(m: int, n: int) -> np.ndarray:
    """For a map that writes every entry: zeros costs a pass of its own where the memory is reused."""
    check_dense(m, n)
    return np.empty((m, n))


def _index_dtype(shape, nnz: int):
    """int32 indices where they fit (as scipy.sparse itself prefers: half the memory), else int64."""
    return np.int32 if max(*shape, nnz) < 2 ** 31 - 1 else np.int64


def _coo(data, rows, cols, shape):
    """A scipy.sparse CSR array from its entries (scipy is imported only by sparse output)."""
    from scipy import sparse

    return sparse.csr_array((np.asarray(data, dtype=float), (np.asarray(rows), np.asarray(cols))), shape=shape)


class LinOp:
    """A linear map of shape (m, n); subclasses keep a structure and know how to apply it."""

    shape: tuple[int, int]

    # --- the four things every map can do ------------------------------------------------------------------
    def apply(self, X: np.ndarray) -> np.ndarray:
        """self @ X for a dense X of shape (n, k)."""
        raise NotImplementedError

    def rapply(self, G: np.ndarray) -> np.ndarray:
        """G @ self for a dense G of shape (k, m)."""
        raise NotImplementedError

    def to_dense(self) -> np.ndarray:
        raise NotImplementedError

    def to_sparse(self):
        """The map as a scipy.sparse array, built from the structure (never through the dense matrix)."""
        raise NotImplementedError

    def nnz(self) -> int:
        """An upper bound on the number of stored entries of to_sparse(), known before building it."""
        raise NotImplementedError

    def scaled(self, c) -> LinOp:
        raise NotImplementedError

    def add_to(self, out: np.ndarray) -> None:
        """out += the dense map, in place (structured maps write only what they hold, with no array of out's
        size besides it)."""
        out += self.to_dense()

    # --- derived ------------------------------------------------------------------------------------------
    @property
    def T(self) -> LinOp:
        return Transposed(self)

    def all_finite(self) -> bool:
        return True

    def bound(self) -> float:
        """An upper bound on the absolute value of the entries (inf when unknown or overflowing)."""
        return float(np.abs(self.to_dense()).max(initial=0.0))

    def first_nonfinite(self) -> tuple[int, int] | None:
        """(row, column) of a non-finite entry, if any (computed densely: only on the error path)."""
        bad = np.argwhere(~np.isfinite(self.to_dense()))
        return (int(bad[0][0]), int(bad[0][1])) if len(bad) else None

    def reordered(self, perm_out: np.ndarray, perm_in: np.ndarray, out2: tuple, in2: tuple) -> LinOp:
        """The same map with both sides flattened through the given permutations (perm[c] = row-major index of
        entry c).  ``out2``/``in2`` are the output/input shapes as matrices, for maps that can do better than a
        dense permutation."""
        d = self.to_dense()
        return Dense(d[np.ix_(perm_out, perm_in)])

    def __matmul__(self, other: LinOp) -> LinOp:
        return compose(self, other)

    def __add__(self, other: LinOp) -> LinOp:
        return add(self, other)

    def __repr__(self) -> str:
        return f"{type(self).__name__}{self.shape}"


class Zero(LinOp):
    __slots__ = ("shape",)

    def __init__(self, m: int, n: int):
        self.shape = (m, n)

    def apply(self, X):
        return np.zeros((self.shape[0], X.shape[1]), dtype=X.dtype)

    def rapply(self, G):
        return np.zeros((G.shape[0], self.shape[1]), dtype=G.dtype)

    def to_dense(self):
        return zeros(*self.shape)

    def to_sparse(self):
        return _coo([], [], [], self.shape)

    def nnz(self):
        return 0

    def scaled(self, c):
        return self

    def bound(self):
        return 0.0

    @property
    def T(self):
        return Zero(self.shape[1], self.shape[0])

    def reordered(self, perm_out, perm_in, out2, in2):
        return self


class Diag(LinOp):
    """diag(d); a scalar d is d·I (``Identity(n)`` is ``Diag(1.0, n)``)."""

    __slots__ = ("d", "shape", "is_scalar")

    def __init__(self, d, n: int):
        self.is_scalar = np.ndim(d) == 0
        self.d = d if self.is_scalar else np.asarray(d).reshape(-1)
        self.shape = (n, n)

    def apply(self, X):
        return X * (self.d if self.is_scalar else self.d[:, None])

    def rapply(self, G):
        return G * self.d

    def to_dense(self):
        out = zeros(*self.shape)
        out.flat[:: self.shape[0] + 1] = self.d
        return out

    def add_to(self, out):
        i = np.arange(self.shape[0])
        out[i, i] += self.d                          # (in any memory order: a reshape of an F-ordered out copies)

    def to_sparse(self):
        i = np.arange(self.shape[0])
        return _coo(np.broadcast_to(self.d, i.shape), i, i, self.shape)

    def nnz(self):
        return self.shape[0]

    def scaled(self, c):
        return Diag(self.d * c, self.shape[0])

    def bound(self):
        return float(np.abs(self.d).max(initial=0.0))

    @property
    def T(self):
        return self

    def all_finite(self):
        return all_entries_finite(self.d)

    def reordered(self, perm_out, perm_in, out2, in2):
        if self.is_scalar and np.array_equal(perm_out, perm_in):
            return self
        if np.array_equal(perm_out, perm_in):
            return Diag(self.d[perm_out], self.shape[0])
        return super().reordered(perm_out, perm_in, out2, in2)


def Identity(n: int) -> Diag:
    return Diag(1.0, n)


class Gather(LinOp):
    """Row i holds w[i] at column idx[i] (idx[i] = -1: an all-zero row).

    Every map whose output entries are each one input entry times a weight: transposes and other permutations,
    indexing and slicing, broadcasting, diag in both directions, stacking, and broadcasting element-wise products.
    """

    __slots__ = ("idx", "w", "shape")

    def __init__(self, idx, n: int, w=None):
        self.idx = np.asarray(idx, dtype=np.intp).reshape(-1)
        missing = self.idx < 0
        if w is None:
            w = np.where(missing, 0.0, 1.0) if missing.any() else None
        elif np.ndim(w) == 0:
            w = np.where(missing, 0.0, float(w)) if missing.any() else np.full(self.idx.shape, w)
        else:
            w = np.where(missing, 0.0, np.asarray(w).reshape(-1))
        self.w = w
        self.shape = (self.idx.size, n)

    @classmethod
    def make(cls, idx, n: int, w=None) -> LinOp:
        """A Gather, or the Diag it amounts to when it neither moves nor drops an entry."""
        idx = np.asarray(idx, dtype=np.intp).reshape(-1)
        if idx.size == n and np.array_equal(idx, np.arange(n)):
            return Diag(1.0 if w is None else w, n)
        return cls(idx, n, w)

    def _safe_idx(self):
        return np.where(self.idx < 0, 0, self.idx)

    def apply(self, X):
        if self.w is None:                                  # (no weights: no entry missing either)
            if self.shape[1] == 1:                          # (one entry to every row, a sum's adjoint: a view
                return np.broadcast_to(X[0], (self.idx.size, X.shape[1]))   # of it, as read-only as shared
            return X[self.idx]                              #  arrays are, not a gathered copy)
        return X[self._safe_idx()] * self.w[:, None]

    def rapply(self, G):
        k, n = G.shape[0], self.shape[1]
        vals = G if self.w is None else G * self.w
        keep = self.idx >= 0
        idx = self.idx[keep]
        if idx.size == n and np.bincount(idx, minlength=n).max(initial=0) == 1:    # a permutation: no adding
            out = np.empty((k, n), dtype=np.result_type(G, float))
            out[:, idx] = vals[:, keep]
            return out
        flat = (np.arange(k)[:, None] * n + idx[None, :]).ravel()
        v = vals[:, keep].ravel()
        if np.iscomplexobj(v):
            return (np.bincount(flat, v.real, k * n) + 1j * np.bincount(flat, v.imag, k * n)).reshape(k, n)
        return np.bincount(flat, v, k * n).reshape(k, n)

    def to_dense(self):
        out = zeros(*self.shape)
        keep = self.idx >= 0
        rows = np.nonzero(keep)[0]
        out[rows, self.idx[keep]] = 1.0 if self.w is None else self.w[keep]
        return out

    def to_sparse(self):
        rows = np.nonzero(self.idx >= 0)[0]
        return _coo(np.ones(rows.size) if self.w is None else self.w[rows], rows, self.idx[rows], self.shape)

    def nnz(self):
        return int(np.count_nonzero(self.idx >= 0))

    def scaled(self, c):
        return Gather(self.idx, self.shape[1], c if self.w is None else self.w * c)

    def bound(self):
        return 1.0 if self.w is None else float(np.abs(self.w).max(initial=0.0))

    def weights(self) -> np.ndarray:
        return np.ones(self.shape[0]) if self.w is None else self.w

    def all_finite(self):
        return self.w is None or all_entries_finite(self.w)

    def reordered(self, perm_out, perm_in, out2, in2):
        inv_in = np.empty_like(perm_in)
        inv_in[perm_in] = np.arange(perm_in.size)
        idx = self.idx[perm_out]
        idx = np.where(idx < 0, -1, inv_in[np.where(idx < 0, 0, idx)])
        return Gather(idx, self.shape[1], None if self.w is None else self.w[perm_out])



class Transposition(Gather):
    """vec(Xᵀ) from vec(X) for an m×n matrix X, both row-major (the commutation matrix), idx its gather index: a
    Gather in every composition, applied by transposing the array rather than by indexing it."""

    __slots__ = ("m", "n")

    def __init__(self, idx, m: int, n: int):
        super().__init__(idx, m * n)
        self.m, self.n = m, n

    def apply(self, X):
        return X.reshape(self.m, self.n, -1).transpose(1, 0, 2).reshape(self.shape[0], -1)

    def rapply(self, G):
        return G.reshape(-1, self.n, self.m).transpose(0, 2, 1).reshape(G.shape[0], -1)

class Kron(LinOp):
    """A ⊗ B for maps A (p×q) and B (r×s); acting on X (q×s, row-major) it gives A X Bᵀ."""

    __slots__ = ("A", "B", "shape")

    def __init__(self, A: LinOp, B: LinOp):
        self.A, self.B = A, B
        self.shape = (A.shape[0] * B.shape[0], A.shape[1] * B.shape[1])

    @staticmethod
    def make(A: LinOp, B: LinOp) -> LinOp:
        """A ⊗ B, folding identity factors: I₁ ⊗ B = B, A ⊗ I₁ = A, I ⊗ I = I."""
        a_id = isinstance(A, Diag) and A.is_scalar
        b_id = isinstance(B, Diag) and B.is_scalar
        if a_id and b_id:
            return Diag(A.d * B.d, A.shape[0] * B.shape[0])
        if a_id and A.shape == (1, 1):
            return B if A.d == 1 else B.scaled(A.d)
        if b_id and B.shape == (1, 1):
            return A if B.d == 1 else A.scaled(B.d)
        gathered = _gather_kron(A, B)
        return gathered if gathered is not None else Kron(A, B)

    def apply(self, X):
        (p, q), (r, s), k = self.A.shape, self.B.shape, X.shape[1]
        if p * q * s + r * s * p <= r * s * q + p * q * r:      # A first, unless B shrinks more (u ⊗ vᵀ)
            Y = self.A.apply(X.reshape(q, s * k)).reshape(p, s, k)
            Y = self.B.apply(Y.transpose(1, 0, 2).reshape(s, p * k)).reshape(r, p, k)
            return Y.transpose(1, 0, 2).reshape(p * r, k)
        Y = self.B.apply(X.reshape(q, s, k).transpose(1, 0, 2).reshape(s, q * k)).reshape(r, q, k)
        return self.A.apply(Y.transpose(1, 0, 2).reshape(q, r * k)).reshape(p * r, k)

    def rapply(self, G):
        (p, q), (r, s), k = self.A.shape, self.B.shape, G.shape[0]
        if k == 1 and _is_identity(self.B):                     # g (A ⊗ I) = vec(Aᵀ Gm)ᵀ: one product
            return self.A.rapply(G.reshape(p, r).T).T.reshape(1, q * s)
        if k == 1 and _is_identity(self.A):                     # g (I ⊗ B) = vec(Gm B)ᵀ
            return self.B.rapply(G.reshape(p, r)).reshape(1, q * s)
        if p * r * s + s * p * q <= r * p * q + q * r * s:      # B first, unless A shrinks more
            Y = self.B.rapply(G.reshape(k * p, r)).reshape(k, p, s)
            Y = self.A.rapply(Y.transpose(0, 2, 1).reshape(k * s, p)).reshape(k, s, q)
            return Y.transpose(0, 2, 1).reshape(k, q * s)
        Y = self.A.rapply(G.reshape(k, p, r).transpose(0, 2, 1).reshape(k * r, p)).reshape(k, r, q)
        return self.B.rapply(Y.transpose(0, 2, 1).reshape(k * q, r)).reshape(k, q * s)

    def to_dense(self):
        out = zeros(*self.shape) if self._sparse() else empty(*self.shape)
        self._write(out, add=False)
        return out

    def _held(self) -> int:
        """How many numbers _writer keeps while it writes (its dense factors, repeated and tiled or scaled)."""
        (p, q), (r, s) = self.A.shape, self.B.shape
        if isinstance(self.A, Diag):
            return (1 if self.A.is_scalar else p) * r * s
        if isinstance(self.B, Diag):
            return (1 if self.B.is_scalar else r) * p * q
        return (p + r) * q * s if min(p, r) >= 16 else p * q + r * s

    def _sparse(self) -> bool:
        """Whether a diagonal factor leaves most entries unwritten."""
        return isinstance(self.A, Diag) or isinstance(self.B, Diag)

    def add_to(self, out):
        self._write(out, add=True)

    def _write(self, out: np.ndarray, add: bool) -> None:
        self._writer(out)(slice(None), add)

    def _writer(self, out: np.ndarray):
        """A function writing (or adding) the block rows rows of A ⊗ B into out: only the diagonal blocks where A
        is diagonal, only the blocks' diagonals where B is, else products over whole rows (no array of out's
        size).  The factors are made dense once, for every call."""
        (p, q), (r, s) = self.A.shape, self.B.shape
        blocks = out.reshape(p, r, q, s)
        if self._sparse():
            a_diag = isinstance(self.A, Diag)
            D, F = (self.A, self.B) if a_diag else (self.B, self.A)
            part = (D.d if D.is_scalar else D.d[:, None, None]) * F.to_dense()[None]

            def write(rows, add):
                start, stop, _ = rows.indices(p)
                if a_diag:                                # block diagonal: the diagonal blocks in rows
                    value = part[rows] if part.shape[0] > 1 else part
                    target = _diagonal(blocks[start:stop, :, start:stop, :], 0, 2)
                else:                                     # every block diagonal: their diagonals in rows
                    value = part[:, rows]
                    target = _diagonal(blocks[start:stop], 1, 3)
                if add:
                    target += value
                else:
                    target[...] = value
            return write
        A, B = self.A.to_dense(), self.B.to_dense()
        if min(p, r) >= 16:
            # rows of A repeated and of B tiled, q·s long each, for 1/p + 1/r of out's size: the products run over
            # whole rows of out (a broadcast over (i, k, j, l) runs s at a time, 1.5× slower at s = 64)
            lines = out.reshape(p, r, q * s)
            A_rep, B_tiled = np.repeat(A, s, axis=1), np.tile(B, (1, q))

            def write(rows, add):
                if not add:
                    np.multiply(A_rep[rows, None, :], B_tiled[None], out=lines[rows])
                    return
                for k in range(p)[rows]:
                    lines[k] += A_rep[k] * B_tiled
            return write

        if q == 1 and r == 1:                             # a column times a row (softmax's s sᵀ): see outer
            products = out.reshape(p, s)

            def write(rows, add):
                if not add:
                    outer(A[rows], B, out=products[rows])
                    return
                products[rows] += outer(A[rows], B)
            return write

        def write(rows, add):
            if not add:
                np.multiply(A[rows, None, :, None], B[None, :, None, :], out=blocks[rows])
                return
            for k in range(p)[rows]:
                blocks[k] += A[k][None, :, None] * B[:, None, :]
        return write

    def to_sparse(self):
        """CSR, written directly for the two shapes matrix calculus is full of: d·I ⊗ B or diag(d) ⊗ B (block
        diagonal) and A ⊗ diag(e) (every block diagonal); scipy.sparse.kron otherwise."""
        from scipy import sparse

        (p, q), (r, s) = self.A.shape, self.B.shape
        if isinstance(self.A, Diag):
            S = sparse.csr_array(self.B.to_sparse())
            i = np.arange(p, dtype=_index_dtype(self.shape, p * S.nnz))
            d = np.broadcast_to(np.asarray(self.A.d, dtype=float), (p,))
            data = (d[:, None] * S.data[None, :]).ravel()
            indices = (S.indices[None, :].astype(i.dtype) + (i * s)[:, None]).ravel()
            starts = (S.indptr[None, :-1].astype(i.dtype) + (i * S.nnz)[:, None]).ravel()
            indptr = np.append(starts, i.dtype.type(p * S.nnz))
            return sparse.csr_array((data, indices, indptr), shape=self.shape)
        if isinstance(self.B, Diag) and isinstance(self.A, Dense):
            dtype = _index_dtype(self.shape, p * r * q)
            e = np.broadcast_to(np.asarray(self.B.d, dtype=float), (r,))
            data = (self.A.a[:, None, :] * e[None, :, None]).ravel()
            cols = np.arange(q, dtype=dtype)[None, None, :] * s + np.arange(r, dtype=dtype)[None, :, None]
            indices = np.broadcast_to(cols, (p, r, q)).ravel()
            return sparse.csr_array((data, indices, np.arange(p * r + 1, dtype=dtype) * q), shape=self.shape)
        return sparse.csr_array(sparse.kron(self.A.to_sparse(), self.B.to_sparse(), format="csr"))

    def nnz(self):
        return self.A.nnz() * self.B.nnz()

    def scaled(self, c):
        return Kron(self.A.scaled(c), self.B)

    def bound(self):
        with np.errstate(over="ignore"):
            return self.A.bound() * self.B.bound()

    @property
    def T(self):
        return Kron(self.A.T, self.B.T)

    def all_finite(self):
        return self.A.all_finite() and self.B.all_finite()

    def reordered(self, perm_out, perm_in, out2, in2):
        # vec_c(X) = vec_r(Xᵀ), so A ⊗ B between row-major matrices is B ⊗ A between column-major ones,
        # provided the factors are exactly the row and column parts of the two matrix shapes.
        if (self.A.shape == (out2[0], in2[0]) and self.B.shape == (out2[1], in2[1])
                and _is_col_major(perm_out, out2) and _is_col_major(perm_in, in2)):
            return Kron(self.B, self.A)
        return super().reordered(perm_out, perm_in, out2, in2)


def _is_identity(L: LinOp) -> bool:
    return isinstance(L, Diag) and L.is_scalar and L.d == 1


def _as_gather(L: LinOp) -> tuple[Gather, bool] | None:
    """(G, transposed) with L = G or Gᵀ for a Gather G (an identity is both), else None."""
    if isinstance(L, Diag) and L.is_scalar:
        n = L.shape[0]
        return Gather(np.arange(n), n, None if L.d == 1 else L.d), None
    if isinstance(L, Gather):
        return L, False
    if isinstance(L, Transposed) and isinstance(L.L, Gather):
        return L.L, True
    return None


def _gather_kron(A: LinOp, B: LinOp) -> LinOp | None:
    """A ⊗ B as one Gather (or the transpose of one) when both are selections, embeddings, broadcasts or
    identities: indexing a matrix, summing along an axis and broadcasting stay one structured map, which composes
    with diagonals and other gathers without being written out."""
    a, b = _as_gather(A), _as_gather(B)
    if a is None or b is None or {a[1], b[1]} == {True, False}:
        return None
    transposed = a[1] or b[1]
    (G, _), (H, _) = a, b
    q, s = G.shape[1], H.shape[1]
    missing = (G.idx[:, None] < 0) | (H.idx[None, :] < 0)
    idx = np.where(missing, -1, G.idx[:, None] * s + H.idx[None, :]).ravel()
    w = None if G.w is None and H.w is None else (G.weights()[:, None] * H.weights()[None, :]).ravel()
    K = Gather(idx, q * s, w)
    return K.T if transposed else K


def _is_col_major(perm: np.ndarray, shape2: tuple) -> bool:
    return np.array_equal(perm, np.arange(shape2[0] * shape2[1]).reshape(shape2).ravel(order="F"))


class Dense(LinOp):
    __slots__ = ("a", "shape", "finite")

    def __init__(self, a, finite: bool = False):
        self.a = np.asarray(a)
        if self.a.ndim != 2:
            self.a = self.a.reshape(self.a.shape[0] if self.a.ndim else 1, -1)
        self.shape = self.a.shape
        self.finite = finite                          # (its entries were found finite: not scanned again)

    def apply(self, X):
        return outer(self.a, X) if self.a.shape[1] == 1 else self.a @ X

    def rapply(self, G):
        return outer(G, self.a) if self.a.shape[0] == 1 else G @ self.a

    def to_dense(self):
        return self.a

    def to_sparse(self):
        from scipy import sparse

        return sparse.csr_array(self.a)

    def nnz(self):
        return self.a.size

    def scaled(self, c):
        return Dense(self.a * c)

    def bound(self):
        a = self.a
        return float(max(-a.min(initial=0.0), a.max(initial=0.0)))       # nan and inf propagate

    @property
    def T(self):
        return Dense(self.a.T)

    def all_finite(self):
        return all_entries_finite(self.a)


class KronWith(LinOp):
    """X ↦ A ⊗ X (left: A the left factor) or X ↦ X ⊗ A for X of shape (p, q), between row-major vecs: the
    derivative of a Kronecker product in one factor.  Applied by einsum, in the size of the product (a cotangent
    is contracted block by block: Σᵢⱼ aᵢⱼ Cᵢⱼ), never through index arrays."""

    __slots__ = ("A", "p", "q", "left", "c", "shape")

    def __init__(self, A: np.ndarray, p: int, q: int, left: bool, c: float = 1.0):
        self.A, self.p, self.q, self.left, self.c = np.asarray(A, dtype=float), p, q, left, c
        self.shape = (self.A.size * p * q, p * q)

    def _axes(self) -> str:
        return "kipjq" if self.left else "kpiqj"

    def apply(self, X):
        k = X.shape[1]
        Xs = X.T.reshape(k, self.p, self.q)
        out = np.einsum(f"ij,kpq->{self._axes()}", self.A, Xs).reshape(k, -1).T
        return out * self.c if self.c != 1.0 else out

    def rapply(self, G):
        k, (m, n) = G.shape[0], self.A.shape
        Gs = G.reshape((k, m, self.p, n, self.q) if self.left else (k, self.p, m, self.q, n))
        out = np.einsum(f"ij,{self._axes()}->kpq", self.A, Gs).reshape(k, self.p * self.q)
        return out * self.c if self.c != 1.0 else out

    def to_dense(self):
        """Zeros, and A's entries written where the entries of X meet themselves: one write per stored entry, in
        the row-major order of the product."""
        check_dense(*self.shape)
        (m, n), p, q = self.A.shape, self.p, self.q
        out = np.zeros(((m, p, n, q) if self.left else (p, m, q, n)) + (p, q))
        r, s = np.arange(p)[:, None], np.arange(q)[None, :]
        A = self.A * self.c if self.c != 1.0 else self.A
        if self.left:
            out[:, r, :, s, r, s] = A
        else:
            out[r, :, s, :, r, s] = A
        return out.reshape(self.shape)

    def to_sparse(self):
        from scipy import sparse

        return sparse.csr_array(self.to_dense())

    def nnz(self):
        return self.A.size * self.p * self.q

    def scaled(self, c):
        return KronWith(self.A, self.p, self.q, self.left, self.c * c)

    def bound(self):
        with np.errstate(over="ignore"):
            return abs(self.c) * float(np.abs(self.A).max(initial=0.0))

    def all_finite(self):
        return all_entries_finite(self.A)


class Tri(LinOp):
    """c times the n×n lower triangle of ones (cumsum's matrix), applied as running sums: O(n) per column, where
    the dense triangle would take n² numbers."""

    __slots__ = ("n", "c", "shape")

    def __init__(self, n: int, c: float = 1.0):
        self.n, self.c, self.shape = n, c, (n, n)

    def apply(self, X):
        out = np.cumsum(X, axis=0)
        return out * self.c if self.c != 1.0 else out

    def rapply(self, G):
        out = np.flip(np.cumsum(np.flip(G, axis=1), axis=1), axis=1)
        return out * self.c if self.c != 1.0 else out

    def to_dense(self):
        check_dense(*self.shape)
        return np.tri(self.n) * self.c

    def to_sparse(self):
        from scipy import sparse

        rows, cols = np.tril_indices(self.n)
        return sparse.csr_array((np.full(rows.size, float(self.c)), (rows, cols)), shape=self.shape)

    def nnz(self):
        return self.n * (self.n + 1) // 2

    def scaled(self, c):
        return Tri(self.n, self.c * c)

    def bound(self):
        return abs(self.c)

    def all_finite(self):
        return bool(np.isfinite(self.c))


class Transposed(LinOp):
    """Lᵀ, kept lazy: the adjoint of a Gather is a scatter (sums, embeddings)."""

    __slots__ = ("L", "shape")

    def __init__(self, L: LinOp):
        self.L = L
        self.shape = (L.shape[1], L.shape[0])

    def apply(self, X):
        return self.L.rapply(X.T).T

    def rapply(self, G):
        return self.L.apply(G.T).T

    def to_dense(self):
        if isinstance(self.L, Gather):                       # the scatter written directly, in one pass
            G = self.L
            rows, cols = self.shape
            if rows == 1 and G.w is None and G.idx.min(initial=0) >= 0:   # (a sum's row of ones: read-only, of no
                return np.broadcast_to(1.0, self.shape)       # memory; as with a frozen map, whoever writes copies)
            out = zeros(*self.shape)
            if rows == 1:                                     # (a sum's row: the weights, where picked)
                out[0] = (G.idx >= 0) if G.w is None else np.where(G.idx >= 0, G.w, 0.0)
                return out
            if G.idx.size and G.idx.min() >= 0:               # (every entry picked: no mask, flat positions)
                out.reshape(-1)[G.idx * cols + np.arange(G.idx.size)] = 1.0 if G.w is None else G.w
                return out
            keep = G.idx >= 0
            out[G.idx[keep], np.nonzero(keep)[0]] = 1.0 if G.w is None else G.w[keep]
            return out
        return np.ascontiguousarray(self.L.to_dense().T)

    def to_sparse(self):
        return self.L.to_sparse().T.tocsr()

    def nnz(self):
        return self.L.nnz()

    def scaled(self, c):
        return Transposed(self.L.scaled(c))

    def bound(self):
        return self.L.bound()

    @property
    def T(self):
        return self.L

    def all_finite(self):
        return self.L.all_finite()

    def reordered(self, perm_out, perm_in, out2, in2):
        return Transposed(self.L.reordered(perm_in, perm_out, in2, out2))


class Sum(LinOp):
    """A lazy sum of maps of one shape (e.g. the terms of d(X^k)); densified when it grows past MAX_TERMS."""

    MAX_TERMS = 16
    __slots__ = ("terms", "shape")

    def __init__(self, terms):
        self.terms = list(terms)
        self.shape = self.terms[0].shape

    def apply(self, X):
        return sum(t.apply(X) for t in self.terms)

    def rapply(self, G):
        return sum(t.rapply(G) for t in self.terms)

    def to_dense(self):
        """One array: the term that fills most of it written first, the others added in place (the terms of
        d(X³) at n = 64 are three 128 MiB Kronecker products; they were three arrays, and a copy)."""
        k = max(range(len(self.terms)), key=lambda i: stored_or_full(self.terms[i]))
        first = self.terms[k]
        if isinstance(first, Kron) and all(isinstance(t, Kron) and t.A.shape == first.A.shape for t in self.terms):
            (p, q), (r, s), T = first.A.shape, first.B.shape, len(self.terms)
            if not first._sparse() and T <= self.GEMM_TERMS and T * (p * q + r * s) <= p * q * r * s // 4 and \
                    self.all_finite():
                return self._krons_by_products()
            if sum(t._held() for t in self.terms) <= self.shape[0] * self.shape[1] // 4:
                return self._krons_to_dense(k)        # (its writers live together: at most a quarter of out more)
        out = first.to_dense()
        if isinstance(first, (Dense, Transposed)) or not out.flags.writeable or not out.flags.c_contiguous:
            out = np.array(out, order="C")           # (shared arrays are never added to; terms add row-major)
        for i, t in enumerate(self.terms):
            if i != k:                                   # (by place: one map may be a term twice, X + X)
                t.add_to(out)
        return out

    CHUNK_BYTES = 1 << 21
    GEMM_TERMS = 8

    def _krons_by_products(self) -> np.ndarray:
        """Σₜ Aₜ ⊗ Bₜ, one of them dense, in one pass over out: row (i, k) of the sum, as a q×s matrix, is
        Σₜ Aₜ[i, :]ᵀ Bₜ[k, :], a product of depth T (the number of terms), so the sum is p·r small matrix
        products, every entry written once (d(X³) = I ⊗ (X²)ᵀ + X ⊗ Xᵀ + X² ⊗ I at n = 64: 1.3x the time to
        fill out, against 1.6x written term by term).  Diagonal factors are made dense (every entry is written
        anyway), so they must hold no inf: inf · 0 is nan (the caller checks)."""
        (p, q), (r, s) = self.terms[0].A.shape, self.terms[0].B.shape
        T = len(self.terms)
        left = np.empty((p, q, T))                    # left[i, j, t] = Aₜ[i, j]
        right = np.empty((r, T, s))                   # right[k, t, l] = Bₜ[k, l]
        for t, term in enumerate(self.terms):
            left[:, :, t] = term.A.to_dense()
            right[:, t, :] = term.B.to_dense()
        out = empty(*self.shape)
        np.matmul(left[:, None], right[None], out=out.reshape(p, r, q, s))
        return out

    def _krons_to_dense(self, k: int) -> np.ndarray:
        """Kronecker products of one block shape (d(X³) = I ⊗ (X²)ᵀ + X ⊗ Xᵀ + X² ⊗ I), written a few block rows
        at a time, every term into the same rows while they are in cache (term by term, the sparse terms' adds
        each went through all of memory again: 4 of X³'s 19 ms at n = 64)."""
        out = zeros(*self.shape) if self.terms[k]._sparse() else empty(*self.shape)
        writers = [t._writer(out) for t in self.terms]
        p = self.terms[k].A.shape[0]
        step = max(1, self.CHUNK_BYTES // max(1, out.nbytes // p))
        for start in range(0, p, step):
            rows = slice(start, start + step)
            writers[k](rows, False)
            for i, write in enumerate(writers):
                if i != k:
                    write(rows, True)
        return out

    def add_to(self, out):
        for t in self.terms:
            t.add_to(out)

    def to_sparse(self):
        out = self.terms[0].to_sparse()
        for t in self.terms[1:]:
            out = out + t.to_sparse()
        return out.tocsr()

    def nnz(self):
        return sum(t.nnz() for t in self.terms)

    def scaled(self, c):
        return Sum(t.scaled(c) for t in self.terms)

    def bound(self):
        with np.errstate(over="ignore"):
            return float(sum(t.bound() for t in self.terms))

    @property
    def T(self):
        return Sum(t.T for t in self.terms)

    def all_finite(self):
        return all(t.all_finite() for t in self.terms)

    def reordered(self, perm_out, perm_in, out2, in2):
        return Sum(t.reordered(perm_out, perm_in, out2, in2) for t in self.terms)


class Product(LinOp):
    """L₁ L₂ ... Lₖ kept lazy: the composition of structured maps whose product has no structure (a triangle mask
    between Kronecker products, d cholesky) and would be large dense.  Applied factor by factor: a cotangent
    row through a chain of n²×n² Kronecker maps costs O(n³) per factor, the n⁴ dense product never exists."""

    __slots__ = ("factors", "shape")

    def __init__(self, factors):
        self.factors = [g for f in factors for g in (f.factors if isinstance(f, Product) else [f])]
        self.shape = (self.factors[0].shape[0], self.factors[-1].shape[1])

    def apply(self, X):
        for f in reversed(self.factors):
            X = f.apply(X)
        return X

    def rapply(self, G):
        for f in self.factors:
            G = f.rapply(G)
        return G

    def to_dense(self):
        m, n = self.shape
        check_dense(m, n)
        first, last = self.factors[0], self.factors[-1]
        if first.shape[1] <= max(m, n):                 # the first factor filled, the others applied to its rows:
            G = np.asarray(first.to_dense(), dtype=float)     # -(X⁻ᵀ ⊗ X⁻¹) K is one fill and one permutation,
            for f in self.factors[1:]:                        # not n² products with the identity
                G = f.rapply(G)
            return G
        if last.shape[0] <= max(m, n):
            G = np.asarray(last.to_dense(), dtype=float)
            for f in reversed(self.factors[:-1]):
                G = f.apply(G)
            return G
        if m <= n:
            return self.rapply(np.eye(m))
        return self.apply(np.eye(n))

    def to_sparse(self):
        from scipy import sparse

        return sparse.csr_array(self.to_dense())

    def nnz(self):
        return self.shape[0] * self.shape[1]

    def scaled(self, c):
        return Product([self.factors[0].scaled(c)] + self.factors[1:])

    def bound(self):
        """|entries of L₁L₂| ≤ bound(L₁) bound(L₂) (inner size): loose, and inf only where a check follows."""
        out = 1.0
        with np.errstate(over="ignore"):
            for f in self.factors[:-1]:
                out *= f.bound() * f.shape[1]
            return float(out * self.factors[-1].bound())

    @property
    def T(self):
        return Product([f.T for f in reversed(self.factors)])

    def all_finite(self):
        return all(f.all_finite() for f in self.factors)


def all_entries_finite(a) -> bool:
    """Whether every entry is finite, in one pass without an array of flags where it can: a nan or an inf makes a
    sum nan or inf (a small array's sum of squares, one BLAS vdot; a large one's sum, by einsum: numpy's own loop,
    as fast, where a BLAS dot of more than 10 000 entries wakes OpenBLAS's threads, 8 ms on a busy machine); one
    that overflows from finite entries is looked at entry by entry."""
    a = a if type(a) is np.ndarray else np.asarray(a)
    if a.dtype != np.float64:
        return bool(np.isfinite(a).all())
    if a.size <= 1 << 12:                             # (small: vdot, which sets no warning on overflow, costs a
        if math.isfinite(np.vdot(a, a)):              # quarter of isfinite's array of flags or of an errstate)
            return True
    else:
        with np.errstate(all="ignore"):               # (a sum that overflows warns)
            if a.flags.c_contiguous or a.flags.f_contiguous:
                r = a.ravel(order="K")                # (a view in either order)
                if math.isfinite(np.einsum("i->", r)):
                    return True
            elif math.isfinite(np.add.reduce(a, axis=None)):
                return True
    return bool(np.isfinite(a).all())


def read_only(a: np.ndarray) -> np.ndarray:
    """A view of an array that a map keeps (and may share between calls) that cannot be written through."""
    v = a.view()
    v.flags.writeable = False
    return v


def frozen(L: LinOp) -> LinOp:
    """The map with every array it holds made read-only, to be kept and shared between calls (a map of a tree
    that depends on no variable): whatever reads it copies before writing."""
    for name in ("a", "d", "idx", "w"):
        v = getattr(L, name, None)
        if isinstance(v, np.ndarray):
            v.flags.writeable = False
    for part in (getattr(L, "A", None), getattr(L, "B", None), getattr(L, "L", None),
                 *getattr(L, "terms", ()), *getattr(L, "factors", ())):
        if isinstance(part, LinOp):
            frozen(part)
    return L


TRIANGULAR_LEAF = 64    # triangular blocks up to this size are inverted by numpy (LU); larger ones split in two


def triangular_inverse(a: np.ndarray, lower: bool) -> np.ndarray:
    """The inverse of a triangular matrix, by halves ([[A, 0], [C, D]]⁻¹ = [[A⁻¹, 0], [-D⁻¹ C A⁻¹, D⁻¹]]): numpy
    has no triangular inverse (LAPACK's trtri, which blocks the same way), and its LU inverse ignores the zeros
    (at n = 128 this takes half its time, at n = 512 a fifth)."""
    n = a.shape[0]
    if n <= TRIANGULAR_LEAF:
        inv = np.linalg.inv(a)
        return np.tril(inv) if lower else np.triu(inv)
    if not lower:
        return triangular_inverse(a.T, True).T
    h = n // 2
    Ai, Di = triangular_inverse(a[:h, :h], True), triangular_inverse(a[h:, h:], True)
    out = np.zeros_like(a)
    out[:h, :h], out[h:, h:] = Ai, Di
    out[h:, :h] = -(Di @ a[h:, :h]) @ Ai
    return out


def inverse(a: np.ndarray) -> np.ndarray:
    """A⁻¹, by halves when A is triangular (a Cholesky or QR factor)."""
    n = a.shape[0]
    if n > TRIANGULAR_LEAF and a.ndim == 2:
        above = _above_diagonal(n)
        if not np.any(a[above]):
            return triangular_inverse(a, True)
        if not np.any(a[above.T]):
            return triangular_inverse(a, False)
    return np.linalg.inv(a)


@lru_cache(maxsize=8)
def _above_diagonal(n: int) -> np.ndarray:
    return np.triu(np.ones((n, n), dtype=bool), 1)


REMEMBERED_INVERSE = 64      # inverses of matrices from this size on are kept while the matrix lives
_KNOWN_INVERSES: dict[int, np.ndarray] = {}
_LAID_OUT: dict[tuple, int] = {}   # (address, shape, strides) → the id of the array kept there


def remember_inverse(a: np.ndarray, inv: np.ndarray) -> np.ndarray:
    """inv, the checked inverse of the array a, kept (read-only) for as long as a lives: a map applying A⁻¹ to
    a's value then multiplies instead of factoring A again (logdet's condition check at the problem's values
    computes X⁻¹, and its gradient X⁻ᵀ is that).  Keyed by the array itself: the values mcalc evaluates are never
    written to, and a's identity ends with a (the entry with it)."""
    inv = read_only(inv)
    if a.ndim == 2 and a.shape[0] >= REMEMBERED_INVERSE and id(a) not in _KNOWN_INVERSES:
        _KNOWN_INVERSES[id(a)] = inv
        layout = _layout(a)
        _LAID_OUT[layout] = id(a)
        weakref.finalize(a, _forget_inverse, id(a), layout)
    return inv


def known_inverse(a: np.ndarray) -> np.ndarray | None:
    """The kept inverse of a, or of the array a is the transpose of (X⁻ᵀ for Xᵀ: the same memory read the other
    way, while X lives)."""
    inv = _KNOWN_INVERSES.get(id(a))
    if inv is None and _LAID_OUT and a.ndim == 2:
        k = _LAID_OUT.get(_layout(a.T))
        inv = None if k is None else _KNOWN_INVERSES.get(k)      # (forgotten meanwhile, by another thread)
        inv = None if inv is None else inv.T
    return inv


def _layout(a: np.ndarray) -> tuple:
    return (a.__array_interface__["data"][0], a.shape, a.strides, a.dtype.str)


def _forget_inverse(k: int, layout: tuple) -> None:
    _KNOWN_INVERSES.pop(k, None)
    if _LAID_OUT.get(layout) == k:
        del _LAID_OUT[layout]


def _scaled_identity(G: np.ndarray):
    """c where G = c I (the cotangent a trace sends back), else None: one pass over G."""
    n = G.shape[0]
    if G.ndim != 2 or G.shape[1] != n or n < 2:
        return None
    c = G[0, 0]
    d = np.diagonal(G)
    return c if np.all(d == c) and np.count_nonzero(G) == (n if c else 0) else None


class Inverse(LinOp):
    """A⁻¹ for a square A, applied by solving; the inverse itself is formed only once it is applied again (an LU
    per solve costs a third of an inverse), or used where it is known (remember_inverse)."""

    __slots__ = ("a", "shape", "_inv", "_uses")

    def __init__(self, a):
        self.a = np.asarray(a, dtype=float)
        self.shape = self.a.shape
        self._inv, self._uses = known_inverse(self.a), 0

    def _formed(self, columns: int):
        """The inverse, formed once it is applied again (solving for n right-hand sides costs about what
        inverting does, and the product with the inverse as much again: a gradient's single use solves)."""
        self._uses += 1
        if self._inv is None and self._uses > 1:
            self._inv = inverse(self.a)
        return self._inv

    def apply(self, X):
        inv = self._formed(X.shape[1])
        if inv is None:
            return np.linalg.solve(self.a, X)
        c = _scaled_identity(X)
        return inv @ X if c is None else inv if c == 1 else inv * c

    def rapply(self, G):
        inv = self._formed(G.shape[0])
        if inv is None:
            return np.linalg.solve(self.a.T, G.T).T
        c = _scaled_identity(G)
        return G @ inv if c is None else inv if c == 1 else inv * c

    def to_dense(self):
        if self._inv is None:
            self._inv = inverse(self.a)
        return read_only(self._inv)                         # (kept for the next product: never written to)

    def to_sparse(self):
        from scipy import sparse

        return sparse.csr_array(self.to_dense())

    def nnz(self):
        return self.a.size

    def scaled(self, c):
        return Dense(self.to_dense() * c)

    def bound(self):
        return Dense(self.to_dense()).bound()

    @property
    def T(self):
        return Dense(self.to_dense().T) if self._inv is not None else Transposed(self)

    def all_finite(self):
        return all_entries_finite(self.a)


LAZY_ENTRIES = 1 << 20      # a product of structured maps past this many entries stays a Product


def _diagonal(a: np.ndarray, axis1: int, axis2: int) -> np.ndarray:
    """A writeable view of a's diagonal over two axes of one length, as its first axis (numpy.diagonal's is
    read-only): strided, where fancy indexing gathers and scatters."""
    keep = [k for k in range(a.ndim) if k not in (axis1, axis2)]
    return as_strided(a, shape=(a.shape[axis1],) + tuple(a.shape[k] for k in keep),
                      strides=(a.strides[axis1] + a.strides[axis2],) + tuple(a.strides[k] for k in keep))


def stored_or_full(L: LinOp) -> int:
    """How many entries a map's dense form writes: all of them for a Kronecker product of two full factors."""
    if isinstance(L, Kron) and not L._sparse():
        return L.shape[0] * L.shape[1]
    return stored(L)


def stored(L: LinOp) -> int:
    """How many numbers a map's representation holds (a Kronecker product: its two factors')."""
    if isinstance(L, (Dense, Inverse)):
        return L.a.size
    if isinstance(L, Kron):
        return stored(L.A) + stored(L.B)
    if isinstance(L, (Product, Sum)):
        return sum(stored(f) for f in (L.factors if isinstance(L, Product) else L.terms))
    if isinstance(L, Transposed):
        return stored(L.L)
    if isinstance(L, Zero):
        return 0
    if isinstance(L, Diag):
        return int(np.size(L.d))
    if isinstance(L, Gather):
        return int(np.size(L.idx))
    if isinstance(L, Tri):
        return 1
    return L.nnz()


# --- composition ---------------------------------------------------------------------------------------------

def _diag_diag(L: Diag, R: Diag):
    return Diag(L.d * R.d, L.shape[0])


def _diag_gather(L: Diag, R: Gather):
    return Gather(R.idx, R.shape[1], R.weights() * L.d)


def _gather_diag(L: Gather, R: Diag):
    return Gather(L.idx, L.shape[1], L.weights() * R.d[np.where(L.idx < 0, 0, L.idx)])


def _gather_gather(L: Gather, R: Gather):
    safe = np.where(L.idx < 0, 0, L.idx)
    idx = np.where(L.idx < 0, -1, R.idx[safe])
    return Gather.make(idx, R.shape[1], L.weights() * R.weights()[safe])


def _kron_kron(L: Kron, R: Kron):
    if L.A.shape[1] == R.A.shape[0] and L.B.shape[1] == R.B.shape[0]:   # mixed product
        return Kron.make(L.A @ R.A, L.B @ R.B)
    return None


def _diag_kron(L: Diag, R: Kron):
    if R.B.shape[0] == 1:             # rows of R are the rows of A: the diagonal scales A
        return Kron(Diag(L.d, R.A.shape[0]) @ R.A, R.B)
    if R.A.shape[0] == 1:
        return Kron(R.A, Diag(L.d, R.B.shape[0]) @ R.B)
    return None


def _kron_diag(L: Kron, R: Diag):
    if L.B.shape[1] == 1:
        return Kron(L.A @ Diag(R.d, L.A.shape[1]), L.B)
    if L.A.shape[1] == 1:
        return Kron(L.A, L.B @ Diag(R.d, L.B.shape[1]))
    return None


def _transposed_transposed(L: Transposed, R: Transposed):
    return Transposed(R.L @ L.L)


def _transposed_diag(L: Transposed, R: Diag):
    """Lᵀ D = (D Lᵀᵀ)ᵀ: a sum weighted entry by entry stays a scatter."""
    inner = compose(R, L.L) if not R.is_scalar else None
    return Transposed(inner) if isinstance(inner, (Gather, Diag)) else None


def _diag_transposed(L: Diag, R: Transposed):
    inner = compose(R.L, L) if not L.is_scalar else None
    return Transposed(inner) if isinstance(inner, (Gather, Diag)) else None


_COMPOSE = {
    (Diag, Diag): _diag_diag,
    (Diag, Gather): _diag_gather,
    (Gather, Diag): _gather_diag,
    (Gather, Gather): _gather_gather,
    (Kron, Kron): _kron_kron,
    (Diag, Kron): _diag_kron,
    (Kron, Diag): _kron_diag,
    (Transposed, Transposed): _transposed_transposed,
    (Transposed, Diag): _transposed_diag,
    (Diag, Transposed): _diag_transposed,
}


def _kind(L: LinOp) -> type:
    """The class a map composes as (a Transposition is a Gather)."""
    return Gather if isinstance(L, Gather) else type(L)


def compose(L: LinOp, R: LinOp) -> LinOp:
    """L @ R, keeping structure where the algebra allows and densifying the cheaper side otherwise."""
    if L.shape[1] != R.shape[0]:
        raise ValueError(f"cannot compose {L!r} with {R!r}")
    m, n = L.shape[0], R.shape[1]
    if isinstance(L, Zero) or isinstance(R, Zero):
        return Zero(m, n)
    if isinstance(L, Diag) and L.is_scalar:
        return R if L.d == 1 else R.scaled(L.d)
    if isinstance(R, Diag) and R.is_scalar:
        return L if R.d == 1 else L.scaled(R.d)
    rule = _COMPOSE.get((_kind(L), _kind(R)))
    if rule is not None:
        out = rule(L, R)
        if out is not None:
            return out
    if isinstance(L, Sum):
        return sum_of([t @ R for t in L.terms], (m, n))
    if isinstance(R, Sum):
        return sum_of([L @ t for t in R.terms], (m, n))
    if L.shape[1] == 1 and m * n > m + n:          # a column times a row: the outer product, kept as one
        return Kron(Dense(L.to_dense()), Dense(R.to_dense()))
    if m * n > LAZY_ENTRIES and m * n > 4 * (stored(L) + stored(R)):     # far larger than its factors: lazy
        return Product([L, R])
    check_dense(m, n)
    if isinstance(R, Dense):
        return Dense(L.apply(R.a))
    if isinstance(L, Dense):
        return Dense(R.rapply(L.a))
    if L.shape[0] * L.shape[1] <= R.shape[0] * R.shape[1]:
        return Dense(R.rapply(L.to_dense()))
    return Dense(L.apply(R.to_dense()))


# --- addition ------------------------------------------------------------------------------------------------

def add(L: LinOp, R: LinOp) -> LinOp:
    if L.shape != R.shape:
        raise ValueError(f"cannot add {L!r} and {R!r}")
    if isinstance(L, Zero):
        return R
    if isinstance(R, Zero):
        return L
    if isinstance(L, Diag) and isinstance(R, Diag):
        return Diag(L.d + R.d, L.shape[0])
    if isinstance(L, Gather) and isinstance(R, Gather) and np.array_equal(L.idx, R.idx):
        return Gather.make(L.idx, L.shape[1], L.weights() + R.weights())
    if isinstance(L, Dense) or isinstance(R, Dense):
        return Dense(L.to_dense() + R.to_dense())
    terms = (L.terms if isinstance(L, Sum) else [L]) + (R.terms if isinstance(R, Sum) else [R])
    if len(terms) > Sum.MAX_TERMS:
        return Dense(Sum(terms).to_dense())
    return Sum(terms)


def sum_of(terms, shape) -> LinOp:
    out: LinOp = Zero(*shape)
    for t in terms:
        out = add(out, t)
    return out
