"""Finite differences: independent of the derivative rules, they only evaluate the expression.

All perturbations of a chunk of input entries are evaluated at once (the forward functions accept a leading batch
axis).  Steps are chosen per entry, h_j = c·max(1, |x_j|), and rounded so that x_j + h_j - x_j == h_j exactly:

    forward     (f(x + h e_j) - f(x)) / h                   c = eps^(1/2)   error O(h)
    central     (f(x + h e_j) - f(x - h e_j)) / 2h          c = eps^(1/3)   error O(h²)
    richardson  (4 D(h/2) - D(h)) / 3 with D central        c = eps^(1/5)   error O(h⁴)
    complex     Im f(x + i h e_j) / h                       h = 1e-20·max(1, |x_j|), exact up to rounding

The central and Richardson methods also compare the one-sided slopes (f(x+h)-f(x))/h and (f(x)-f(x-h))/h: where
they differ by more than the curvature can explain, the function has a kink there (abs or relu at 0) and the entry
is reported as not differentiable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import DomainError, UsageError
from .expr import Node, Var, evaluate
from .chain import dependencies

METHODS = ("central", "forward", "complex", "richardson")
DEFAULT_TOL = {"central": 1e-6, "forward": 1e-4, "richardson": 1e-8, "complex": 1e-10}
EPS = np.finfo(float).eps
_STEP = {"forward": EPS ** 0.5, "central": EPS ** (1 / 3), "richardson": EPS ** 0.2, "complex": 1e-20}
CHUNK_BYTES = 128 << 20


@dataclass
class FiniteResult:
    J: np.ndarray             # (m, n) row-major, numerator layout, wrt blocks side by side
    kinks: np.ndarray | None  # (m, n) bool: one-sided slopes disagree
    right: np.ndarray | None  # one-sided slopes, where kinks are reported
    left: np.ndarray | None
    evaluations: int          # function evaluations, counting each batch entry


def steps(x: np.ndarray, method: str) -> np.ndarray:
    h = _STEP[method] * np.maximum(1.0, np.abs(x))
    return h if method == "complex" else (x + h) - x


def finite_jacobian(nodes: list[Node], env: dict, wrt: list[Var], method: str = "central") -> FiniteResult:
    if method not in METHODS:
        raise UsageError(f"unknown finite-difference method '{method}'", hint="choose " + ", ".join(METHODS))
    root = nodes[-1]
    deps = dependencies(nodes, wrt)
    if method == "complex":
        for node in nodes:
            if node.op is not None and not node.op.analytic and deps[id(node)]:
                raise UsageError(f"--fd complex needs complex-analytic operations, and {node.op.name} in {node.text} "
                                 "is not", hint="use --fd central or --fd richardson")
    f0 = np.asarray(evaluate(nodes, env)[id(root)], dtype=float).reshape(-1)
    blocks, kinks, rights, lefts, count = [], [], [], [], 0
    for v in wrt:
        sub = [n for n in nodes if deps[id(n)] and v.name in deps[id(n)]] or [v]
        per_entry = 16 * 4 * sum(n.size for n in sub) + 16 * v.size
        chunk = int(max(1, min(v.size, CHUNK_BYTES // max(per_entry, 1))))
        x = np.asarray(env[v.name], dtype=float).reshape(-1)
        h = steps(x, method)
        cols, kcols, rcols, lcols = [], [], [], []
        for j0 in range(0, v.size, chunk):
            js = np.arange(j0, min(v.size, j0 + chunk))
            out = _columns(nodes, env, v, x, h, js, f0, method)
            count += out[-1]
            cols.append(out[0])
            if out[1] is not None:
                kcols.append(out[1]), rcols.append(out[2]), lcols.append(out[3])
        blocks.append(np.concatenate(cols, axis=1))
        if kcols:
            kinks.append(np.concatenate(kcols, axis=1))
            rights.append(np.concatenate(rcols, axis=1))
            lefts.append(np.concatenate(lcols, axis=1))
    J = np.concatenate(blocks, axis=1) if len(blocks) > 1 else blocks[0]
    if kinks:
        return FiniteResult(J, *(np.concatenate(k, axis=1) for k in (kinks, rights, lefts)), count)
    return FiniteResult(J, None, None, None, count)


def _columns(nodes, env, v: Var, x, h, js, f0, method):
    """Columns js of d root / d v, plus (kinks, right, left) for central methods, and the evaluation count."""
    root = nodes[-1]
    k = len(js)

    def f(step, dtype=float):
        X = np.repeat(x[None, :].astype(dtype), k, axis=0)
        X[np.arange(k), js] += step
        e = dict(env)
        e[v.name] = X.reshape((k,) + v.shape)
        try:
            out = evaluate(nodes, e)[id(root)]
        except DomainError as err:
            raise DomainError(f"a finite-difference step ({method}) left the domain: {err.message}",
                              hint="try --fd complex, or values further from the edge of the domain") from None
        return np.broadcast_to(out, (k,) + root.shape).reshape(k, -1).T

    hj = h[js]
    if method == "complex":
        return f(1j * hj, complex).imag / hj, None, None, None, k
    if method == "forward":
        return (f(hj) - f0[:, None]) / hj, None, None, None, k
    plus, minus = f(hj), f(-hj)
    central = (plus - minus) / (2 * hj)
    right, left = (plus - f0[:, None]) / hj, (f0[:, None] - minus) / hj
    if method == "richardson":
        half = (f(hj / 2) - f(-hj / 2)) / hj
        J, evals = (4 * half - central) / 3, 4 * k
    else:
        J, evals = central, 2 * k
    floor = 1e-3 * max(1.0, float(np.max(np.abs(central), initial=0.0)))
    kink = np.abs(right - left) > 0.1 * np.maximum(np.abs(right), np.abs(left)) + floor
    return J, kink, right, left, evals
