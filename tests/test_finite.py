"""Finite differences against closed forms: accuracy per method, kinks, the complex step's limits, batching."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mcalc.expr
import mcalc.finite
from mcalc.errors import DomainError, UsageError
from mcalc.finite import finite_jacobian
from mcalc.compare import compute
from mcalc.problem import prepare

X = np.array([[2.0, 1.0, 0.5], [0.3, 3.0, 1.0], [1.0, -0.5, 2.5]])
W = np.array([[0.2, -0.1, 0.4], [0.3, 0.5, -0.2]])
xv = np.array([1.0, 0.5, -1.0])
bv = np.array([0.1, -0.3])


def closed_forms():
    Y = np.linalg.inv(X)
    s = np.exp(xv) / np.exp(xv).sum()
    y = np.tanh(W @ xv + bv)
    r, t = 2.0, 0.7
    I3 = np.eye(3)
    return [
        ("inv(X)", "X", {"X": X}, -np.kron(Y, Y.T)),
        ("X^3", "X", {"X": X}, np.kron(X @ X, I3) + np.kron(X, X.T) + np.kron(I3, (X @ X).T)),
        ("softmax(x)", "x", {"x": xv}, np.diag(s) - np.outer(s, s)),
        ("exp(x)", "x", {"x": xv}, np.diag(np.exp(xv))),
        ("tanh(W@x + b)", "W", {"W": W, "x": xv, "b": bv}, np.diag(1 - y ** 2) @ np.kron(np.eye(2), xv[None])),
        ("[r*cos(t), r*sin(t)]", "r,t", {"r": r, "t": t},
         np.array([[np.cos(t), -r * np.sin(t)], [np.sin(t), r * np.cos(t)]])),
    ]


@pytest.mark.parametrize("method,bound", [("central", 1e-8), ("richardson", 1e-11), ("complex", 1e-11)])
@pytest.mark.parametrize("case", closed_forms(), ids=lambda c: c[0])
def test_accuracy_on_smooth_cases(case, method, bound):
    expr, wrt, values, expected = case
    p = prepare(expr, wrt, values)
    F = finite_jacobian(p.nodes, p.values, p.wrt, method).J
    err = np.abs(F - expected).max() / max(1.0, np.abs(expected).max())
    assert err <= bound, err


def test_forward_differences_are_first_order_but_close():
    p = prepare("exp(x)", "x", {"x": xv})
    F = finite_jacobian(p.nodes, p.values, p.wrt, "forward").J
    assert np.abs(F - np.diag(np.exp(xv))).max() < 1e-6


@pytest.mark.parametrize("expr,value", [("abs(x)", 0.0), ("relu(x)", 0.0), ("abs(x - 1)", 1.0)])
def test_kinks_are_detected_and_disagree(expr, value):
    r = compute(prepare(expr, "x", {"x": value}), "central")
    assert not r.comparison.agree
    i, j, right, left, kind = r.comparison.kinks[0]
    assert (i, j) == (0, 0) and right != left and kind == "kink"


@pytest.mark.parametrize("expr,value,jump", [("sign(x)", 0.0, 2.0), ("step(x)", 0.0, 1.0),
                                             ("3*step(x - 1)", 1.0, 3.0), ("x + sign(x)", 0.0, 2.0)])
def test_jumps_are_detected_and_measured(expr, value, jump):
    r = compute(prepare(expr, "x", {"x": value}))
    assert not r.comparison.agree
    i, j, right, left, kind = r.comparison.kinks[0]
    assert kind == "jump" and right + left == pytest.approx(jump, rel=1e-3)


@pytest.mark.parametrize("expr,value", [("x**2", 0.0), ("100*x**2", 0.0), ("1e4*x**2", 0.0), ("exp(x)", 10.0),
                                        ("sin(100*x)", 0.3), ("abs(x)", 0.5), ("relu(x)", 2.0), ("x**3", -2.0),
                                        ("sign(x)", -0.5), ("step(x)", 1e-3), ("1e6*x", 1.0), ("exp(20*x)", 1.0)])
def test_no_false_kinks_on_smooth_points(expr, value):
    r = compute(prepare(expr, "x", {"x": value}), "central")
    assert r.comparison.agree, r.comparison


def test_no_false_kink_at_a_least_squares_optimum():
    """The slope is zero and the curvature large: one-sided slopes differ by h·f'', which shrinks with h."""
    r = compute(prepare("sum((A@w - b)**2)", "w", {"A": [[10, 0], [0, 10]], "b": [10, 10], "w": [1, 1]}))
    assert r.comparison.agree and not r.comparison.kinks


def test_complex_step_refuses_non_analytic_operations():
    with pytest.raises(UsageError, match="complex-analytic"):
        compute(prepare("abs(x) + x", "x", {"x": 1.0}), "complex")
    # a non-analytic op that does not depend on the wrt variable is fine
    r = compute(prepare("abs(y) * x", "x", {"x": 1.0, "y": -2.0}), "complex")
    assert r.comparison.agree


def test_a_step_that_leaves_the_domain_is_reported():
    with pytest.raises(DomainError, match="finite-difference step"):
        compute(prepare("sqrt(x)", "x", {"x": 1e-12}), "central")
    r = compute(prepare("sqrt(x)", "x", {"x": 1e-12}), "complex")     # the complex step stays on the real axis
    assert r.comparison.agree


def test_perturbations_are_batched_not_looped(monkeypatch):
    calls = []
    real = mcalc.finite.evaluate

    def counting(nodes, env):
        calls.append(1)
        return real(nodes, env)

    monkeypatch.setattr(mcalc.finite, "evaluate", counting)
    p = prepare("A@B", "A", shapes="6x6")
    fr = finite_jacobian(p.nodes, p.values, p.wrt, "central")
    assert fr.evaluations == 2 * 36                      # two evaluations per input entry ...
    assert len(calls) == 1 + 2                           # ... done in one batch per direction (plus f(x))


def test_tolerance_and_error_definitions():
    r = compute(prepare("x*x", "x", {"x": [1.0, 2.0]}), "central")
    assert r.comparison.agree
    assert r.comparison.max_rel_error == pytest.approx(r.comparison.max_abs_error / 4.0)   # relative to max|J|
    r = compute(prepare("x - x", "x", {"x": 3.0}), "central")       # an exactly zero Jacobian
    assert r.comparison.agree and r.comparison.max_rel_error == 0.0
    r = compute(prepare("sin(x)**2 + cos(x)**2", "x", {"x": 1.0}), "central")   # zero up to rounding
    assert r.comparison.agree
    r = compute(prepare("sin(1000*x)", "x", {"x": 0.3}), "central", tol=1e-12)
    assert not r.comparison.agree and r.comparison.bad == [(0, 0)]


def test_rounding_noise_does_not_hide_a_wrong_rule(monkeypatch):
    """f = x + 1e8 has large values, so central differences carry rounding error ~1e-3: a rule that is off by 49
    must still be caught (the noise floor is the rounding bound, not tol·|f|)."""
    import mcalc.ops as ops

    monkeypatch.setattr(ops.OPS["add"], "jvp", lambda node, t: None if t[0] is None else 50 * t[0])   # wrong
    r = compute(prepare("x + 1e8", "x", {"x": 1.0}), "central")
    assert not r.comparison.agree


def test_no_fd_and_bad_method():
    r = compute(prepare("x*x", "x", {"x": 1.0}), "none")
    assert r.F is None and r.comparison is None
    with pytest.raises(UsageError):
        compute(prepare("x*x", "x", {"x": 1.0}), "secant")
    with pytest.raises(UsageError):
        compute(prepare("x*x", "x", {"x": 1.0}), "central", tol=-1)


@pytest.mark.parametrize("expr", ["tanh(2e6*x)", "sigmoid(3e6*x)", "tanh(1e9*x)"])
def test_a_steep_smooth_function_is_not_a_jump(expr):
    """A transition about as narrow as the step, or narrower: the default check's second opinion (the complex
    step) sees that it is smooth."""
    r = compute(prepare(expr, "x", {"x": 0.0}))
    assert r.comparison.agree and not r.comparison.kinks, r.comparison


@pytest.mark.parametrize("expr,method,per_entry", [("x**2", "richardson", 4), ("2*x", "richardson", 4),
                                                   ("sin(100*x)", "central", 2), ("exp(x)", "central", 2)])
def test_looking_for_jumps_costs_nothing_on_smooth_functions(expr, method, per_entry):
    p = prepare(expr, "x", shapes="x=200")
    fr = finite_jacobian(p.nodes, p.values, p.wrt, method)
    assert fr.evaluations == per_entry * 200 and not fr.kinks


def test_what_reaches_the_result_only_through_sign_is_not_differentiated():
    """sqrt(|x|) is not differentiable at 0, but only feeds sign(...), whose derivative is 0: x ⊙ sign(...) has
    the Jacobian diag(sign(...)) there too."""
    r = compute(prepare("x*sign(abs(x)**0.5 - 1)", "x", {"x": [0.0, 4.0]}))
    np.testing.assert_array_equal(r.J, np.diag([-1.0, 1.0]))
    assert r.comparison.agree


@pytest.mark.parametrize("text", ["elu(x)", "celu(x)", "x*abs(x)", "relu(x)**2", "maximum(x, 0)**2"])
def test_a_jump_in_the_second_derivative_is_no_disagreement(text):
    """C¹ but not C² at 0: central differences are only first-order there (elu: 1 - h/4 for the slope 1), so
    they approach the analytic value as the step shrinks, which the check measures instead of calling it wrong."""
    from mcalc.compare import compute
    from mcalc.problem import prepare

    r = compute(prepare(text, "x", values={"x": 0.0}))
    assert r.comparison.agree and r.comparison.converged <= 1


def test_a_wrong_value_does_not_converge():
    """The convergence test keeps a wrong derivative wrong: its error stays as the step shrinks (an entry off by
    3e-5 at a C¹ point, where the extrapolation from steps 4 and 16 times smaller lands on the right value)."""
    from mcalc.compare import _converging
    from mcalc.problem import prepare

    p = prepare("elu(x)", "x", values={"x": 0.0})
    F = np.array([[0.99994]])
    assert not _converging(p, np.array([[1.00003]]), F.copy(), np.array([[True]]), np.array([0]), 1e-6, 0.0).any()
    assert _converging(p, np.array([[1.0]]), F.copy(), np.array([[True]]), np.array([0]), 1e-6, 0.0).all()


@given(st.lists(st.one_of(st.integers(-5, 5), st.floats(-3, 3, allow_nan=False)), max_size=30))
def test_distinct_is_numpy_unique(values):
    """finite.distinct (sorted distinct values, without numpy.unique's import of numpy.ma) against numpy.unique."""
    from mcalc.finite import distinct

    a = np.asarray(values, dtype=float)
    assert np.array_equal(distinct(a), np.unique(a))



@pytest.mark.parametrize("expr,exact", [("log(x)", 1e20), ("1/x", -1e40), ("x**3", 3e-40), ("sqrt(x)", 0.5e10)])
def test_the_check_agrees_at_tiny_normal_values(expr, exact):
    """At x = 1e-20 a step as large as x (the complex step was 1e-20·max(1, |x|)) is far from the derivative:
    log's complex step gave 7.85e19 for 1e20 ('disagree', exit 1), and 1/x's central steps, which cross 0, a kink
    that the complex step could not clear.  It is now 1e-20·|x| for 0 < |x| < 1."""
    from typer.testing import CliRunner

    from mcalc.cli import app

    p = prepare(expr, "x", {"x": 1e-20})
    fr = finite_jacobian(p.nodes, p.values, p.wrt, "complex")
    np.testing.assert_allclose(fr.values, [[exact]], rtol=1e-12)
    res = CliRunner().invoke(app, ["jac", expr, "--value", "x=1e-20"])
    assert res.exit_code == 0 and "agree" in res.stdout, res.stdout + res.stderr


@pytest.mark.parametrize("args", [["jac", "log(x)", "--jvp", "1"], ["jac", "log(x)", "--vjp", "1"],
                                  ["hess", "sum(log(x))", "--hvp", "1"]])
def test_products_along_a_direction_agree_at_tiny_values(args):
    """J u, vᵀJ and H v are checked along a direction: its complex step is small against every entry it moves."""
    from typer.testing import CliRunner

    from mcalc.cli import app

    res = CliRunner().invoke(app, [*args, "--value", "x=1e-20"])
    assert res.exit_code == 0 and "agree" in res.stdout, res.stdout + res.stderr


def test_the_complex_step_still_probes_values_of_many_magnitudes():
    """Entries spread over 12 decades below 1 are checked along directions with --fd complex (as before the step
    shrank for them), not by a sample of columns."""
    X = 10.0 ** -np.random.default_rng(0).uniform(0, 12, (12, 12))
    r = compute(prepare("sum(log(X@X))", "X", {"X": X}), fd="complex")
    assert r.comparison.agree and r.comparison.probes > 0 and r.comparison.checked_columns == 144, r.comparison
