"""explain: differentials as the seeds write them, every local closed form against the numeric rule, and the
closed form of whole expressions round-tripping through check (also for random expressions)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import shapes_spec
from hypothesis import assume

from mcalc.chain import LocalRules, as_matrix_shape, flatten_perm
from mcalc.check import check_answer, read_answer
from mcalc.derivative import local_form
from mcalc.expr import evaluate
from mcalc.explain import explain
from mcalc.closedform_check import verify_closed_form
from mcalc.problem import evaluate_text, prepare
from mcalc.printing import Mcalc
from test_ops import BROADCAST_PAIRS, CASES, MATMUL, SHAPES, UNARY
from test_properties import problems


def derive(expr, wrt=None, shapes=None, values=None, order="row", layout="numerator"):
    p = prepare(expr, wrt, values, shapes, order, layout)
    return p, explain(p.nodes, p.wrt, order, layout)


@pytest.mark.parametrize("expr,wrt,shape,differential", [
    ("A@B", "A", "2x2", "d(A B) = dA B"),
    ("X^2", "X", "2x2", "d(X²) = dX X + X dX"),
    ("X^3", "X", "2x2", "d(X³) = dX X X + X dX X + X X dX"),
    ("inv(A)", "A", "2x2", "d(A⁻¹) = -A⁻¹ dA A⁻¹"),
    ("A@B@C", "B", "2x2", "d(A B C) = A dB C"),
    ("exp(x)", "x", "x=3", "d exp(x) = exp(x) ⊙ dx"),
    ("tanh(W@x + b)", "x", "W=3x4,x=4,b=3", "d tanh(W x + b) = (1 - tanh(W x + b)²) ⊙ (W dx)"),
    ("X**2", "X", "2x2", "d(X∘²) = 2X ⊙ dX"),                         # element-wise: not the matrix power X²
    ("c*x**3", "x", "x=3,c=scalar", "d(c x³) = c (3x² ⊙ dx)"),                # a scalar c: no ⊙
    ("sum(x**0.5)", "x", "x=3", "d sum(x^0.5) = sum(0.5 x^(-0.5) ⊙ dx)"),
])
def test_differentials_as_the_seeds_write_them(expr, wrt, shape, differential):
    assert derive(expr, wrt, shape)[1].differential == differential


@pytest.mark.parametrize("expr,wrt,shape,order,layout,pretty,mc", [
    ("A@B", "A", "2x2", "row", "numerator", "I₂ ⊗ Bᵀ", "kron(eye(2), B.T)"),
    ("A@B", "A", "2x2", "col", "numerator", "Bᵀ ⊗ I₂", "kron(B.T, eye(2))"),
    ("A@B", "B", "2x2", "row", "numerator", "A ⊗ I₂", "kron(A, eye(2))"),
    ("A@B", "B", "2x2", "col", "numerator", "I₂ ⊗ A", "kron(eye(2), A)"),
    ("X^2", "X", "2x2", "col", "numerator", "I₂ ⊗ X + Xᵀ ⊗ I₂", "kron(eye(2), X) + kron(X.T, eye(2))"),
    ("exp(x)", "x", "x=3", "row", "numerator", "diag(exp(x))", "diag(exp(x))"),
    ("softmax(x)", "x", "x=3", "row", "numerator", "diag(s) - s sᵀ",
     "diag(softmax(x)) - col(softmax(x)) @ row(softmax(x))"),
    ("tanh(W@x + b)", "x", "W=3x4,x=4,b=3", "row", "numerator", "diag(1 - y²) W",
     "diag(1 - tanh(W @ x + b)**2) @ W"),
    ("A@B", "A", "2x2", "row", "denominator", "I₂ ⊗ B", "kron(eye(2), B)"),
])
def test_closed_forms_as_the_seeds_write_them(expr, wrt, shape, order, layout, pretty, mc):
    p, ex = derive(expr, wrt, shape, order=order, layout=layout)
    assert ex.pretty == pretty and ex.mc == mc
    assert verify_closed_form(p, ex)[0]


def test_long_and_repeated_subexpressions_are_named():
    _, ex = derive("softmax(x)", "x", "x=3")
    assert ex.legend() == [("s", "softmax(x)")]                 # s for a softmax
    _, ex = derive("tanh(W@x + b)", "W", "W=3x4,x=4,b=3")
    assert ex.legend() == [("y", "tanh(W x + b)")] and ex.pretty == "diag(1 - y²) (I₃ ⊗ xᵀ)"
    _, ex = derive("inv(A)", "A", "2x2")                      # short: spelled out, its transpose as A⁻ᵀ
    assert ex.legend() == [] and ex.pretty == "-A⁻¹ ⊗ A⁻ᵀ"
    _, ex = derive("(x-mu).T@P@(x-mu)", "x", "x=3,mu=3,P=3x3")    # a sum is not a name: no 'P (x - mu) + y'
    assert ex.legend() == [] and ex.gradient_pretty() == "(P + Pᵀ) (x - mu)"


def test_no_closed_form_is_said_not_invented():
    p, ex = derive("sort(x) + x[0]", "x", "3")
    assert ex.formula is None and ex.missing == ["take_along_axis"] and verify_closed_form(p, ex) is None


def _local_cases():
    for fn in UNARY:
        for shape in SHAPES:
            yield ("-x" if fn == "-" else f"{fn}(x)"), shapes_spec(x=shape)
    for op in "+-*/":
        for a, b in BROADCAST_PAIRS:
            yield f"a {op} b", shapes_spec(a=a, b=b)
    for a, b in MATMUL:
        yield "A @ B", shapes_spec(A=a, B=b)
    for expr, shapes in CASES:
        if "kron(" not in expr:
            yield expr, shapes_spec(**shapes)


@pytest.mark.parametrize("expr,shapes", list(_local_cases()))
@pytest.mark.parametrize("order", ["row", "col"])
def test_every_local_closed_form_is_its_rule(expr, shapes, order):
    """Each operation's closed form, evaluated in the language, against its structured rule (densified and
    reordered): for every argument that is a variable."""
    p = prepare(expr, None, None, shapes, order)
    rules = LocalRules(evaluate(p.nodes, p.values))
    for node in p.nodes:
        if node.op is None:
            continue
        for i, arg in enumerate(node.args):
            if arg.op is not None or not hasattr(arg, "name"):
                continue
            f = local_form(node, i, order)
            L = rules(node, i).reordered(flatten_perm(node.shape, order), flatten_perm(arg.shape, order),
                                         as_matrix_shape(node.shape), as_matrix_shape(arg.shape)).to_dense()
            text = Mcalc()(f)
            got = evaluate_text(text, p)                  # the closed form as mcalc text, read back
            np.testing.assert_allclose(got, L, atol=1e-12, err_msg=f"{node.text} wrt {arg.text}: {text}")


ROUND_TRIP = [
    ("A@B", "A", "A=2x3,B=3x4"), ("A@B", "A,B", "2x2"), ("X^3", "X", "3x3"), ("inv(A)", "A", "3x3"),
    ("det(A)", "A", "3x3"), ("logdet(A)", "A", "3x3"), ("trace(A@B)", "A", "2x2"), ("softmax(x)", "x", "x=4"),
    ("logsumexp(x)", "x", "x=4"), ("tanh(W@x + b)", "W", "W=3x4,x=4,b=3"), ("sum(exp(A@B) * C)", "A", "3x3"),
    ("norm(A@x)", "x", "A=3x2,x=2"), ("[r*cos(t), r*sin(t)]", "r,t", None), ("x@A@x", "x", "x=3,A=3x3"),
    ("outer(u, v) @ w", "u,v", "u=2,v=3,w=3"), ("diag(x) @ A", "x", "x=3,A=3x3"), ("A.T @ A", "A", "3x2"),
    ("sigmoid(A)[0]", "A", "2x3"), ("mean(A, axis=0) * x", "A,x", "A=2x3,x=3"), ("vec(A) @ vec(A)", "A", "2x3"),
]


@pytest.mark.parametrize("expr,wrt,shapes", ROUND_TRIP)
@pytest.mark.parametrize("order", ["row", "col"])
@pytest.mark.parametrize("layout", ["numerator", "denominator"])
def test_the_formula_passes_check(expr, wrt, shapes, order, layout):
    """mcalc check EXPR --wrt X --expect "<formula>" always passes."""
    p, ex = derive(expr, wrt, shapes, order=order, layout=layout)
    assert ex.formula is not None, ex.missing
    r = check_answer(p, read_answer(ex.mc, p))
    assert r.right, (ex.mc, r.diagnosis, r.size_message)


@settings(max_examples=40)
@given(problems(), st.sampled_from(["row", "col"]), st.sampled_from(["numerator", "denominator"]))
def test_random_expressions_round_trip(problem, order, layout):
    text, values = problem
    assume(values)                                   # (an expression without variables has nothing to explain)
    p, ex = derive(text, None, None, values, order, layout)
    assert ex.formula is not None
    ok = verify_closed_form(p, ex)
    assert ok, (text, ex.mc)
    if ok[0] is None:        # det(A)·A⁻ᵀ at a singular A, as in det(outer(v, v)): said so, never shown wrong
        assert "singular" in ok[1].message, (text, ex.mc, ok[1].message)
        return
    assert ok[0], (text, ex.mc)


@pytest.mark.parametrize("expr,wrt,shapes", ROUND_TRIP + [("hstack(A, 2*A)", "A", "2x2"), ("X^0 + X", "X", "2x2"),
                                                         ("[x, 2*x]", "x", "x=3")])
def test_the_differential_is_the_directional_derivative(expr, wrt, shapes):
    """d(f) is written in the language, dX shaped like X: evaluated at dX = u it is J u."""
    from mcalc.expr import build, topo_order
    from mcalc.parse import parse

    p, ex = derive(expr, wrt, shapes)
    rng = np.random.default_rng(3)
    u = {f"d{v.name}": rng.normal(size=v.shape) for v in p.wrt}
    shapes_ = {**{n: v.shape for n, v in p.variables.items()}, **{f"d{v.name}": v.shape for v in p.wrt}}
    tree = parse(ex.differential_mc)
    root = build(tree, {n: shapes_[n] for n in tree.variables()}, "row")
    got = evaluate(topo_order(root), {**p.values, **u})[id(root)]
    J = p.analytic(canonical=True)
    expected = J @ np.concatenate([u[f"d{v.name}"].ravel() for v in p.wrt])
    np.testing.assert_allclose(np.ravel(got), expected, rtol=1e-10, atol=1e-12)


def test_gradients_of_scalar_functions_read_as_in_the_cookbook():
    cases = {("trace(A@B)", "A"): "B.T", ("trace(A.T@A)", "A"): "2 * A", ("trace(X@X)", "X"): "2 * X.T",
             ("logdet(A)", "A"): "inv(A.T)", ("det(A)", "A"): "det(A) * inv(A.T)"}
    for (expr, wrt), mc in cases.items():
        p, ex = derive(expr, wrt, "2x2")
        assert ex.gradient is not None and ex.gradient_mc() == mc, (expr, ex.gradient_mc())
        assert verify_closed_form(p, ex)[0] and ex.gradient is not None


@pytest.mark.parametrize("expr,shapes,gradient", [
    ("norm(x)**2", "x=3", "2x"),                      # ‖x‖·(1/‖x‖) cancels: defined at 0 too
    ("0.5*norm(A@x - b)**2", "x=3,A=3x3,b=3", "Aᵀ (A x - b)"),
    ("sum((A@x - b)**2)", "x=3,A=3x3,b=3", "2 Aᵀ (A x - b)"),      # the 2 of the square in front
    ("x@x/2", "x=3", "x"),
    ("log(det(X))", "X=3x3", "X⁻ᵀ"),                  # (X⁻¹)ᵀ written X⁻ᵀ
    ("norm(x - a)", "x=3,a=3", "(x - a) / ‖x - a‖"),    # Cookbook (129)
    ("det(X^3)", "X=2x2", "3 det(X³) X⁻ᵀ"),
    ("(x-mu).T@P@(x-mu)", "x=3,mu=3,P=3x3", "(P + Pᵀ) (x - mu)"),
    ("log(sum(exp(x)))", "x=3", "exp(x) / y"),    # y = sum(exp(x)): softmax
    ("x.T@A@x", "x=3,A=3x3", "(A + Aᵀ) x"),            # x.T of a vector is x: no (xᵀ)ᵀ
    ("x.T@x", "x=3", "2x"),
    ("sum(relu(W@x + b))", "W=3x2,x=2,b=3", "Wᵀ [W x + b > 0]"),   # the derivative of relu: an Iverson bracket
    ("sum(abs(x))", "x=3", "sign(x)"),                             # not x / |x|
    ("sum(x * sign(x))", "x=3", "sign(x)"),                        # sign is flat: nothing flows through it
])
def test_scalar_factors_cancel_and_gradients_read_as_in_the_cookbook(expr, shapes, gradient):
    wrt = "X" if "X" in expr else "x"
    p, ex = derive(expr, wrt, shapes)
    assert verify_closed_form(p, ex)[0] is True
    assert ex.gradient_pretty() == gradient, (ex.mc, ex.gradient_pretty())


def test_step_labels_use_the_shapes_notation():
    """∂(x² ⊙ y)/∂x² for vectors; X∘² (a Hadamard power) only for a matrix."""
    _, ex = derive("sum(x**2 * y)", "x", "3")
    labels = [loc["label"] for step in ex.steps for loc in step["local_jacobians"]]
    assert labels == ["∂x²/∂x", "∂(x² ⊙ y)/∂x²", "∂sum(x² ⊙ y)/∂(x² ⊙ y)"]
    _, ex = derive("X**2", "X", "2x2")
    assert ex.steps[0]["local_jacobians"][0]["label"] == "∂(X∘²)/∂X"


def test_a_chain_of_intermediates_is_explained_in_bounded_space():
    """a_k = sin(a_{k-1}) cos(a_{k-1}) uses its argument twice: written out in dx, the differential doubles at
    each line (2³⁰ terms for 30 lines).  It is printed in its arguments' differentials instead, and the closed
    form with names: the output stays small, and the numbers are checked as ever."""
    lines = ["a0 = x"] + [f"a{i} = sin(a{i - 1})*cos(a{i - 1})" for i in range(1, 30)] + ["a29"]
    p, ex = derive("; ".join(lines), "x", "x=3")
    assert "arguments' differentials" in ex.differential and len(ex.differential) < 1000
    assert all(len(step["differential"]) < 5000 for step in ex.steps)
    assert verify_closed_form(p, ex)[0] is True


def test_a_scalar_chain_is_explained_without_its_formula():
    """For a scalar x the closed form is a product of scalars that names cannot shorten (a 1×1 grid is spelled
    out): past the printing limit it is left out, not an error."""
    lines = ["a0 = x"] + [f"a{i} = sin(a{i - 1})*cos(a{i - 1})" for i in range(1, 30)] + ["a29"]
    p, ex = derive("; ".join(lines), "x", "x=scalar")
    assert ex.formula is None and ex.missing and len(ex.differential) < 1000


def test_a_gradient_form_undefined_at_the_values_is_said_so_not_reported_as_a_bug():
    """det's gradient det(A) A⁻ᵀ at a singular A: undefined there (the gradient itself, adj(A)ᵀ, exists); explain
    said it had 'failed mcalc's own check; please report it'."""
    import mcalc

    ex = mcalc.explain("det(A)", "A", values={"A": [[1.0, 2.0], [2.0, 4.0]]})
    assert ex.missing == ["(not shown: the gradient form cannot be evaluated at these values)"], ex.missing
    assert mcalc.explain("det(A)", "A", values={"A": [[1.0, 2.0], [3.0, 4.0]]}).missing == []


def test_a_variable_named_like_a_differential_keeps_its_name():
    """dX ⊙ X in X: the differential of X is d_X, never dX (which is the user's variable: 'dX dX' was printed,
    and evaluated at dX = U it was U U, wrong)."""
    import json

    from typer.testing import CliRunner

    import mcalc
    from mcalc.cli import app

    res = CliRunner().invoke(app, ["explain", "dX @ X", "--wrt", "X", "--shape", "2x2", "-f", "json"])
    doc = json.loads(res.stdout)
    assert doc["differential_mcalc"] == "dX @ d_X" and doc["differential"] == "d(dX X) = dX d_X", doc
    values = {"dX": [[1.0, 2.0], [3.0, 4.0]], "X": [[0.5, -1.0], [2.0, 1.0]]}
    U = np.array([[0.3, -0.2], [0.7, 1.1]])
    expected = np.array(values["dX"]) @ U                                      # d(D X) = D dX
    np.testing.assert_allclose(mcalc.jvp("dX @ X", "X", U, values), expected)
    np.testing.assert_allclose(mcalc.evaluate(doc["differential_mcalc"], {"dX": values["dX"], "d_X": U}), expected)


def test_tangents_are_named_apart_from_the_variables_and_each_other():
    from typer.testing import CliRunner

    from mcalc.cli import app

    res = CliRunner().invoke(app, ["explain", "dX*X", "--wrt", "X", "--shape", "X=2,dX=2"])
    assert "d(dX ⊙ X) = ddX ⊙ X + dX ⊙ d_X" in res.stdout, res.stdout           # (a step's rule line too)
    res = CliRunner().invoke(app, ["explain", "X*_X + dX", "--wrt", "X", "--wrt", "_X", "--shape", "2"])
    assert "d(X ⊙ _X + dX) = d_X ⊙ _X + X ⊙ d__X" in res.stdout, res.stdout     # (X's and _X's: not both d_X)


def test_what_explain_writes_in_mcalc_syntax_reads_back():
    """A scalar zero is 0 (zeros() was printed, which check refuses); a form that uses an operation the language
    does not spell (sort's transpose, scatter_along_axis) is not written in mcalc's syntax at all."""
    import json

    from typer.testing import CliRunner

    from mcalc.cli import app

    run = CliRunner().invoke
    doc = json.loads(run(app, ["explain", "sum(x)/sum(x)", "--wrt", "x", "--shape", "3", "-f", "json"]).stdout)
    assert doc["gradient_formula"] == "0 * ones(3)", doc["gradient_formula"]
    res = run(app, ["check", "sum(x)/sum(x)", "--wrt", "x", "--shape", "3", "--expect", doc["gradient_formula"]])
    assert res.exit_code == 0, res.stdout + res.stderr
    res = run(app, ["explain", "sum(sort(x)*a)", "--wrt", "x", "--shape", "3", "-f", "plain"])
    assert res.exit_code == 2 and "scatter_along_axis, which mcalc's syntax has no spelling for" in res.stderr
    doc = json.loads(run(app, ["explain", "sum(sort(x)*a)", "--wrt", "x", "--shape", "3", "-f", "json"]).stdout)
    assert doc["gradient_formula"] is None and "scatter_along_axis" in doc["gradient_formula_pretty"]
