"""Every registered operation, through every path: its rule against finite differences, its closed form and its
differential against the rule, its SymPy entries against the numbers.  An operation added without an example
here fails test_every_operation_has_an_example, so that none goes untested."""

import numpy as np
import pytest

from mcalc.expr import build, evaluate, topo_order
from mcalc.explain import explain
from mcalc.finite import finite_jacobian
from mcalc.ops import OPS
from mcalc.parse import parse
from mcalc.closedform_check import verify_closed_form
from mcalc.problem import prepare
from mcalc.symbolic import substitutions, symbolic_jacobian

EXAMPLES = {  # op name → (expression, wrt, shapes), values chosen inside each op's domain by mcalc
    "abs": ("abs(x)", "x", "x=3"), "add": ("A + b", "A,b", "A=2x3,b=3"), "arccos": ("arccos(x/4)", "x", "x=3"),
    "arcsin": ("arcsin(x/4)", "x", "x=3"), "arctan": ("arctan(x)", "x", "x=3"), "col": ("col(x)", "x", "x=3"),
    "cos": ("cos(A)", "A", "2x2"), "cosh": ("cosh(x)", "x", "x=3"), "det": ("det(A)", "A", "3x3"),
    "diag": ("diag(x) @ A", "x", "x=2,A=2x2"), "div": ("x / y", "x,y", "x=3,y=3"),
    "dot": ("dot(x, y)", "x,y", "x=3,y=3"), "exp": ("exp(A)", "A", "2x2"),
    "hstack": ("hstack(A, 2*A)", "A", "2x2"), "index": ("A[:, 1]", "A", "2x3"), "inv": ("inv(A)", "A", "2x2"),
    "kron": ("kron(A, B)", "A", "A=2x2,B=2x2"), "log": ("log(x)", "x", "x=3"), "logdet": ("logdet(A)", "A", "2x2"),
    "logsumexp": ("logsumexp(x)", "x", "x=3"), "matmul": ("A @ B", "A,B", "A=2x3,B=3x2"),
    "matpow": ("X^3", "X", "2x2"), "mean": ("mean(A, axis=0)", "A", "2x3"), "mul": ("x * y", "x,y", "x=3,y=3"),
    "neg": ("-A", "A", "2x2"), "norm": ("norm(x)", "x", "x=3"), "outer": ("outer(x, y)", "x,y", "x=2,y=3"),
    "power": ("x ** y", "x,y", "x=3,y=3"), "relu": ("relu(x)", "x", "x=3"), "row": ("row(x)", "x", "x=3"),
    "sigmoid": ("sigmoid(x)", "x", "x=3"), "sign": ("x * sign(x - 2)", "x", "x=3"),
    "step": ("x * step(2 - x)", "x", "x=3"), "sin": ("sin(x)", "x", "x=3"), "sinh": ("sinh(x)", "x", "x=3"),
    "softmax": ("softmax(x)", "x", "x=3"), "softplus": ("softplus(x)", "x", "x=3"),
    "sqrt": ("sqrt(x)", "x", "x=3"), "square": ("square(A)", "A", "2x2"), "stack": ("[x, 2*x]", "x", "x=3"),
    "sub": ("A - B", "A,B", "A=2x2,B=2x2"), "sum": ("sum(A, axis=1)", "A", "2x3"), "tan": ("tan(x/4)", "x", "x=3"),
    "tanh": ("tanh(x)", "x", "x=3"), "trace": ("trace(A)", "A", "3x3"), "transpose": ("A.T", "A", "2x3"),
    "vec": ("vec(A)", "A", "2x3"), "vstack": ("vstack(A, A@A)", "A", "2x2"),
}
NO_CLOSED_FORM = {"kron"}          # its Jacobian is a permuted Kronecker product: said so, not printed


def test_every_operation_has_an_example():
    assert set(EXAMPLES) == set(OPS)
    for name, (expr, wrt, shapes) in EXAMPLES.items():
        p = prepare(expr, wrt, shapes=shapes)
        assert name in {n.op.name for n in p.nodes if n.op is not None}, (name, expr)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
@pytest.mark.parametrize("order", ["row", "col"])
def test_rule_closed_form_and_differential(name, order):
    expr, wrt, shapes = EXAMPLES[name]
    p = prepare(expr, wrt, shapes=shapes, order=order, seed=5)
    J = p.analytic(canonical=True)
    F = finite_jacobian(p.nodes, p.values, p.wrt, "complex" if name not in ("abs", "relu", "sign", "step") else "central").J
    np.testing.assert_allclose(J, F, rtol=1e-6, atol=1e-8)

    ex = explain(p.nodes, p.wrt, order, "numerator")
    if name in NO_CLOSED_FORM:
        assert ex.formula is None and name in ex.missing
    else:
        assert verify_closed_form(p, ex)[0] is True, ex.mc

    rng = np.random.default_rng(0)
    u = {f"d{v.name}": rng.normal(size=v.shape) for v in p.wrt}
    names = {**{n: v.shape for n, v in p.variables.items()}, **{f"d{v.name}": v.shape for v in p.wrt}}
    tree = parse(ex.differential_mc)
    root = build(tree, {n: names[n] for n in tree.variables()}, order)
    got = evaluate(topo_order(root), {**p.values, **u})[id(root)]
    np.testing.assert_allclose(np.ravel(got), J @ np.concatenate([u[f"d{v.name}"].ravel() for v in p.wrt]),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_symbolic_entries(name):
    expr, wrt, shapes = EXAMPLES[name]
    p = prepare(expr, wrt, shapes=shapes, seed=5)
    S, syms = symbolic_jacobian(p)
    numbers = np.array(S.subs(substitutions(p, syms)).evalf(), dtype=float)
    np.testing.assert_allclose(numbers, p.analytic(), rtol=1e-10, atol=1e-12)
