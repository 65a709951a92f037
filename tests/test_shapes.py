"""Shapes and indexing as numpy has them: concatenate, stack, hstack, vstack (numpy's list form), flip, roll, tile,
repeat, diagonal, broadcast_to, take, pad, triu/tril, reshape; fancy indexing with lists, boolean masks, negative
indices and steps, None.  Expected values: numpy's own functions, differentiated by central differences, in both
flatten orders (the column-major Jacobian from numpy's own index arithmetic)."""

import numpy as np
import pytest
from typer.testing import CliRunner

import mcalc
from mcalc.cli import app
from mcalc.parse import parse
from helpers import numpy_jacobian

RNG = np.random.default_rng(9)
VALUES = {"A": RNG.normal(size=(2, 3)), "C": RNG.normal(size=(3, 3)), "x": RNG.normal(size=3),
          "y": RNG.normal(size=2), "s": 0.7}

CASES = [
    ("concatenate([x, y])", lambda v: np.concatenate([v["x"], v["y"]])),
    ("np.concatenate((x, 2 * x))", lambda v: np.concatenate((v["x"], 2 * v["x"]))),
    ("concatenate([A, C[:2]], axis=0)", lambda v: np.concatenate([v["A"], v["C"][:2]], axis=0)),
    ("concatenate([A, A], axis=1)", lambda v: np.concatenate([v["A"], v["A"]], axis=1)),
    ("hstack([x, y])", lambda v: np.hstack([v["x"], v["y"]])),
    ("hstack([A, A * A])", lambda v: np.hstack([v["A"], v["A"] * v["A"]])),
    ("vstack([x, 2 * x])", lambda v: np.vstack([v["x"], 2 * v["x"]])),
    ("vstack([A, C])", lambda v: np.vstack([v["A"], v["C"]])),
    ("stack([x, x * x])", lambda v: np.stack([v["x"], v["x"] * v["x"]])),
    ("stack([x, x * x], axis=1)", lambda v: np.stack([v["x"], v["x"] * v["x"]], axis=1)),
    ("stack([s, 2 * s, s * s])", lambda v: np.stack([v["s"], 2 * v["s"], v["s"] * v["s"]])),
    ("flip(A)", lambda v: np.flip(v["A"])),
    ("flip(A, axis=1)", lambda v: np.flip(v["A"], axis=1)),
    ("fliplr(A)", lambda v: np.fliplr(v["A"])),
    ("flipud(A)", lambda v: np.flipud(v["A"])),
    ("roll(x, 1)", lambda v: np.roll(v["x"], 1)),
    ("roll(A, -1, axis=1)", lambda v: np.roll(v["A"], -1, axis=1)),
    ("roll(A, 2)", lambda v: np.roll(v["A"], 2)),
    ("tile(x, 2)", lambda v: np.tile(v["x"], 2)),
    ("tile(x, (2, 1))", lambda v: np.tile(v["x"], (2, 1))),
    ("tile(A, (1, 2))", lambda v: np.tile(v["A"], (1, 2))),
    ("repeat(x, 2)", lambda v: np.repeat(v["x"], 2)),
    ("repeat(A, 2, axis=1)", lambda v: np.repeat(v["A"], 2, axis=1)),
    ("A.repeat(2)", lambda v: v["A"].repeat(2)),
    ("diagonal(C)", lambda v: np.diagonal(v["C"])),
    ("diagonal(C, 1)", lambda v: np.diagonal(v["C"], 1)),
    ("C.diagonal(-1)", lambda v: v["C"].diagonal(-1)),
    ("broadcast_to(x, (2, 3))", lambda v: np.broadcast_to(v["x"], (2, 3))),
    ("take(x, [2, 0, 2])", lambda v: np.take(v["x"], [2, 0, 2])),
    ("take(A, [1, 0], axis=1)", lambda v: np.take(v["A"], [1, 0], axis=1)),
    ("pad(A, 1)", lambda v: np.pad(v["A"], 1)),
    ("pad(x, (1, 2), constant_values=3)", lambda v: np.pad(v["x"], (1, 2), constant_values=3)),
    ("pad(A, ((1, 0), (0, 2)))", lambda v: np.pad(v["A"], ((1, 0), (0, 2)))),
    ("triu(C)", lambda v: np.triu(v["C"])),
    ("tril(C, -1)", lambda v: np.tril(v["C"], -1)),
    ("triu(A, 1)", lambda v: np.triu(v["A"], 1)),
    ("x[[0, 2]]", lambda v: v["x"][[0, 2]]),
    ("x[[2, 0, 0]]", lambda v: v["x"][[2, 0, 0]]),
    ("x[[True, False, True]]", lambda v: v["x"][[True, False, True]]),
    ("A[[0, 1], [2, 0]]", lambda v: v["A"][[0, 1], [2, 0]]),
    ("A[:, [2, 0]]", lambda v: v["A"][:, [2, 0]]),
    ("A[[1, 0]]", lambda v: v["A"][[1, 0]]),
    ("A[:, [True, False, True]]", lambda v: v["A"][:, [True, False, True]]),
    ("x[:, None]", lambda v: v["x"][:, None]),
    ("x[np.newaxis, :]", lambda v: v["x"][np.newaxis, :]),
    ("x[::-1]", lambda v: v["x"][::-1]),
    ("A[::-1, ::2]", lambda v: v["A"][::-1, ::2]),
    ("A[-1]", lambda v: v["A"][-1]),
    ("A[:, -2:]", lambda v: v["A"][:, -2:]),
]


def col_major(J, out_shape, in_shape):
    def perm(shape):
        return np.arange(int(np.prod(shape))).reshape(shape).ravel(order="F")
    return J[np.ix_(perm(out_shape), perm(in_shape))]


@pytest.mark.parametrize("text,f", CASES, ids=[c[0] for c in CASES])
def test_against_numpy_in_both_orders(text, f):
    names = parse(text).variables()
    values = {k: VALUES[k] for k in names}
    for wrt in names:
        ref = numpy_jacobian(lambda **v: f({**values, **v}), values, wrt)
        np.testing.assert_allclose(mcalc.jacobian(text, wrt, values), ref, atol=1e-9, err_msg=text)
        J = mcalc.jacobian(text, wrt, values, order="col")
        np.testing.assert_allclose(J, col_major(ref, np.shape(f(values)), np.shape(values[wrt])), atol=1e-9,
                                   err_msg=text)
    np.testing.assert_allclose(mcalc.evaluate(text, values=values), f(values), rtol=1e-14)


@pytest.mark.parametrize("text,fragment", [
    ("concatenate(x, y)", "one list"), ("stack([A, A])", "3 axes"), ("hstack([x, A])", "different numbers of axes"),
    ("x[[True, False]]", "a mask of 2 entries"), ("A[:, None]", "3 axes"), ("x[[3]]", "does not fit"),
    ("A[[0, 1], :, [0]]", "side by side"), ("tile(A, (2, 1, 1))", "at most 2"), ("pad(x, -1)", "negative"),
    ("roll(x)", "takes"), ("x[[]]", "empty"),
])
def test_bad_shapes(text, fragment):
    res = CliRunner().invoke(app, ["jac", text, "--shape", "A=2x3,x=3,y=2"])
    assert res.exit_code == 2 and fragment in res.stderr and "Traceback" not in res.stderr, res.stderr


def test_gathers_keep_their_structure():
    from mcalc.chain import LocalRules, linear_maps
    from mcalc.linops import Dense
    from mcalc.problem import prepare

    for text in ("flip(A)", "A[:, [2, 0]]", "roll(A, 1, axis=1)", "A.reshape(8, 8)", "pad(A, 1)"):
        p = prepare(text, "A", None, "A=8x8", "row", "numerator", 0)
        (L,) = linear_maps(p.nodes, LocalRules(p.node_values), p.wrt)
        assert not isinstance(L, Dense), (text, L)


def test_roll_by_several_axes_at_once():
    A = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(mcalc.evaluate("roll(A, (1, 2), axis=(0, 1))", values={"A": A}),
                                  np.roll(A, (1, 2), axis=(0, 1)))


@pytest.mark.parametrize("text,fragment", [
    ("split(x, 0)[0]", "split"), ("sort(A, axis=5)", "out of range"), ("argsort(x, axis=-2)", "out of range"),
    ("sort(x, axis=1)", "out of range"), ("take_along_axis(x, y, axis=0)", "whole positions"),
    ("take_along_axis(x, 7 * x * x, axis=0)", "whole positions"),
])
def test_more_bad_shapes(text, fragment):
    given = {"x": "x=[1, 2, 3]", "y": "y=[2.7, 0.2, -1]", "A": "A=[[1, 2, 3], [4, 5, 6]]"}
    values = [a for name in parse(text).variables() for a in ("--value", given[name])]
    res = CliRunner().invoke(app, ["jac", text, *values])
    assert res.exit_code == 2 and fragment in res.stderr and "Traceback" not in res.stderr, res.stderr


def test_index_shapes_are_computed_not_allocated(monkeypatch):
    """The map of a gather is eye(n)[positions]: its shape comes from the key, never from an n×n array."""
    from mcalc.ops.structural import _key_shape

    assert _key_shape((90000, 90000), (tuple(range(90000)),)) == (90000, 90000)
    assert _key_shape((4, 5), (slice(None, None, -2), None, (0, 1, 1))) == (2, 1, 3)
    res = CliRunner().invoke(app, ["grad", "sum(roll(A, 1, axis=1) * A)", "--shape", "A=200x200", "--fd", "none",
                                   "--format", "json"])
    assert res.exit_code == 0, res.stderr
