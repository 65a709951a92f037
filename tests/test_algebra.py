"""The algebra of closed forms: each rewrite rule with a hand-written expectation, and the property that matters
most, that simplifying never changes a value (random trees of the closed forms' vocabulary, simplified and
evaluated)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcalc.algebra import flatten_order, make, simplify
from mcalc.expr import evaluate
from mcalc.printing import Mcalc, Unicode
from mcalc.tree import Var, call, topo_order

A, B, C, D = (Var(n, (2, 2)) for n in "ABCD")
X = Var("X", (3, 3))
x, u, v = Var("x", (3,)), Var("u", (3,)), Var("v", (3,))
s = Var("s", ())
RNG = np.random.default_rng(0)
ENV = {"A": RNG.normal(size=(2, 2)), "B": RNG.normal(size=(2, 2)), "C": RNG.normal(size=(2, 2)),
       "D": RNG.normal(size=(2, 2)), "X": RNG.normal(size=(3, 3)) + 3 * np.eye(3), "x": RNG.normal(size=3),
       "u": RNG.normal(size=3), "v": RNG.normal(size=3), "s": np.array(0.7)}


def value(t):
    return evaluate(topo_order(t), ENV)[id(t)]


def same(before, expected: str):
    """The tree simplifies to the expected Unicode text, and to the same value."""
    after = simplify(before)
    assert Unicode()(after) == expected, Mcalc()(after)
    np.testing.assert_allclose(value(after), value(before), rtol=1e-12, atol=1e-12)


def eye(n):
    return call("eye", n=n)


def kron(a, b):
    return call("kron", a, b)


def test_identities_and_zeros_drop_out():
    same(eye(2) @ A @ eye(2), "A")
    same(kron(eye(2), eye(3)), "I₆")
    same(A + call("zeros", m=2, n=2), "A")
    same(call("zeros", m=2, n=2) @ A, "0₂ₓ₂")


def test_scalars_come_to_the_front_and_meet_as_one_monomial():
    same((2 * A) @ (3 * B), "6 A B")
    same(kron(s * A, 2 * B), "2s A ⊗ B")
    n = call("norm", x)
    same(call("mul", 2 * n, 1 / n) * call("row", x), "2xᵀ")          # ‖x‖ · (1/‖x‖) cancel
    same(call("mul", s, s) / s, "s")


def test_like_terms_are_collected():
    same(A + A, "2A")
    same(2 * A - A, "A")
    same(A - A, "0₂ₓ₂")
    same(x + x.T, "2x")                                                # x.T of a vector is x


def test_the_mixed_product_rule():
    same(kron(A, B) @ kron(C, D), "(A C) ⊗ (B D)")
    same(A @ A @ A, "A³")                                              # equal factors as a power


def test_transposes_go_to_the_leaves():
    same((A @ B).T, "Bᵀ Aᵀ")
    same(kron(A, B).T, "Aᵀ ⊗ Bᵀ")
    same(A.T.T, "A")
    same(call("inv", A).T, "A⁻ᵀ")
    same(call("commutation", m=2, n=3, order="row").T, "K₃,₂")


@pytest.mark.parametrize("order,expected", [("row", "vec(Aᵀ X B)ᵀ"), ("col", "vec(Bᵀ X A)ᵀ")])
def test_a_row_absorbs_a_kronecker_product_in_its_flatten_order(order, expected):
    X2 = Var("C", (2, 2))
    with flatten_order(order):
        same(call("row", call("vec", X2, order=order)) @ kron(A, B), expected.replace("X", "C"))


def test_rows_of_vectors_merge_and_absorb_matrices():
    same(call("row", u) + call("row", v), "(u + v)ᵀ")
    same(call("row", u) @ X, "(Xᵀ u)ᵀ")
    same(call("ones", m=1, n=3) @ call("diag", u), "uᵀ")
    same(call("row", u) @ call("col", v), "uᵀ v")


def test_embeddings_stack_into_blocks():
    e0 = call("index", eye(4), key=(slice(0, 2),)).T
    e1 = call("index", eye(4), key=(slice(2, 4),)).T
    same(e0 @ A + e1 @ B, "[A; B]")


# --- simplifying never changes a value --------------------------------------------------------------------------

def trees():
    leaves = st.sampled_from([A, B, C, eye(2), A.T, call("inv", A), 2 * A, call("zeros", m=2, n=2)])
    small = st.sampled_from([A, B, eye(2), 3 * B])

    def extend(children):
        return st.one_of(
            st.tuples(children, children).map(lambda p: p[0] @ p[1]),
            st.tuples(children, children).map(lambda p: p[0] + p[1]),
            st.tuples(children, children).map(lambda p: p[0] - p[1]),
            children.map(lambda t: t.T),
            children.map(lambda t: -t),
            st.tuples(children, st.sampled_from([0.5, 2.0, -1.0])).map(lambda p: p[1] * p[0]),
        )
    square = st.recursive(leaves, extend, max_leaves=8)
    krons = st.tuples(small, small, small, small).map(lambda p: kron(p[0], p[1]) @ kron(p[2], p[3]))
    return st.one_of(square, krons, st.tuples(square, square).map(lambda p: kron(p[0], p[1]).T))


@given(trees())
def test_simplifying_keeps_the_value(t):
    np.testing.assert_allclose(value(simplify(t)), value(t), rtol=1e-9, atol=1e-9)


@given(trees())
def test_simplified_text_reads_back(t):
    from mcalc.expr import build
    from mcalc.parse import parse

    text = Mcalc()(simplify(t))
    parsed = parse(text)
    back = build(parsed, {n: ENV[n].shape for n in parsed.variables()})
    np.testing.assert_allclose(value(back), value(t), rtol=1e-9, atol=1e-9, err_msg=text)


def leaves(order: str) -> list:
    return [s, x, u, Var("w", (2,)), Var("M", (2, 3)), Var("N", (3, 2)), A, X, Var("O", (1, 1)), Var("Q", (3, 1)),
            Var("P", (1, 3)), eye(3), call("ones", m=3, n=1), call("commutation", m=2, n=3, order=order)]


def typed_trees(draw_ops: list, order: str, permutation=None):
    """A tree grown by a list of (operation, operand picks) over leaves of every kind of shape: scalars, vectors,
    1×1, rows, columns, square and non-square matrices (in the order given); each step applies an operation to
    operands that fit, the first one among the latest nodes, so that operations chain."""
    pool = leaves(order)
    if permutation is not None:
        pool = [pool[k] for k in permutation]

    def broadcast(a, b):
        try:
            np.broadcast_shapes(a.shape, b.shape)
            return True
        except ValueError:
            return False

    def fits(name, a, b):
        if name in ("add", "mul"):
            return broadcast(a, b)
        if name == "matmul":
            return a.ndim >= 1 and b.ndim >= 1 and a.shape[-1] == b.shape[0] and a.ndim + b.ndim >= 3
        if name == "kron":
            return a.ndim >= 1 and b.ndim >= 1 and a.size * b.size <= 64
        return True

    for name, i, j in draw_ops:
        a = pool[-1 - i % len(pool)]                     # (i = 0: the latest node, so that operations chain)
        if name in ("transpose", "neg") or name in ("col", "row") and a.ndim <= 1 or name == "vec" and a.ndim == 2:
            pool.append(call(name, a, order=order) if name == "vec" else call(name, a))
            continue
        candidates = [b for b in pool if fits(name, a, b)]
        if name in ("add", "mul", "matmul", "kron") and candidates:
            pool.append(call(name, a, candidates[j % len(candidates)]))
    return pool[-1]


ops_lists = st.lists(st.tuples(st.sampled_from(["add", "mul", "matmul", "kron", "transpose", "neg", "col", "row",
                                                "vec"]), st.sampled_from([0, 0, 0, 1, 2, 3]),
                               st.integers(0, 40)),
                     min_size=1, max_size=12)
ENV.update({"w": RNG.normal(size=2), "M": RNG.normal(size=(2, 3)), "N": RNG.normal(size=(3, 2)),
            "O": RNG.normal(size=(1, 1)), "Q": RNG.normal(size=(3, 1)), "P": RNG.normal(size=(1, 3))})


@settings(max_examples=500)
@given(ops_lists, st.sampled_from(["row", "col"]), st.permutations(range(14)))
def test_simplifying_keeps_values_and_shapes_of_every_kind(steps, order, permutation):
    """Vectors, scalars, 1×1 and non-square matrices, broadcasting, both flatten orders: simplify never changes
    a shape or a value (the rules that hold only for matrices of one shape must check)."""
    t = typed_trees(steps, order, permutation)
    with flatten_order(order):
        out = simplify(t)
    assert out.shape == t.shape, (Mcalc()(t), Mcalc()(out))
    np.testing.assert_allclose(value(out), value(t), rtol=1e-9, atol=1e-9, err_msg=f"{Mcalc()(t)} → {Mcalc()(out)}")


W2 = Var("w", (2,))


@pytest.mark.parametrize("tree", [
    call("add", A, W2).T,                                           # a broadcast sum: (A + w)ᵀ is not Aᵀ + w
    kron(eye(2), W2).T,                                             # kron with a vector: (2, 4), not (4, 2)
    call("kron", Var("z", (1,)), eye(1)), call("kron", eye(1), x),  # eye(1) ⊗ b with b a vector keeps its shape
    (call("row", x) + x).T,                                         # a row broadcast against a vector
], ids=["broadcast-sum", "kron-vector", "kron-1", "eye1-kron", "row-plus-vector"])
def test_rules_that_hold_for_matrices_only_leave_other_shapes_alone(tree):
    ENV.setdefault("z", RNG.normal(size=1))
    out = simplify(tree)
    assert out.shape == tree.shape
    np.testing.assert_allclose(value(out), value(tree), rtol=1e-12)


def test_make_is_simplify_at_the_root():
    assert Unicode()(make("matmul", eye(2), A)) == "A"
