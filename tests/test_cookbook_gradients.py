"""The Matrix Cookbook's scalar identities (§2.1–2.8, equation numbers as in the 2012 edition) and the classic course
problems: explain prints a gradient shaped like the variable for each, about as long as the textbook's (at most 1.3×
its length as printed), equal to the textbook form evaluated here with numpy, and accepted by check as the answer.

The textbook forms and their numpy values are written here from the Cookbook; mcalc's output is only compared."""

import json

import numpy as np
import pytest

import mcalc
from mcalc.explain import explain
from mcalc.printing import Unicode
from mcalc.problem import prepare
from test_commands import run

inv, det, tr = np.linalg.inv, np.linalg.det, np.trace


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _expm(X):
    from scipy.linalg import expm

    return expm(X)


# (equation, expression, shapes, wrt, the textbook's gradient as mcalc prints its notation, its value in numpy)
CASES = [
 ("51", "det(X)", "X=3x3", "X", "det(X) X⁻ᵀ", lambda X: det(X) * inv(X).T),
 ("53", "det(A@X@B)", "A=3x3,X=3x3,B=3x3", "X", "det(A X B) X⁻ᵀ", lambda A, X, B: det(A @ X @ B) * inv(X).T),
 ("55", "log(det(X.T@X))", "X=3x3", "X", "2 X⁻ᵀ", lambda X: 2 * inv(X).T),
 ("57", "logdet(X)", "X=3x3", "X", "X⁻ᵀ", lambda X: inv(X).T),
 ("57b", "slogdet(X)[1]", "X=3x3", "X", "X⁻ᵀ", lambda X: inv(X).T),
 ("59", "det(X^3)", "X=3x3", "X", "3 det(X³) X⁻ᵀ", lambda X: 3 * det(X @ X @ X) * inv(X).T),
 ("61", "a@inv(X)@b", "a=3,X=3x3,b=3", "X", "-X⁻ᵀ a bᵀ X⁻ᵀ", lambda a, X, b: -inv(X).T @ np.outer(a, b) @ inv(X).T),
 ("63", "trace(A@inv(X)@B)", "A=3x3,X=3x3,B=3x3", "X", "-X⁻ᵀ Aᵀ Bᵀ X⁻ᵀ", lambda A, X, B: -inv(X).T @ A.T @ B.T @ inv(X).T),
 ("64", "trace(inv(X+A))", "A=3x3,X=3x3", "X", "-((X + A)⁻¹)²ᵀ", lambda A, X: -(inv(X + A) @ inv(X + A)).T),
 ("67", "sum(eigvalsh(X))", "X=3x3", "X", "I₃", lambda X: np.eye(3)),
 ("68", "prod(eigvalsh(X))", "X=3x3", "X", "det(X) X⁻ᵀ", lambda X: det(X) * inv(X)),
 ("69", "x@a", "x=3,a=3", "x", "a", lambda x, a: a),
 ("70", "a@X@b", "a=3,X=3x4,b=4", "X", "a bᵀ", lambda a, X, b: np.outer(a, b)),
 ("71", "a@X.T@b", "a=4,X=3x4,b=3", "X", "b aᵀ", lambda a, X, b: np.outer(b, a)),
 ("72", "a@X@a", "a=3,X=3x3", "X", "a aᵀ", lambda a, X: np.outer(a, a)),
 ("77", "b@X.T@X@c", "b=3,X=4x3,c=3", "X", "X (b cᵀ + c bᵀ)", lambda b, X, c: X @ (np.outer(b, c) + np.outer(c, b))),
 ("78", "(B@x+b)@C@(D@x+d)", "B=3x3,x=3,b=3,C=3x3,D=3x3,d=3", "x", "Bᵀ C (D x + d) + Dᵀ Cᵀ (B x + b)",
  lambda B, x, b, C, D, d: B.T @ C @ (D @ x + d) + D.T @ C.T @ (B @ x + b)),
 ("79", "b@X.T@D@X@c", "b=3,X=4x3,D=4x4,c=3", "X", "Dᵀ X b cᵀ + D X c bᵀ",
  lambda b, X, D, c: D.T @ X @ np.outer(b, c) + D @ X @ np.outer(c, b)),
 ("80", "(X@b+c)@D@(X@b+c)", "X=3x4,b=4,c=3,D=3x3", "X", "(D + Dᵀ) (X b + c) bᵀ",
  lambda X, b, c, D: (D + D.T) @ np.outer(X @ b + c, b)),
 ("81", "x@B@x", "x=3,B=3x3", "x", "(B + Bᵀ) x", lambda x, B: (B + B.T) @ x),
 ("84", "(x-s)@W@(x-s)", "x=3,s=3,W=3x3", "x", "(W + Wᵀ) (x - s)", lambda x, s, W: (W + W.T) @ (x - s)),
 ("86", "(x-A@s)@W@(x-A@s)", "x=3,A=3x2,s=2,W=3x3", "s", "-Aᵀ (W + Wᵀ) (x - A s)", lambda x, A, s, W: -A.T @ (W + W.T) @ (x - A @ s)),
 ("99", "trace(X)", "X=3x3", "X", "I₃", lambda X: np.eye(3)),
 ("100", "trace(X@A)", "X=3x3,A=3x3", "X", "Aᵀ", lambda X, A: A.T),
 ("101", "trace(A@X@B)", "A=3x3,X=3x3,B=3x3", "X", "Aᵀ Bᵀ", lambda A, X, B: A.T @ B.T),
 ("102", "trace(A@X.T@B)", "A=3x3,X=3x3,B=3x3", "X", "B A", lambda A, X, B: B @ A),
 ("103", "trace(X.T@A)", "X=3x3,A=3x3", "X", "A", lambda X, A: A),
 ("104", "trace(A@X.T)", "X=3x3,A=3x3", "X", "A", lambda X, A: A),
 ("105", "trace(kron(A,X))", "A=2x2,X=3x3", "X", "tr(A) I₃", lambda A, X: tr(A) * np.eye(3)),
 ("106", "trace(X@X)", "X=3x3", "X", "2 Xᵀ", lambda X: 2 * X.T),
 ("107", "trace(X@X@B)", "X=3x3,B=3x3", "X", "(X B + B X)ᵀ", lambda X, B: (X @ B + B @ X).T),
 ("108", "trace(X.T@B@X)", "X=3x3,B=3x3", "X", "B X + Bᵀ X", lambda X, B: B @ X + B.T @ X),
 ("109", "trace(B@X@X.T)", "X=3x3,B=3x3", "X", "B X + Bᵀ X", lambda X, B: B @ X + B.T @ X),
 ("110", "trace(X@X.T@B)", "X=3x3,B=3x3", "X", "B X + Bᵀ X", lambda X, B: B @ X + B.T @ X),
 ("111", "trace(X@B@X.T)", "X=3x3,B=3x3", "X", "X Bᵀ + X B", lambda X, B: X @ B.T + X @ B),
 ("112", "trace(B@X.T@X)", "X=3x3,B=3x3", "X", "X Bᵀ + X B", lambda X, B: X @ B.T + X @ B),
 ("113", "trace(X.T@X@B)", "X=3x3,B=3x3", "X", "X Bᵀ + X B", lambda X, B: X @ B.T + X @ B),
 ("114", "trace(A@X@B@X)", "A=3x3,X=3x3,B=3x3", "X", "Aᵀ Xᵀ Bᵀ + Bᵀ Xᵀ Aᵀ", lambda A, X, B: A.T @ X.T @ B.T + B.T @ X.T @ A.T),
 ("115", "trace(X.T@X)", "X=3x3", "X", "2 X", lambda X: 2 * X),
 ("116", "trace(B.T@X.T@C@X@B)", "B=3x3,X=3x3,C=3x3", "X", "Cᵀ X B Bᵀ + C X B Bᵀ", lambda B, X, C: C.T @ X @ B @ B.T + C @ X @ B @ B.T),
 ("117", "trace(X.T@B@X@C)", "X=3x3,B=3x3,C=3x3", "X", "B X C + Bᵀ X Cᵀ", lambda X, B, C: B @ X @ C + B.T @ X @ C.T),
 ("118", "trace(A@X@B@X.T@C)", "A=3x3,X=3x3,B=3x3,C=3x3", "X", "Aᵀ Cᵀ X Bᵀ + C A X B", lambda A, X, B, C: A.T @ C.T @ X @ B.T + C @ A @ X @ B),
 ("119", "trace((A@X@B+C)@(A@X@B+C).T)", "A=2x3,X=3x3,B=3x2,C=2x2", "X", "2 Aᵀ (A X B + C) Bᵀ", lambda A, X, B, C: 2 * A.T @ (A @ X @ B + C) @ B.T),
 ("120", "trace(kron(X,X))", "X=3x3", "X", "2 tr(X) I₃", lambda X: 2 * tr(X) * np.eye(3)),
 ("121", "trace(X^4)", "X=3x3", "X", "4 (X³)ᵀ", lambda X: 4 * np.linalg.matrix_power(X, 3).T),
 ("121b", "trace(matrix_power(X, 3))", "X=3x3", "X", "3 (X²)ᵀ", lambda X: 3 * (X @ X).T),
 ("123", "trace(expm(X))", "X=3x3", "X", "exp(X)ᵀ", lambda X: _expm(X).T),
 ("129", "norm(x-a)", "x=3,a=3", "x", "(x - a) / ‖x - a‖", lambda x, a: (x - a) / np.linalg.norm(x - a)),
 ("131", "norm(x)**2", "x=3", "x", "2 x", lambda x: 2 * x),
 ("131b", "x@x", "x=3", "x", "2 x", lambda x: 2 * x),
 ("132", "norm(X, 'fro')**2", "X=3x3", "X", "2 X", lambda X: 2 * X),
 ("132b", "norm(X)", "X=3x3", "X", "X / ‖X‖", lambda X: X / np.linalg.norm(X)),
 ("i1", "sum(W@x)", "W=3x4,x=4", "W", "1₃ xᵀ", lambda W, x: np.outer(np.ones(3), x)),
 ("i2", "trace(W.T@S@W)", "W=3x3,S=3x3", "W", "(S + Sᵀ) W", lambda W, S: (S + S.T) @ W),
 ("i3", "det(inv(X))", "X=3x3", "X", "-det(X⁻¹) X⁻ᵀ", lambda X: -det(inv(X)) * inv(X).T),
 ("i4", "trace(A@diag(x))", "A=3x3,x=3", "x", "diag(A)", lambda A, x: np.diag(A)),
 ("i5", "sum(log(1+exp(X@w)) - y*(X@w))", "X=5x3,w=3,y=5", "w", "Xᵀ (σ(X w) - y)", lambda X, w, y: X.T @ (1 / (1 + np.exp(-X @ w)) - y)),
 ("i6", "sum((A@x-b)**2)", "A=4x3,x=3,b=4", "x", "2 Aᵀ (A x - b)", lambda A, x, b: 2 * A.T @ (A @ x - b)),
 ("i7", "norm(A@X-B, 'fro')**2", "A=4x3,X=3x2,B=4x2", "X", "2 Aᵀ (A X - B)", lambda A, X, B: 2 * A.T @ (A @ X - B)),
 ("i8", "logsumexp(x)", "x=3", "x", "softmax(x)", lambda x: np.exp(x) / np.sum(np.exp(x))),
 ("i9", "sum(tanh(W@x+b)*v)", "W=3x4,x=4,b=3,v=3", "W", "(v ⊙ (1 - tanh(W x + b)²)) xᵀ",
  lambda W, x, b, v: np.outer(v * (1 - np.tanh(W @ x + b) ** 2), x)),
]

LONGER = {"68": "U diag(∏λ ⊘ λ) Uᵀ: the spectral form of det(X) X⁻¹, not recognised"}


def _values(text, shapes, wrt, seed=3):
    """Random values; a symmetric positive definite X for the eigenvalue cases, invertible matrices elsewhere."""
    p = prepare(text, wrt, shapes=shapes, seed=seed)
    return {k: np.asarray(v, dtype=float) for k, v in p.values.items()}, p


@pytest.mark.parametrize("eq,text,shapes,wrt,textbook,f", CASES, ids=[c[0] for c in CASES])
def test_gradient_is_the_textbooks(eq, text, shapes, wrt, textbook, f):
    values, p = _values(text, shapes, wrt)
    ex = explain(p.nodes, p.wrt, "row", "numerator")
    assert ex.gradient is not None, f"({eq}) {text}: no gradient shaped like {wrt}"
    printed = Unicode()(ex.gradient)
    if eq not in LONGER:
        assert len(printed) <= 1.3 * len(textbook), f"({eq}) {printed!r} vs the textbook's {textbook!r}"
    names = f.__code__.co_varnames[:f.__code__.co_argcount]
    want = f(*[values[n] for n in names])
    np.testing.assert_allclose(mcalc.gradient(text, wrt, values), want, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("eq,text,shapes,wrt,textbook,f", CASES, ids=[c[0] for c in CASES])
def test_gradient_round_trips_through_check(eq, text, shapes, wrt, textbook, f):
    """explain's gradient, in mcalc's syntax (-f plain), is what check accepts as the answer (judged at other
    points too)."""
    r = run("explain", text, "--wrt", wrt, "--shape", shapes, "-f", "plain")
    assert r.exit_code == 0, r.output
    c = run("check", text, "--wrt", wrt, "--shape", shapes, "--expect", r.stdout.strip(), "-f", "json")
    assert c.exit_code == 0 and json.loads(c.stdout)["right"] is True, (r.stdout, c.output)
