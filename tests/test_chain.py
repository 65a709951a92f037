"""The chain rule: which direction it accumulates in, what structure it keeps, and how much it allocates."""

import numpy as np
import pytest

import mcalc.linops as L
from mcalc.chain import LocalRules, choose_mode, linear_maps
from mcalc.expr import evaluate
from mcalc.problem import prepare


def maps_of(expr, wrt, shapes, mode=None, values=None):
    p = prepare(expr, wrt, values=values, shapes=shapes)
    return linear_maps(p.nodes, LocalRules(evaluate(p.nodes, p.values)), p.wrt, mode), p


def test_mode_follows_the_sizes():
    p = prepare("sum(A@B)", "A", shapes="3x3")
    assert choose_mode(p.root, p.wrt) == "reverse"                 # a scalar output: a gradient
    p = prepare("A@x", "x", shapes=["A=5x2", "x=2"])
    assert choose_mode(p.root, p.wrt) == "forward"                 # 2 inputs, 5 outputs


@pytest.mark.parametrize("expr", ["x*x + x", "sin(x) * exp(x) - x@x", "[x[0]*x[1], x[1]**2, sum(x)]",
                                  "outer(x, x) @ x", "tanh(A@x) * x"])
def test_both_directions_agree(expr):
    shapes = ["x=3", "A=3x3"] if "A" in expr else "x=3"
    fwd, p = maps_of(expr, "x", shapes, "forward")
    rev, _ = maps_of(expr, "x", shapes, "reverse")
    np.testing.assert_allclose(fwd[0].to_dense(), rev[0].to_dense(), rtol=1e-12, atol=1e-12)


def test_structure_survives_the_chain():
    maps, _ = maps_of("A@B", "A", "4x4")
    assert isinstance(maps[0], L.Kron)                            # I ⊗ Bᵀ, never dense until asked
    maps, _ = maps_of("tanh(W@x + b)", "W", ["W=5x7", "x=7", "b=5"])
    assert isinstance(maps[0], L.Kron)                            # diag(1 - y²) ⊗ xᵀ
    maps, _ = maps_of("exp(x) * x", "x", ["x=5"])
    assert isinstance(maps[0], L.Diag)
    maps, _ = maps_of("A.T", "A", "3x3")
    assert isinstance(maps[0], L.Gather)                          # the commutation matrix as a permutation


def test_parts_that_do_not_depend_on_wrt_are_never_built(monkeypatch):
    built = []
    real = LocalRules.__call__

    def spy(self, node, i):
        built.append((node.op.name, i))
        return real(self, node, i)

    monkeypatch.setattr(LocalRules, "__call__", spy)
    maps_of("A@x + inv(B)@exp(C)", "x", ["A=3x3", "B=3x3", "C=3", "x=3"])
    assert sorted(set(built)) == [("add", 0), ("matmul", 1)]      # d(A@x)/dx and d(sum)/d(A@x), nothing else


def _track_dense(monkeypatch):
    sizes = []
    real = L.check_dense

    def spy(m, n, *args, **kwargs):
        sizes.append(m * n)
        return real(m, n, *args, **kwargs)

    monkeypatch.setattr(L, "check_dense", spy)
    return sizes


def test_a_gradient_allocates_no_more_than_its_input(monkeypatch):
    """Reverse accumulation: sum(exp(A@B) * C) wrt A at n×n never builds anything of n⁴ entries."""
    n = 24
    sizes = _track_dense(monkeypatch)
    p = prepare("sum(exp(A@B) * C)", "A", values={k: np.random.default_rng(0).normal(size=(n, n)) / n
                                                 for k in "ABC"})
    J = p.analytic()
    assert J.shape == (1, n * n)
    assert max(sizes) <= n * n


def test_a_jacobian_allocates_its_answer_once(monkeypatch):
    n = 12
    sizes = _track_dense(monkeypatch)
    prepare("A@B", "A", shapes=f"{n}x{n}").analytic()
    assert sizes.count(n ** 4) == 1 and max(sizes) == n ** 4


def test_column_major_keeps_the_kronecker_structure(monkeypatch):
    n = 10
    sizes = _track_dense(monkeypatch)
    prepare("A@B", "A", shapes=f"{n}x{n}", order="col").analytic()
    assert sizes.count(n ** 4) == 1                               # Bᵀ ⊗ I written directly, no permuted copy


def test_softmax_is_never_a_dense_n_by_n(monkeypatch):
    """diag(s) - s sᵀ is kept as a diagonal plus an outer product: the gradient of a sum costs O(n)."""
    n = 3000
    sizes = _track_dense(monkeypatch)
    J = prepare("sum(softmax(x))", "x", shapes=f"x={n}").analytic()
    assert J.shape == (1, n) and np.abs(J).max() < 1e-12            # the entries of softmax sum to 1
    assert max(sizes) <= n


def test_a_long_list_costs_linear_work(monkeypatch):
    """[x, x, ..., x]: each element's rule is the adjoint of gathering its own entries, so the index arrays built
    add up to the length of the list (not its square)."""
    built = []
    real = L.Gather.__init__

    def spy(self, idx, n, w=None):
        real(self, idx, n, w)
        built.append(self.idx.size)

    monkeypatch.setattr(L.Gather, "__init__", spy)
    J = prepare("[" + ", ".join(["x"] * 500) + "]", "x").analytic()
    assert J.shape == (500, 1) and np.all(J == 1)
    assert sum(built) <= 2 * 500


@pytest.mark.parametrize("text", ["sum(cholesky(S) * C)", "sum(eigh(S)[1] * C)", "sum(solve(S, C))",
                                  "sum(sqrtm(S) * C)", "sum(inv(S) @ C)", "b @ eigvalsh(S)"])
def test_linear_algebra_gradients_never_build_n4(monkeypatch, text):
    """The gradient of a scalar through a matrix function is pulled back through its differential: nothing of
    n⁴ entries (the local Jacobian) is formed, at any step."""
    n = 20
    rng = np.random.default_rng(1)
    V = rng.normal(size=(n, n))
    values = {"S": V @ V.T / n + np.eye(n), "C": rng.normal(size=(n, n)), "b": rng.normal(size=n)}
    values = {k: v for k, v in values.items() if k in text}
    sizes = _track_dense(monkeypatch)
    J = prepare(text, "S", values=values).analytic()
    assert J.shape == (1, n * n)
    assert max(sizes, default=0) <= n * n


@pytest.mark.parametrize("planned", [False, True])
def test_a_repeated_call_builds_no_tree(monkeypatch, planned):
    """What depends on the text and the shapes only (the parse, the typed tree, each node's differential and the
    matrices of its linear maps; with a plan, the gradient's tree) is built once: calling again with new values
    builds no node, and the answer is the new values' (the gradient of b·solve(A, b) is -A⁻ᵀ b xᵀ, x = A⁻¹ b:
    Matrix Cookbook (61)).  A plan is made at a key's second call; without one, the full path alone."""
    import mcalc
    import mcalc.tree as T
    from mcalc import plan

    if not planned:
        monkeypatch.setattr(plan, "run", lambda *a, **k: None)
    rng = np.random.default_rng(3)
    b = rng.normal(size=4)
    first = rng.normal(size=(4, 4)) + 4 * np.eye(4)
    for _ in range(1 + planned):
        mcalc.gradient("b @ solve(A, b) + sum(tanh(A))", "A", {"A": first, "b": b})
    built = []
    real = T.Node.__init__

    def spy(self, *args, **kwargs):
        built.append(self)
        real(self, *args, **kwargs)

    monkeypatch.setattr(T.Node, "__init__", spy)
    A = rng.normal(size=(4, 4)) + 4 * np.eye(4)
    g = mcalc.gradient("b @ solve(A, b) + sum(tanh(A))", "A", {"A": A, "b": b})
    assert built == []
    x = np.linalg.solve(A, b)
    np.testing.assert_allclose(g, -np.outer(np.linalg.solve(A.T, b), x) + 1 - np.tanh(A) ** 2, rtol=1e-12)
    g3 = mcalc.gradient("b @ solve(A, b) + sum(tanh(A))", "A", {"A": A[:3, :3], "b": b[:3]})   # other shapes
    x3 = np.linalg.solve(A[:3, :3], b[:3])
    np.testing.assert_allclose(g3, -np.outer(np.linalg.solve(A[:3, :3].T, b[:3]), x3) + 1 - np.tanh(A[:3, :3]) ** 2,
                               rtol=1e-12)


def test_maps_kept_between_calls_are_never_written_to():
    """A constant's map is kept with its tree between calls: adding to it, or the caller writing into the
    Jacobian it was returned as, must not change the next call's answer (d/db (C⁻¹ b + b) = C⁻¹ + I)."""
    import mcalc

    C = np.array([[2.0, 1.0], [1.0, 3.0]])
    want = np.linalg.inv(C) + np.eye(2)
    for _ in range(3):
        np.testing.assert_allclose(mcalc.jacobian("solve([[2., 1.], [1., 3.]], b) + b", "b", {"b": [1.0, 2.0]}), want)
    for text, layout, ref in (("solve([[2., 1.], [1., 3.]], b)", "numerator", np.linalg.inv(C)),
                              ("b @ [[2., 1.], [1., 3.]]", "numerator", C.T),
                              ("[[2., 1.], [1., 3.]] @ b", "denominator", C.T)):
        J = mcalc.jacobian(text, "b", {"b": [1.0, 2.0]}, layout=layout)
        J[:] = 0
        np.testing.assert_allclose(mcalc.jacobian(text, "b", {"b": [1.0, 2.0]}, layout=layout), ref)


def test_a_transpose_composes_as_a_selection():
    """(Aᵀ)[::2]: the transpose (applied by transposing) composes with the selection into one gather: 2n²
    entries stored for an n²/2 × n² Jacobian, never its dense size."""
    pytest.importorskip("scipy")
    import mcalc

    J = mcalc.jacobian("(A.T)[::2]", "A", shapes=["A=200x200"], sparse=True)
    assert J.shape == (20000, 40000) and J.nnz == 20000


def test_a_subexpression_written_twice_is_one_node():
    """sum(log(1 + exp(M@w)) - y*(M@w)): M@w is evaluated and differentiated once (the gradient of the logistic
    loss pulled back through one matrix product), and the gradient is still Mᵀ(σ(Mw) - y)."""
    import numpy as np

    from mcalc import gradient
    from mcalc.problem import prepare

    p = prepare("sum(log(1 + exp(M@w)) - y*(M@w))", "w", None, "M=5x3,w=3,y=5", evaluate=False)
    assert sum(n.op is not None and n.op.name == "matmul" for n in p.nodes) == 1
    r = np.random.default_rng(0)
    M, w, y = r.normal(size=(5, 3)), r.normal(size=3), (r.random(5) > 0.5) * 1.0
    g = gradient("sum(log(1 + exp(M@w)) - y*(M@w))", "w", values={"M": M, "w": w, "y": y})
    assert np.allclose(g, M.T @ (1 / (1 + np.exp(-M @ w)) - y))
