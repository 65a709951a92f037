"""Plans (mcalc/plan.py): a repeated gradient, VJP, JVP or (small) Jacobian call is worked out once and then only
computed.  The plan must give the full path's numbers for every operation (from the registry's examples) and for
random compositions, build nothing on a one-off call nor on a repeated one (work counts, not time), never hand out
an array it or the caller keeps, and leave anything out of the ordinary (nan in a value, a domain error, an answer
that is not finite) to the full path's messages."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mcalc
from mcalc import plan as P
from mcalc.ops import OPS
from mcalc.problem import prepare
from mcalc.tree import REGISTRY
from test_properties import problems

USER = sorted(name for name, op in OPS.items() if op.example is not None)


@pytest.fixture
def full_path(monkeypatch):
    """Calls with plans turned off: the full path alone."""
    def off():
        monkeypatch.setattr(P, "run", lambda *a, **k: None)
    return off


def planned(f):
    """f() by its plan: the first call of a key is the full path's, the second makes the plan (and answers with
    the full path, against which the plan is checked), the third is the plan's."""
    f()
    f()
    return f()


@pytest.fixture
def disagreements(monkeypatch):
    """Plans dropped because their answer differed from the full path's when they were made: none should be."""
    seen = []
    real = P._agrees

    def agrees(out, answer):
        ok = real(out, answer)
        if not ok:
            seen.append((out, answer))
        return ok
    monkeypatch.setattr(P, "_agrees", agrees)
    return seen


def _made(monkeypatch) -> list:
    made = []
    real = P._make
    monkeypatch.setattr(P, "_make", lambda *a: made.append(a[:3]) or real(*a))
    P._PLANS.clear()
    return made


def test_a_repeated_call_builds_nothing_and_answers_as_the_cookbook(monkeypatch):
    made = _made(monkeypatch)
    rng = np.random.default_rng(0)
    for _ in range(3):
        M, w, y = rng.normal(size=(40, 8)), rng.normal(size=8), rng.normal(size=40)
        g = mcalc.gradient("sum((M@w - y)**2)", "w", {"M": M, "w": w, "y": y})
        np.testing.assert_allclose(g, 2 * M.T @ (M @ w - y), rtol=1e-12)
        W, x, b, v = rng.normal(size=(6, 5)), rng.normal(size=5), rng.normal(size=6), rng.normal(size=6)
        t = np.tanh(W @ x + b)
        got = mcalc.vjp("tanh(W@x + b)", "W", v, {"W": W, "x": x, "b": b})
        np.testing.assert_allclose(got, np.outer(v * (1 - t**2), x), rtol=1e-12)
        U = rng.normal(size=(6, 5))
        got = mcalc.jvp("tanh(W@x + b)", "W", U, {"W": W, "x": x, "b": b})
        np.testing.assert_allclose(got, (1 - t**2) * (U @ x), rtol=1e-12)
    assert [m[0] for m in made] == ["gradient", "vjp", "jvp"]       # one plan each, for three calls each
    assert all(p is not P._NONE for p in P._PLANS.values())


@pytest.mark.parametrize("name", USER)
def test_every_operation_gives_the_full_paths_numbers(name, full_path, disagreements):
    """The VJP (a random cotangent), the JVP (a random tangent), the gradient and the Jacobian (both orders and
    layouts) of each operation's example, for each of its variables, by the plan and by the full path, at values
    mcalc chose in the operation's domain."""
    expr, spec = OPS[name].example
    p = prepare(expr, None, shapes=spec, seed=3)
    values = {k: np.array(v, dtype=float) for k, v in p.values.items()}
    rng = np.random.default_rng(1)
    got = {}
    ways = [("row", "numerator"), ("col", "denominator")]
    for v in p.wrt:
        d = rng.normal(size=p.root.shape)
        u = rng.normal(size=v.shape)
        got[v.name] = [planned(lambda: mcalc.vjp(expr, v.name, d, values)),
                       planned(lambda: mcalc.jvp(expr, v.name, u, values)), d, u,
                       [planned(lambda: mcalc.jacobian(expr, v.name, values, order=o, layout=lay))
                        for o, lay in ways]]
        if p.root.size == 1 and not p.root.shape:
            got[v.name].append(planned(lambda: mcalc.gradient(expr, v.name, values)))
    both = planned(lambda: mcalc.jacobian(expr, None, values))
    full_path()
    for v in p.wrt:
        vjp, jvp, d, u, jacs, *grad = got[v.name]
        np.testing.assert_allclose(vjp, mcalc.vjp(expr, v.name, d, values), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(jvp, mcalc.jvp(expr, v.name, u, values), rtol=1e-9, atol=1e-12)
        for J, (o, lay) in zip(jacs, ways):
            np.testing.assert_allclose(J, mcalc.jacobian(expr, v.name, values, order=o, layout=lay), rtol=1e-9,
                                       atol=1e-12)
        if grad:
            np.testing.assert_allclose(grad[0], mcalc.gradient(expr, v.name, values), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(both, mcalc.jacobian(expr, None, values), rtol=1e-9, atol=1e-12)
    assert disagreements == []


@given(problems(), st.sampled_from(["row", "col"]), st.sampled_from(["numerator", "denominator"]))
def test_random_compositions_give_the_full_paths_jacobian(problem, order, layout):
    """The planned Jacobian of a random composition (test_properties' expressions) is the full path's; no plan
    is dropped for disagreeing with it when made."""
    text, values = problem
    if not values:
        return
    dropped = []
    real = P._agrees
    P._agrees = lambda out, answer: real(out, answer) or dropped.append(text)
    try:
        J = planned(lambda: mcalc.jacobian(text, None, values, order=order, layout=layout))
    finally:
        P._agrees = real
    want = prepare(text, None, values, None, order, layout).analytic()
    np.testing.assert_allclose(J, want, rtol=1e-9, atol=1e-12)
    assert J.flags.writeable
    assert dropped == []


def test_a_one_off_call_makes_no_plan_and_a_repeated_jacobian_prepares_nothing(monkeypatch):
    """Work counts: a key's first call is the full path's alone (no plan made: what a one-off call costs is
    unchanged); the second makes the plan; later calls neither make one nor prepare a problem."""
    import mcalc.problem

    made = _made(monkeypatch)
    prepared = []
    real = mcalc.problem.prepare
    monkeypatch.setattr(mcalc.problem, "prepare", lambda *a, **k: prepared.append(a[0]) or real(*a, **k))
    rng = np.random.default_rng(4)
    for call in range(4):
        A, B = rng.normal(size=(3, 2)), rng.normal(size=(2, 4))
        J = mcalc.jacobian("A@B", "A", {"A": A, "B": B})
        np.testing.assert_allclose(J, np.kron(np.eye(3), B.T), rtol=1e-12)     # I ⊗ Bᵀ (row-major)
        J = mcalc.jacobian("A@B", "A", {"A": A, "B": B}, order="col")
        np.testing.assert_allclose(J, np.kron(B.T, np.eye(3)), rtol=1e-12)     # Bᵀ ⊗ I (column-major)
        assert len(made) == (0 if call == 0 else 2)
        assert len(prepared) == (2 if call == 0 else 4)    # (the second call checks the new plan once)
    assert not np.signbit(J[J == 0]).any()                 # (0, not the -0 of 0 · -b)


def test_a_plan_is_used_only_once_checked(monkeypatch):
    """Found by a review: a plan made at a call whose values the full path refuses (log of a negative) was kept
    unchecked and used from then on.  It is used only once its answer has equalled the full path's: here a wrong
    plan (played by one that adds 1) is never used, whatever comes between."""
    real = P.Plan.run
    monkeypatch.setattr(P.Plan, "run", lambda self, env, d: (lambda r: None if r is None else r + 1)(
        real(self, env, d)))
    P._PLANS.clear()
    good, bad = {"x": np.array([1.0, 2.0])}, {"x": np.array([1.0, -2.0])}
    for f, want in ((lambda v: mcalc.gradient("sum(log(x))", "x", v), [1.0, 0.5]),
                    (lambda v: mcalc.jacobian("log(x)", "x", v), np.diag([1.0, 0.5]))):
        np.testing.assert_allclose(f(good), want)
        with pytest.raises(mcalc.DomainError, match="log"):
            f(bad)                                                 # (the plan made here, and not checked)
        for _ in range(3):
            np.testing.assert_allclose(f(good), want)
    assert list(P._PLANS.values()) == [P._NONE, P._NONE]


def test_a_plan_that_disagrees_with_the_full_path_is_dropped(monkeypatch):
    """Checked once, when made: a plan whose answer is not the full path's (a wrong rule, played here by a plan
    that adds 1) is never used; the call answers with the full path's numbers."""
    real = P.Plan.run
    monkeypatch.setattr(P.Plan, "run", lambda self, env, d: real(self, env, d) + 1)
    P._PLANS.clear()
    v = {"x": np.array([1.0, 2.0]), "y": np.array([3.0, -1.0])}
    for _ in range(3):
        np.testing.assert_allclose(mcalc.jacobian("x * y", "x", v), np.diag([3.0, -1.0]))
        np.testing.assert_allclose(mcalc.gradient("sum(x * y)", "x", v), [3.0, -1.0])
    assert list(P._PLANS.values()) == [P._NONE, P._NONE]


def test_the_answer_is_the_callers_own_array():
    """Never the caller's array (the gradient of sum(A*B) in A is B), nor one the plan keeps (the gradient of
    sum(x) is a constant of ones): writing to an answer changes nothing else."""
    A, B = np.arange(4.0).reshape(2, 2), np.ones((2, 2))
    for _ in range(3):
        g = mcalc.gradient("sum(A*B)", "A", {"A": A, "B": B})
        assert g.flags.writeable and not np.shares_memory(g, B)
        g[:] = 7
        np.testing.assert_array_equal(B, np.ones((2, 2)))
        g = mcalc.gradient("sum(x)", "x", {"x": np.arange(3.0)})
        np.testing.assert_array_equal(g, np.ones(3))
        g[:] = 9
        g = mcalc.gradient("sum([[1, 2], [3, 4]] * X)", "X", {"X": A})       # (a constant of the expression)
        np.testing.assert_array_equal(g, [[1, 2], [3, 4]])
        g[:] = 5
        J = mcalc.jacobian("A*B", "A", {"A": A, "B": B})                      # (diag(B): never B itself)
        J[:] = 3
        np.testing.assert_array_equal(B, np.ones((2, 2)))
        J = mcalc.jacobian("C @ x", "x", {"C": B, "x": np.ones(2)})           # (J = C: a copy)
        assert not np.shares_memory(J, B)
        J[:] = 4
        np.testing.assert_array_equal(B, np.ones((2, 2)))


def test_what_is_out_of_the_ordinary_gets_the_full_paths_message():
    rng = np.random.default_rng(2)
    M, w, y = rng.normal(size=(200, 100)), rng.normal(size=100), rng.normal(size=200)
    planned(lambda: mcalc.gradient("sum((M@w - y)**2)", "w", {"M": M, "w": w, "y": y}))     # (the plan made)
    bad = M.copy()
    bad[3, 5] = np.nan
    with pytest.raises(mcalc.ValueSpecError, match="value of M contains nan or inf"):
        mcalc.gradient("sum((M@w - y)**2)", "w", {"M": bad, "w": w, "y": y})
    for x in (np.array([1.0, 2.0]), np.array([1.0, 2.0]), np.array([1.0, -2.0])):   # (planned at the third)
        with pytest.raises(mcalc.DomainError, match="log"):
            mcalc.gradient("sum(log(x))", "x", {"x": -x})
        with pytest.raises(mcalc.DomainError, match="log"):
            mcalc.jacobian("log(x)", "x", {"x": -np.abs(x)})
    with pytest.raises(mcalc.DomainError, match="overflows|not finite"):
        mcalc.gradient("sum(exp(x))", "x", {"x": np.array([1.0, 800.0])})
    for product, what in ((mcalc.vjp, "cotangent"), (mcalc.jvp, "tangent")):      # (found by a reviewer)
        with pytest.raises(mcalc.ValueSpecError, match=f"the {what} is None"):
            product("A@v", "v", None, {"A": np.eye(3), "v": np.ones(3)})


def test_a_large_value_is_scanned_where_a_zero_could_hide_a_nan(monkeypatch):
    """M's scan is left to M @ w's (M's nan shows in M @ w), except where w has a zero: a BLAS may skip a zero's
    column (reference dgemv does), so that M's nan never meets it; then M is scanned itself.  Such a BLAS is
    played here by a matmul that skips them."""
    assert P.DEFERRED <= 200 * 100
    op = REGISTRY["matmul"]
    real = op.fwd
    monkeypatch.setattr(op, "fwd", lambda node, a, b: real(node, np.where(b == 0, 0.0, a), b)
                        if a.ndim == 2 and b.ndim == 1 else real(node, a, b))
    P._PLANS.clear()
    rng = np.random.default_rng(3)
    M, w, y = rng.normal(size=(200, 100)), rng.normal(size=100), rng.normal(size=200)
    planned(lambda: mcalc.gradient("sum((M@w - y)**2)", "w", {"M": M, "w": w, "y": y}))
    (plan,) = P._PLANS.values()
    assert plan.deferred == {"M"}                                 # (its scan left to M @ w's)
    M[3, 5], w[5] = np.nan, 0.0
    with pytest.raises(mcalc.ValueSpecError, match="value of M contains nan or inf"):
        mcalc.gradient("sum((M@w - y)**2)", "w", {"M": M, "w": w, "y": y})
    M[3, 5], w[5] = np.inf, 1.0
    with pytest.raises(mcalc.ValueSpecError, match="value of M contains nan or inf"):
        mcalc.gradient("sum((M@w - y)**2)", "w", {"M": M, "w": w, "y": y})


def test_plans_are_few_and_only_where_everything_is_given(monkeypatch):
    made = _made(monkeypatch)
    mcalc.gradient("sum(x**2)", "x", {"x": np.ones(3)}, shapes={"x": 3})       # (shapes: the full path)
    assert made == []
    planned(lambda: mcalc.gradient("sum(x * y)", "x", {"x": np.ones(3)}))      # (y drawn: the full path)
    assert list(P._PLANS.values()) == [P._NONE]
    mcalc.jacobian("x * y", "x", {"x": np.ones(3)}, sparse=True)               # (sparse: the full path)
    assert len(P._PLANS) == 1
    planned(lambda: mcalc.jacobian("A@B", "A", {"A": np.ones((128, 128)), "B": np.ones((128, 128))}))
    assert list(P._PLANS.values())[-1] is P._NONE                             # (J of 2²⁸ entries: structured)
    for n in range(1, P.PLANS + 10):
        mcalc.gradient("sum(x**2)", "x", {"x": np.ones(n)})
    assert len(P._PLANS) == P.PLANS


def test_a_plan_made_again_finds_its_direction(monkeypatch):
    """The VJP's tree is kept with the expression, a plan is not (PLANS): a plan made again for the same
    expression uses the tree kept, whose cotangent is another variable of the same structure."""
    v = {"W": np.ones((3, 2)), "x": np.array([1.0, 2.0])}
    first = planned(lambda: mcalc.vjp("W@x", "W", np.arange(3.0), v))
    P._PLANS.clear()
    np.testing.assert_array_equal(planned(lambda: mcalc.vjp("W@x", "W", np.arange(3.0), v)), first)
    assert isinstance(list(P._PLANS.values())[0], P.Plan)


def _planned_counts(monkeypatch, f, *names) -> tuple:
    """f()'s answer by its plan, and the calls of numpy.linalg's functions (by name) that call made."""
    counts = dict.fromkeys(names, 0)
    for name in names:
        real = getattr(np.linalg, name)
        monkeypatch.setattr(np.linalg, name, lambda *a, _n=name, _f=real, **k: counts.__setitem__(
            _n, counts[_n] + 1) or _f(*a, **k))
    f()
    f()
    counts.update(dict.fromkeys(names, 0))
    return f(), counts


def test_a_plan_computes_an_equal_subtree_once(monkeypatch):
    """∇ b·eigvalsh(H) = V diag(b) Vᵀ (Magnus & Neudecker; no closed form in the Cookbook): the tree names the
    eigenvectors V twice; a planned call runs one eigh, and the forward's eigvalsh."""
    r = np.random.default_rng(3)
    H = r.normal(size=(6, 6))
    b = r.normal(size=6)
    v = {"H": H + H.T, "b": b}
    g, counts = _planned_counts(monkeypatch, lambda: mcalc.gradient("b @ eigvalsh(H)", "H", v), "eigh", "eigvalsh")
    assert counts == {"eigh": 1, "eigvalsh": 1}
    w, V = np.linalg.eigh(v["H"])
    np.testing.assert_allclose(g, (V * b) @ V.T, atol=1e-12)


def test_a_planned_inverse_times_a_vector_is_a_solve(monkeypatch):
    """∇ b·A⁻¹b = -A⁻ᵀ b (A⁻¹b)ᵀ (Cookbook eq. 61 with a = b): a planned call solves two linear systems (the
    forward's, and A⁻ᵀ b) and inverts nothing; explain still writes the inverse."""
    r = np.random.default_rng(4)
    n = 70
    v = {"A": r.normal(size=(n, n)) + n * np.eye(n), "b": r.normal(size=n)}
    g, counts = _planned_counts(monkeypatch, lambda: mcalc.gradient("b @ solve(A, b)", "A", v), "inv", "solve")
    assert counts == {"inv": 0, "solve": 2}
    A, b = v["A"], v["b"]
    np.testing.assert_allclose(g, -np.outer(np.linalg.inv(A).T @ b, np.linalg.inv(A) @ b), rtol=1e-9, atol=1e-12)
    assert "inv(A.T) @ b" in mcalc.explain("b @ solve(A, b)", "A", values=v).closed_form


def test_a_kept_inverse_is_multiplied_by_not_solved_with(monkeypatch):
    """∇ (log|det X| + b·X⁻¹b) = X⁻ᵀ - X⁻ᵀ b (X⁻¹b)ᵀ (Cookbook eqs. 57 and 61): logdet's check computes X⁻¹ (kept
    while X lives); the forward's solve and the gradient's X⁻ᵀ b multiply by it.  One inverse per call, no
    linear system solved."""
    r = np.random.default_rng(5)
    n = 70
    v = {"X": r.normal(size=(n, n)) + n * np.eye(n), "b": r.normal(size=n)}
    g, counts = _planned_counts(monkeypatch, lambda: mcalc.gradient("logdet(X) + b @ solve(X, b)", "X", v), "inv",
                                "solve")
    assert counts == {"inv": 1, "solve": 0}
    Xi = np.linalg.inv(v["X"])
    np.testing.assert_allclose(g, Xi.T - np.outer(Xi.T @ v["b"], Xi @ v["b"]), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("expr", ["c @ solve(A.T, b)", "logdet(A) + c @ solve(A.T, b)", "c @ solve(A.T, b) + logdet(A)",
                                  "logdet(A) + c @ inv(A.T) @ b"])
def test_a_kept_inverse_is_refused_for_a_transpose_conditioned_worse(expr):
    """cond₁(A) ≈ 10¹² but cond₁(Aᵀ) = ‖A‖∞‖A⁻¹‖∞ ≈ 5·10¹⁵, past the limit of 10¹⁴: Aᵀ is refused as singular
    whatever comes first, though logdet(A)'s check keeps an A⁻¹ that Aᵀ's inverse and solves could read."""
    n = 70
    A = np.eye(n)
    A[0, 1:] = 1e6
    assert np.linalg.cond(A, 1) < 1e14 < np.linalg.cond(A.T, 1)
    v = {"A": A, "b": np.ones(n), "c": np.ones(n)}
    with pytest.raises(mcalc.DomainError, match="singular"):
        mcalc.evaluate(expr, v)


def test_a_constant_s_inverse_is_kept_not_solved_at_each_call(monkeypatch):
    """∇ ‖K⁻¹x‖² = 2 K⁻ᵀ K⁻¹ x for a constant K (Cookbook eq. 61 in x): K⁻ᵀ is the plan's, computed once; a
    planned call solves the forward's system and no other."""
    n = 8
    x = np.random.default_rng(6).normal(size=n)
    e = f"sum(solve(2*eye({n}) + tril(ones({n},{n})), x)**2)"
    g, counts = _planned_counts(monkeypatch, lambda: mcalc.gradient(e, "x", {"x": x}), "inv", "solve")
    assert counts == {"inv": 0, "solve": 1}
    K = 2 * np.eye(n) + np.tril(np.ones((n, n)))
    Ki = np.linalg.inv(K)
    np.testing.assert_allclose(g, 2 * Ki.T @ Ki @ x, rtol=1e-10)


def test_a_product_named_in_the_other_order_is_computed_once(monkeypatch):
    """∇ sum(eᴬᴮ ⊙ C) = (eᴬᴮ ⊙ C) Bᵀ (Cookbook eq. 69 with the chain rule): the derivative writes C ⊙ eᴬᴮ, the
    forward eᴬᴮ ⊙ C; one element-wise product per planned call (a * b == b * a in floating point too)."""
    r = np.random.default_rng(7)
    v = {"A": r.normal(size=(5, 4)) / 4, "B": r.normal(size=(4, 3)) / 4, "C": r.normal(size=(5, 3))}
    counts = {"mul": 0}
    op = OPS["mul"]
    real = op.fwd
    monkeypatch.setattr(op, "fwd", lambda *a: counts.__setitem__("mul", counts["mul"] + 1) or real(*a))
    f = lambda: mcalc.gradient("sum(exp(A@B) * C)", "A", v)   # noqa: E731
    f()
    f()
    counts["mul"] = 0
    g = f()
    assert counts == {"mul": 1}
    A, B, C = v["A"], v["B"], v["C"]
    np.testing.assert_allclose(g, (np.exp(A @ B) * C) @ B.T, rtol=1e-12)


def test_a_planned_call_lets_each_value_go_after_its_last_use():
    """∇ sum(((A B) B) B) = 1 (B³)ᵀ: a planned call needs none of the forward's products for the gradient, so it holds
    at most the one it computes from and the one it computes (2 × 2 MB at n=512), not all of them: its peak memory
    is below three of them, where keeping every value to the end would take three for the forward alone."""
    import tracemalloc

    n = 512
    r = np.random.default_rng(8)
    v = {"A": r.normal(size=(n, n)) / n, "B": r.normal(size=(n, n)) / n}
    f = lambda: mcalc.gradient("sum(((A@B)@B)@B)", "A", v)   # noqa: E731
    f()
    f()
    tracemalloc.start()
    try:
        g = f()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    B = v["B"]
    np.testing.assert_allclose(g, np.ones((n, n)) @ (B @ B @ B).T, rtol=1e-9)
    assert peak < 3 * n * n * 8
