"""einsum, tensordot, inner and vdot against numpy's own functions (central differences), over written and random
subscripts; the structure of the Jacobian where the subscripts are a matrix product."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import mcalc
from mcalc.cli import app
from helpers import numpy_jacobian

RNG = np.random.default_rng(5)
A, B, C = RNG.normal(size=(2, 3)), RNG.normal(size=(3, 4)), RNG.normal(size=(3, 3))
x, y = RNG.normal(size=3), RNG.normal(size=4)
VALUES = {"A": A, "B": B, "C": C, "x": x, "y": y}

CASES = [   # mcalc text, numpy function of the values
    ("einsum('ij,jk->ik', A, B)", lambda A, B, C, x, y: np.einsum("ij,jk->ik", A, B)),
    ("np.einsum('ij,jk', A, B)", lambda A, B, C, x, y: np.einsum("ij,jk", A, B)),
    ("einsum('ii->i', C)", lambda A, B, C, x, y: np.einsum("ii->i", C)),
    ("einsum('ii', C)", lambda A, B, C, x, y: np.einsum("ii", C)),
    ("einsum('ij->ji', A)", lambda A, B, C, x, y: np.einsum("ij->ji", A)),
    ("einsum('ij->', A)", lambda A, B, C, x, y: np.einsum("ij->", A)),
    ("einsum('ij,ij->i', A, A)", lambda A, B, C, x, y: np.einsum("ij,ij->i", A, A)),
    ("einsum('i,j->ij', x, y)", lambda A, B, C, x, y: np.einsum("i,j->ij", x, y)),
    ("einsum('ij,j->i', A, x)", lambda A, B, C, x, y: np.einsum("ij,j->i", A, x)),
    ("einsum('i,ij->j', x, B)", lambda A, B, C, x, y: np.einsum("i,ij->j", x, B)),
    ("einsum('ij,jk,kl->il', A, C, B)", lambda A, B, C, x, y: np.einsum("ij,jk,kl->il", A, C, B)),
    ("einsum('ij,jk,k->i', A, B, y)", lambda A, B, C, x, y: np.einsum("ij,jk,k->i", A, B, y)),
    ("einsum('i,ij,j->', x, C, x)", lambda A, B, C, x, y: np.einsum("i,ij,j->", x, C, x)),
    ("einsum('ij,kj->ik', A, A)", lambda A, B, C, x, y: np.einsum("ij,kj->ik", A, A)),
    ("einsum('ij,ji->', C, C)", lambda A, B, C, x, y: np.einsum("ij,ji->", C, C)),
    ("einsum('ij,i->ij', C, x)", lambda A, B, C, x, y: np.einsum("ij,i->ij", C, x)),
    ("einsum('ij,jk->jk', A, B)", lambda A, B, C, x, y: np.einsum("ij,jk->jk", A, B)),
    ("einsum('ii,i->i', C, x)", lambda A, B, C, x, y: np.einsum("ii,i->i", C, x)),
    ("tensordot(A, B, 1)", lambda A, B, C, x, y: np.tensordot(A, B, 1)),
    ("tensordot(C, C)", lambda A, B, C, x, y: np.tensordot(C, C)),
    ("tensordot(A, A, axes=([1], [1]))", lambda A, B, C, x, y: np.tensordot(A, A, axes=([1], [1]))),
    ("tensordot(C, C.T, axes=([0, 1], [1, 0]))", lambda A, B, C, x, y: np.tensordot(C, C.T, axes=([0, 1], [1, 0]))),
    ("tensordot(x, y, 0)", lambda A, B, C, x, y: np.tensordot(x, y, 0)),
    ("inner(x, x)", lambda A, B, C, x, y: np.inner(x, x)),
    ("inner(A, A)", lambda A, B, C, x, y: np.inner(A, A)),
    ("inner(A, x)", lambda A, B, C, x, y: np.inner(A, x)),
    ("np.inner(x, C)", lambda A, B, C, x, y: np.inner(x, C)),
    ("vdot(A, A)", lambda A, B, C, x, y: np.vdot(A, A)),
    ("vdot(x, x)", lambda A, B, C, x, y: np.vdot(x, x)),
]


@pytest.mark.parametrize("text,f", CASES, ids=[c[0] for c in CASES])
def test_against_numpy(text, f):
    from mcalc.parse import parse

    for wrt in parse(text).variables():
        J = mcalc.jacobian(text, wrt, {k: VALUES[k] for k in parse(text).variables()})
        np.testing.assert_allclose(J, numpy_jacobian(lambda **v: f(**{**VALUES, **v}), {wrt: VALUES[wrt]}, wrt),
                                   rtol=1e-7, atol=1e-9, err_msg=f"{text} wrt {wrt}")
        np.testing.assert_allclose(mcalc.evaluate(text, values=VALUES_OF(text)), f(**VALUES), rtol=1e-13)


def VALUES_OF(text):
    from mcalc.parse import parse

    return {k: VALUES[k] for k in parse(text).variables()}


@given(st.data())
def test_random_two_operand_subscripts(data):
    """Random subscripts of two operands of at most two axes each and an output of at most two."""
    letters = "ijk"
    sa = data.draw(st.text(letters, min_size=1, max_size=2))
    sb = data.draw(st.text(letters, min_size=1, max_size=2))
    present = sorted(set(sa + sb))
    out = "".join(data.draw(st.permutations(present))[:data.draw(st.integers(0, min(2, len(present))))])
    sizes = {"i": 2, "j": 3, "k": 4}
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 31)))
    P, Q = rng.normal(size=[sizes[c] for c in sa]), rng.normal(size=[sizes[c] for c in sb])
    spec = f"{sa},{sb}->{out}"
    try:
        J = mcalc.jacobian(f"einsum('{spec}', P, Q)", "P", {"P": P, "Q": Q})
    except mcalc.ShapeError as e:
        assert "at most 2" in str(e)                 # an intermediate (or the output) with three axes: refused
        return
    ref = numpy_jacobian(lambda P, Q: np.einsum(spec, P, Q), {"P": P, "Q": Q}, "P")
    np.testing.assert_allclose(J, ref, rtol=1e-7, atol=1e-9, err_msg=spec)


def test_a_matrix_product_keeps_its_kronecker_structure():
    from mcalc.chain import LocalRules, linear_maps
    from mcalc.linops import Kron
    from mcalc.problem import prepare

    p = prepare("einsum('ij,jk->ik', A, B)", "A", None, "A=16x16,B=16x16", "row", "numerator", 0)
    (L,) = linear_maps(p.nodes, LocalRules(p.node_values), p.wrt)
    assert isinstance(L, Kron)


@pytest.mark.parametrize("text,fragment", [
    ("einsum('ij,jk->ijk', A, B)", "at most 2"), ("einsum('ij,jk->ik', A)", "2 operand(s), the call 1"),
    ("einsum('ij,jk->ik', A, A)", "stands for sizes"), ("einsum('i...', A)", "'...'"), ("einsum(2, A)", "string"),
    ("tensordot(A, B, 3)", "more axes"), ("vdot(A, B)", "one shape"), ("einsum('ij->ii', C)", "repeats"),
])
def test_bad_subscripts(text, fragment):
    res = CliRunner().invoke(app, ["jac", text, "--shape", "A=2x3,B=3x4,C=3x3"])
    assert res.exit_code == 2 and fragment in res.stderr, res.stderr
