"""Every structured map against its dense form: apply, rapply, transpose, scaling, composition, addition and the
change of flatten order."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcalc.chain import as_matrix_shape, flatten_perm
from mcalc.errors import TooLargeError
from mcalc.linops import (Dense, Diag, Gather, Identity, Inverse, Kron, Sum, Transposed, Transposition, Zero, add,
                          compose, triangular_inverse)

rng = np.random.default_rng(0)


def random_map(kind, m, n, r):
    """A map of the given kind and shape (m, n), with its dense form computed independently."""
    if kind == "zero":
        return Zero(m, n), np.zeros((m, n))
    if kind == "diag":
        d = r.normal(size=m)
        return Diag(d, m), np.diag(d)
    if kind == "scalar":
        return Diag(2.5, m), 2.5 * np.eye(m)
    if kind == "dense":
        a = r.normal(size=(m, n))
        return Dense(a), a
    if kind == "gather":
        idx = r.integers(-1, n, size=m)
        w = r.normal(size=m)
        D = np.zeros((m, n))
        for i, j in enumerate(idx):
            if j >= 0:
                D[i, j] = w[i]
        return Gather(idx, n, w), D
    if kind == "scatter":
        G, D = random_map("gather", n, m, r)
        return Transposed(G), D.T
    raise ValueError(kind)


KINDS = ["zero", "diag", "scalar", "dense", "gather", "scatter"]


def kron_map(r, p, q, rr, s, a_kind="dense", b_kind="dense"):
    A, Ad = random_map(a_kind, p, q, r) if a_kind != "identity" else (Identity(p), np.eye(p))
    B, Bd = random_map(b_kind, rr, s, r) if b_kind != "identity" else (Identity(rr), np.eye(rr))
    return Kron(A, B), np.kron(Ad, Bd)


def all_maps(r, m, n):
    maps = [random_map(k, m, n, r) for k in KINDS if k not in ("diag", "scalar") or m == n]
    return maps


def check_dense_equivalence(L, D, r):
    m, n = D.shape
    assert L.shape == (m, n)
    np.testing.assert_allclose(L.to_dense(), D, atol=1e-12)
    X = r.normal(size=(n, 3))
    np.testing.assert_allclose(L.apply(X), D @ X, atol=1e-12)
    for k in (1, 2):                                   # (one row: a gradient's cotangent, which has shortcuts)
        G = r.normal(size=(k, m))
        np.testing.assert_allclose(L.rapply(G), G @ D, atol=1e-12)
    np.testing.assert_allclose(L.T.to_dense(), D.T, atol=1e-12)
    np.testing.assert_allclose(L.scaled(-1.5).to_dense(), -1.5 * D, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_matches_its_dense_form(kind):
    r = np.random.default_rng(1)
    L, D = random_map(kind, 4, 4 if kind in ("diag", "scalar") else 3, r)
    check_dense_equivalence(L, D, r)


@pytest.mark.parametrize("a_kind,b_kind", [("identity", "dense"), ("dense", "identity"), ("dense", "dense"),
                                           ("diag", "dense"), ("dense", "diag"), ("identity", "identity")])
def test_kron_matches_numpy_kron(a_kind, b_kind):
    r = np.random.default_rng(2)
    p, q = (3, 3) if a_kind in ("identity", "diag") else (3, 2)
    rr, s = (2, 2) if b_kind in ("identity", "diag") else (2, 4)
    K, D = kron_map(r, p, q, rr, s, a_kind, b_kind)
    check_dense_equivalence(K, D, r)


def test_sum_matches_sum_of_dense_forms():
    r = np.random.default_rng(3)
    (K1, D1), (K2, D2) = kron_map(r, 2, 2, 3, 3, "identity"), kron_map(r, 2, 2, 3, 3, "dense", "identity")
    check_dense_equivalence(Sum([K1, K2]), D1 + D2, r)


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(0, 10_000),
       st.sampled_from(KINDS + ["kron"]), st.sampled_from(KINDS + ["kron"]))
def test_composition_and_addition_match_dense(m, k, n, seed, left, right):
    r = np.random.default_rng(seed)

    def make(kind, a, b):
        if kind in ("diag", "scalar") and a != b:
            kind = "dense"
        if kind == "kron":
            if a % 2 == 0 and b % 2 == 0:
                return kron_map(r, 2, 2, a // 2, b // 2, "identity", "dense")
            return kron_map(r, a, b, 1, 1, "dense", "dense")
        return random_map(kind, a, b, r)

    L, Ld = make(left, m, k)
    R, Rd = make(right, k, n)
    np.testing.assert_allclose(compose(L, R).to_dense(), Ld @ Rd, atol=1e-10)
    L2, L2d = make(right, m, k)
    np.testing.assert_allclose(add(L, L2).to_dense(), Ld + L2d, atol=1e-10)


def test_structure_is_kept_where_the_algebra_allows():
    d = np.arange(1.0, 4.0)
    assert isinstance(Diag(d, 3) @ Diag(d, 3), Diag)
    assert isinstance(Diag(d, 3) @ Gather([2, 0, 1], 3), Gather)
    assert isinstance(Gather([2, 0], 3) @ Gather([2, 0, 1], 3), Gather)
    K = Kron(Identity(3), Dense(np.ones((1, 4))))
    assert isinstance(Diag(d, 3) @ K, Kron)                        # diag(1 - y²) (I ⊗ xᵀ) = diag(1 - y²) ⊗ xᵀ
    assert isinstance(Kron(Identity(2), Dense(np.ones((2, 2)))) @ Kron(Identity(2), Dense(np.ones((2, 2)))), Kron)
    assert isinstance(Zero(3, 3) @ K, Zero)
    assert isinstance(Identity(3) @ K, Kron)
    assert Gather.make(np.arange(4), 4).__class__ is Diag


def test_kron_make_folds_trivial_identities():
    B = Dense(np.ones((2, 3)))
    assert Kron.make(Identity(1), B) is B
    assert isinstance(Kron.make(Identity(2), Identity(3)), Diag)


REORDER_SHAPES = [((2, 3), (2, 3)), ((2, 3), (3, 2)), ((4,), (2, 2)), ((6,), (6,))]


@pytest.mark.parametrize("kind,out_shape,in_shape", [
    (k, o, i) for k in KINDS + ["kron"] for o, i in REORDER_SHAPES if k not in ("diag", "scalar") or o == i])
def test_reordered_is_the_column_major_permutation(kind, out_shape, in_shape):
    r = np.random.default_rng(4)
    m, n = int(np.prod(out_shape)), int(np.prod(in_shape))
    if kind == "kron":
        (p, q), (rr, s) = as_matrix_shape(out_shape), as_matrix_shape(in_shape)
        L, D = kron_map(r, p, rr, q, s)
    else:
        L, D = random_map(kind, m, n, r)
    po, pi = flatten_perm(out_shape, "col"), flatten_perm(in_shape, "col")
    R = L.reordered(po, pi, as_matrix_shape(out_shape), as_matrix_shape(in_shape))
    np.testing.assert_allclose(R.to_dense(), D[np.ix_(po, pi)], atol=1e-12)


def test_kron_change_of_order_swaps_factors():
    """Seed 000: I ⊗ Bᵀ row-major is Bᵀ ⊗ I column-major, without a dense permutation."""
    B = np.array([[1.0, 2.0], [3.0, 4.0]])
    K = Kron(Identity(2), Dense(B.T))
    R = K.reordered(flatten_perm((2, 2), "col"), flatten_perm((2, 2), "col"), (2, 2), (2, 2))
    assert isinstance(R, Kron)
    np.testing.assert_array_equal(R.to_dense(), np.kron(B.T, np.eye(2)))


def test_dense_allocations_beyond_the_budget_are_refused(monkeypatch):
    import mcalc.linops as L

    monkeypatch.setattr(L, "_BUDGET", 1000)
    with pytest.raises(TooLargeError, match="entries"):
        Kron(Identity(20), Dense(np.ones((20, 20)))).to_dense()


def test_reordered_with_unchanged_order_is_the_same_map():
    """A permutation that is the identity must not swap Kronecker factors."""
    r = np.random.default_rng(7)
    K, D = kron_map(r, 2, 2, 3, 3)
    R = K.reordered(np.arange(6), np.arange(6), (2, 3), (2, 3))
    np.testing.assert_allclose(R.to_dense(), D)


@pytest.mark.parametrize("m,n", [(2, 3), (4, 4), (5, 1)])
def test_transposition_is_the_commutation_matrix(m, n):
    """K vec(X) = vec(Xᵀ) for m×n X, row-major (Magnus & Neudecker's commutation matrix), applied by transposing."""
    r = np.random.default_rng(m * n)
    K = np.zeros((m * n, m * n))
    for i in range(m):
        for j in range(n):
            K[j * m + i, i * n + j] = 1.0
    idx = np.array([i * n + j for j in range(n) for i in range(m)])
    check_dense_equivalence(Transposition(idx, m, n), K, r)
    X = r.normal(size=(m, n))
    np.testing.assert_array_equal(Transposition(idx, m, n).apply(X.reshape(-1, 1)).ravel(), X.T.ravel())


@pytest.mark.parametrize("n", [3, 64, 65, 130, 257])
@pytest.mark.parametrize("lower", [True, False])
def test_triangular_inverse_by_halves(n, lower):
    r = np.random.default_rng(n)
    V = r.normal(size=(n, n))
    T = np.linalg.cholesky(V @ V.T / n + np.eye(n))
    T = T if lower else T.T
    Ti = triangular_inverse(T, lower)
    np.testing.assert_allclose(Ti @ T, np.eye(n), atol=1e-12)
    assert not np.any(np.triu(Ti, 1) if lower else np.tril(Ti, -1))
    check_dense_equivalence(Inverse(T), np.linalg.inv(T), r)


@given(st.integers(1, 7), st.floats(-3, 3, allow_nan=False), st.integers(1, 4))
def test_the_triangle_of_ones_against_numpy(n, c, k):
    """cumsum's matrix, applied as running sums, against np.tri."""
    from mcalc.linops import Tri

    T, D = Tri(n).scaled(c), c * np.tri(n)
    X, G = rng.normal(size=(n, k)), rng.normal(size=(k, n))
    assert np.allclose(T.apply(X), D @ X) and np.allclose(T.rapply(G), G @ D)
    assert np.array_equal(T.to_dense(), D) and np.array_equal(T.T.to_dense(), D.T)
    assert np.array_equal(T.to_sparse().toarray(), D) and T.bound() == abs(c) and T.nnz() >= np.count_nonzero(D)


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.booleans())
def test_a_kronecker_factor_densified_entry_by_entry(m, n, p, q, left):
    """X ↦ A ⊗ X (or X ⊗ A): its dense matrix has column (r, s) equal to vec(A ⊗ E_rs), from numpy's kron."""
    from mcalc.linops import KronWith

    A = rng.normal(size=(m, n))
    K = KronWith(A, p, q, left, c=-1.5)
    cols = []
    for k in range(p * q):
        E = np.zeros(p * q)
        E[k] = 1
        E = E.reshape(p, q)
        cols.append(-1.5 * (np.kron(A, E) if left else np.kron(E, A)).ravel())
    assert np.allclose(K.to_dense(), np.array(cols).T) and K.to_dense().flags.c_contiguous
    assert K.bound() == pytest.approx(1.5 * np.abs(A).max())


@pytest.mark.parametrize("idx,w", [([0, 0, -1, 0], None), ([0, 0, 0], None), ([0, -1, 0], [1.0, 2.0, 3.0])])
def test_a_sums_row_densified(idx, w):
    """The transpose of a gather into one entry (a sum): a row of its weights where picked."""
    idx = np.array(idx)
    G = Gather(idx, 1, None if w is None else np.array(w))
    expect = np.where(idx >= 0, 1.0 if w is None else np.array(w), 0.0)[None, :]
    assert np.array_equal(np.asarray(G.T.to_dense()), expect)


def test_sums_of_structured_maps_fill_one_array(monkeypatch):
    """A Sum densifies into one array: its fullest term written first, the others added in place (Kronecker
    products with a diagonal factor touch only their nonzeros); never an array of its size per term.  Against
    numpy's kron."""
    r = np.random.default_rng(3)
    n = 24
    X = r.normal(size=(n, n))
    X2 = X @ X
    S = Sum([Kron(Diag(1.0, n), Dense(X2.T)), Kron(Dense(X), Dense(X.T)), Kron(Dense(X2), Diag(2.0, n))])
    expect = np.kron(np.eye(n), X2.T) + np.kron(X, X.T) + 2 * np.kron(X2, np.eye(n))
    D, peak = _with_peak(lambda: S.to_dense())
    assert np.allclose(D, expect) and peak < 1.3 * D.nbytes
    out = np.ones_like(expect)
    S.add_to(out)
    assert np.allclose(out, expect + 1)


def _with_peak(f):
    """f() and the peak of the memory traced while it ran."""
    import tracemalloc

    tracemalloc.start()
    try:
        out = f()
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@given(p=st.sampled_from([1, 3, 17]), r=st.sampled_from([1, 2, 16, 18]), square_a=st.booleans(),
       square_b=st.booleans(), q_other=st.sampled_from([1, 2]), s_other=st.sampled_from([1, 3]), kinds=st.lists(st.sampled_from(["dense", "diag", "scalar"]), min_size=1, max_size=4),
       chunk=st.sampled_from([8, 1 << 12, 1 << 21]), products=st.booleans(), seed=st.integers(0, 2**16))
def test_sums_of_kronecker_products_written_by_block_rows(p, r, square_a, square_b, q_other, s_other, kinds, chunk,
                                                          products, seed):
    """Kronecker products of one block shape are written a few block rows at a time (every chunk size, down to
    one block row; dense factors with at least 16 block rows by repeated and tiled rows, a column times a row as
    an outer product), diagonal factors on either side, or (products: where the fullest term is dense) as
    p·r small matrix products of depth T: against numpy's kron."""
    g = np.random.default_rng(seed)
    q, s = (p if square_a else q_other), (r if square_b else s_other)

    def factor(m, n, kind):
        if kind == "dense" or m != n:
            a = g.normal(size=(m, n))
            return Dense(a), a
        d = g.normal(size=m) if kind == "diag" else 1.5
        return Diag(d, m), np.diag(np.broadcast_to(d, m))

    terms, expect = [], 0
    for i, kind in enumerate(kinds):
        (A, a), (B, b) = factor(p, q, kind if i % 2 else "dense"), factor(r, s, "dense" if i % 2 else kind)
        terms.append(Kron(A, B))
        expect = expect + np.kron(a, b)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(Sum, "CHUNK_BYTES", chunk)
        m.setattr(Sum, "GEMM_TERMS", 8 if products else 0)
        assert np.allclose(Sum(terms).to_dense(), expect, rtol=1e-13, atol=1e-13)


def test_the_cube_s_jacobian_in_one_pass_with_an_inf_left_to_the_terms(monkeypatch):
    """d(X³) = X² ⊗ I + X ⊗ Xᵀ + I ⊗ (X²)ᵀ (row-major; Magnus & Neudecker): written as small products of depth 3
    (the identities made dense), in no more memory than J and the factors, against numpy's kron; with an inf in
    a factor, term by term (an identity's 0 times inf would be nan where the sum has inf or a number)."""
    r = np.random.default_rng(8)
    n = 20
    X = r.normal(size=(n, n))
    X2 = X @ X
    I = np.eye(n)
    terms = [Kron(Dense(X2), Diag(1.0, n)), Kron(Dense(X), Dense(X.T)), Kron(Diag(1.0, n), Dense(X2.T))]
    ways = []
    real = Sum._krons_by_products
    monkeypatch.setattr(Sum, "_krons_by_products", lambda self: ways.append("products") or real(self))
    D, peak = _with_peak(lambda: Sum(terms).to_dense())
    assert ways == ["products"] and peak < 1.1 * D.nbytes
    np.testing.assert_allclose(D, np.kron(X2, I) + np.kron(X, X.T) + np.kron(I, X2.T), rtol=1e-13, atol=1e-13)
    X2i = X2.copy()
    X2i[3, 4] = np.inf
    D = Sum([Kron(Dense(X2i), Diag(1.0, n)), terms[1], terms[2]]).to_dense()
    assert ways == ["products"] and not np.isnan(D).any()
    rows, cols = 3 * n + np.arange(n), 4 * n + np.arange(n)
    assert np.isposinf(D[rows, cols]).all()
    X2i[3, 4] = 0
    D[rows, cols] = np.kron(X, X.T)[rows, cols]
    np.testing.assert_allclose(D, np.kron(X2i, I) + np.kron(X, X.T) + np.kron(I, X2.T), rtol=1e-13, atol=1e-13)


def test_a_sum_holding_one_map_twice_counts_it_twice():
    """d(X + X) with X one node: the Sum's two terms are the same object (the fullest is written first, the
    other added: by place, not by identity)."""
    K = Kron(Dense(np.array([[1.0], [2.0]])), Diag(1.0, 2))
    assert np.array_equal(Sum([K, K]).to_dense(), 2 * K.to_dense())


@pytest.mark.parametrize("m, n", [(3, 5), (100, 70), (1, 5000)])
def test_a_column_times_a_row(m, n):
    """Dense maps of one column (applied to a row) or one row (pulled back from a column) make outer products,
    small ones by broadcasting and large ones by einsum: against numpy's outer."""
    r = np.random.default_rng(m * n)
    col, row = r.normal(size=(m, 1)), r.normal(size=(1, n))
    assert np.allclose(Dense(col).apply(row), np.outer(col, row), rtol=1e-15, atol=0)
    assert np.allclose(Dense(row).rapply(col), np.outer(col, row), rtol=1e-15, atol=0)


def test_many_kronecker_terms_stay_within_the_memory_of_one_array():
    """Sixteen dense Kronecker terms: written by block rows their writers would hold twice J together (each its
    repeated and tiled rows), so they are written one after the other; under 1.3x J, against numpy's kron."""
    r = np.random.default_rng(5)
    terms = [Kron(Dense(r.normal(size=(16, 16))), Dense(r.normal(size=(256, 16)))) for _ in range(16)]
    expect = sum(np.kron(t.A.a, t.B.a) for t in terms)
    D, peak = _with_peak(lambda: Sum(terms).to_dense())
    assert np.allclose(D, expect) and peak < 1.3 * D.nbytes


@pytest.mark.parametrize("planned", [True, False])
@pytest.mark.parametrize("kind", ["gradient", "vjp", "jvp"])
def test_each_large_array_is_scanned_for_nan_and_inf_once(monkeypatch, kind, planned):
    """Work, not time (issue 13): in a gradient, a VJP or a JVP of the tanh layer at n = 300, no array of 90 000
    entries (the value of W, the tangent, the answer shaped like W) is scanned for nan and inf twice, wherever the
    scan is asked for: by reading the values, by the chain rule's check of what it pulls back, or by the answer's.
    W and the tangent are not scanned at all: W @ x and U @ x, 300 entries, are, and would show a nan or an inf
    in them (x has no zero; plan.py).  Without a plan (the full path), W and the answer or the tangent are
    scanned, once each."""
    import mcalc
    from mcalc import chain, expr, linops, plan, products, values

    scans = []
    real = linops.all_entries_finite

    def counting(a):
        a = np.asarray(a)
        if a.size >= 300 * 300:
            scans.append((a.__array_interface__["data"][0], a.size))
        return real(a)

    for module in (linops, chain, expr, plan, products, values):
        monkeypatch.setattr(module, "all_entries_finite", counting)
    if not planned:
        monkeypatch.setattr(plan, "run", lambda *a, **k: None)
    rng = np.random.default_rng(0)
    n = 300
    v = {"W": rng.normal(size=(n, n)) / n ** 0.5, "x": rng.normal(size=n), "b": rng.normal(size=n)}
    if kind == "gradient":
        call = lambda: mcalc.gradient("sum(tanh(W@x + b))", "W", v)        # noqa: E731
        want = np.outer(1 - np.tanh(v["W"] @ v["x"] + v["b"]) ** 2, v["x"])
    elif kind == "vjp":
        d = rng.normal(size=n)
        call = lambda: mcalc.vjp("tanh(W@x + b)", "W", d, v)               # noqa: E731
        want = np.outer(d * (1 - np.tanh(v["W"] @ v["x"] + v["b"]) ** 2), v["x"])
    else:
        d = rng.normal(size=(n, n))
        call = lambda: mcalc.jvp("tanh(W@x + b)", "W", d, v)               # noqa: E731
        want = (1 - np.tanh(v["W"] @ v["x"] + v["b"]) ** 2) * (d @ v["x"])
    if planned:                         # (a key's first call is the full path's, its second makes the plan)
        plan._PLANS.clear()
        call()
        call()
        scans.clear()
    out = call()
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-14)
    assert len(scans) == len(set(scans)), scans
    if planned:
        assert len(scans) == (0 if kind == "jvp" else 1), scans  # the answer shaped like W (a gradient, a VJP)
    else:
        assert len(scans) == 2, scans        # W, and the answer (a gradient, a VJP) or the tangent (a JVP)


def test_the_scan_for_nan_and_inf_copies_nothing_in_either_order():
    """Found by a review: a transposed (F-ordered) array, as inv(X) and the denominator layout give, was copied
    twice by the scan (peak 2x its size).  Read in place in both orders; a nan anywhere is still found."""
    import tracemalloc

    from mcalc.linops import all_entries_finite

    a = np.random.default_rng(0).normal(size=(500, 600))
    for x in (a, a.T, np.asfortranarray(a)):
        tracemalloc.start()
        assert all_entries_finite(x)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 0.01 * x.nbytes, (x.flags.f_contiguous, peak)
    for x in (a.copy(), np.asfortranarray(a), a[:, ::2].copy()):
        x[123, 77] = np.nan
        assert not all_entries_finite(x) and not all_entries_finite(x.T) and not all_entries_finite(x[::3])
        x[123, 77] = -np.inf
        assert not all_entries_finite(x) and not all_entries_finite(x.T)


@pytest.mark.parametrize("n", [1, 7, 4096, 4097, 20000])
def test_the_scan_tells_huge_finite_entries_from_inf_without_a_warning(n):
    """The scan's sum of squares (vdot for small arrays, dot for large ones) overflows to inf from finite
    entries of 1e200: those are looked at entry by entry, and found finite, with no RuntimeWarning (an error in
    this suite); nan, inf and -inf are found at either end, in float64 and in other dtypes."""
    from mcalc.linops import all_entries_finite

    x = np.full(n, 1e200)
    assert all_entries_finite(x) and all_entries_finite(x.reshape(1, -1).T) and all_entries_finite(-x)
    for bad in (np.nan, np.inf, -np.inf):
        for i in (0, n - 1):
            y = x.copy()
            y[i] = bad
            z = np.full(n, 1e30, dtype=np.float32)
            z[i] = bad
            assert not all_entries_finite(y) and not all_entries_finite(z)
    assert all_entries_finite(np.arange(n)) and all_entries_finite(np.float64(3.0)) and all_entries_finite([1.0])
    assert not all_entries_finite(np.array(np.nan)) and all_entries_finite(np.zeros(0))
