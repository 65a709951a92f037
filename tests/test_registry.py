"""Every registered operation, through every path, from its registry entry alone: the rule against finite
differences at several shapes; the structured Jacobian against the differential evaluated on tangents (the JVP)
and against the closed form and the SymPy entries; each local closed form against the structured map it is read
from; the printers (mcalc syntax reads back to the same values, and no printed form claims a precedence it does
not have).  An operation added to the registry is tested here without a line of its own."""

import re

import numpy as np
import pytest

from mcalc.derivative import jvp, local_form, local_map
from mcalc.explain import differentials, explain, rule
from mcalc.expr import build, evaluate
from mcalc.finite import finite_jacobian
from mcalc.ops import FUNCTIONS, OPS
from mcalc.parse import parse
from mcalc.printing import POWER, PRODUCT, Latex, Mcalc, Unicode
from mcalc.problem import prepare
from mcalc.tree import Const, Var, topo_order
from mcalc.values import parse_shape_specs

USER = sorted(name for name, op in OPS.items() if op.example is not None)
INTERNAL = sorted(name for name, op in OPS.items() if op.example is None)
ORDERS = ["row", "col"]
FIXED_SIZE = {"cross"}                               # (3-vectors only)
NUMERIC_ONLY = {"kron", "expm", "expm_frechet", "sort", "take_along_axis"}     # maps with no closed form (a Kronecker product's, a Fréchet derivative's)


def _shapes(spec: str) -> dict:
    default, named = parse_shape_specs(spec)
    assert default is None
    return named


def _spec(shapes: dict) -> str:
    return ",".join(f"{k}={'x'.join(map(str, s)) or 'scalar'}" for k, s in shapes.items())


def variants(name: str) -> list[tuple[str, str]]:
    """The example, every dimension one larger, and for element-wise functions a scalar and a 2×3 matrix."""
    expr, spec = OPS[name].example
    shapes = _shapes(spec)
    out = [(expr, spec)]
    if OPS[name].family != "constants" and name not in FIXED_SIZE:   # (sizes in the expression: eye(2))
        out.append((expr, _spec({k: tuple(d + 1 for d in s) for k, s in shapes.items()})))
    if OPS[name].family == "element-wise" and len(shapes) == 1:
        (var,) = shapes
        out += [(expr, f"{var}=scalar"), (expr, f"{var}=2x3")]
    return out


def problem(expr, spec, order="row", seed=5):
    return prepare(expr, None, shapes=spec, order=order, seed=seed)


def fd(p):
    analytic = all(n.op is None or n.op.analytic for n in p.nodes)
    return finite_jacobian(p.nodes, p.values, p.wrt, "complex" if analytic else "central").J


def _values(tree, env):
    nodes = topo_order(tree)
    return np.asarray(evaluate(nodes, env, check=False)[id(tree)], dtype=float)


def test_every_operation_has_an_example_that_uses_it():
    for name in USER:
        expr, spec = OPS[name].example
        p = problem(expr, spec)
        assert name in {n.op.name for n in p.nodes if n.op is not None}, (name, expr)
    assert set(INTERNAL) <= {"adj", "unit", "ylog", "numeric_map", "others", "onehot",
                              "svd_u", "svd_vh", "scatter_along_axis",
                              "dsinc", "d2sinc"}          # (svd(A)[0], [2]: values, not differentiated), INTERNAL   # used inside derivatives only


def test_every_function_and_operator_reaches_an_operation():
    ops = {fn.op for fn in FUNCTIONS.values()} | {n for n, op in OPS.items() if op.operator}
    ops |= {op for fn in FUNCTIONS.values() for _, op in fn.parts or () if op}       # eigh(X)[1]
    ops |= {op for fn in FUNCTIONS.values() for op in fn.reaches}                    # average(x, weights=w)
    assert set(USER) <= ops, set(USER) - ops


@pytest.mark.parametrize("name", USER)
def test_rule_against_finite_differences(name):
    for expr, spec in variants(name):
        p = problem(expr, spec)
        np.testing.assert_allclose(p.analytic(canonical=True), fd(p), rtol=1e-6, atol=1e-8,
                                   err_msg=f"{expr} with {spec}")


@pytest.mark.parametrize("name", USER)
def test_the_differential_evaluated_on_tangents_is_the_jvp(name):
    """Reading one: the differential, a tree in dX, evaluated at dX = u, is J u (J from the structured maps)."""
    for expr, spec in variants(name):
        p = problem(expr, spec)
        D = differentials(p.nodes, p.wrt).get(id(p.root))
        rng = np.random.default_rng(3)
        u = {f"d{v.name}": rng.normal(size=v.shape) for v in p.wrt}
        J = p.analytic(canonical=True)
        expected = J @ np.concatenate([np.ravel(u[f"d{v.name}"]) for v in p.wrt])
        got = np.zeros(p.root.shape) if D is None else jvp(D, p.node_values, u)
        np.testing.assert_allclose(np.ravel(np.broadcast_to(got, p.root.shape)), expected, rtol=1e-9, atol=1e-12,
                                   err_msg=f"{expr} with {spec}")


@pytest.mark.parametrize("name", USER)
@pytest.mark.parametrize("order", ORDERS)
def test_local_closed_forms_are_the_structured_maps(name, order):
    """Readings two and three of one rule: for each argument of the operation, the closed form (evaluated) and
    the structured map (densified, in the same flatten order) are the same matrix."""
    from mcalc.chain import as_matrix_shape, flatten_perm
    from mcalc.errors import NoClosedFormError

    for expr, spec in variants(name):
        p = problem(expr, spec, order)
        for node in p.nodes:
            if node.op is None or node.op.name != name:
                continue
            for i, arg in enumerate(node.args):
                L = local_map(node, i, p.node_values).reordered(
                    flatten_perm(node.shape, order), flatten_perm(arg.shape, order),
                    as_matrix_shape(node.shape), as_matrix_shape(arg.shape)).to_dense()
                try:
                    F = local_form(node, i, order)
                except NoClosedFormError:
                    assert name in NUMERIC_ONLY    # said so, never invented
                    continue
                np.testing.assert_allclose(_values(F, p.values), L, rtol=1e-10, atol=1e-12,
                                           err_msg=f"{expr} ({spec}) wrt argument {i}: {Mcalc()(F)}")


@pytest.mark.parametrize("name", USER)
@pytest.mark.parametrize("order", ORDERS)
def test_closed_form_and_its_text_are_the_jacobian(name, order):
    """The whole closed form (evaluated as a tree, and as mcalc text read back) is the Jacobian, in both orders."""
    for expr, spec in variants(name):
        p = problem(expr, spec, order)
        ex = explain(p.nodes, p.wrt, order, "numerator")
        if ex.formula is None:
            assert set(ex.missing) <= NUMERIC_ONLY and name in NUMERIC_ONLY, ex.missing
            continue
        J = p.analytic()
        np.testing.assert_allclose(_values(ex.formula, p.values), J, rtol=1e-9, atol=1e-12, err_msg=ex.mc)
        parsed = parse(ex.mc)
        tree = build(parsed, {n: p.variables[n].shape for n in parsed.variables()}, order)
        np.testing.assert_allclose(_values(tree, p.values), J, rtol=1e-9, atol=1e-12, err_msg=ex.mc)


@pytest.mark.parametrize("name", USER)
def test_sympy_entries_are_the_jacobian(name):
    from mcalc.symbolic import substitutions, symbolic_jacobian

    expr, spec = OPS[name].example
    p = problem(expr, spec)
    if any(getattr(n.op.sympy, "none", False) for n in p.nodes if n.op is not None):
        pytest.skip(f"{name} has no SymPy counterpart (said so: mcalc has no symbolic form of it)")
    S, syms = symbolic_jacobian(p)
    numbers = np.array(S.subs(substitutions(p, syms)).evalf(), dtype=float)
    np.testing.assert_allclose(numbers, p.analytic(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", USER)
def test_mcalc_text_reads_back(name):
    """The expression and its differential, printed in mcalc syntax, parse to trees with the same values."""
    expr, spec = OPS[name].example
    p = problem(expr, spec)
    env = dict(p.values)
    trees = [p.root]
    D = differentials(p.nodes, p.wrt).get(id(p.root))
    if D is not None:
        trees.append(D)
        rng = np.random.default_rng(1)
        env.update({f"d{v.name}": rng.normal(size=v.shape) for v in p.wrt})
    for tree in trees:
        text = Mcalc()(tree)
        parsed = parse(text)
        shapes = {n: env[n].shape if hasattr(env[n], "shape") else () for n in parsed.variables()}
        back = build(parsed, shapes, "row")
        np.testing.assert_allclose(_values(back, env), _values(tree, env), rtol=1e-12, err_msg=text)


_BRACKETS = {"(": ")", "[": "]", "{": "}"}


def top_level(text: str) -> str:
    """The text outside brackets (and outside |...| and ‖...‖)."""
    out, depth, bars = [], 0, {"|": False, "‖": False}
    for ch in text:
        if ch in _BRACKETS:
            depth += 1
        elif ch in _BRACKETS.values():
            depth -= 1
        elif ch in bars and depth == 0:
            bars[ch] = not bars[ch]
            continue
        elif depth == 0 and not any(bars.values()):
            out.append(ch)
    return "".join(out)


def honest(printer, tree) -> list[str]:
    """Printed forms that claim to bind tighter than they do: an atom or a power with an operator outside its
    brackets, a product with a sum outside them."""
    bad = []
    for node in topo_order(tree):
        if isinstance(node, Var) or node.op is None:
            continue
        text, prec = printer.raw(node)
        for opening, closing in ((r"\\left(\\[A-Za-z]+|.)", r"\\right(\\[A-Za-z]+|.)"), (r"\\begin\{\w+\}", r"\\end\{\w+\}")):
            text = re.sub(closing, ")", re.sub(opening, "(", text))
        outside = top_level(text.replace("\\,", " "))
        if prec >= POWER and re.search(r" [^ ]| $", outside.strip()):
            bad.append(f"{text!r} (precedence {prec})")
        if prec >= PRODUCT and re.search(r" [+-] ", outside):
            bad.append(f"{text!r} (precedence {prec})")
    return bad


@pytest.mark.parametrize("name", USER)
@pytest.mark.parametrize("printer", [Mcalc, Unicode, Latex])
def test_printed_forms_bind_as_they_claim(name, printer):
    """Parentheses come from precedence, for every node of the expression, its differential, its closed form
    and its gradient: the bug class of '(1 / y) x - a' (a sum spliced into a product) cannot come back."""
    expr, spec = OPS[name].example
    for wrapper in ("{}", "sum(({}) * ({}))", "norm({} - 1)**2"):
        text = wrapper.format(expr, expr)
        p = problem(text, spec)
        ex = explain(p.nodes, p.wrt, "row", "numerator")
        trees = [p.root, ex.formula, ex.gradient, ex.D]
        for tree in trees:
            if tree is not None:
                assert not honest(printer(), tree), (text, honest(printer(), tree))


@pytest.mark.parametrize("name", USER)
def test_every_operation_states_its_rule(name):
    text = rule(name)
    assert text.startswith("d") and " = " in text, text


@pytest.mark.parametrize("name", ["adj", "unit", "ylog", "others", "others_axis", "onehot", "onehot_axis"])
def test_internal_operations_mean_what_they_print(name):
    """Operations used inside derivatives only (robust numerics) evaluate to their printed meaning."""
    from mcalc.tree import call

    rng = np.random.default_rng(0)
    X, y, a = Var("X", (3, 3)), Var("y", (3,)), Var("a", (3,))
    env = {"X": rng.normal(size=(3, 3)) + 3 * np.eye(3), "y": rng.uniform(1, 2, 3), "a": rng.uniform(1, 2, 3)}
    node = {"adj": call("adj", X), "unit": call("unit", y), "ylog": call("ylog", y, a), "others": call("others", y),
            "others_axis": call("others", X, axis=1), "onehot": call("onehot", y, of="max"),
            "onehot_axis": call("onehot", Const([[1.0, 2, 1], [1, 0, 0], [1, 3, 0]]), of="min", axis=1)}[name]
    np.testing.assert_allclose(_values(node, env), _values(node.op.expand(node), env), rtol=1e-12)


def test_readme_lists_every_function():
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    table = readme[readme.index("## The expression language"):readme.index("## Options")]
    missing = [name for name in FUNCTIONS if not re.search(rf"(?<![\w]){name}(?![\w])", table)]
    assert not missing, missing


def test_readme_table_is_the_registry():
    """The README's table of functions is what `mcalc ops --markdown` writes: regenerate it when an entry changes."""
    from pathlib import Path

    from mcalc.explain import function_table

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    begin, end = "<!-- generated: mcalc ops --markdown -->\n", "<!-- end of generated table -->"
    table = readme[readme.index(begin) + len(begin):readme.index(end)]
    assert table == function_table(), "the README's table is out of date: run python scripts/update_readme.py"


def test_every_spelling_names_operations_that_exist():
    for name, fn in FUNCTIONS.items():
        named = {fn.op, *fn.reaches, fn.pieces, *(op for _, op in fn.parts or ())} - {None}
        assert named <= set(OPS), (name, named - set(OPS))
