"""Plans (mcalc/plan.py): a repeated gradient, VJP or JVP call is worked out once and then only computed.  The
plan must give the full path's numbers for every operation (from the registry's examples), build nothing on a
repeated call (work counts, not time), never hand out an array it or the caller keeps, and leave anything out of
the ordinary (nan in a value, a domain error, an answer that is not finite) to the full path's messages."""

import numpy as np
import pytest

import mcalc
from mcalc import plan as P
from mcalc.ops import OPS
from mcalc.problem import prepare
from mcalc.tree import REGISTRY

USER = sorted(name for name, op in OPS.items() if op.example is not None)


@pytest.fixture
def full_path(monkeypatch):
    """Calls with plans turned off: the full path alone."""
    def off():
        monkeypatch.setattr(P, "run", lambda *a, **k: None)
    return off


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
def test_every_operation_gives_the_full_paths_numbers(name, full_path):
    """The VJP (a random cotangent) and the JVP (a random tangent) of each operation's example, for each of its
    variables, by the plan and by the full path, at values mcalc chose in the operation's domain."""
    expr, spec = OPS[name].example
    p = prepare(expr, None, shapes=spec, seed=3)
    values = {k: np.array(v, dtype=float) for k, v in p.values.items()}
    rng = np.random.default_rng(1)
    got = {}
    for v in p.wrt:
        d = rng.normal(size=p.root.shape)
        u = rng.normal(size=v.shape)
        got[v.name] = [mcalc.vjp(expr, v.name, d, values), mcalc.jvp(expr, v.name, u, values), d, u]
        if p.root.size == 1 and not p.root.shape:
            got[v.name].append(mcalc.gradient(expr, v.name, values))
    full_path()
    for v in p.wrt:
        vjp, jvp, d, u, *grad = got[v.name]
        np.testing.assert_allclose(vjp, mcalc.vjp(expr, v.name, d, values), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(jvp, mcalc.jvp(expr, v.name, u, values), rtol=1e-9, atol=1e-12)
        if grad:
            np.testing.assert_allclose(grad[0], mcalc.gradient(expr, v.name, values), rtol=1e-9, atol=1e-12)


def test_the_answer_is_the_callers_own_array():
    """Never the caller's array (the gradient of sum(A*B) in A is B), nor one the plan keeps (the gradient of
    sum(x) is a constant of ones): writing to an answer changes nothing else."""
    A, B = np.arange(4.0).reshape(2, 2), np.ones((2, 2))
    for _ in range(2):
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


def test_what_is_out_of_the_ordinary_gets_the_full_paths_message():
    rng = np.random.default_rng(2)
    M, w, y = rng.normal(size=(200, 100)), rng.normal(size=100), rng.normal(size=200)
    mcalc.gradient("sum((M@w - y)**2)", "w", {"M": M, "w": w, "y": y})           # (the plan made)
    bad = M.copy()
    bad[3, 5] = np.nan
    with pytest.raises(mcalc.ValueSpecError, match="value of M contains nan or inf"):
        mcalc.gradient("sum((M@w - y)**2)", "w", {"M": bad, "w": w, "y": y})
    with pytest.raises(mcalc.DomainError, match="log"):
        mcalc.gradient("sum(log(x))", "x", {"x": np.array([1.0, -2.0])})
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
    mcalc.gradient("sum((M@w - y)**2)", "w", {"M": M, "w": w, "y": y})
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
    mcalc.gradient("sum(x * y)", "x", {"x": np.ones(3)})                       # (y drawn: the full path)
    assert list(P._PLANS.values()) == [P._NONE]
    for n in range(1, P.PLANS + 10):
        mcalc.gradient("sum(x**2)", "x", {"x": np.ones(n)})
    assert len(P._PLANS) == P.PLANS


def test_a_plan_made_again_finds_its_direction(monkeypatch):
    """The VJP's tree is kept with the expression, a plan is not (PLANS): a plan made again for the same
    expression uses the tree kept, whose cotangent is another variable of the same structure."""
    v = {"W": np.ones((3, 2)), "x": np.array([1.0, 2.0])}
    first = mcalc.vjp("W@x", "W", np.arange(3.0), v)
    P._PLANS.clear()
    np.testing.assert_array_equal(mcalc.vjp("W@x", "W", np.arange(3.0), v), first)
    assert list(P._PLANS.values())[0] is not P._NONE
