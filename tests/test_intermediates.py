"""Named intermediates: s = softmax(W@x); -sum(y*log(s)).  Statements separated by ';' or newlines, the last one
the result; the same Jacobian as the expression written out; explain keeps the user's names."""

import numpy as np
import pytest
from typer.testing import CliRunner

import mcalc
from mcalc.cli import app
from mcalc.explain import explain
from mcalc.problem import prepare

VALUES = {"W": [[0.2, -0.4], [0.7, 0.1], [-0.3, 0.5]], "x": [1.0, -2.0], "y": [0.2, 0.5, 0.3]}


@pytest.mark.parametrize("program,inline", [
    ("s = softmax(W@x); -sum(y*log(s))", "-sum(y*log(softmax(W@x)))"),
    ("s = softmax(W@x)\n-sum(y*log(s))", "-sum(y*log(softmax(W@x)))"),
    ("z = W@x; h = tanh(z); h @ h + sum(z)", "tanh(W@x) @ tanh(W@x) + sum(W@x)"),
    ("  a = W.T @ y\n  b = a * a\n  b @ x", "(W.T @ y * (W.T @ y)) @ x"),
    ("c = 2; c * W @ x", "2 * W @ x"),
])
def test_the_same_as_written_out(program, inline):
    from mcalc.parse import parse

    values = {k: v for k, v in VALUES.items() if k in parse(inline).variables()}
    for wrt in ("W", "x"):
        np.testing.assert_allclose(mcalc.jacobian(program, wrt, values), mcalc.jacobian(inline, wrt, values),
                                   rtol=1e-14)


def test_explain_keeps_the_names():
    p = prepare("s = softmax(W@x); -sum(y*log(s))", "W", VALUES, None)
    ex = explain(p.nodes, p.wrt, "row", "numerator")
    assert "log(s)" in ex.differential and "softmax" not in ex.differential
    assert "s" in ex.pretty and "softmax" not in ex.pretty
    assert "softmax" in ex.mc                               # mcalc's syntax spells it out: it reads back alone


@pytest.mark.parametrize("program,fragment", [
    ("x = x + 1; x", "its own definition"), ("s = t; t = x; s", "before it is defined"),
    ("s = x; s = 2*x; s", "defined twice"), ("sum = x; sum", "function or constant"),
    ("s = x;", "the last statement"), ("x; 2*x", "only 'name = expression'"), ("s, t = x, x; s", "only 'name"),
    ("s += x; s", "only 'name"), ("import os; x", "only 'name"),
])
def test_bad_programs(program, fragment):
    res = CliRunner().invoke(app, ["jac", program, "--shape", "2"])
    assert res.exit_code == 2 and fragment in res.stderr and "Traceback" not in res.stderr, res.stderr


def test_a_newline_after_an_operator_continues_the_expression():
    values = {"W": VALUES["W"], "x": VALUES["x"]}
    np.testing.assert_allclose(mcalc.jacobian("W @\n x", "x", values), np.asarray(VALUES["W"]))
    np.testing.assert_allclose(mcalc.jacobian("W\n @ x", "x", values), np.asarray(VALUES["W"]))


def test_a_name_defined_and_never_used_is_refused():
    for program in ("r = x*x\n- x", "s = x; 2", "a = x; b = a * a; a"):
        res = CliRunner().invoke(app, ["jac", program, "--value", "x=3"])
        assert res.exit_code == 2 and "never used" in res.stderr, (program, res.stderr)
