"""Test helpers.  Expected values come from closed forms or from finite differences, never from the rules."""

from __future__ import annotations

import numpy as np

from mcalc.finite import finite_jacobian
from mcalc.problem import prepare


def fd_check(expr, shapes=None, values=None, wrt=None, order="row", layout="numerator", method="richardson",
             tol=1e-7, seed=0):
    """The analytic Jacobian of expr, after checking it against finite differences (which evaluate the expression
    only) in the given order and layout.  Returns (J, problem)."""
    p = prepare(expr, wrt, values, shapes, order, layout, seed)
    J = p.analytic()
    F = p.arrange(finite_jacobian(p.nodes, p.values, p.wrt, method).J)
    assert J.shape == F.shape, (J.shape, F.shape)
    scale = max(1.0, float(np.abs(F).max(initial=0.0)))
    err = float(np.abs(J - F).max(initial=0.0)) / scale
    assert err <= tol, f"{expr} wrt {wrt} {shapes}: relative error {err:.3g}\nanalytic\n{J}\nfd\n{F}"
    return J, p


def shape_str(shape) -> str:
    return "scalar" if not shape else "x".join(map(str, shape))


def shapes_spec(**shapes) -> list[str]:
    return [f"{k}={shape_str(v)}" for k, v in shapes.items()]


def commutation(m: int, n: int) -> np.ndarray:
    """K with K vec_c(X) = vec_c(Xᵀ) for X m×n, built from its definition."""
    K = np.zeros((m * n, m * n))
    for i in range(m):
        for j in range(n):
            K[i * n + j, j * m + i] = 1.0
    return K


def numpy_jacobian(f, values: dict, wrt: str, h: float = 1e-6) -> np.ndarray:
    """Central differences of a numpy function f(**values) in one variable, row-major, numerator layout: a
    reference that shares nothing with mcalc (neither its parser nor its forward functions)."""
    values = {k: np.asarray(v, dtype=float) for k, v in values.items()}
    x0 = values[wrt]
    cols = []
    for k in range(x0.size):
        e = np.zeros(x0.size)
        e[k] = h
        up = f(**{**values, wrt: x0 + e.reshape(x0.shape)})
        down = f(**{**values, wrt: x0 - e.reshape(x0.shape)})
        cols.append((np.ravel(up) - np.ravel(down)) / (2 * h))
    return np.stack(cols, axis=1)


def svd_signed(X):
    """The thin SVD with each column of U's largest entry positive, Vᵀ's rows flipped to match (mcalc's
    documented convention; numpy leaves the signs to LAPACK)."""
    u, s, vh = np.linalg.svd(X, full_matrices=False)
    sign = np.sign(u[np.argmax(np.abs(u), axis=0), np.arange(u.shape[1])])
    return u * sign, s, vh * sign[:, None]


def run(*args, **kw):
    """mcalc ARGS... through Typer's test runner (in this process)."""
    from typer.testing import CliRunner

    from mcalc.cli import app

    return CliRunner().invoke(app, list(args), **kw)


def js(*args):
    """mcalc ARGS... --format json, read back (exit 0 or 1)."""
    import json

    res = run(*args, "--format", "json")
    assert res.exit_code in (0, 1), res.stderr
    return json.loads(res.stdout)
