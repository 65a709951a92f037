"""Linear algebra beyond the inverse.  Expected values: central differences of reference forward functions that
mcalc does not use (numpy.linalg's own, a Taylor series for exp, eigendecompositions written here), the Matrix
Cookbook's closed forms (∂ log|det X|/∂X = X⁻ᵀ, ∂ λᵢ/∂X = uᵢ uᵢᵀ), identities (sqrtm(X)² = X), and SciPy and JAX
where installed.  The conventions numpy leaves open are tested as documented: the symmetric part is read (as JAX
does), eigenvectors have their largest entry positive, R has a positive diagonal."""

import numpy as np
import pytest
from typer.testing import CliRunner

import mcalc
from mcalc.cli import app
from helpers import numpy_jacobian, svd_signed

RNG = np.random.default_rng(11)
A = RNG.normal(size=(4, 4)) + 4 * np.eye(4)
B = RNG.normal(size=(4, 2))
b = RNG.normal(size=4)
C = RNG.normal(size=(5, 3))
c = RNG.normal(size=5)
W = RNG.normal(size=(3, 5))
V = RNG.normal(size=(4, 4))
S = V @ V.T + np.eye(4)                      # symmetric positive definite
H = (V + V.T) / 2                            # symmetric, distinct eigenvalues


def sym(X):
    return (X + X.T) / 2


def expm_taylor(X, terms=40):
    out, term = np.eye(len(X)), np.eye(len(X))
    for k in range(1, terms):
        term = term @ X / k
        out = out + term
    return out


def eig_fn(f):
    def g(X):
        w, U = np.linalg.eigh(sym(X))
        return (U * f(w)) @ U.T
    return g


def signed_columns(U, R=None):
    s = np.sign(U[np.argmax(np.abs(U), axis=0), np.arange(U.shape[1])])
    return U * s


def qr_positive(X):
    q, r = np.linalg.qr(X)
    s = np.sign(np.diag(r))
    return q * s, r * s[:, None]


CASES = [   # text, wrt, values, reference f(**values)
    ("solve(A, b)", "A", {"A": A, "b": b}, lambda A, b: np.linalg.solve(A, b)),
    ("solve(A, b)", "b", {"A": A, "b": b}, lambda A, b: np.linalg.solve(A, b)),
    ("np.linalg.solve(A, B)", "A", {"A": A, "B": B}, lambda A, B: np.linalg.solve(A, B)),
    ("solve(A, B)", "B", {"A": A, "B": B}, lambda A, B: np.linalg.solve(A, B)),
    ("lstsq(C, c)[0]", "C", {"C": C, "c": c}, lambda C, c: np.linalg.lstsq(C, c, rcond=None)[0]),
    ("np.linalg.lstsq(C, c, rcond=None)[0]", "c", {"C": C, "c": c}, lambda C, c: np.linalg.lstsq(C, c, rcond=None)[0]),
    ("pinv(C)", "C", {"C": C}, np.linalg.pinv),
    ("pinv(W)", "W", {"W": W}, np.linalg.pinv),
    ("slogdet(A)[1]", "A", {"A": A}, lambda A: np.linalg.slogdet(A)[1]),
    ("slogdet(A)[0] * A", "A", {"A": A}, lambda A: np.linalg.slogdet(A)[0] * A),
    ("cholesky(S)", "S", {"S": S}, lambda S: np.linalg.cholesky(sym(S))),
    ("qr(C)[0]", "C", {"C": C}, lambda C: qr_positive(C)[0]),
    ("qr(C)[1]", "C", {"C": C}, lambda C: qr_positive(C)[1]),
    ("qr(A)[1]", "A", {"A": A}, lambda A: qr_positive(A)[1]),
    ("eigvalsh(H)", "H", {"H": H}, lambda H: np.linalg.eigvalsh(sym(H))),
    ("eigh(H)[0]", "H", {"H": H}, lambda H: np.linalg.eigvalsh(sym(H))),
    ("eigh(H)[1]", "H", {"H": H}, lambda H: signed_columns(np.linalg.eigh(sym(H))[1])),
    ("svdvals(C)", "C", {"C": C}, lambda C: np.linalg.svd(C, compute_uv=False)),
    ("svd(W)[1]", "W", {"W": W}, lambda W: np.linalg.svd(W, compute_uv=False)),
    ("svd(W)[0]", "W", {"W": W}, lambda W: svd_signed(W)[0]),
    ("svd(W, full_matrices=False)[2]", "W", {"W": W}, lambda W: svd_signed(W)[2]),
    ("svd(C)[2]", "C", {"C": C}, lambda C: svd_signed(C)[2]),
    ("svd(C, full_matrices=False)[0]", "C", {"C": C}, lambda C: svd_signed(C)[0]),
    ("svd(C, full_matrices=False)[2]", "C", {"C": C}, lambda C: svd_signed(C)[2]),
    ("svd(C.T, full_matrices=False)[0]", "C", {"C": C}, lambda C: svd_signed(C.T)[0]),
    ("svd(C.T)[0]", "C", {"C": C}, lambda C: svd_signed(C.T)[0]),
    ("norm(C, 2)", "C", {"C": C}, lambda C: np.linalg.norm(C, 2)),
    ("norm(C, -2)", "C", {"C": C}, lambda C: np.linalg.norm(C, -2)),
    ("norm(C, 'nuc')", "C", {"C": C}, lambda C: np.linalg.norm(C, "nuc")),
    ("expm(V / 3)", "V", {"V": V}, lambda V: expm_taylor(V / 3)),
    ("expm(3 * V)", "V", {"V": V}, lambda V: expm_taylor(3 * V, 120)),
    ("expm_frechet(V, H)[1]", "H", {"V": V, "H": H},
     lambda V, H: (expm_taylor(V + 1e-3 * H) - expm_taylor(V - 1e-3 * H)) / 2e-3),
    ("sqrtm(S)", "S", {"S": S}, eig_fn(np.sqrt)),
    ("logm(S)", "S", {"S": S}, eig_fn(np.log)),
    ("A^-2", "A", {"A": A}, lambda A: np.linalg.matrix_power(A, -2)),
    ("np.linalg.matrix_power(A, -3)", "A", {"A": A}, lambda A: np.linalg.matrix_power(A, -3)),
    ("matrix_power(A, 3)", "A", {"A": A}, lambda A: np.linalg.matrix_power(A, 3)),
]


@pytest.mark.parametrize("text,wrt,values,f", CASES, ids=[f"{c[0]} wrt {c[1]}" for c in CASES])
def test_against_reference_functions(text, wrt, values, f):
    tol = 1e-4 if "frechet" in text else 1e-6
    ref = numpy_jacobian(lambda **v: f(*v.values()), values, wrt, h=1e-5)
    np.testing.assert_allclose(mcalc.jacobian(text, wrt, values), ref, rtol=tol, atol=tol)


def test_cookbook_closed_forms():
    """∂ log|det X|/∂X = X⁻ᵀ (Cookbook 57); ∂ λᵢ/∂X = uᵢ uᵢᵀ for a symmetric X; ∂ tr(expm(X)) / ∂X = expm(X)ᵀ."""
    np.testing.assert_allclose(mcalc.gradient("slogdet(A)[1]", "A", {"A": A}), np.linalg.inv(A).T, rtol=1e-12)
    w, U = np.linalg.eigh(H)
    J = mcalc.jacobian("eigvalsh(H)", "H", {"H": H})
    for i in range(4):
        np.testing.assert_allclose(J[i].reshape(4, 4), np.outer(U[:, i], U[:, i]), atol=1e-12)
    np.testing.assert_allclose(mcalc.gradient("trace(expm(V))", "V", {"V": V}), expm_taylor(V).T, rtol=1e-10)


def test_identities():
    np.testing.assert_allclose(mcalc.evaluate("sqrtm(S) @ sqrtm(S)", values={"S": S}), S, rtol=1e-12)
    np.testing.assert_allclose(mcalc.evaluate("expm(logm(S))", values={"S": S}), S, rtol=1e-10)
    Q = mcalc.evaluate("qr(C)[0]", values={"C": C})
    np.testing.assert_allclose(Q.T @ Q, np.eye(3), atol=1e-12)
    assert np.all(np.diag(mcalc.evaluate("qr(C)[1]", values={"C": C})) > 0)
    U = mcalc.evaluate("eigh(H)[1]", values={"H": H})
    assert np.all(U[np.argmax(np.abs(U), axis=0), np.arange(4)] > 0)


def test_symmetric_part_is_read_in_every_direction():
    """For a symmetric direction E, J vec(E) is the derivative numpy's own function has (it reads one triangle)."""
    E = sym(RNG.normal(size=(4, 4)))
    h = 1e-6
    for text, f, X in (("cholesky(S)", np.linalg.cholesky, S), ("eigvalsh(H)", np.linalg.eigvalsh, H)):
        name = "S" if "S" in text else "H"
        J = mcalc.jacobian(text, name, {name: X})
        ref = (f(X + h * E) - f(X - h * E)).ravel() / (2 * h)
        np.testing.assert_allclose(J @ E.ravel(), ref, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("args,fragment", [
    (["solve(A, b)", "--value", "A=[[1, 2], [2, 4]]", "--value", "b=[1, 1]"], "singular"),
    (["eigvalsh(X)", "--value", "X=[[1, 0], [0, 1]]"], "repeat"),
    (["eigh(X)[1]", "--value", "X=[[2, 0], [0, 2]]"], "repeat"),
    (["cholesky(X)", "--value", "X=[[1, 2], [2, 1]]"], "positive definite"),
    (["pinv(X)", "--value", "X=[[1, 2], [2, 4], [0, 0]]"], "rank deficient"),
    (["svdvals(X)", "--value", "X=[[1, 0], [0, 1]]"], "repeat"),
    (["eigh(X)", "--shape", "2x2"], "returns a tuple"),
    (["lstsq(X, y)[1]", "--shape", "X=3x2,y=3"], "residuals"),
    (["svd(X)[0]", "--shape", "3x2"], "full U and Vᵀ of a rectangular matrix have no derivative"),
    (["qr(X)[0]", "--shape", "2x3"], "tall or square"),
    (["sqrtm(X)", "--value", "X=[[1, 2], [2, 1]]"], "positive definite"),
    (["X^-1", "--value", "X=[[1, 2], [2, 4]]"], "singular"),
    (["eigh(X)[2]", "--shape", "2x2"], "index it with one of 0..1"),
])
def test_domains_and_tuples(args, fragment):
    res = CliRunner().invoke(app, ["jac", *args])
    assert res.exit_code == 2, (res.exit_code, res.stdout)
    assert fragment in res.stderr and "Traceback" not in res.stderr, res.stderr


def test_default_values_fit_the_domains():
    for text in ("cholesky(X)", "sqrtm(X) + logm(X)", "eigh(X)[1]", "eigvalsh(X)"):
        res = CliRunner().invoke(app, ["jac", text, "--shape", "4x4", "--format", "json"])
        assert res.exit_code == 0, (text, res.stdout, res.stderr)


def test_against_scipy_where_installed():
    linalg = pytest.importorskip("scipy.linalg")
    for X in (V / 3, 3 * V, H):
        np.testing.assert_allclose(mcalc.evaluate("expm(X)", values={"X": X}), linalg.expm(X), rtol=1e-12)
        np.testing.assert_allclose(mcalc.evaluate("expm_frechet(X, E)[1]", values={"X": X, "E": A}),
                                   linalg.expm_frechet(X, A, compute_expm=False), rtol=1e-10)
    np.testing.assert_allclose(mcalc.evaluate("sqrtm(S)", values={"S": S}), linalg.sqrtm(S), rtol=1e-10)
    np.testing.assert_allclose(mcalc.evaluate("logm(S)", values={"S": S}), linalg.logm(S), rtol=1e-10)


def test_against_jax_where_installed():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    for text, wrt, values, f in [
            ("solve(A, b)", "A", {"A": A, "b": b}, lambda X: jnp.linalg.solve(X, b)),
            ("cholesky(S)", "S", {"S": S}, lambda X: jnp.linalg.cholesky(X)),
            ("eigvalsh(H)", "H", {"H": H}, lambda X: jnp.linalg.eigvalsh(X)),
            ("svdvals(C)", "C", {"C": C}, lambda X: jnp.linalg.svd(X, compute_uv=False)),
            ("expm(V / 3)", "V", {"V": V}, lambda X: jax.scipy.linalg.expm(X / 3)),
            ("pinv(C)", "C", {"C": C}, lambda X: jnp.linalg.pinv(X)),
            ("slogdet(A)[1]", "A", {"A": A}, lambda X: jnp.linalg.slogdet(X)[1])]:
        x = values[wrt]
        ref = np.asarray(jax.jacfwd(f)(x)).reshape(-1, x.size)
        np.testing.assert_allclose(mcalc.jacobian(text, wrt, values), ref, rtol=1e-8, atol=1e-10, err_msg=text)


@pytest.mark.parametrize("text", ["eigvalsh(X)", "eigh(X)[0]", "eigh(X)[1]", "cholesky(X)", "sqrtm(X)", "logm(X)"])
def test_a_matrix_that_is_not_symmetric_is_refused(text):
    """numpy reads one triangle, JAX the symmetric part, SciPy's sqrtm the whole: mcalc does not pick one."""
    res = CliRunner().invoke(app, ["jac", text, "--value", "X=[[2, 1], [0, 2]]"])
    assert res.exit_code == 2 and "needs a symmetric matrix" in res.stderr and "(X + X.T) / 2" in res.stderr


@pytest.mark.parametrize("args,fragment", [
    (["lstsq(A, b)[3]", "--shape", "A=4x3,b=4"], "singular values of lstsq"),
    (["expm_frechet(M, E)[1]", "--shape", "M=2x2,E=3x3"], "E shaped like A"),
    (["matrix_power(A, 500)", "--shape", "A=2x2"], "up to ±100"),
    (["qr(A)[0]", "--value", "A=[[1, 2], [2, 4], [3, 6]]"], "rank deficient"),
])
def test_more_refusals(args, fragment):
    res = CliRunner().invoke(app, ["jac", *args])
    assert res.exit_code == 2 and fragment in res.stderr and "Traceback" not in res.stderr, res.stderr


def test_default_eigenvectors_avoid_their_sign_convention_flip():
    for n in (2, 3, 4, 5):
        res = CliRunner().invoke(app, ["jac", "eigh(M)[1]", "--shape", f"M={n}x{n}", "--format", "json"])
        assert res.exit_code == 0, (n, res.stdout[-300:], res.stderr)


def _with_condition(rng, n, cond):
    """A matrix U diag(s) Vᵀ with singular values from 1 down to 1/cond (its 2-norm condition number)."""
    U, _ = np.linalg.qr(rng.normal(size=(n, n)))
    V, _ = np.linalg.qr(rng.normal(size=(n, n)))
    return U @ np.diag(np.geomspace(1.0, 1.0 / cond, n)) @ V.T


@pytest.mark.parametrize("text", ["solve(A, b)", "solve(A, B)", "inv(A)", "A^-2"])
@pytest.mark.parametrize("n", [2, 5, 40])
def test_singular_matrices_are_refused_and_others_kept(text, n):
    """Refused past a condition number of 10¹⁴ (the 1-norm one; solve estimates it from a few random right-hand
    sides solved along, a lower bound close to it): every numerically singular matrix of 20 random ones (2-norm
    condition 10¹⁷, and exactly rank-deficient ones), and none with condition 10⁸."""
    rng = np.random.default_rng(n)
    for k in range(20):
        values = {k: v for k, v in {"b": rng.normal(size=n), "B": rng.normal(size=(n, 3))}.items() if k in text}
        A = _with_condition(rng, n, 1e17)
        if k % 2:
            A[:, -1] = A[:, :-1] @ rng.normal(size=n - 1)            # a column a combination of the others
        with pytest.raises(mcalc.DomainError, match="singular"):
            mcalc.jacobian(text, "A", {**values, "A": A})
        J = mcalc.jacobian(text, "A", {**values, "A": _with_condition(rng, n, 1e8)})
        assert np.all(np.isfinite(J))


def test_a_tiny_pivot_is_found_by_solve_as_by_inv():
    """eye(n) with one entry 10⁻¹⁵ has condition number 10¹⁵: refused by solve as by inv (the estimate from
    random right-hand sides falls short of it by about n, so a near miss is settled by the exact number)."""
    n = 100
    A = np.eye(n)
    A[0, 0] = 1e-15
    for text in ("solve(A, b)", "inv(A) @ b"):
        with pytest.raises(mcalc.DomainError, match="singular"):
            mcalc.jacobian(text, "b", {"A": A, "b": np.ones(n)})
    A[0, 0] = 1e-11
    assert mcalc.jacobian("solve(A, b)", "b", {"A": A, "b": np.ones(n)})[0, 0] == pytest.approx(1e11)


inv = np.linalg.inv              # (bound here: the count below patches numpy's, not this one)


@pytest.mark.parametrize("n", [5, 80])
def test_logdet_refuses_numerically_singular_matrices_and_its_gradient_is_the_inverse_transpose(n):
    """∇ log|det X| = X⁻ᵀ (the Matrix Cookbook, eq. 57), at a small X (the condition estimated, X⁻ᵀ solved for)
    and a large one (X⁻¹ computed at the problem's values, its condition number exact, and used by the gradient);
    refused past a condition number of 10¹⁴ either way, with logdet's own message."""
    rng = np.random.default_rng(n)
    for k in range(6):
        A = _with_condition(rng, n, 1e17)
        if k % 2:
            A[:, -1] = A[:, :-1] @ rng.normal(size=n - 1)
        with pytest.raises(mcalc.DomainError, match="logdet of a singular or numerically singular"):
            mcalc.gradient("logdet(A)", "A", {"A": A})
        X = _with_condition(rng, n, 1e3)
        big = np.abs(inv(X)).max()                     # (X⁻¹ solved for or inverted: equal to rounding, κ ε |X⁻¹|)
        np.testing.assert_allclose(mcalc.gradient("logdet(X)", "X", {"X": X}), inv(X).T, atol=1e-11 * big)
        np.testing.assert_allclose(mcalc.gradient("3*logdet(X)", "X", {"X": X}), 3 * inv(X).T, atol=3e-11 * big)


def test_the_gradient_of_logdet_factors_x_twice_and_keeps_nothing(monkeypatch):
    """Work, not time: at n = 100 the gradient of logdet takes one LU for the value (slogdet) and one inverse (its
    exact condition number, and the gradient X⁻ᵀ), and no solve; the inverse is kept only while X's value lives.
    A caller's array written to between calls gives the new answer."""
    import gc

    from mcalc import linops

    kept = len(linops._KNOWN_INVERSES)               # (constant matrices' inverses, kept with their trees)
    calls = []
    for name in ("inv", "solve", "slogdet"):
        real = getattr(np.linalg, name)
        monkeypatch.setattr(np.linalg, name, lambda *a, _f=real, _n=name, **k: calls.append(_n) or _f(*a, **k))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 100)) + 10 * np.eye(100)
    g = mcalc.gradient("logdet(X)", "X", {"X": X})
    assert sorted(calls) == ["inv", "slogdet"], calls
    np.testing.assert_allclose(g, inv(X).T, rtol=1e-10, atol=1e-13)
    X[:] = rng.normal(size=(100, 100)) + 10 * np.eye(100)
    np.testing.assert_allclose(mcalc.gradient("logdet(X)", "X", {"X": X}), inv(X).T, rtol=1e-10, atol=1e-13)
    gc.collect()
    assert len(linops._KNOWN_INVERSES) == kept
