"""The default check of a Jacobian with many columns: J u against finite differences along a few random directions
(every column at once), narrowed down to columns where they disagree.  A wrong entry planted anywhere is caught and
named; a right Jacobian agrees for a handful of evaluations, whatever its number of columns."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcalc.compare import PROBES, compute
from mcalc.problem import Problem, prepare


def planted(monkeypatch, i, j, delta):
    """Problem.analytic with entry (i, j) of the canonical Jacobian off by delta."""
    original = Problem.analytic

    def wrong(self, canonical=False):
        J = np.array(original(self, canonical), dtype=float)
        J[i, j] += delta
        return J
    monkeypatch.setattr(Problem, "analytic", wrong)


@settings(max_examples=6, deadline=None)
@given(st.integers(0, 4095), st.integers(0, 4095), st.sampled_from([1.0, -0.05, 3e-3]))
def test_a_single_wrong_entry_of_a_4096x4096_jacobian_is_caught(i, j, delta):
    """A@B wrt A at 64×64: J = I ⊗ Bᵀ, 16.7 M entries, 4 096 columns (the default check used to sample 3 814 of
    them, one evaluation pair each, and could miss the wrong one)."""
    mp = pytest.MonkeyPatch()
    try:
        planted(mp, i, j, delta)
        p = prepare("A@B", "A", None, "64x64", seed=0, evaluate=False)
        r = compute(p)
    finally:
        mp.undo()
    c = r.comparison
    assert not c.agree and (i, j) in c.bad, (i, j, c.bad[:3])


def test_a_right_jacobian_agrees_along_random_directions():
    p = prepare("A@B", "A", None, "64x64", seed=0, evaluate=False)
    c = compute(p).comparison
    assert c.agree and c.probes == PROBES and c.checked_columns == c.total_columns == 4096
    p = prepare("tanh(W@x + b)", "W", None, "W=64x64,x=64,b=64", seed=0, evaluate=False)
    c = compute(p).comparison
    assert c.agree and c.probes == PROBES


def test_few_columns_are_still_checked_one_by_one():
    """Below PROBE_FROM columns each column is differentiated (its finite differences are shown)."""
    p = prepare("A@B", "A", None, "3x3", seed=0, evaluate=False)
    r = compute(p)
    assert r.comparison.agree and r.comparison.probes == 0 and not np.isnan(r.F).any()


def test_kinks_are_still_found_with_many_columns():
    """A kink along a direction sends the check back to columns, which name it."""
    x = np.linspace(-1, 1, 41)
    x[7] = 0.0
    p = prepare("abs(x)", "x", {"x": x}, seed=0, evaluate=False)
    c = compute(p).comparison
    assert not c.agree and any(k[0] == 7 and k[1] == 7 for k in c.kinks)


@pytest.mark.parametrize("expr,values,i,j,delta", [
    ("2*x", {"x": np.r_[1e6, np.ones(39)]}, 5, 5, 0.5),
    ("x + y", {"x": 1e6 * np.ones(32), "y": np.ones(32)}, 3, 35, 0.5),
    ("x + y", {"x": 1e3 * np.ones(32), "y": np.ones(32)}, 3, 35, 1e-3),
])
def test_a_wrong_entry_beside_inputs_of_another_size_is_caught(monkeypatch, expr, values, i, j, delta):
    """Directions follow each input's size; columns of inputs of very different sizes are checked apart, else a
    column of x = 1e6 swamps an error in one of y = 1 (the reviewer's case: 'agree' for a 25% error)."""
    planted(monkeypatch, i, j, delta)
    p = prepare(expr, None, values, None, seed=0, evaluate=False)
    c = compute(p).comparison
    assert not c.agree and (i, j) in c.bad, c.bad[:3]


def test_a_sum_starting_with_a_column_major_term_adds_every_term():
    """Sum.to_dense writes its fullest term first; one that comes back F-ordered (a Product ending in a
    transpose) is made row-major before Diag adds its diagonal (a reshape of it copied, and the term was lost)."""
    from mcalc.linops import Dense, Diag, Product, Sum, Transposed

    r = np.random.default_rng(0)
    P = Product([Dense(r.standard_normal((16, 3))), Transposed(Dense(r.standard_normal((16, 3))))])
    S = Sum([P, Diag(5.0, 16)])
    assert np.allclose(S.to_dense(), P.to_dense() + 5 * np.eye(16))
